//! Removing a sandbox: [`DockerSandbox`]'s destroy, which reports what is
//! left, and the [`RemovalGuard`] that removes it when it is dropped without.

use bollard::query_parameters::{RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder};
use bollard::Docker;

use super::DockerSandbox;
use crate::backend::docker::client::is_not_found;
use crate::backend::docker::labels;
use crate::backend::error::chain;
use crate::backend::{BackendError, BackendResult};

impl DockerSandbox {
    /// Removes the recorder, the container and the volumes, then checks by
    /// label that nothing of this scenario is left.
    pub(super) async fn remove_all(&mut self) -> BackendResult<()> {
        self.thaw();
        self.sessions.close();
        let mut problems = Vec::new();
        if let Some(recorder) = self.recorder.take() {
            // `v(true)`: the anonymous volume of the image's `VOLUME /data`,
            // which the recorder does not mount over.
            if let Err(e) = remove_container(&self.docker, &recorder).await {
                problems.push(format!(
                    "remove the recorder of {}: {}",
                    self.name,
                    chain(&e)
                ));
            }
        }
        // `v(true)`: also the anonymous volumes of any `VOLUME` of an image
        // (`--image`) that we do not mount over; the named one goes next.
        if let Err(e) = remove_container(&self.docker, &self.id).await {
            problems.push(format!("remove container {}: {}", self.name, chain(&e)));
        }
        // Every volume it made: the data dir's, the homes' and the shape's own.
        for v in &self.guard.volumes {
            if let Err(e) = remove_volume(&self.docker, v).await {
                problems.push(format!("remove volume {v}: {}", chain(&e)));
            }
        }
        let left =
            labels::leftovers(&self.docker, Some(&self.run_id), Some(&self.spec.name)).await?;
        if problems.is_empty() && left.is_empty() {
            self.guard.disarm();
            return Ok(());
        }
        let failed = if problems.is_empty() {
            String::new()
        } else {
            format!(", which could not {}", problems.join("; "))
        };
        Err(BackendError::LeftBehind {
            when: format!("by the destroy of {}{failed}", self.name),
            left: left.to_string(),
        })
    }
}

/// Removes a container with its anonymous volumes, by force; one already
/// gone is removed.
async fn remove_container(docker: &Docker, id: &str) -> Result<(), bollard::errors::Error> {
    let opts = RemoveContainerOptionsBuilder::new()
        .force(true)
        .v(true)
        .build();
    match docker.remove_container(id, Some(opts)).await {
        Err(e) if !is_not_found(&e) => Err(e),
        _ => Ok(()),
    }
}

/// Removes a volume by force; one already gone is removed.
async fn remove_volume(docker: &Docker, name: &str) -> Result<(), bollard::errors::Error> {
    let opts = RemoveVolumeOptionsBuilder::new().force(true).build();
    match docker.remove_volume(name, Some(opts)).await {
        Err(e) if !is_not_found(&e) => Err(e),
        _ => Ok(()),
    }
}

/// Removes the container and volume when a target is dropped without
/// [`crate::backend::Sandbox::destroy`] (a failing step, a panic): nothing may be left behind.
///
/// `Drop` cannot await, and the caller's runtime may be single-threaded (and
/// busy dropping us), so removal runs on a thread of its own, with its own
/// runtime and a fresh client (a pooled connection of the caller's runtime
/// could not make progress while we block it), and we wait for it.
#[derive(Debug, Default)]
pub(super) struct RemovalGuard {
    /// The engine's `--docker-host` (`None`: `DOCKER_HOST`).
    host: Option<String>,
    /// The container, then its sidecars.
    pub(super) containers: Vec<String>,
    /// The volumes.
    pub(super) volumes: Vec<String>,
}

impl RemovalGuard {
    /// A guard of nothing yet, on the engine at `host`.
    pub(super) fn on(host: Option<&str>) -> RemovalGuard {
        RemovalGuard {
            host: host.map(str::to_owned),
            containers: Vec::new(),
            volumes: Vec::new(),
        }
    }

    fn disarm(&mut self) {
        self.containers.clear();
        self.volumes.clear();
    }

    /// Removes now, on the caller's runtime (best effort: the label sweep is the backstop).
    pub(super) async fn remove_now(&mut self, docker: &Docker) {
        for c in std::mem::take(&mut self.containers) {
            let _ = remove_container(docker, &c).await;
        }
        for v in std::mem::take(&mut self.volumes) {
            let _ = remove_volume(docker, &v).await;
        }
    }
}

impl Drop for RemovalGuard {
    fn drop(&mut self) {
        if self.containers.is_empty() && self.volumes.is_empty() {
            return;
        }
        let mut this = RemovalGuard {
            host: self.host.clone(),
            containers: std::mem::take(&mut self.containers),
            volumes: std::mem::take(&mut self.volumes),
        };
        let removal = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(docker) =
                    crate::backend::docker::client::connect_to(this.host.as_deref()).await
                {
                    this.remove_now(&docker).await;
                }
            });
        });
        let _ = removal.join();
    }
}
