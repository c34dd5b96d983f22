//! Which gateway, on which backend: `--target`, `--backend`, `--gateway`,
//! `--image` and `--mutant` resolved into a target and a backend, checked
//! before anything runs ([`super::validate`]).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::validate::{self, Misuse};
use super::CliError;
use crate::backend::{self, BackendError, BackendKind, SelectOptions, Selection};
use crate::target::Target;

/// `--backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// Local processes in temp dirs.
    Process,
    /// Real containers; no daemon is an error (exit 2).
    Docker,
    /// Docker when a daemon answers, else local processes.
    Auto,
}

impl From<BackendArg> for Selection {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Process => Selection::Process,
            BackendArg::Docker => Selection::Docker,
            BackendArg::Auto => Selection::Auto,
        }
    }
}

/// What the gateway is and where it runs.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// What to gate: `reference` (this repository's gateway), an adapter in
    /// adapters/ or a path to one, with @VERSION for a target built per
    /// release (`hermes@0.17.0`).
    #[arg(long, value_name = "NAME[@VERSION]", default_value = "reference")]
    pub target: String,
    /// Which backend runs the scenarios.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendArg,
    /// The gateway binary for the process backend (also $RESTART_HARNESS_GATEWAY);
    /// default: build this workspace's gateway with cargo.
    #[arg(long, value_name = "PATH")]
    pub gateway: Option<PathBuf>,
    /// The image the Docker backend runs (default: build the target's image:
    /// the reference image, or the release's with its adapter's recipe).
    #[arg(long, value_name = "NAME")]
    pub image: Option<String>,
    /// Run a deliberately broken gateway (the `mutants` build, GATEWAY_MUTANT=NAME).
    #[arg(long, value_name = "NAME")]
    pub mutant: Option<String>,
    /// The Docker Engine to run on (`unix:///PATH`, `tcp://HOST:PORT`);
    /// repeated, several engines in one run, each given scenarios as it frees
    /// up (default: `DOCKER_HOST`, else the default socket).
    #[arg(long = "docker-host", value_name = "URL")]
    pub docker_hosts: Vec<String>,
}

/// What `--target`, `--image` and `--backend` resolve to: the target, the
/// backend to ask for, and how to set it up.
pub(super) struct Resolved {
    pub(super) target: Target,
    pub(super) selection: Selection,
    pub(super) select: SelectOptions,
    pub(super) env: Vec<(String, String)>,
    /// `--mutant`, checked against the gateway once the backend has it.
    pub(super) mutant: Option<String>,
    /// Whether `--gateway` named the binary (a mutant it lacks is its fault).
    pub(super) explicit_gateway: bool,
    /// `--docker-host`, each given (none: `DOCKER_HOST`).
    pub(super) docker_hosts: Vec<String>,
}

/// Resolves and checks every option of the target and backend; nothing has
/// run yet ([`validate`]).
pub(super) fn resolve(t: &TargetArgs) -> Result<Resolved, CliError> {
    if !t.docker_hosts.is_empty() && t.backend == BackendArg::Process {
        return Err(Misuse::DockerHostOnProcess.into());
    }
    let env = t
        .mutant
        .iter()
        .map(|m| ("GATEWAY_MUTANT".to_owned(), m.clone()))
        .collect();
    let target = Target::resolve(&t.target, t.image.clone())?;
    if target.is_contract() {
        // The contract's gateway runs in the backend's image (`--image`).
        return Ok(Resolved {
            target: Target {
                image: None,
                ..target
            },
            selection: validate::contract_selection(t)?,
            select: SelectOptions {
                gateway: t.gateway.clone(),
                mutants: t.mutant.is_some(),
                image: t.image.clone(),
                docker_host: None,
            },
            env,
            mutant: t.mutant.clone(),
            explicit_gateway: t.gateway.is_some(),
            docker_hosts: t.docker_hosts.clone(),
        });
    }
    // Another target runs in its own image (`--image`, or the release's);
    // the backend keeps the reference image for the recorder sidecar.
    validate::declared_options(t, &target)?;
    let selection = match t.backend {
        BackendArg::Process => {
            target.check_backend(BackendKind::Process)?;
            Selection::Process
        }
        BackendArg::Docker | BackendArg::Auto => Selection::Docker,
    };
    Ok(Resolved {
        target,
        selection,
        select: SelectOptions::default(),
        env,
        mutant: None,
        explicit_gateway: false,
        docker_hosts: t.docker_hosts.clone(),
    })
}

