//! The Docker backend: every scenario in a real container of the gateway image
//! on a real Docker Engine.
//!
//! - [`image`]: compile `gateway` statically and build the project's Dockerfile
//!   around it (`restart-harness image build`).
//! - [`DockerBackend`]: one labelled volume and container per scenario
//!   ([`DockerSandbox`]), created through the engine API (bollard).
//! - [`labels`]: what marks harness objects, and the sweep (`restart-harness clean`).
//!
//! Nothing is ever pulled: a missing image is [`BackendError::NoImage`].

use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use bollard::Docker;

use crate::backend::{
    Backend, BackendError, BackendKind, BackendResult, Sandbox, SandboxSpec, SelectOptions,
};

pub mod archive;
pub mod client;
pub mod events;
pub mod exec;
pub mod image;
pub mod labels;
pub mod privilege;
pub mod sandbox;

pub use client::connect;
pub use image::{build_image, BuildOptions, ImageBuilder, ImageRef};
pub use labels::{Leftovers, SweepReport};
pub use sandbox::DockerSandbox;

/// The environment variable that selects a mutant of the gateway.
const MUTANT_ENV: &str = "GATEWAY_MUTANT";

/// Creates one container per scenario.
#[derive(Debug)]
pub struct DockerBackend {
    docker: Docker,
    image: String,
    mutants_image: Option<String>,
    built: Vec<ImageRef>,
    run_id: String,
    engine: String,
    /// `--docker-host`, if given (`None`: `DOCKER_HOST` or the default).
    host: Option<String>,
    /// How this engine gives a container what `--privileged` gives: asked
    /// once, when a shape first needs it.
    privilege: tokio::sync::OnceCell<privilege::Privilege>,
}

impl DockerBackend {
    /// Connects to the engine (a clear [`BackendError::NoDaemon`] when none
    /// answers), then prepares the images: `opts.image` when given (it must
    /// exist; it also serves mutant scenarios, since an image that honours the
    /// contract may honour `GATEWAY_MUTANT` too), else the reference image,
    /// built or reused, and with `opts.mutants` the mutants image as well.
    ///
    /// Warns on stderr about harness objects that earlier runs left behind.
    pub async fn connect(opts: &SelectOptions) -> BackendResult<DockerBackend> {
        let mut backend = DockerBackend::connect_images(opts).await?;
        backend.host.clone_from(&opts.docker_host);
        Ok(backend)
    }

    /// [`DockerBackend::connect`], but for the engine's name.
    async fn connect_images(opts: &SelectOptions) -> BackendResult<DockerBackend> {
        let host = opts.docker_host.as_deref();
        let docker = client::connect_to(host).await?;
        let left = labels::leftovers(&docker, None, None).await?;
        if !left.is_empty() {
            eprintln!(
                "restart-harness: warning: the engine has {left} of other harness runs: \
                 left by a killed run, or of a run still going; when none is, \
                 `restart-harness clean` removes them"
            );
        }
        if let Some(name) = &opts.image {
            return DockerBackend::with_images(docker, name.clone(), Some(name.clone())).await;
        }
        let reference = BuildOptions::new(false);
        let (reference, mutants) = if opts.mutants {
            let mutants = BuildOptions::new(true);
            let (r, m) = tokio::join!(
                image::build_image_on(&docker, host, &reference),
                image::build_image_on(&docker, host, &mutants)
            );
            (r?, Some(m?))
        } else {
            (
                image::build_image_on(&docker, host, &reference).await?,
                None,
            )
        };
        let mut backend = DockerBackend::with_images(
            docker,
            reference.name.clone(),
            mutants.as_ref().map(|m| m.name.clone()),
        )
        .await?;
        backend.built = std::iter::once(reference).chain(mutants).collect();
        Ok(backend)
    }

    /// A backend for existing images (checked now, so that a missing image is
    /// reported before any scenario starts).
    pub async fn with_images(
        docker: Docker,
        image: String,
        mutants_image: Option<String>,
    ) -> BackendResult<DockerBackend> {
        image::require_image(&docker, &image).await?;
        if let Some(m) = &mutants_image {
            image::require_image(&docker, m).await?;
        }
        let engine = match docker.version().await {
            Ok(v) => format!(
                "engine {} API {}",
                v.version.unwrap_or_default(),
                v.api_version.unwrap_or_default()
            ),
            Err(e) => format!("engine version unknown: {e}"),
        };
        Ok(DockerBackend {
            docker,
            image,
            mutants_image,
            built: Vec::new(),
            run_id: run_id(),
            engine,
            host: None,
            privilege: tokio::sync::OnceCell::new(),
        })
    }

