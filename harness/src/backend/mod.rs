//! Backends: where a scenario's supervisor runs.
//!
//! A [`Backend`] creates one isolated [`Sandbox`] per scenario: a supervisor
//! (`gateway init`) with its own data dir, as a local process tree or as a real
//! container. The runner drives every scenario through the primitives below, so
//! faults, observation and checking are written once for every backend.
//!
//! Paths given to a target are relative to its data dir (`DATA/...`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::gateway_bin::{self, Build, GatewayBinError};

use async_trait::async_trait;

pub use error::BackendError;

pub mod docker;
pub mod error;
pub mod local_fs_fault;
pub mod process;
pub mod session;
pub mod signal;
pub mod user_namespace;

pub use signal::Signal;

/// Which backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Local processes in temp dirs.
    Process,
    /// Real containers on a Docker Engine.
    Docker,
}

impl BackendKind {
    /// `process` or `docker`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Process => "process",
            BackendKind::Docker => "docker",
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of a directory read by [`Sandbox::read_dir`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// Its file name.
    pub name: String,
    /// Its bytes; `None` for what is not a regular file (a directory).
    pub content: Option<Vec<u8>>,
}

/// A filesystem fault: writes in a profile's home fail the way real disks
/// make them fail.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FsFault {
    /// The home is read-only: EROFS (a read-only bind mount, when the harness
    /// runs as root) or EACCES (mode 0555, for a gateway that is not root).
    ReadOnlyHome,
    /// A directory stands where this file of the home belongs (EISDIR).
    DirWhereFile(String),
    /// The home is on a full filesystem (ENOSPC): a small tmpfs filled up
    /// (on Docker, the tmpfs of every home: see [`SandboxSpec::disk_limit`]).
    FullDisk,
}

impl std::fmt::Display for FsFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FsFault::ReadOnlyHome => f.write_str("read-only home"),
            FsFault::DirWhereFile(file) => write!(f, "a directory where {file} belongs"),
            FsFault::FullDisk => f.write_str("full disk"),
        }
    }
}

/// The size of the homes' filesystem of a sandbox whose disk a scenario fills
/// ([`SandboxSpec::disk_limit`]): room for any scenario's writes, small enough
/// to fill in one archive upload.
pub const FULL_DISK_LIMIT: u64 = 1024 * 1024;

/// Result alias for backends.
pub type BackendResult<T> = Result<T, BackendError>;

/// What a `gateway` command printed and how it exited.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct CmdOutput {
    /// Exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// A command started in the background ([`Sandbox::gateway_detached`],
/// [`Sandbox::exec_detached`]): it runs on while the harness acts, so that
/// two operations start together; [`Detached::join`] waits for its output.
#[derive(Debug)]
pub struct Detached(tokio::task::JoinHandle<BackendResult<CmdOutput>>);

impl Detached {
    /// Runs `command` on the runtime, apart from the caller.
    pub fn spawn(
        command: impl std::future::Future<Output = BackendResult<CmdOutput>> + Send + 'static,
    ) -> Self {
        Detached(tokio::spawn(command))
    }

    /// Waits until the command has ended; its output.
    pub async fn join(self) -> BackendResult<CmdOutput> {
        self.0.await.map_err(|e| BackendError::Protocol {
            detail: format!("a command run in the background did not end normally: {e}"),
        })?
    }
}

/// What one scenario needs from its target.
#[derive(Debug, Clone)]
pub struct SandboxSpec {
    /// A unique, short name (used for temp dirs, container and volume names).
    pub name: String,
    /// Profiles passed to init with `--profiles`.
    pub profiles: Vec<String>,
    /// Extra `gateway init` flags (e.g. `--crash-limit 2`, `--grace-ms 300`).
    pub init_args: Vec<String>,
    /// Extra environment for init and its gateways (e.g. `GATEWAY_MUTANT`).
    pub env: Vec<(String, String)>,
    /// Memory limit in bytes (Docker only; for `oom`).
    pub memory_limit: Option<i64>,
    /// Size limit in bytes of the homes' filesystem (Docker only; for
    /// `full-disk`): `profiles/` is then a size-limited tmpfs volume of its
    /// own, held mounted across restarts by a sidecar. The process backend
    /// mounts a tmpfs over the one home at the fault and needs no limit.
    pub disk_limit: Option<u64>,
    /// What the target's container looks like (Docker only).
    pub shape: Shape,
}

