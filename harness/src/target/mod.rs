//! Targets: *what* is gated, apart from *where* it runs (the [`backend`]).
//!
//! A target is described by an adapter file ([`adapter`]): how the harness
//! drives it (operator verbs, a bare signal), how it observes it (supervision,
//! liveness, persisted state, boot log), what its container looks like, and
//! which promises ([`claim`]) it makes. The reference gateway is the built-in
//! target `reference` (`adapters/reference.toml`, also compiled in); any other
//! is `adapters/NAME.toml` or a path to an adapter file, with `@VERSION` for a
//! target whose image is built per release (`hermes@0.17.0`).
//!
//! The harness reaches a target only through its [`driver::Driver`]: the
//! contract's CLI ([`contract`]) or the adapter's templates ([`declared`]).
//!
//! [`backend`]: crate::backend

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::backend::{BackendKind, Shape};

pub mod adapter;
pub mod claim;
pub mod contract;
pub mod declared;
pub mod driver;
pub mod image;
pub mod read;

pub use adapter::{Adapter, AdapterError, Protocol};
pub use claim::Claim;
pub use driver::{Driver, Sut, Verb};

/// The reference adapter, compiled in so that the default target needs no file.
const REFERENCE_ADAPTER: &str = include_str!("../../../adapters/reference.toml");

/// The name of the built-in target.
pub const REFERENCE: &str = "reference";

/// Where adapter files are looked up by name: `$RESTART_HARNESS_ADAPTERS`, else
/// the repository's `adapters/`.
pub fn adapters_dir() -> PathBuf {
    match std::env::var_os("RESTART_HARNESS_ADAPTERS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let harness = Path::new(env!("CARGO_MANIFEST_DIR"));
            harness.parent().unwrap_or(harness).join("adapters")
        }
    }
}

/// Why a target could not be had. The CLI exits 2.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The adapter is wrong or missing.
    #[error(transparent)]
    Adapter(#[from] AdapterError),
    /// A target built per release was named without its release.
    #[error(
        "target {0} is built per release: name one, as {0}@VERSION (e.g. hermes@0.17.0), \
         or gate an image you have with --image IMAGE"
    )]
    NoVersion(String),
    /// The reference takes no version.
    #[error(
        "target {name} takes no @VERSION (it is built from this repository); drop `@{version}`"
    )]
    UnexpectedVersion {
        /// The target.
        name: String,
        /// What was given.
        version: String,
    },
    /// The target does not run on that backend.
    #[error("target {name} runs on {runs_on} only; use --backend {runs_on}")]
    Backend {
        /// The target.
        name: String,
        /// Its backends, joined.
        runs_on: String,
    },
}

/// A target, resolved: its adapter, release and image.
#[derive(Debug, Clone)]
pub struct Target {
    /// The adapter.
    pub adapter: Arc<Adapter>,
    /// The release (`0.17.0`), for targets built per release.
    pub version: Option<String>,
    /// A prebuilt image to gate instead of building one (`--image`).
    pub image: Option<String>,
}

impl Target {
    /// The built-in reference gateway.
    pub fn reference() -> Target {
        // The file is compiled in and has a test: a failure here is a build bug.
        let adapter = Adapter::parse(Path::new("adapters/reference.toml"), REFERENCE_ADAPTER)
            .unwrap_or_else(|e| panic!("the compiled-in reference adapter is invalid: {e}"));
        Target {
            adapter: Arc::new(adapter),
            version: None,
            image: None,
        }
    }