    /// The engine's version, and its URL when `--docker-host` named it.
    fn engine_line(&self) -> String {
        match &self.host {
            Some(h) => format!("{} at {h}", self.engine),
            None => self.engine.clone(),
        }
    }

    /// The id in every object's `restart-harness.run` label.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The image scenarios run on.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The image for scenarios that set `GATEWAY_MUTANT`, if any.
    pub fn mutants_image(&self) -> Option<&str> {
        self.mutants_image.as_deref()
    }

    /// The images [`DockerBackend::connect`] built or reused (with timings).
    pub fn built_images(&self) -> &[ImageRef] {
        &self.built
    }

    /// The engine client.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Harness objects of other runs still on the engine: a run warns about
    /// them at start (`restart-harness clean` removes them).
    pub async fn foreign_leftovers(&self) -> BackendResult<Leftovers> {
        let mut all = labels::leftovers(&self.docker, None, None).await?;
        let mine = labels::leftovers(&self.docker, Some(&self.run_id), None).await?;
        all.containers.retain(|c| !mine.containers.contains(c));
        all.volumes.retain(|v| !mine.volumes.contains(v));
        Ok(all)
    }

    /// Removes whatever this run still has (a backstop after an interrupted run).
    pub async fn sweep_run(&self) -> BackendResult<SweepReport> {
        labels::sweep(&self.docker, Some(&self.run_id), false).await
    }

    /// [`Backend::create`], typed.
    pub async fn create_target(&self, spec: &SandboxSpec) -> BackendResult<DockerSandbox> {
        let image = match spec.env.iter().find(|(k, _)| k == MUTANT_ENV) {
            None => spec.shape.image.as_ref().unwrap_or(&self.image),
            Some((_, mutant)) => {
                self.mutants_image
                    .as_ref()
                    .ok_or_else(|| BackendError::NoMutantsImage {
                        wanted_by: format!("scenario {} ({MUTANT_ENV}={mutant})", spec.name),
                    })?
            }
        };
        let privilege = if spec.shape.privileged {
            let p = self
                .privilege
                .get_or_try_init(|| privilege::probe(&self.docker, &self.image, &self.run_id))
                .await?;
            Some(*p)
        } else {
            None
        };
        // The recorder sidecar runs `gateway watch` from the reference image.
        let images = sandbox::Images {
            target: image,
            recorder: &self.image,
        };
        let engine = sandbox::Engine {
            docker: &self.docker,
            host: self.host.as_deref(),
        };
        DockerSandbox::create(engine, images, &self.run_id, spec, privilege).await
    }
}

#[async_trait]
impl Backend for DockerBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Docker
    }

    fn describe(&self) -> String {
        match &self.mutants_image {
            Some(m) if m != &self.image => format!(
                "docker (image {}, mutants image {m}; {})",
                self.image,
                self.engine_line()
            ),
            _ => format!("docker (image {}; {})", self.image, self.engine_line()),
        }
    }

    fn describe_gating(&self, image: &str) -> String {
        format!("docker (image {image}; {})", self.engine_line())
    }

    fn engine(&self) -> Option<String> {
        Some(client::engine_name(self.host.as_deref()))
    }

    fn mutants_binary(&self) -> Option<&std::path::Path> {
        let mutants = self.mutants_image.as_deref()?;
        self.built
            .iter()
            .find(|i| i.name == mutants)
            .map(|i| i.binary.as_path())
    }

    async fn create(&self, spec: &SandboxSpec) -> BackendResult<Box<dyn Sandbox>> {
        Ok(Box::new(self.create_target(spec).await?))
    }
}

/// Whether the engine at `host` (`None`: `DOCKER_HOST`) has `image`
/// (checked before anything is built for a run that gates it).
pub async fn has_image(image: &str, host: Option<&str>) -> BackendResult<bool> {
    image::image_exists(&client::connect_to(host).await?, image).await
}

/// `restart-harness clean`: removes every harness container and volume, and
/// with `images` every image tag under `restart-harness/`.
pub async fn clean(images: bool) -> BackendResult<SweepReport> {
    let docker = connect().await?;
    labels::sweep(&docker, None, images).await
}

/// Names a run's objects: `RESTART_HARNESS_RUN_ID` when set (so that CI, or a
/// test driving the CLI, can find exactly its run's objects by label), else a
/// new unique id.
pub const RUN_ID_ENV: &str = "RESTART_HARNESS_RUN_ID";

fn run_id() -> String {
    match std::env::var(RUN_ID_ENV) {
        Ok(id) if !id.is_empty() => id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .collect(),
        _ => new_run_id(),
    }
}

/// A run id unique on this host: time, pid and a per-process counter (several
/// backends in one process, e.g. a test binary, must not share names).
fn new_run_id() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    format!(
        "{secs:x}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