/// What a target's container looks like, apart from where it runs
/// (testcontainers' `Image`): the image, where its data lives, whose files they
/// are, and how a boot shows. The reference gateway's is [`Shape::reference`];
/// an adapter gives its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// The image (`None`: the backend's reference image).
    pub image: Option<String>,
    /// The data dir inside the container, a named volume.
    pub data_dir: String,
    /// The uid (and gid) that owns what the harness writes there.
    pub uid: u64,
    /// The user commands run as (`None`: the image's `USER`).
    pub exec_user: Option<String>,
    /// Environment for every command run in the container.
    pub exec_env: Vec<String>,
    /// A tmpfs: its path and mount options.
    pub run_tmpfs: Option<(String, String)>,
    /// Whether the root filesystem is read-only.
    pub read_only_root: bool,
    /// The boot log, relative to the data dir: one line per profile per boot.
    pub boot_log: String,
    /// Readiness: a substring of the container's log printed once per boot when
    /// the supervisor has its services (`None`: one boot line per profile home).
    pub ready_log: Option<String>,
    /// The default profile's home, relative to the data dir (`.`: the data dir).
    pub default_home: String,
    /// The directory of the named profiles' homes, relative to the data dir.
    pub profiles_dir: String,
    /// A file without which a directory there is no profile (`SOUL.md`).
    pub profile_marker: Option<String>,
    /// Whether the supervisor is the contract's `gateway init` (it takes
    /// `GATEWAY_PROFILES` and init flags, and creates those homes at boot).
    pub contract_init: bool,
    /// File names (in any home) whose every version a sidecar records.
    pub record: Vec<String>,
    /// What `--privileged` gives (Docker only: a supervisor that runs
    /// containers itself).
    pub privileged: bool,
    /// The engine's init as PID 1 in front of the entrypoint (Docker only).
    pub init: bool,
    /// More directories on named volumes of their own (Docker only).
    pub volumes: Vec<String>,
}

impl Shape {
    /// The reference gateway's image (the project's Dockerfile).
    pub fn reference() -> Shape {
        Shape {
            image: None,
            data_dir: "/data".to_owned(),
            uid: 10001,
            exec_user: None,
            exec_env: Vec::new(),
            run_tmpfs: Some((
                "/run/gateway".to_owned(),
                "uid=10001,gid=10001,mode=0700".to_owned(),
            )),
            read_only_root: true,
            boot_log: "boot.log".to_owned(),
            ready_log: None,
            default_home: "profiles/default".to_owned(),
            profiles_dir: "profiles".to_owned(),
            profile_marker: None,
            contract_init: true,
            // Every version of the state file, for `unparsable_versions`.
            record: vec![restart_contract::layout::files::GATEWAY_STATE.to_owned()],
            privileged: false,
            init: false,
            volumes: Vec::new(),
        }
    }

    /// A profile's home, relative to the data dir.
    pub fn home(&self, profile: &str) -> PathBuf {
        if profile == restart_contract::layout::DEFAULT_PROFILE {
            PathBuf::from(&self.default_home)
        } else {
            Path::new(&self.profiles_dir).join(profile)
        }
    }
}

impl Default for Shape {
    fn default() -> Self {
        Shape::reference()
    }
}

/// One recorded version of a file: what a sidecar saw written, and when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct FileVersion {
    /// When it was seen (RFC 3339).
    pub ts: String,
    /// Its path, relative to the data dir.
    pub path: String,
    /// Its content (lossy UTF-8; `None`: gone before it could be read).
    pub text: Option<String>,
}

