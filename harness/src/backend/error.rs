//! Why a backend could not do what was asked: [`BackendError`].
//!
//! Each variant is something a caller can tell apart and act on, and its
//! message says what happened and, where there is one, the fix. Reports and
//! the command line show an error through its `Display` alone (one text per
//! scenario, one line per refusal), so a variant's message includes its
//! source's text too; the source stays attached for callers that walk the
//! chain. [`chain`] gives the text of a foreign error whose `Display` hides
//! its sources (bollard's, hyper's).

use std::path::PathBuf;
use std::time::Duration;

use super::BackendKind;

/// Why a backend could not do what was asked. Never a verdict on the gateway:
/// a backend error makes a scenario "error", not "failed".
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The Docker daemon does not answer.
    #[error("no Docker daemon answers at {endpoint}: {detail}; start Docker or set DOCKER_HOST")]
    NoDaemon {
        /// Where we looked.
        endpoint: String,
        /// What the client said.
        detail: String,
    },
    /// The gateway image is not there.
    #[error("image {image} does not exist: run `restart-harness image build` or pass --image")]
    NoImage {
        /// The image reference.
        image: String,
    },
    /// A condition was not reached in time.
    #[error("timed out after {waited:?} waiting for {awaited}; last seen: {last_seen}")]
    Timeout {
        /// What was awaited.
        awaited: String,
        /// For how long.
        waited: Duration,
        /// The last observation.
        last_seen: String,
    },
    /// The backend cannot do this fault (e.g. `oom` on local processes).
    #[error("the {backend} backend cannot {what}")]
    Unsupported {
        /// Which backend.
        backend: BackendKind,
        /// What.
        what: String,
    },
    /// A path that should be a file is something else (a directory put
    /// there by a `dir-where-file` fault): an observer reads it as unreadable.
    #[error("{path} is not a regular file")]
    NotAFile {
        /// The path, as the backend names it.
        path: String,
    },
    /// A call to the Docker Engine API failed.
    #[error(
        "docker: could not {action}: {}; `docker info` and the daemon's log say more",
        chain(.source)
    )]
    Docker {
        /// What was asked of the engine (`create volume NAME`).
        action: String,
        /// The client's error.
        #[source]
        source: bollard::errors::Error,
    },
    /// The container is not running, so nothing can be run in it.
    #[error(
        "cannot {action}: the container is not running (its log says why it stopped): {}",
        chain(.source)
    )]
    NotRunning {
        /// What was to run (`exec `gateway status``).
        action: String,
        /// The engine's answer (409).
        #[source]
        source: bollard::errors::Error,
    },
    /// A file or directory on this machine could not be read or written.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was done to it (`writing`, `creating`).
        action: String,
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A program could not be started.
    #[error("cannot start {program}: {source}{hint}")]
    Spawn {
        /// The program, as the message names it.
        program: String,
        /// How to get it, or nothing (` (is a Rust toolchain installed?)`).
        hint: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Waiting for, signalling or talking to a process of the sandbox failed.
    #[error("{action}: {source}")]
    Process {
        /// What was done (`waiting for init`, `SIGTERM to init 42`).
        action: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A command ran and did not exit 0.
    #[error("{purpose}: `{}` {status}: {}", argv.join(" "), shown_stderr(stderr))]
    CommandFailed {
        /// Why it ran (`creating profile a`).
        purpose: String,
        /// Its argv.
        argv: Vec<String>,
        /// How it ended ([`exited`]: `exited 1`, `was killed by a signal`).
        status: String,
        /// The end of its stderr.
        stderr: String,
    },
    /// A line of the boot log that the target's driver cannot read.
    #[error("boot log line {line_no} cannot be read ({why}): {line:?}; a target's boot lines must match its adapter's `[observe.boot_log] line` (the contract's: docs/contract.md §4)")]
    UnreadableBootLine {
        /// 1-based line number in the boot log.
        line_no: usize,
        /// What the parser said.
        why: String,
        /// The line.
        line: String,
    },
    /// The target printed what the contract's protocol does not allow.
    #[error("the target does not speak the contract here: {detail} (docs/contract.md)")]
    Protocol {
        /// What it printed, and what was expected.
        detail: String,
    },
    /// An image could not be built.
    #[error("building the image {image} failed: {detail}")]
    ImageBuild {
        /// The image's tag.
        image: String,
        /// Why, with the builder's last words.
        detail: String,
    },
    /// A gateway binary that must be static (the image is `FROM scratch`) is not.
    #[error(
        "{} {problem}; the image needs a static binary \
         (RUSTFLAGS=\"-C target-feature=+crt-static\")",
        binary.display()
    )]
    NotStatic {
        /// The binary.
        binary: PathBuf,
        /// What it is instead.
        problem: &'static str,
    },
    /// A tar archive could not be read or built.
    #[error("{action}: {source}")]
    Tar {
        /// What was done (`reading the archive of /data/x`).
        action: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A path read as a directory is something else.
    #[error("{path} is not a directory")]
    NotADirectory {
        /// The path, as the backend names it.
        path: String,
    },
    /// A path that is neither a regular file nor a directory (a symlink, a
    /// device): the harness reads only those two.
    #[error(
        "{path} is {kind}, neither a regular file nor a directory: the harness reads only those"
    )]
    SpecialFile {
        /// The path, as the backend names it.
        path: String,
        /// What it is (`a symlink`).
        kind: String,
    },
    /// A data-dir path the backend refuses.
    #[error("data-dir path {} {why}", path.display())]
    BadPath {
        /// The path given.
        path: PathBuf,
        /// What is wrong with it, and what to give instead.
        why: &'static str,
    },
    /// A directory that must be in the container is not.
    #[error("{action}: {path} is not in container {container}")]
    NotInContainer {
        /// What needed it (`write profiles/a/x.json`).
        action: String,
        /// The container path.
        path: String,
        /// The container's name.
        container: String,
    },
    /// The full-disk fault's fillers all fitted: the homes' filesystem has
    /// no size limit.
    #[error(
        "full disk: {pages} filler pages fitted in {path}, whose filesystem should hold \
         {limit} bytes: the size limit of its tmpfs volume did not apply"
    )]
    DiskNotFull {
        /// Pages written.
        pages: usize,
        /// Where.
        path: String,
        /// The size the filesystem should have.
        limit: u64,
    },
    /// The sandbox lacks what a fault needs (a harness bug: the runner sets it).
    #[error(
        "the {fault} fault needs {needs} (SandboxSpec.{field}), which the runner sets for \
         every scenario with that fault: a bug of restart-harness, please report it"
    )]
    SpecLacks {
        /// The fault.
        fault: &'static str,
        /// What it needs.
        needs: &'static str,
        /// The field of [`crate::backend::SandboxSpec`].
        field: &'static str,
    },
    /// A mutant was asked for, and no mutants image was built.
    #[error(
        "{wanted_by} needs the mutants image, and none was built: \
         `restart-harness image build --mutants` builds it"
    )]
    NoMutantsImage {
        /// Who asked (`scenario x (GATEWAY_MUTANT=y)`).
        wanted_by: String,
    },
    /// A step needs init running, and it is not.
    #[error("init is not running: it exited, or the sandbox was never booted")]
    InitNotRunning,
    /// init exited before it had booted.
    #[error("init exited during boot ({how}); its last output:\n{output}")]
    BootFailed {
        /// How it ended, and how far it got.
        how: String,
        /// The end of its output.
        output: String,
    },
    /// Processes, mounts or engine objects of a sandbox were left behind.
    #[error("left behind {when}: {left}")]
    LeftBehind {
        /// When (`after init exited`).
        when: String,
        /// What.
        left: String,
    },
    /// An OOM fault saw no `oom` event.
    #[error(
        "oom: no `oom` event after `{command}` ({status}, stderr {stderr:?}): {source}; \
         the memory limit must be below what the command allocates"
    )]
    NoOomKill {
        /// The command that should have made the kernel OOM-kill.
        command: String,
        /// How it ended.
        status: String,
        /// Its stderr.
        stderr: String,
        /// Why the wait ended.
        #[source]
        source: Box<BackendError>,
    },
    /// The OOM killer took the supervisor, not a gateway.
    #[error("oom: {what}: the OOM killer took the supervisor, not a gateway")]
    OomTookSupervisor {
        /// What showed it.
        what: String,
    },
    /// A fault aimed at a profile's gateway, and none is running.
    #[error("profile {profile} has no running gateway to {what}")]
    NoGateway {
        /// The profile.
        profile: String,
        /// What the fault would have done to it.
        what: &'static str,
    },
    /// The engine's event stream ended.
    #[error("waiting for the container's `{action}` event: {detail}")]
    EventStream {
        /// The awaited action.
        action: String,
        /// Why it ended.
        detail: String,
    },
    /// A kept command ended without answering.
    #[error("`{argv}` ended without answering{printed}")]
    NoAnswer {
        /// Its argv.
        argv: String,
        /// ` (it printed "...")`, or nothing.
        printed: String,
    },
    /// A task of the harness panicked or was cancelled (a harness bug).
    #[error("{what}: {source}; a bug of restart-harness, please report it")]
    TaskFailed {
        /// What the task did.
        what: String,
        /// Its end.
        #[source]
        source: tokio::task::JoinError,
    },
    /// An adapter lacks a section the step needs.
    #[error(
        "adapter {} has no {section}: add it (docs/targets.md, \"The adapter file\")",
        adapter.display()
    )]
    AdapterLacks {
        /// The adapter file.
        adapter: PathBuf,
        /// The section (`[drive]`).
        section: &'static str,
    },
    /// The target has no way to do an operation: a scenario that needs it
    /// should not have been claimed.
    #[error("the target has no way to {what}; a scenario that needs it must not be claimed: check the target's claims")]
    TargetCannot {
        /// What it cannot do.
        what: &'static str,
    },
    /// No recorded version of a profile's state file names its owner yet.
    #[error(
        "no {file} owned by profile {profile} was recorded; check observe.state.owner in {}",
        adapter.display()
    )]
    NoStateFile {
        /// The adapter file.
        adapter: PathBuf,
        /// The profile.
        profile: String,
        /// The state file's name.
        file: String,
    },
    /// An adapter's `observe.supervision` does not fit what the target does.
    #[error("{problem}; fix observe.supervision in {}", adapter.display())]
    Supervision {
        /// The adapter file.
        adapter: PathBuf,
        /// What happened.
        problem: String,
    },
    /// Anything else, with context: only what no caller can act on.
    #[error("{0}")]
    Other(String),
}