/// The backends for `r`: one per `--docker-host`, or the one [`backend_for`]
/// gives when none was named.
pub(super) async fn backends_for(r: &Resolved) -> Result<Vec<Box<dyn backend::Backend>>, CliError> {
    if r.docker_hosts.is_empty() {
        return Ok(vec![backend_for(r, None).await?]);
    }
    let mut out = Vec::new();
    for host in &r.docker_hosts {
        out.push(backend_for(r, Some(host)).await?);
    }
    Ok(out)
}

/// The one backend of a command that runs on one engine (`command`): on the
/// `--docker-host` given, if one was.
pub(super) async fn one_backend(
    r: &Resolved,
    command: &'static str,
) -> Result<Box<dyn backend::Backend>, CliError> {
    match r.docker_hosts.as_slice() {
        [] => backend_for(r, None).await,
        [host] => backend_for(r, Some(host)).await,
        several => Err(Misuse::SeveralEngines {
            command,
            count: several.len(),
        }
        .into()),
    }
}

/// The backend for `r` on the engine at `host` (`None`: `DOCKER_HOST`),
/// with the target's image built when it is built per release and no
/// `--image` was given; the mutant asked for checked against the gateway
/// that will run it, and a target's `--image` against the engine.
pub(super) async fn backend_for(
    r: &Resolved,
    host: Option<&str>,
) -> Result<Box<dyn backend::Backend>, CliError> {
    if let (Some(image), Selection::Docker) = (&r.target.image, r.selection) {
        require_image(image, &r.target, host).await?;
    }
    let select = SelectOptions {
        docker_host: host.map(str::to_owned),
        ..r.select.clone()
    };
    let b = backend::select(r.selection, &select).await?;
    r.target.check_backend(b.kind())?;
    if let (Some(m), Some(binary)) = (&r.mutant, b.mutants_binary()) {
        let (binary, m, explicit) = (binary.to_owned(), m.clone(), r.explicit_gateway);
        tokio::task::spawn_blocking(move || validate::mutant_listed(&binary, &m, explicit))
            .await
            .map_err(|e| BackendError::task("checking the mutant against the gateway", e))??;
    }
    if let (None, Some(version)) = (&r.target.image, &r.target.version) {
        crate::target::image::build_release_on(&r.target.adapter, version, host).await?;
    }
    Ok(b)
}

/// A target's `--image` must be on the engine: nothing is ever pulled.
async fn require_image(image: &str, target: &Target, host: Option<&str>) -> Result<(), CliError> {
    if backend::docker::has_image(image, host).await? {
        return Ok(());
    }
    Err(Misuse::NoSuchImage {
        image: image.to_owned(),
        hint: match &target.adapter.image {
            Some(_) => format!(
                "; or gate a release: --target {}@VERSION builds it",
                target.adapter.name
            ),
            None => String::new(),
        },
    }
    .into())
}

/// The report's first line: the backend and the image or binary actually gated.
pub(super) fn describe(b: &dyn backend::Backend, target: &Target) -> String {
    match target.image_tag() {
        Some(image) if !target.is_contract() => b.describe_gating(&image),
        _ => b.describe(),
    }
}

/// The target's label in a report, unless it is the reference gateway.
pub(super) fn target_label(t: &Target) -> Option<String> {
    (!t.is_contract() || t.adapter.name != crate::target::REFERENCE).then(|| t.label())
}