/// Facts about the container that only a real engine knows.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct ContainerFacts {
    /// Exit code of the last run of PID 1, when it stopped.
    pub last_exit_code: Option<i64>,
    /// An `oom` event was seen (or `State.OOMKilled`).
    pub oom_seen: bool,
    /// The container was (re)started at this time (RFC 3339), to tell a container restart from a gateway revival.
    pub started_at: Option<String>,
}

/// One isolated supervisor and its data dir.
#[async_trait]
pub trait Sandbox: Send {
    /// Which backend this is.
    fn kind(&self) -> BackendKind;

    /// Starts init for the first time and waits until it has written its boot lines.
    async fn boot(&mut self) -> BackendResult<()>;

    /// Runs `gateway <args>` beside init (a local process, or `docker exec`).
    async fn gateway(&mut self, args: &[String]) -> BackendResult<CmdOutput>;

    /// Starts `gateway <args>` beside init and returns at once: the
    /// command runs on while the harness acts.
    async fn gateway_detached(&mut self, args: &[String]) -> BackendResult<Detached>;

    /// Starts any command in the sandbox as [`Sandbox::exec`] runs it, and
    /// returns at once.
    async fn exec_detached(&mut self, argv: &[String]) -> BackendResult<Detached> {
        Err(BackendError::Unsupported {
            backend: self.kind(),
            what: format!(
                "run `{}` in the background (a target other than the reference)",
                argv.join(" ")
            ),
        })
    }

    /// Asks `gateway <args>`, kept running between questions (`gateway status
    /// --json --serve`), for one answer: writes a line to its stdin and returns
    /// the line it prints back. A kept command that fails is started again at
    /// the next question; a container stop ends it.
    ///
    /// `Ok(None)`: this sandbox keeps no such command, or the target's
    /// `gateway` was found not to serve (it ended, three times in a row,
    /// without answering): run the one-shot command instead.
    async fn ask_gateway(&mut self, args: &[String]) -> BackendResult<Option<String>> {
        let _ = args;
        Ok(None)
    }

    /// Makes the reads up to the next call that acts or waits (anything but a
    /// read: a command, a status look, a write, a restart) reads of one
    /// instant: every file of the data dir read at once, at the first of them
    /// (nothing acted in between), and each of them answered from that. A
    /// sandbox whose reads are local and cheap need not (the default does
    /// nothing: each read reads the file then).
    async fn freeze(&mut self) -> BackendResult<()> {
        Ok(())
    }

    /// Runs any command in the sandbox, as the shape's user with its environment
    /// (Docker only: the process backend runs only the reference gateway).
    async fn exec(&mut self, argv: &[String]) -> BackendResult<CmdOutput> {
        Err(BackendError::Unsupported {
            backend: self.kind(),
            what: format!(
                "run `{}` (a target other than the reference)",
                argv.join(" ")
            ),
        })
    }

    /// Every version of the shape's recorded files seen so far, oldest first.
    async fn file_versions(&mut self) -> BackendResult<Vec<FileVersion>> {
        Err(BackendError::Unsupported {
            backend: self.kind(),
            what: "record file versions".to_owned(),
        })
    }

    /// Writes a file in the data dir (e.g. a crafted marker, a corrupt state file),
    /// owned by the gateway's user, mode 0600.
    async fn write_file(&mut self, rel: &Path, bytes: &[u8]) -> BackendResult<()>;

    /// Reads a file of the data dir; `None` when it does not exist. Works while init is down.
    async fn read_file(&mut self, rel: &Path) -> BackendResult<Option<Vec<u8>>>;

    /// Lists the file names in a directory of the data dir (empty when it does not exist).
    async fn list_dir(&mut self, rel: &Path) -> BackendResult<Vec<String>>;

