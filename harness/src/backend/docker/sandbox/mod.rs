//! One scenario's container: a labelled named volume for `/data` and a container
//! of the gateway image with `gateway init` as PID 1, driven through the
//! engine's API (start, restart, kill, exec, archive, events, logs). A scenario
//! that fills a disk gets a second volume, a size-limited tmpfs, for `profiles/`.
//!
//! - `create`: the volumes and the container;
//! - `recorder`: the sidecar that records file versions and holds volumes;
//! - `boot`: what shows a boot, and the wait for one;
//! - `lifecycle`: start, restart and kill;
//! - `files`: reads and writes of the data dir (archives);
//! - `fs_faults`: read-only home, directory where a file belongs, full disk;
//! - `oom`: the kernel's OOM kill of one gateway;
//! - `teardown`: destroy, and removal when dropped without it.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;

use crate::backend::docker::events::Action;
use bollard::container::LogOutput;
use bollard::models::ContainerState;
use bollard::query_parameters::{InspectContainerOptions, LogsOptionsBuilder};
use bollard::Docker;
use futures_util::StreamExt;

use super::archive;
use super::client::api_error;
use super::events::{ContainerEvent, EventLog};
use super::exec::{self, exec, exec_as};
use crate::backend::session::Sessions;
use crate::backend::{
    BackendKind, BackendResult, CmdOutput, ContainerFacts, Detached, DirEntry, FileVersion,
    FsFault, Sandbox, SandboxSpec,
};

mod boot;
mod create;
mod files;
mod fs_faults;
mod lifecycle;
mod oom;
mod recorder;
mod teardown;

pub use create::{Engine, Images};
use teardown::RemovalGuard;

/// The run dir inside the reference's container: a tmpfs (SPEC §6).
pub const RUN_DIR: &str = "/run/gateway";

/// How long one `gateway` command may run (control commands wait up to 30 s themselves).
const EXEC_DEADLINE: Duration = Duration::from_secs(120);
/// Polling interval bounds while waiting on a file condition (there is no event
/// for "a line was appended to a file in a volume").
const POLL_MIN: Duration = Duration::from_millis(10);
const POLL_MAX: Duration = Duration::from_millis(200);

/// A container name or volume name for `run`/`scenario` (Docker allows
/// `[a-zA-Z0-9][a-zA-Z0-9_.-]*`).
pub fn object_name(run: &str, scenario: &str) -> String {
    let clean: String = format!("restart-harness-{run}-{scenario}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    clean
}

/// One scenario's container and volume.
pub struct DockerSandbox {
    docker: Docker,
    id: String,
    name: String,
    volume: String,
    /// The size-limited tmpfs volume of `profiles/` ([`SandboxSpec::disk_limit`]).
    profiles_volume: Option<String>,
    run_id: String,
    spec: SandboxSpec,
    events: EventLog,
    guard: RemovalGuard,
    /// The sidecar that records file versions (shapes with `record`), and
    /// holds the tmpfs volume mounted across the container's restarts.
    recorder: Option<String>,
    /// Homes made read-only, and homes holding filler files (with how many).
    read_only: std::collections::BTreeSet<String>,
    fillers: std::collections::BTreeMap<String, usize>,
    /// The kept `gateway status --json --serve`.
    sessions: Sessions,
    /// Set by [`Sandbox::freeze`]: the data dir, archived whole at the first
    /// read after the freeze (an instant with no read costs no archive), and
    /// every read until the next call that acts or waits is served from it.
    /// Each such method of this impl starts with `self.thaw()`.
    frozen: Option<tokio::sync::OnceCell<archive::Tree>>,
}

impl std::fmt::Debug for DockerSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerSandbox")
            .field("name", &self.name)
            .field("id", &self.id)
            .field("volume", &self.volume)
            .finish_non_exhaustive()
    }
}

impl DockerSandbox {
    /// The container id.
    pub fn container_id(&self) -> &str {
        &self.id
    }

    /// The container name.
    pub fn container_name(&self) -> &str {
        &self.name
    }

    /// The volume name.
    pub fn volume_name(&self) -> &str {
        &self.volume
    }

    /// Every engine event recorded for the container.
    pub fn events(&self) -> Vec<ContainerEvent> {
        self.events.all()
    }

    /// The container's state from `inspect`.
    pub async fn state(&self) -> BackendResult<ContainerState> {
        let ins = self
            .docker
            .inspect_container(&self.id, None::<InspectContainerOptions>)
            .await
            .map_err(|e| api_error(format!("inspect {}", self.name), e))?;
        Ok(ins.state.unwrap_or_default())
    }

    /// The container's logs, stdout and stderr interleaved as written.
    async fn logs_text(&self) -> BackendResult<String> {
        logs_of(&self.docker, &self.id).await
    }

    /// Runs `argv` as the shape's user, with its environment.
    async fn exec_as_shape(&self, argv: &[String]) -> BackendResult<CmdOutput> {
        let shape = &self.spec.shape;
        exec_as(
            &self.docker,
            &self.id,
            argv,
            shape.exec_user.as_deref(),
            &shape.exec_env,
            EXEC_DEADLINE,
        )
        .await
    }

    /// What the engine knows: the last exit code of PID 1, an `oom` event,
    /// when the container last started.
    async fn container_facts(&self) -> BackendResult<ContainerFacts> {
        let state = self.state().await?;
        let events = self.events.all();
        let last_exit_code = events
            .iter()
            .rev()
            .find(|e| e.action == Action::Die)
            .and_then(|e| e.exit_code)
            .or(if state.running == Some(false) {
                state.exit_code
            } else {
                None
            });
        Ok(ContainerFacts {
            last_exit_code,
            oom_seen: events.iter().any(|e| e.action == Action::Oom),
            started_at: state.started_at,
        })
    }
}