    /// Resolves `NAME[@VERSION]` (NAME: an adapter in [`adapters_dir`], or a
    /// path to an adapter file).
    pub fn resolve(spec: &str, image: Option<String>) -> Result<Target, TargetError> {
        let (name, version) = match spec.split_once('@') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (spec, None),
        };
        let adapter = Target::adapter(name)?;
        let per_release = adapter.image.is_some();
        match (&version, per_release) {
            (None, true) if image.is_none() => {
                return Err(TargetError::NoVersion(adapter.name.clone()))
            }
            (Some(v), false) => {
                return Err(TargetError::UnexpectedVersion {
                    name: adapter.name.clone(),
                    version: v.clone(),
                })
            }
            _ => {}
        }
        Ok(Target {
            adapter,
            version,
            image,
        })
    }

    /// The adapter named `name` (no release: what it claims needs none).
    pub fn adapter(name: &str) -> Result<Arc<Adapter>, TargetError> {
        if name == REFERENCE {
            return Ok(Target::reference().adapter);
        }
        let path = if name.ends_with(".toml") || name.contains('/') {
            PathBuf::from(name)
        } else {
            adapters_dir().join(format!("{name}.toml"))
        };
        Ok(Arc::new(Adapter::load(&path)?))
    }

    /// `hermes@0.17.0`, `reference`.
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{}@{v}", self.adapter.name),
            None => self.adapter.name.clone(),
        }
    }

    /// Whether this is the reference gateway's adapter (or another contract target).
    pub fn is_contract(&self) -> bool {
        self.adapter.protocol == Protocol::Contract
    }

    /// Checks that the target runs on `kind`.
    pub fn check_backend(&self, kind: BackendKind) -> Result<(), TargetError> {
        if self.adapter.backends.contains(&kind) {
            return Ok(());
        }
        Err(TargetError::Backend {
            name: self.adapter.name.clone(),
            runs_on: self
                .adapter
                .backends
                .iter()
                .map(|b| b.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// The image this target runs, if it is not the backend's reference image:
    /// `--image`, else the release's tag.
    pub fn image_tag(&self) -> Option<String> {
        if let Some(i) = &self.image {
            return Some(i.clone());
        }
        let section = self.adapter.image.as_ref()?;
        let version = self.version.as_deref()?;
        Some(image::release_tag(&self.adapter, section, version))
    }

    /// What the target's container looks like.
    pub fn shape(&self) -> Shape {
        let (Some(img), Some(profiles), Some(observe)) = (
            &self.adapter.image,
            &self.adapter.profiles,
            &self.adapter.observe,
        ) else {
            return Shape {
                image: self.image.clone(),
                ..Shape::reference()
            };
        };
        Shape {
            image: self.image_tag(),
            data_dir: img.data_dir.clone(),
            uid: img.uid,
            exec_user: img.exec_user.clone(),
            exec_env: img.exec_env.clone(),
            run_tmpfs: img
                .run_tmpfs
                .as_ref()
                .map(|p| (p.clone(), img.run_tmpfs_options.clone())),
            read_only_root: img.read_only_root,
            boot_log: observe
                .boot_log
                .as_ref()
                .map(|b| b.file.clone())
                .unwrap_or_default(),
            ready_log: Some(img.ready_log.clone()),
            default_home: profiles.default_home.clone(),
            profiles_dir: profiles.dir.clone(),
            profile_marker: profiles.marker.clone(),
            contract_init: false,
            record: vec![observe.state.file.clone()],
            privileged: img.privileged,
            init: img.init,
            volumes: img.volumes.clone(),
        }
    }

    /// The driver the harness reaches the target through.
    pub fn driver(&self) -> Arc<dyn Driver> {
        match self.adapter.protocol {
            Protocol::Contract => Arc::new(contract::ContractDriver),
            Protocol::Declared => Arc::new(declared::DeclaredDriver::new(self.adapter.clone())),
        }
    }

    /// The memory limit of a container for an OOM scenario, in bytes
    /// (`None`: the supervisor limits each service itself, and the
    /// container needs none: `oom_witness = "command"`).
    pub fn oom_memory(&self) -> Option<i64> {
        let witness = self
            .adapter
            .drive
            .as_ref()
            .map_or(adapter::OomWitness::Engine, |d| d.oom_witness);
        if witness == adapter::OomWitness::Command {
            return None;
        }
        let mib = self
            .adapter
            .image
            .as_ref()
            .and_then(|i| i.oom_memory_mib)
            .unwrap_or(64);
        Some(mib << 20)
    }

    /// Why the target does not make one of `claims` (the first such claim).
    pub fn unclaimed(&self, claims: &[Claim]) -> Option<(Claim, String)> {
        claims
            .iter()
            .find_map(|c| self.adapter.not_made(*c).map(|why| (*c, why.to_owned())))
    }
}

impl Default for Target {
    fn default() -> Self {
        Target::reference()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_is_built_in_and_makes_every_claim_but_the_supervisor_alones() {
        let t = Target::resolve("reference", None).unwrap();
        assert!(t.is_contract());
        let unclaimed: Vec<Claim> = Claim::ALL
            .into_iter()
            .filter(|c| t.unclaimed(&[*c]).is_some())
            .collect();
        assert_eq!(
            unclaimed,
            [
                Claim::SupervisorCrashIsNotAStop,
                Claim::SupervisorRestartIsNotAStop,
                Claim::ApiSignalIsAStop
            ]
        );
        assert_eq!(t.shape(), Shape::reference());
    }

    #[test]
    fn versions_are_required_where_images_are_built_per_release() {
        let e = Target::resolve("hermes", None).unwrap_err().to_string();
        assert!(e.contains("hermes@VERSION"), "{e}");
        let e = Target::resolve("reference@1.0", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("takes no @VERSION"), "{e}");
        let t = Target::resolve("hermes@0.17.0", None).unwrap();
        assert_eq!(t.label(), "hermes@0.17.0");
        let tag = t.image_tag().unwrap();
        assert!(tag.starts_with("restart-harness/hermes:0.17.0-"), "{tag}");
    }

    #[test]
    fn a_missing_adapter_says_where_it_looked() {
        let e = Target::resolve("nosuch", None).unwrap_err().to_string();
        assert!(e.contains("nosuch.toml"), "{e}");
        assert!(e.contains("adapter name"), "{e}");
    }
}