    /// A directory of the data dir with the bytes of each regular file in it
    /// (empty when it does not exist), in name order. A backend that can read
    /// it in one request does (Docker: one archive), so every file is of one
    /// instant; this default lists, then reads file by file.
    async fn read_dir(&mut self, rel: &Path) -> BackendResult<Vec<DirEntry>> {
        let mut out = Vec::new();
        for name in self.list_dir(rel).await? {
            let content = match self.read_file(&rel.join(&name)).await {
                Ok(Some(bytes)) => Some(bytes),
                // Removed since the listing: not there at the instant of the read.
                Ok(None) => continue,
                Err(BackendError::NotAFile { .. }) => None,
                Err(e) => return Err(e),
            };
            out.push(DirEntry { name, content });
        }
        Ok(out)
    }

    /// SIGTERM to init, wait for it to exit (at most `stop_timeout`, then SIGKILL,
    /// as `docker restart -t` does), boot it again on the same data, and wait for
    /// the new boot lines.
    async fn container_restart(&mut self, stop_timeout: Option<Duration>) -> BackendResult<()>;

    /// SIGKILL to init (no teardown runs anywhere), then boot again and wait for
    /// the new boot lines.
    async fn container_kill(&mut self) -> BackendResult<()>;

    /// A container stop cut short: SIGTERM to init (the teardowns begin),
    /// SIGKILL `after` later unless it has exited by then, then boot again
    /// and wait for the new boot lines. Unlike [`Sandbox::container_restart`]
    /// the instant is exact, not whole seconds.
    async fn container_stop_cut(&mut self, after: Duration) -> BackendResult<()> {
        self.container_restart(Some(after)).await
    }

    /// A bare SIGTERM to the supervisor alone (PID 1 of the container: `docker
    /// kill -s SIGTERM`, not `docker stop`), then waits until it has exited,
    /// with no stop timeout and no SIGKILL; the container stays stopped until
    /// [`Sandbox::boot`]. A supervisor still running at the deadline is a
    /// timeout.
    async fn supervisor_sigterm(&mut self) -> BackendResult<()>;

    /// Makes writes in `profile`'s home fail; it stays so until
    /// [`Sandbox::fs_restore`] or the sandbox is destroyed.
    async fn fs_fault(&mut self, profile: &str, fault: &FsFault) -> BackendResult<()>;

    /// Undoes the read-only home and full disk of `profile` (the home is
    /// writable again and the filler's space is free); what was written
    /// meanwhile stays. A directory where a file belongs is the target's
    /// data and stays.
    async fn fs_restore(&mut self, profile: &str) -> BackendResult<()>;

    /// Makes the kernel OOM-kill the profile's gateway (Docker only).
    async fn oom(&mut self, profile: &str) -> BackendResult<()>;

    /// Runs `argv`, a target's own way to make the kernel OOM-kill one of its
    /// gateways, and waits for the engine's `oom` event; the container itself
    /// must neither die nor restart (Docker only).
    async fn oom_with(&mut self, argv: &[String]) -> BackendResult<CmdOutput> {
        Err(BackendError::Unsupported {
            backend: self.kind(),
            what: format!("bring about an OOM kill with `{}`", argv.join(" ")),
        })
    }

    /// Container facts (Docker only; the process backend returns defaults).
    async fn facts(&mut self) -> BackendResult<ContainerFacts>;

    /// Everything init and its gateways printed so far.
    async fn logs(&mut self) -> BackendResult<String>;

    /// Stops and removes everything this target created; reports leftovers.
    async fn destroy(&mut self) -> BackendResult<()>;
}

