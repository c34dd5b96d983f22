//! One scenario's container: a labelled named volume for `/data` and a container
//! of the gateway image with `gateway init` as PID 1, driven through the
//! engine's API (start, restart, kill, exec, archive, events, logs). A scenario
//! that fills a disk gets a second volume, a size-limited tmpfs, for `profiles/`.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use bollard::container::LogOutput;
use bollard::models::{
    ContainerCreateBody, ContainerState, HostConfig, Mount, MountType, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, KillContainerOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder,
    RestartContainerOptionsBuilder, StartContainerOptions,
};
use bollard::Docker;
use futures_util::StreamExt;

use super::archive;
use super::client::{api_error, is_not_found};
use super::events::{ContainerEvent, EventLog};
use super::exec::{self, exec, exec_as};
use super::labels;
use crate::backend::session::Sessions;
use crate::backend::{
    BackendError, BackendKind, BackendResult, CmdOutput, ContainerFacts, FileVersion, Sandbox,
    SandboxSpec,
};

/// The run dir inside the reference's container: a tmpfs (SPEC §6).
pub const RUN_DIR: &str = "/run/gateway";

/// Where the recorder sidecar mounts the target's volume (read-only).
const RECORDER_MOUNT: &str = "/watch";
/// The file name the recorder watches for when it only holds a tmpfs volume
/// mounted (no file has it).
const HOLDER_NAME: &str = ".restart-harness-holds-this-volume";
/// The names of the files that fill a full disk (`harness-filler-N`).
const FILLER_PREFIX: &str = "harness-filler-";
/// The size of one filler file: one page of tmpfs.
const FILLER_BYTES: usize = 4096;
/// How long the recorder may take to say it is watching.
const RECORDER_DEADLINE: Duration = Duration::from_secs(30);