/// Each primitive is in the module named above; each one that acts or waits
/// starts with `self.thaw()` (see [`DockerSandbox::frozen`]).
#[async_trait]
impl Sandbox for DockerSandbox {
    fn kind(&self) -> BackendKind {
        BackendKind::Docker
    }

    async fn boot(&mut self) -> BackendResult<()> {
        self.first_boot().await
    }

    async fn gateway(&mut self, args: &[String]) -> BackendResult<CmdOutput> {
        self.thaw();
        let mut cmd = vec!["/gateway".to_owned()];
        cmd.extend(args.iter().cloned());
        exec(&self.docker, &self.id, &cmd, EXEC_DEADLINE).await
    }

    async fn gateway_detached(&mut self, args: &[String]) -> BackendResult<Detached> {
        self.thaw();
        let mut cmd = vec!["/gateway".to_owned()];
        cmd.extend(args.iter().cloned());
        let (docker, id) = (self.docker.clone(), self.id.clone());
        Ok(Detached::spawn(async move {
            exec(&docker, &id, &cmd, EXEC_DEADLINE).await
        }))
    }

    async fn exec_detached(&mut self, argv: &[String]) -> BackendResult<Detached> {
        self.thaw();
        let shape = &self.spec.shape;
        let (docker, id, argv) = (self.docker.clone(), self.id.clone(), argv.to_vec());
        let (user, env) = (shape.exec_user.clone(), shape.exec_env.clone());
        Ok(Detached::spawn(async move {
            exec_as(&docker, &id, &argv, user.as_deref(), &env, EXEC_DEADLINE).await
        }))
    }

    async fn ask_gateway(&mut self, args: &[String]) -> BackendResult<Option<String>> {
        self.thaw();
        let mut argv = vec!["/gateway".to_owned()];
        argv.extend(args.iter().cloned());
        let (docker, id) = (&self.docker, &self.id);
        self.sessions
            .ask(&argv, || exec::session(docker, id, &argv))
            .await
    }

    async fn freeze(&mut self) -> BackendResult<()> {
        self.frozen = Some(tokio::sync::OnceCell::new());
        Ok(())
    }

    async fn exec(&mut self, argv: &[String]) -> BackendResult<CmdOutput> {
        self.thaw();
        self.exec_as_shape(argv).await
    }

    async fn file_versions(&mut self) -> BackendResult<Vec<FileVersion>> {
        self.recorded_versions().await
    }

    async fn write_file(&mut self, rel: &Path, bytes: &[u8]) -> BackendResult<()> {
        self.write(rel, bytes).await
    }

    async fn read_file(&mut self, rel: &Path) -> BackendResult<Option<Vec<u8>>> {
        self.read(rel).await
    }

    async fn list_dir(&mut self, rel: &Path) -> BackendResult<Vec<String>> {
        let children = self.children(rel).await?;
        Ok(children.into_iter().map(|c| c.name).collect())
    }

    async fn read_dir(&mut self, rel: &Path) -> BackendResult<Vec<DirEntry>> {
        let children = self.children(rel).await?;
        Ok(children
            .into_iter()
            .map(|c| DirEntry {
                name: c.name,
                content: c.content,
            })
            .collect())
    }

    async fn container_restart(&mut self, stop_timeout: Option<Duration>) -> BackendResult<()> {
        self.restart(stop_timeout).await
    }

    async fn container_kill(&mut self) -> BackendResult<()> {
        self.kill_and_start().await
    }

    async fn container_stop_cut(&mut self, after: Duration) -> BackendResult<()> {
        self.stop_cut(after).await
    }

    async fn supervisor_sigterm(&mut self) -> BackendResult<()> {
        self.sigterm_supervisor().await
    }

    async fn fs_fault(&mut self, profile: &str, fault: &FsFault) -> BackendResult<()> {
        self.make_fs_fault(profile, fault).await
    }

    async fn fs_restore(&mut self, profile: &str) -> BackendResult<()> {
        self.undo_fs_faults(profile).await
    }

    async fn oom(&mut self, profile: &str) -> BackendResult<()> {
        self.oom_gateway(profile).await
    }

    async fn oom_with(&mut self, argv: &[String]) -> BackendResult<CmdOutput> {
        self.oom_by(argv).await
    }

    async fn facts(&mut self) -> BackendResult<ContainerFacts> {
        self.container_facts().await
    }

    async fn logs(&mut self) -> BackendResult<String> {
        self.logs_text().await
    }

    async fn destroy(&mut self) -> BackendResult<()> {
        self.remove_all().await
    }
}

/// A container's logs, stdout and stderr interleaved as written.
async fn logs_of(docker: &Docker, id: &str) -> BackendResult<String> {
    let opts = LogsOptionsBuilder::new()
        .stdout(true)
        .stderr(true)
        .tail("all")
        .build();
    let mut stream = docker.logs(id, Some(opts));
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        match chunk.map_err(|e| api_error(format!("read the logs of {id}"), e))? {
            LogOutput::StdOut { message }
            | LogOutput::StdErr { message }
            | LogOutput::Console { message }
            | LogOutput::StdIn { message } => text.push_str(&String::from_utf8_lossy(&message)),
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_docker_safe() {
        assert_eq!(
            object_name("r1", "two profiles/x"),
            "restart-harness-r1-two-profiles-x"
        );
    }
}