impl BackendError {
    /// [`BackendError::Docker`].
    pub fn docker(action: impl Into<String>, source: bollard::errors::Error) -> Self {
        BackendError::Docker {
            action: action.into(),
            source,
        }
    }

    /// [`BackendError::Io`].
    pub fn io(action: impl Into<String>, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BackendError::Io {
            action: action.into(),
            path: path.into(),
            source,
        }
    }

    /// [`BackendError::Process`].
    pub fn process(action: impl Into<String>, source: std::io::Error) -> Self {
        BackendError::Process {
            action: action.into(),
            source,
        }
    }

    /// [`BackendError::Tar`].
    pub fn tar(action: impl Into<String>, source: std::io::Error) -> Self {
        BackendError::Tar {
            action: action.into(),
            source,
        }
    }

    /// [`BackendError::TaskFailed`].
    pub fn task(what: impl Into<String>, source: tokio::task::JoinError) -> Self {
        BackendError::TaskFailed {
            what: what.into(),
            source,
        }
    }
}

/// How a command ended, for [`BackendError::CommandFailed`]: `exited 1`, or
/// `was killed by a signal` (no code).
pub fn exited(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("exited {c}"),
        None => "was killed by a signal".to_owned(),
    }
}

/// How a local process ended: `exited 1`, `was killed by signal 9`.
pub fn exited_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exited {c}"),
        (None, Some(s)) => format!("was killed by signal {s}"),
        (None, None) => format!("ended ({status})"),
    }
}

/// A command's stderr in a one-line message: trimmed, on lines of its own
/// when it has several, `(nothing on stderr)` when empty.
fn shown_stderr(stderr: &str) -> String {
    let s = stderr.trim();
    if s.is_empty() {
        "(nothing on stderr)".to_owned()
    } else if s.contains('\n') {
        format!("\n{s}")
    } else {
        s.to_owned()
    }
}

/// The last `n` lines of `text`.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// An error and its sources as one text, each source that adds something
/// after a `: ` (hyper's "client error (Connect)" alone hides the useful
/// part, "No such file or directory"; a message that already quotes its
/// source is not repeated).
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_names_each_source_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = BackendError::io("reading", "/x", io);
        assert_eq!(chain(&e), "reading /x: no such file");
        let failed = BackendError::CommandFailed {
            purpose: "creating profile a".to_owned(),
            argv: vec!["hermes".to_owned(), "new".to_owned()],
            status: exited(Some(1)),
            stderr: "one\ntwo\n".to_owned(),
        };
        assert_eq!(
            failed.to_string(),
            "creating profile a: `hermes new` exited 1: \none\ntwo"
        );
    }
}
