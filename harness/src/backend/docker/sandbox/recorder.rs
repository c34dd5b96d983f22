//! The recorder sidecar: `gateway watch` over the sandbox's volumes, mounted
//! read-only, printing every version of the shape's `record` files. It
//! outlives every restart of the target's container, so it also holds the
//! homes' tmpfs volume mounted (and its files alive) across them.

use std::time::{Duration, Instant};

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{CreateContainerOptionsBuilder, StartContainerOptions};

use super::create::volume_mount;
use super::{logs_of, DockerSandbox, POLL_MAX, POLL_MIN};
use crate::backend::docker::client::api_error;
use crate::backend::docker::labels;
use crate::backend::error::last_lines;
use crate::backend::{BackendError, BackendKind, BackendResult, FileVersion};

/// Where the recorder sidecar mounts the target's volume (read-only).
const RECORDER_MOUNT: &str = "/watch";
/// The file name the recorder watches for when it only holds a tmpfs volume
/// mounted (no file has it).
const HOLDER_NAME: &str = ".restart-harness-holds-this-volume";
/// How long the recorder may take to say it is watching.
const RECORDER_DEADLINE: Duration = Duration::from_secs(30);

impl DockerSandbox {
    /// Starts the sidecar that records every version of the shape's `record`
    /// files and waits until it watches.
    pub(super) async fn start_recorder(&mut self, image: &str) -> BackendResult<()> {
        let name = format!("{}-recorder", self.name);
        let options = CreateContainerOptionsBuilder::new().name(&name).build();
        let id = self
            .docker
            .create_container(Some(options), self.recorder_body(image))
            .await
            .map_err(|e| api_error(format!("create the recorder {name}"), e))?
            .id;
        self.guard.containers.push(id.clone());
        self.docker
            .start_container(&id, None::<StartContainerOptions>)
            .await
            .map_err(|e| api_error(format!("start the recorder {name}"), e))?;
        self.recorder = Some(id.clone());
        self.wait_watching(&id, &name).await
    }

    /// The recorder's container: `gateway watch` as root, every volume read-only.
    fn recorder_body(&self, image: &str) -> ContainerCreateBody {
        let mut cmd = vec!["watch".to_owned(), RECORDER_MOUNT.to_owned()];
        let mut names = self.spec.shape.record.clone();
        if names.is_empty() {
            names.push(HOLDER_NAME.to_owned());
        }
        for f in names {
            cmd.push("--name".to_owned());
            cmd.push(f);
        }
        let mut mounts = vec![volume_mount(&self.volume, RECORDER_MOUNT, true)];
        if let Some(v) = &self.profiles_volume {
            mounts.push(volume_mount(v, &format!("{RECORDER_MOUNT}/profiles"), true));
        }
        ContainerCreateBody {
            image: Some(image.to_owned()),
            // ENTRYPOINT ["/gateway", "init"] would run init: replace it.
            entrypoint: Some(vec!["/gateway".to_owned()]),
            cmd: Some(cmd),
            // Root: it must read files of whatever user the target runs as.
            user: Some("0:0".to_owned()),
            labels: Some(labels::for_target(&self.run_id, &self.spec.name)),
            host_config: Some(HostConfig {
                readonly_rootfs: Some(true),
                network_mode: Some("none".to_owned()),
                mounts: Some(mounts),
                init: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Waits until the recorder `id` says it is watching.
    async fn wait_watching(&self, id: &str, name: &str) -> BackendResult<()> {
        let t0 = Instant::now();
        let mut delay = POLL_MIN;
        loop {
            let text = logs_of(&self.docker, id).await?;
            if text.lines().any(|l| l.contains(r#""event":"watching""#)) {
                return Ok(());
            }
            if t0.elapsed() >= RECORDER_DEADLINE {
                return Err(BackendError::Timeout {
                    awaited: format!("the recorder {name} to say it is watching"),
                    waited: t0.elapsed(),
                    last_seen: last_lines(&text, 5),
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(POLL_MAX);
        }
    }

    /// Every version the recorder printed so far, oldest first.
    pub(super) async fn recorded_versions(&self) -> BackendResult<Vec<FileVersion>> {
        let Some(id) = &self.recorder else {
            return Err(BackendError::Unsupported {
                backend: BackendKind::Docker,
                what: "record file versions of a shape that names no file to record".to_owned(),
            });
        };
        let text = logs_of(&self.docker, id).await?;
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str::<FileVersion>(l).ok())
            .collect())
    }
}