/// Creates targets.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Which backend this is.
    fn kind(&self) -> BackendKind;

    /// One line for the report's first line: which backend and what it runs
    /// (`process (gateway /path/to/gateway)`, `docker (image gateway:abc)`).
    fn describe(&self) -> String {
        self.kind().to_string()
    }

    /// The first line of a report gating `image`, a target's own image
    /// (Docker only; the reference image then only records).
    fn describe_gating(&self, image: &str) -> String {
        format!("{} (image {image})", self.kind())
    }

    /// The gateway binary that runs under `GATEWAY_MUTANT`, whose `mutants`
    /// listing says which mutants it can enable (`None`: no such binary).
    fn mutants_binary(&self) -> Option<&Path> {
        None
    }

    /// Why this backend cannot make what `spec` asks for on this machine
    /// (`None`: it can). A scenario it cannot run is reported *not run*,
    /// never passed.
    fn cannot(&self, spec: &SandboxSpec) -> Option<String> {
        let _ = spec;
        None
    }

    /// The engine it runs on, named per scenario in a report (Docker: the
    /// engine's URL; `None`: no engine, local processes).
    fn engine(&self) -> Option<String> {
        None
    }

    /// A fresh, isolated target for one scenario.
    async fn create(&self, spec: &SandboxSpec) -> BackendResult<Box<dyn Sandbox>>;
}

/// A path relative to the data dir of a file in a profile home.
pub fn profile_file(profile: &str, file: &str) -> PathBuf {
    Path::new("profiles").join(profile).join(file)
}

/// The backend asked for on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Selection {
    /// Local processes.
    Process,
    /// Docker; no daemon is an error.
    Docker,
    /// Docker when a daemon answers, else local processes.
    Auto,
}

/// What choosing a backend needs.
#[derive(Debug, Clone, Default)]
pub struct SelectOptions {
    /// `--gateway PATH`: the gateway binary for the process backend.
    pub gateway: Option<PathBuf>,
    /// Build the gateway with the `mutants` feature (for `GATEWAY_MUTANT`).
    pub mutants: bool,
    /// `--image NAME`: the image the Docker backend runs (None: build the reference image).
    pub image: Option<String>,
    /// `--docker-host URL`: the engine the Docker backend runs on (None: the
    /// one `DOCKER_HOST` names, or the default socket).
    pub docker_host: Option<String>,
}

/// Why no backend could be had. Always exit 2: the harness could not run.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// The backend could not be reached or set up.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// No gateway binary for the process backend.
    #[error(transparent)]
    Gateway(#[from] GatewayBinError),
}

/// The process backend, with its gateway binary located or built.
pub async fn process_backend(opts: &SelectOptions) -> Result<Box<dyn Backend>, SelectError> {
    let explicit = opts.gateway.clone();
    let build = if opts.mutants {
        Build::Mutants
    } else {
        Build::Reference
    };
    // cargo may compile for minutes: keep it off the async workers.
    let path = crate::progress::announce(
        "building the gateway (cargo build -p gateway)",
        tokio::task::spawn_blocking(move || gateway_bin::locate(explicit.as_deref(), build)),
    )
    .await
    .map_err(|e| BackendError::task("building the gateway", e))??;
    Ok(Box::new(process::ProcessBackend::new(path)))
}

/// Chooses the backend: `auto` takes Docker when a daemon answers.
pub async fn select(sel: Selection, opts: &SelectOptions) -> Result<Box<dyn Backend>, SelectError> {
    match sel {
        Selection::Process => process_backend(opts).await,
        Selection::Docker => Ok(connect_docker(opts).await?),
        Selection::Auto => match connect_docker(opts).await {
            Ok(b) => Ok(b),
            Err(BackendError::NoDaemon { .. }) => process_backend(opts).await,
            Err(e) => Err(e.into()),
        },
    }
}

/// The Docker backend: connects (`BackendError::NoDaemon` when no daemon answers)
/// and prepares the image (`opts.image`, or the reference image built, plus the
/// mutants image with `opts.mutants`).
async fn connect_docker(opts: &SelectOptions) -> BackendResult<Box<dyn Backend>> {
    Ok(Box::new(docker::DockerBackend::connect(opts).await?))
}