/// How long init may take from (re)start to its last boot line.
const BOOT_DEADLINE: Duration = Duration::from_secs(60);
/// How long an engine event may take to show up after the call that causes it.
const EVENT_DEADLINE: Duration = Duration::from_secs(30);
/// How long one `gateway` command may run (control commands wait up to 30 s themselves).
const EXEC_DEADLINE: Duration = Duration::from_secs(120);
/// How long the kernel may take to OOM-kill a ballooning gateway, and init to reap it.
const OOM_DEADLINE: Duration = Duration::from_secs(60);
/// Docker's own default stop timeout.
const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);
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
    /// Creates the volume and the container (not started: [`Sandbox::boot`] starts it).
    pub(crate) async fn create(
        docker: &Docker,
        image: &str,
        recorder_image: &str,
        run_id: &str,
        spec: &SandboxSpec,
    ) -> BackendResult<DockerSandbox> {
        let shape = &spec.shape;
        let name = object_name(run_id, &spec.name);
        let volume = format!("{name}-data");
        let labels = labels::for_target(run_id, &spec.name);
        // Taken before the container exists: the event log replays from here.
        let since = SystemTime::now();

        docker
            .create_volume(VolumeCreateRequest {
                name: Some(volume.clone()),
                labels: Some(labels.clone()),
                ..Default::default()
            })
            .await
            .map_err(|e| api_error(format!("create volume {volume}"), e))?;
        let mut guard = RemovalGuard {
            containers: Vec::new(),
            volumes: vec![volume.clone()],
        };
        let mut mounts = vec![volume_mount(&volume, &shape.data_dir, false)];
        let profiles_volume = match spec.disk_limit {
            None => None,
            Some(limit) => {
                let v = format!("{name}-profiles");
                // The local driver mounts a tmpfs of this size when a container
                // using the volume starts; the recorder keeps it mounted (and
                // its files alive) while the target's container restarts.
                let opts = [
                    ("type".to_owned(), "tmpfs".to_owned()),
                    ("device".to_owned(), "tmpfs".to_owned()),
                    (
                        "o".to_owned(),
                        format!("size={limit},uid={0},gid={0},mode=0700", shape.uid),
                    ),
                ];
                let created = docker
                    .create_volume(VolumeCreateRequest {
                        name: Some(v.clone()),
                        driver: Some("local".to_owned()),
                        driver_opts: Some(opts.into()),
                        labels: Some(labels.clone()),
                        ..Default::default()
                    })
                    .await;
                if let Err(e) = created {
                    guard.remove_now(docker).await;
                    return Err(api_error(format!("create volume {v}"), e));
                }
                guard.volumes.push(v.clone());
                mounts.push(volume_mount(
                    &v,
                    &format!("{}/profiles", shape.data_dir),
                    false,
                ));
                Some(v)
            }
        };

        let mut env = Vec::new();
        if shape.contract_init {
            if !spec.profiles.is_empty() {
                env.push(format!("GATEWAY_PROFILES={}", spec.profiles.join(",")));
            }
            if spec.memory_limit.is_some() {
                // `gateway balloon` only works when the gateway sees this (SPEC §5).
                env.push("GATEWAY_TEST_HOOKS=1".to_owned());
            }
        }
        env.extend(spec.env.iter().map(|(k, v)| format!("{k}={v}")));

        let host_config = HostConfig {
            readonly_rootfs: Some(shape.read_only_root),
            network_mode: Some("none".to_owned()),
            tmpfs: shape
                .run_tmpfs
                .as_ref()
                .map(|(path, opts)| [(path.clone(), opts.clone())].into()),
            mounts: Some(mounts),
            // Swap equal to memory: no swap, so the kernel kills instead of swapping.
            memory: spec.memory_limit,
            memory_swap: spec.memory_limit,
            // gateway init is PID 1 itself: no docker-init in between.
            init: Some(false),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(image.to_owned()),
            // Appended to ENTRYPOINT ["/gateway", "init"].
            cmd: (shape.contract_init && !spec.init_args.is_empty())
                .then(|| spec.init_args.clone()),
            env: Some(env),
            labels: Some(labels),
            host_config: Some(host_config),
            ..Default::default()
        };
        let created = docker
            .create_container(
                Some(CreateContainerOptionsBuilder::new().name(&name).build()),
                body,
            )
            .await;
        let id = match created {
            Ok(r) => r.id,
            Err(e) => {
                let err = if is_not_found(&e) {
                    BackendError::NoImage {
                        image: image.to_owned(),
                    }
                } else {
                    api_error(format!("create container {name}"), e)
                };
                guard.remove_now(docker).await;
                return Err(err);
            }
        };
        guard.containers.push(id.clone());
        let events = EventLog::subscribe(docker, &id, since);
        let mut sandbox = DockerSandbox {
            docker: docker.clone(),
            id,
            name,
            volume,
            profiles_volume,
            run_id: run_id.to_owned(),
            spec: spec.clone(),
            events,
            guard,
            recorder: None,
            read_only: Default::default(),
            fillers: Default::default(),
            sessions: Sessions::default(),
            frozen: None,
        };
        if sandbox.profiles_volume.is_some() {
            // The recorder mounts the data volume read-only: the mount point
            // of `profiles/` must be there before it mounts that volume too.
            let tar = archive::dir_tar(shape.uid, "profiles", 0o700)?;
            archive::upload(docker, &sandbox.id, &shape.data_dir, tar).await?;
        }
        if !shape.record.is_empty() || sandbox.profiles_volume.is_some() {
            sandbox.start_recorder(recorder_image).await?;
        }
        Ok(sandbox)
    }

    /// Starts the sidecar that records every version of the shape's `record`
    /// files (`gateway watch` over the volumes, mounted read-only) and waits
    /// until it watches. It outlives every restart of the target's container.
    async fn start_recorder(&mut self, image: &str) -> BackendResult<()> {
        let name = format!("{}-recorder", self.name);
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
        let body = ContainerCreateBody {
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
        };
        let id = self
            .docker
            .create_container(
                Some(CreateContainerOptionsBuilder::new().name(&name).build()),
                body,
            )
            .await
            .map_err(|e| api_error(format!("create recorder {name}"), e))?
            .id;
        self.guard.containers.push(id.clone());
        self.docker
            .start_container(&id, None::<StartContainerOptions>)
            .await
            .map_err(|e| api_error(format!("start recorder {name}"), e))?;
        self.recorder = Some(id.clone());
        let t0 = Instant::now();
        let mut delay = POLL_MIN;
        loop {
            let text = logs_of(&self.docker, &id).await?;
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

    /// Fills the homes' tmpfs from `profile`'s home with page-sized filler
    /// files, in one upload that must end with the engine's ENOSPC.
    async fn fill_disk(&mut self, profile: &str) -> BackendResult<()> {
        let Some(limit) = self.spec.disk_limit else {
            return Err(BackendError::Other(
                "the full-disk fault needs a size-limited filesystem for the homes \
                 (SandboxSpec.disk_limit)"
                    .to_owned(),
            ));
        };
        // More pages than the whole tmpfs: the upload must run out of space.
        let n = usize::try_from(limit).unwrap_or(usize::MAX) / FILLER_BYTES + 2;
        let dest = self.data_path(&Path::new("profiles").join(profile))?;
        let tar = archive::files_tar(self.spec.shape.uid, &filler_names(n), FILLER_BYTES)?;
        self.fillers.insert(profile.to_owned(), n);
        match archive::upload(&self.docker, &self.id, &dest, tar).await {
            Ok(true) => Err(BackendError::Other(format!(
                "full disk: {n} filler pages fitted in {dest}, whose filesystem should hold {limit} bytes"
            ))),
            Ok(false) => Err(BackendError::Other(format!(
                "full disk: {dest} is not in the container"
            ))),
            // The engine names ENOSPC only in its message.
            Err(e) if e.to_string().contains("no space left on device") => Ok(()),
            Err(e) => Err(e),
        }
    }

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

    /// The lines of the boot log (`DATA/boot.log` for the reference).
    pub async fn boot_lines(&self) -> BackendResult<Vec<String>> {
        let log = self.spec.shape.boot_log.clone();
        let bytes = self.read(Path::new(&log)).await?.unwrap_or_default();
        Ok(String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// How many boot lines the next boot writes: one per profile home (SPEC §4),
    /// i.e. every validly named directory under `DATA/profiles`, plus `default`
    /// and the `--profiles`, which init creates if missing.
    ///
    /// For another shape: `default` and every directory of its profiles dir
    /// that holds its profile marker file.
    async fn expected_boot_lines(&self) -> BackendResult<usize> {
        let shape = &self.spec.shape;
        let mut names: Vec<String> = Vec::new();
        for c in self.children(Path::new(&shape.profiles_dir)).await? {
            if !c.is_dir || !valid_profile_name(&c.name) {
                continue;
            }
            if let Some(marker) = &shape.profile_marker {
                let home = Path::new(&shape.profiles_dir).join(&c.name);
                if !self
                    .children(&home)
                    .await?
                    .iter()
                    .any(|f| &f.name == marker)
                {
                    continue;
                }
            }
            names.push(c.name);
        }
        names.push(restart_contract::layout::DEFAULT_PROFILE.to_owned());
        if shape.contract_init {
            names.extend(self.spec.profiles.iter().cloned());
        }
        names.sort();
        names.dedup();
        Ok(names.len())
    }

    /// Waits until there are `expected` boot marks ([`DockerSandbox::boot_marks`])
    /// more than `baseline`, failing early if the container dies after the
    /// `start` event at `start_idx`.
    async fn wait_boot_lines(
        &self,
        baseline: usize,
        expected: usize,
        start_idx: usize,
    ) -> BackendResult<()> {
        let t0 = Instant::now();
        let mut delay = POLL_MIN;
        loop {
            let lines = self.boot_marks().await?;
            let new = lines.len().saturating_sub(baseline);
            if new >= expected {
                return Ok(());
            }
            if let Some(die) = self
                .events
                .since(start_idx + 1)
                .into_iter()
                .find(|e| e.action == "die")
            {
                let logs = self.logs_text().await.unwrap_or_default();
                return Err(BackendError::Other(format!(
                    "init exited ({die}) after {new} of {expected} boot line(s); last log lines:\n{}",
                    last_lines(&logs, 10)
                )));
            }
            if t0.elapsed() >= BOOT_DEADLINE {
                return Err(BackendError::Timeout {
                    awaited: match &self.spec.shape.ready_log {
                        None if self.spec.shape.contract_init => format!(
                            "{expected} new boot line(s) in the container log after its first \
                             {baseline} (init prints each line it appends to DATA/{}; that file \
                             has {} line(s) in all)",
                            self.spec.shape.boot_log,
                            self.boot_lines().await.map_or(0, |l| l.len())
                        ),
                        None => format!(
                            "{expected} new boot line(s) in DATA/{} after its first {baseline}",
                            self.spec.shape.boot_log
                        ),
                        Some(ready) => format!(
                            "{expected} new log line(s) with {ready:?} after the first {baseline}"
                        ),
                    },
                    waited: t0.elapsed(),
                    last_seen: format!(
                        "{new} new line(s), last {:?}; events: {}",
                        lines.last().map(String::as_str).unwrap_or("(none)"),
                        self.events.tail()
                    ),
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(POLL_MAX);
        }
    }

    /// What shows a boot, in the container log (one request of a few
    /// milliseconds, where an archive of the boot log costs tens):
    /// - a shape with a readiness line: its lines;
    /// - the contract's init: its boot lines, which it prints to stdout as it
    ///   appends them to `DATA/boot.log` (SPEC §4). They only end a wait: every
    ///   boot line checked is read from `boot.log` itself;
    /// - any other shape: the boot log's lines.
    async fn boot_marks(&self) -> BackendResult<Vec<String>> {
        let shape = &self.spec.shape;
        if shape.ready_log.is_none() && !shape.contract_init {
            return self.boot_lines().await;
        }
        let text = self.logs_text().await?;
        let marks = text.lines().filter(|l| match &shape.ready_log {
            Some(ready) => l.contains(ready.as_str()),
            None => l.parse::<restart_contract::boot::BootLine>().is_ok(),
        });
        Ok(marks.map(str::to_owned).collect())
    }

    /// What the next boot is measured against: (marks so far, marks to expect).
    async fn before_boot(&self) -> BackendResult<(usize, usize)> {
        let expected = match self.spec.shape.ready_log {
            None => self.expected_boot_lines().await?,
            Some(_) => 1,
        };
        Ok((self.boot_marks().await?.len(), expected))
    }

    /// The container path of a data-dir path.
    fn data_path(&self, rel: &Path) -> BackendResult<String> {
        archive::data_path_in(&self.spec.shape.data_dir, rel)
    }

    /// Reads a data-dir file; `None` when absent.
    async fn read(&self, rel: &Path) -> BackendResult<Option<Vec<u8>>> {
        let path = self.data_path(rel)?;
        if let Some(tree) = self.frozen_tree().await? {
            return tree.file(rel, &path);
        }
        match archive::download(&self.docker, &self.id, &path).await? {
            None => Ok(None),
            Some(tar) => archive::file_from_tar(&path, &tar).map(Some),
        }
    }

    /// The children of a data-dir directory (empty when absent), with the
    /// bytes of its files.
    async fn children(&self, rel: &Path) -> BackendResult<Vec<archive::Child>> {
        let path = self.data_path(rel)?;
        if let Some(tree) = self.frozen_tree().await? {
            return tree.children(rel, &path);
        }
        match self.whole(&path).await? {
            None => Ok(Vec::new()),
            Some(tree) => tree.children(Path::new(""), &path),
        }
    }

    /// The tree below the container path `path` in one archive (`None`:
    /// absent). The engine archives it while the gateways may be writing in
    /// it: a file replaced or removed mid-archive leaves a truncated stream.
    /// Such an archive is asked for again, a few times; it is a new read, not a
    /// wait for anything.
    async fn whole(&self, path: &str) -> BackendResult<Option<archive::Tree>> {
        const ATTEMPTS: usize = 5;
        let mut last = None;
        for _ in 0..ATTEMPTS {
            match archive::download(&self.docker, &self.id, path).await? {
                None => return Ok(None),
                Some(tar) => match archive::Tree::from_tar(path, &tar) {
                    Ok(tree) => return Ok(Some(tree)),
                    Err(e) => last = Some(e),
                },
            }
        }
        Err(last.unwrap_or_else(|| BackendError::Other(format!("archive of {path}: unreadable"))))
    }

    /// The frozen data dir (archived now if this is the first read since the
    /// freeze); `None`: reads are live.
    async fn frozen_tree(&self) -> BackendResult<Option<&archive::Tree>> {
        let Some(cell) = &self.frozen else {
            return Ok(None);
        };
        let path = self.data_path(Path::new(""))?;
        let tree = cell
            .get_or_try_init(|| async { Ok(self.whole(&path).await?.unwrap_or_default()) })
            .await?;
        Ok(Some(tree))
    }

    /// Reads are live again (see [`DockerSandbox::frozen`]).
    fn thaw(&mut self) {
        self.frozen = None;
    }

    /// The gateway pid of `profile` from `gateway status --json` (`None`: none running).
    pub async fn gateway_pid(&self, profile: &str) -> BackendResult<Option<i64>> {
        let out = exec(
            &self.docker,
            &self.id,
            &[
                "/gateway".to_owned(),
                "status".to_owned(),
                "--json".to_owned(),
            ],
            EXEC_DEADLINE,
        )
        .await?;
        if out.code != Some(0) {
            return Err(BackendError::Other(format!(
                "`gateway status --json` exited {:?}: {}",
                out.code,
                out.stderr.trim()
            )));
        }
        let status: serde_json::Value = serde_json::from_str(&out.stdout).map_err(|e| {
            BackendError::Other(format!(
                "`gateway status --json` printed no JSON ({e}): {:?}",
                out.stdout
            ))
        })?;
        let entry = status["profiles"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["profile"] == profile))
            .ok_or_else(|| {
                BackendError::Other(format!(
                    "`gateway status --json` does not list profile {profile}: {}",
                    out.stdout.trim()
                ))
            })?;
        Ok(entry["pid"].as_i64())
    }

    /// The container's logs, stdout and stderr interleaved as written.
    async fn logs_text(&self) -> BackendResult<String> {
        logs_of(&self.docker, &self.id).await
    }

    /// Starts the (stopped) container and waits for its `start` event; returns
    /// the event's index.
    async fn start_and_wait(&self, from: usize) -> BackendResult<usize> {
        self.docker
            .start_container(&self.id, None::<StartContainerOptions>)
            .await
            .map_err(|e| api_error(format!("start {}", self.name), e))?;
        let (idx, _) = self.events.wait_for(from, "start", EVENT_DEADLINE).await?;
        Ok(idx)
    }

    /// Waits for the engine's `oom` event after `what` ran. The event, not
    /// `State.OOMKilled`: that flag is container-wide, only set when PID 1
    /// exits, and stale after a restart.
    async fn await_oom(&self, from: usize, what: &str, ran: &CmdOutput) -> BackendResult<()> {
        self.events
            .wait_for(from, "oom", OOM_DEADLINE)
            .await
            .map(|_| ())
            .map_err(|e| {
                BackendError::Other(format!(
                    "oom: no `oom` event after `{what}` (exit {:?}, stderr {:?}): {e}",
                    ran.code,
                    ran.stderr.trim()
                ))
            })
    }

    /// After an OOM kill: the container itself did not die or restart, so the
    /// kernel took a gateway, not the supervisor.
    async fn only_the_gateway(
        &self,
        from: usize,
        started_before: Option<String>,
    ) -> BackendResult<()> {
        if let Some(die) = self
            .events
            .since(from)
            .into_iter()
            .find(|e| e.action == "die")
        {
            return Err(BackendError::Other(format!(
                "oom: the container itself died ({die}): the OOM killer took the supervisor, not the gateway"
            )));
        }
        let started_after = self.started_at().await?;
        if started_after != started_before {
            return Err(BackendError::Other(format!(
                "oom: the container restarted (StartedAt {started_before:?} → {started_after:?})"
            )));
        }
        Ok(())
    }

    async fn started_at(&self) -> BackendResult<Option<String>> {
        Ok(self.state().await?.started_at)
    }
}

#[async_trait]
impl Sandbox for DockerSandbox {
    fn kind(&self) -> BackendKind {
        BackendKind::Docker
    }

    async fn boot(&mut self) -> BackendResult<()> {
        self.thaw();
        // The replayed `create` event proves the event stream is live before we act.
        self.events.wait_for(0, "create", EVENT_DEADLINE).await?;
        let (baseline, expected) = self.before_boot().await?;
        let from = self.events.len();
        let start = self.start_and_wait(from).await?;
        self.wait_boot_lines(baseline, expected, start).await
    }

    async fn gateway(&mut self, args: &[String]) -> BackendResult<CmdOutput> {
        self.thaw();
        let mut cmd = vec!["/gateway".to_owned()];
        cmd.extend(args.iter().cloned());
        exec(&self.docker, &self.id, &cmd, EXEC_DEADLINE).await
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

    async fn exec(&mut self, argv: &[String]) -> BackendResult<CmdOutput> {
        self.thaw();
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

    async fn file_versions(&mut self) -> BackendResult<Vec<FileVersion>> {
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

    async fn write_file(&mut self, rel: &Path, bytes: &[u8]) -> BackendResult<()> {
        self.thaw();
        self.data_path(rel)?; // validates
        let parts: Vec<String> = rel
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        let Some((file, parents)) = parts.split_last() else {
            return Err(BackendError::Other("write_file: empty path".to_owned()));
        };
        // Extract into the deepest directory that exists, creating only the
        // missing ones: extracting an existing directory's header would reset
        // its owner and mode.
        for k in (0..=parents.len()).rev() {
            let dest = self.data_path(Path::new(&parents[..k].join("/")))?;
            let missing = &parents[k..];
            let dirs: Vec<String> = (1..=missing.len())
                .map(|n| missing[..n].join("/"))
                .collect();
            let mut inner = missing.to_vec();
            inner.push(file.clone());
            let tar = archive::file_tar_owned(self.spec.shape.uid, &dirs, &inner.join("/"), bytes)?;
            if archive::upload(&self.docker, &self.id, &dest, tar).await? {
                return Ok(());
            }
        }
        Err(BackendError::Other(format!(
            "write {}: the data dir {} does not exist in {}",
            rel.display(),
            self.spec.shape.data_dir,
            self.name
        )))
    }

    async fn read_file(&mut self, rel: &Path) -> BackendResult<Option<Vec<u8>>> {
        self.read(rel).await
    }

    async fn fs_fault(
        &mut self,
        profile: &str,
        fault: &crate::backend::FsFault,
    ) -> BackendResult<()> {
        self.thaw();
        use crate::backend::FsFault;
        let uid = self.spec.shape.uid;
        // The engine extracts as root and applies each header's owner and mode,
        // also over an existing directory.
        let (dest, tar) = match fault {
            // The gateway runs as its image's user, not root: mode 0555 is EACCES.
            FsFault::ReadOnlyHome => (
                self.data_path(Path::new("profiles"))?,
                archive::dir_tar(uid, profile, 0o555)?,
            ),
            FsFault::DirWhereFile(file) => (
                self.data_path(&Path::new("profiles").join(profile))?,
                archive::dir_tar(uid, file, 0o700)?,
            ),
            FsFault::FullDisk => return self.fill_disk(profile).await,
        };
        if !archive::upload(&self.docker, &self.id, &dest, tar).await? {
            return Err(BackendError::Other(format!(
                "{fault}: {dest} is not in the container"
            )));
        }
        if *fault == FsFault::ReadOnlyHome {
            self.read_only.insert(profile.to_owned());
        }
        Ok(())
    }

    async fn fs_restore(&mut self, profile: &str) -> BackendResult<()> {
        self.thaw();
        let uid = self.spec.shape.uid;
        if self.read_only.remove(profile) {
            // Homes are 0700 (SPEC §1).
            let dest = self.data_path(Path::new("profiles"))?;
            archive::upload(
                &self.docker,
                &self.id,
                &dest,
                archive::dir_tar(uid, profile, 0o700)?,
            )
            .await?;
        }
        if let Some(n) = self.fillers.remove(profile) {
            // An empty file in a filler's place frees its page.
            let dest = self.data_path(&Path::new("profiles").join(profile))?;
            archive::upload(
                &self.docker,
                &self.id,
                &dest,
                archive::files_tar(uid, &filler_names(n), 0)?,
            )
            .await?;
        }
        Ok(())
    }

    async fn freeze(&mut self) -> BackendResult<()> {
        self.frozen = Some(tokio::sync::OnceCell::new());
        Ok(())
    }

    async fn read_dir(&mut self, rel: &Path) -> BackendResult<Vec<crate::backend::DirEntry>> {
        Ok(self
            .children(rel)
            .await?
            .into_iter()
            .map(|c| crate::backend::DirEntry {
                name: c.name,
                content: c.content,
            })
            .collect())
    }

    async fn list_dir(&mut self, rel: &Path) -> BackendResult<Vec<String>> {
        Ok(self
            .children(rel)
            .await?
            .into_iter()
            .map(|c| c.name)
            .collect())
    }

    async fn container_restart(&mut self, stop_timeout: Option<Duration>) -> BackendResult<()> {
        // The engine takes whole seconds; round up so a sub-second timeout does
        // not become 0 (an immediate SIGKILL, which is `container-kill`).
        let t = stop_timeout.unwrap_or(DEFAULT_STOP_TIMEOUT);
        let secs = i32::try_from(t.as_millis().div_ceil(1000)).unwrap_or(i32::MAX);
        let (baseline, expected) = self.before_boot().await?;
        self.thaw();
        // The stop ends every exec'd command, the kept session too.
        self.sessions.close();
        let from = self.events.len();
        self.docker
            .restart_container(
                &self.id,
                Some(RestartContainerOptionsBuilder::new().t(secs).build()),
            )
            .await
            .map_err(|e| api_error(format!("restart {} (t={secs})", self.name), e))?;
        let (start, _) = self.events.wait_for(from, "start", EVENT_DEADLINE).await?;
        self.wait_boot_lines(baseline, expected, start).await
    }

    async fn container_kill(&mut self) -> BackendResult<()> {
        let (baseline, expected) = self.before_boot().await?;
        self.thaw();
        self.sessions.close();
        let from = self.events.len();
        self.docker
            .kill_container(
                &self.id,
                Some(KillContainerOptionsBuilder::new().signal("SIGKILL").build()),
            )
            .await
            .map_err(|e| api_error(format!("kill {}", self.name), e))?;
        let (die, _) = self.events.wait_for(from, "die", EVENT_DEADLINE).await?;
        let start = self.start_and_wait(die + 1).await?;
        self.wait_boot_lines(baseline, expected, start).await
    }

    async fn oom(&mut self, profile: &str) -> BackendResult<()> {
        self.thaw();
        let limit = self.spec.memory_limit.ok_or_else(|| {
            BackendError::Other(
                "the oom fault needs a memory limit on the target (SandboxSpec.memory_limit)"
                    .to_owned(),
            )
        })?;
        let before = self.gateway_pid(profile).await?.ok_or_else(|| {
            BackendError::Other(format!(
                "oom: profile {profile} has no running gateway to OOM-kill"
            ))
        })?;
        let started_before = self.started_at().await?;
        let from = self.events.len();
        // Twice the limit: far more than the cgroup can hold, whatever init uses.
        let mib = (limit / (1024 * 1024)) * 2 + 16;
        let balloon = exec(
            &self.docker,
            &self.id,
            &[
                "/gateway".to_owned(),
                "balloon".to_owned(),
                "--mib".to_owned(),
                mib.to_string(),
                "--profile".to_owned(),
                profile.to_owned(),
            ],
            EXEC_DEADLINE,
        )
        .await?;
        self.await_oom(from, &format!("gateway balloon --mib {mib}"), &balloon)
            .await?;
        // The kernel took the gateway: init no longer reports that pid.
        let t0 = Instant::now();
        let mut delay = POLL_MIN;
        loop {
            let now = self.gateway_pid(profile).await?;
            if now != Some(before) {
                break;
            }
            if t0.elapsed() >= OOM_DEADLINE {
                return Err(BackendError::Timeout {
                    awaited: format!(
                        "gateway pid {before} of {profile} to be gone after the oom event"
                    ),
                    waited: t0.elapsed(),
                    last_seen: format!("status still reports pid {before}"),
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(POLL_MAX);
        }
        self.only_the_gateway(from, started_before).await
    }

    async fn oom_with(&mut self, argv: &[String]) -> BackendResult<CmdOutput> {
        self.thaw();
        if self.spec.memory_limit.is_none() {
            return Err(BackendError::Other(
                "the oom fault needs a memory limit on the target (SandboxSpec.memory_limit)"
                    .to_owned(),
            ));
        }
        let started_before = self.started_at().await?;
        let from = self.events.len();
        let out = self.exec(argv).await?;
        self.await_oom(from, &argv.join(" "), &out).await?;
        self.only_the_gateway(from, started_before).await?;
        Ok(out)
    }

    async fn facts(&mut self) -> BackendResult<ContainerFacts> {
        let state = self.state().await?;
        let events = self.events.all();
        let last_exit_code = events
            .iter()
            .rev()
            .find(|e| e.action == "die")
            .and_then(|e| e.exit_code)
            .or(if state.running == Some(false) {
                state.exit_code
            } else {
                None
            });
        Ok(ContainerFacts {
            last_exit_code,
            oom_seen: events.iter().any(|e| e.action == "oom"),
            started_at: state.started_at,
        })
    }

    async fn logs(&mut self) -> BackendResult<String> {
        self.logs_text().await
    }

    async fn destroy(&mut self) -> BackendResult<()> {
        self.thaw();
        self.sessions.close();
        let mut problems = Vec::new();
        if let Some(recorder) = self.recorder.take() {
            // `v(true)`: the anonymous volume of the image's `VOLUME /data`,
            // which the recorder does not mount over.
            let opts = RemoveContainerOptionsBuilder::new()
                .force(true)
                .v(true)
                .build();
            match self.docker.remove_container(&recorder, Some(opts)).await {
                Ok(()) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => problems.push(format!("remove recorder of {}: {e}", self.name)),
            }
        }
        // `v(true)`: also the anonymous volumes of any `VOLUME` of an image
        // (`--image`) that we do not mount over; the named one goes next.
        let opts = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(&self.id, Some(opts)).await {
            Ok(()) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => problems.push(format!("remove container {}: {e}", self.name)),
        }
        for v in std::iter::once(&self.volume).chain(&self.profiles_volume) {
            let opts = RemoveVolumeOptionsBuilder::new().force(true).build();
            match self.docker.remove_volume(v, Some(opts)).await {
                Ok(()) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => problems.push(format!("remove volume {v}: {e}")),
            }
        }
        let left =
            labels::leftovers(&self.docker, Some(&self.run_id), Some(&self.spec.name)).await?;
        if problems.is_empty() && left.is_empty() {
            self.guard.disarm();
            return Ok(());
        }
        Err(BackendError::Other(format!(
            "destroy {}: {}; left: {left}",
            self.name,
            problems.join("; ")
        )))
    }
}

/// Removes the container and volume when a target is dropped without
/// [`Sandbox::destroy`] (a failing step, a panic): nothing may be left behind.
///
/// `Drop` cannot await, and the caller's runtime may be single-threaded (and
/// busy dropping us), so removal runs on a thread of its own, with its own
/// runtime and a fresh client (a pooled connection of the caller's runtime
/// could not make progress while we block it), and we wait for it.
#[derive(Debug)]
struct RemovalGuard {
    /// The container, then its sidecars.
    containers: Vec<String>,
    volumes: Vec<String>,
}

impl RemovalGuard {
    fn disarm(&mut self) {
        self.containers.clear();
        self.volumes.clear();
    }

    /// Removes now, on the caller's runtime (best effort: the label sweep is the backstop).
    async fn remove_now(&mut self, docker: &Docker) {
        for c in std::mem::take(&mut self.containers) {
            let opts = RemoveContainerOptionsBuilder::new()
                .force(true)
                .v(true)
                .build();
            let _ = docker.remove_container(&c, Some(opts)).await;
        }
        for v in std::mem::take(&mut self.volumes) {
            let opts = RemoveVolumeOptionsBuilder::new().force(true).build();
            let _ = docker.remove_volume(&v, Some(opts)).await;
        }
    }
}

impl Drop for RemovalGuard {
    fn drop(&mut self) {
        if self.containers.is_empty() && self.volumes.is_empty() {
            return;
        }
        let mut this = RemovalGuard {
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
                if let Ok(docker) = super::client::connect().await {
                    this.remove_now(&docker).await;
                }
            });
        });
        let _ = removal.join();
    }
}

/// A named volume mounted at `target`.
fn volume_mount(source: &str, target: &str, read_only: bool) -> Mount {
    Mount {
        typ: Some(MountType::VOLUME),
        source: Some(source.to_owned()),
        target: Some(target.to_owned()),
        read_only: Some(read_only),
        ..Default::default()
    }
}

/// The names of a full disk's `n` filler files.
fn filler_names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{FILLER_PREFIX}{i}")).collect()
}

/// Profile names per SPEC §1: `^[a-z0-9][a-z0-9_-]{0,31}$`.
fn valid_profile_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
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
        match chunk.map_err(|e| api_error(format!("logs of {id}"), e))? {
            LogOutput::StdOut { message }
            | LogOutput::StdErr { message }
            | LogOutput::Console { message }
            | LogOutput::StdIn { message } => text.push_str(&String::from_utf8_lossy(&message)),
        }
    }
    Ok(text)
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
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

    #[test]
    fn profile_names() {
        assert!(valid_profile_name("default"));
        assert!(valid_profile_name("a_b-9"));
        assert!(!valid_profile_name("-a"));
        assert!(!valid_profile_name("A"));
        assert!(!valid_profile_name(&"a".repeat(33)));
    }
}
