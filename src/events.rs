//! `events.jsonl`: a profile's history (SPEC §2).
//!
//! One JSON object per line, appended with a single `write` (O_APPEND), never
//! rewritten, rotated to `events.jsonl.1` past 1 MiB. It is how an observer sees a
//! terminal write that the next life has already overwritten.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::boot::BootLine;
use crate::state::{DesiredState, GatewayState};
use crate::store::{refuse_symlink, StoreError};
use crate::teardown::Cause;
use crate::timefmt::{serde_ts, Timestamp};

/// Rotation threshold.
pub const ROTATE_BYTES: u64 = 1024 * 1024;

/// Who wrote an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A gateway process.
    Gateway,
    /// The supervisor.
    Init,
    /// An operator command.
    Cli,
}

/// What happened. Unknown event names read as [`EventKind::Unknown`], so an
/// observer can read the history of any implementation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum EventKind {
    // --- gateway ---
    /// The process started.
    Starting,
    /// It is serving.
    Running,
    /// The first shutdown signal and the cause it decided.
    Signal {
        /// `SIGTERM`, ...
        signal: String,
        /// The cause.
        cause: Cause,
        /// The marker verdict behind it (`absent`, `names-this-process`, ...).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        marker: Option<String>,
    },
    /// A state was persisted.
    Persisted {
        /// The state written.
        gateway_state: GatewayState,
        /// The exit reason written with it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit_reason: Option<String>,
    },
    /// The process is exiting.
    Exited {
        /// Its exit code.
        code: i32,
    },
    // --- init ---
    /// The boot decision for this profile.
    Boot {
        /// The state read.
        prior_state: String,
        /// The intent read, `-` when none.
        desired: String,
        /// `started` or `registered`.
        action: String,
        /// `clean`, `unclean` or `unknown`.
        prior_exit: String,
    },
    /// A gateway was spawned.
    Spawned {
        /// Its pid.
        child: i32,
        /// Why: `boot`, `operator-start`, `restart`, `revive`.
        reason: String,
    },
    /// A gateway was reaped.
    Reaped {
        /// Its pid.
        child: i32,
        /// Its exit code, when it exited.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<i32>,
        /// The signal that killed it, when one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<String>,
    },
    /// An unexpected exit; revival after this delay.
    Backoff {
        /// The delay.
        delay_ms: u64,
    },
    /// Too many unexpected exits: not started again.
    GaveUp {
        /// Unexpected exits counted in the window.
        #[serde(default)]
        exits: u32,
    },
    // --- cli ---
    /// `gateway stop` wrote the marker.
    MarkerWritten {
        /// The pid it names.
        target_pid: i32,
        /// The start time it names.
        target_start_time: u64,
    },
    /// `gateway stop` could not write the marker.
    MarkerFailed {
        /// Why.
        error: String,
    },
    /// An operator command wrote the intent.
    DesiredWritten {
        /// The intent.
        desired_state: DesiredState,
    },
    /// `gateway stop` asked init to stop a process.
    StopRequested {
        /// The pid.
        target_pid: i32,
    },
    /// An event this implementation does not know.
    #[serde(other)]
    Unknown,
}

impl EventKind {
    /// The `boot` event carrying a boot line's fields.
    pub fn boot(line: &BootLine) -> Self {
        EventKind::Boot {
            prior_state: line.prior_state.as_str().to_owned(),
            desired: line.desired.map_or("-", DesiredState::as_str).to_owned(),
            action: line.action.as_str().to_owned(),
            prior_exit: line.prior_exit.as_str().to_owned(),
        }
    }
}

/// One line of `events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When.
    #[serde(with = "serde_ts")]
    pub ts: Timestamp,
    /// Who.
    pub source: Source,
    /// The writer's pid.
    pub pid: i32,
    /// What.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// An event written now by this process.
    pub fn now(source: Source, kind: EventKind) -> Self {
        Event {
            ts: crate::timefmt::now(),
            source,
            pid: std::process::id() as i32,
            kind,
        }
    }
}

/// Appends `event` to the log at `path` with one `write`, rotating past 1 MiB.
pub fn append(path: &Path, event: &Event) -> Result<(), StoreError> {
    refuse_symlink(path)?;
    let mut line = serde_json::to_vec(event).map_err(|source| StoreError::Serialize {
        path: path.to_owned(),
        source,
    })?;
    line.push(b'\n');
    if fs::metadata(path).is_ok_and(|m| m.len() > ROTATE_BYTES) {
        let rotated = rotated_path(path);
        // Two writers may race to rotate; the loser's rename fails harmlessly.
        let _ = fs::rename(path, rotated);
    }
    let io = |op, source| StoreError::Io {
        op,
        path: path.to_owned(),
        source,
    };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(path)
        .map_err(|e| io("opening", e))?;
    // A single write(2) of the whole line: O_APPEND makes it atomic against the
    // other writers (gateway, init, cli) for lines of this size.
    let written = file.write(&line).map_err(|e| io("appending to", e))?;
    if written != line.len() {
        // A full disk takes part of a line: cut it off again, or the next
        // line appended would continue it and both would be lost to readers.
        take_back(&mut file, written);
        return Err(io(
            "appending to",
            io::Error::new(io::ErrorKind::WriteZero, "short write of an event line"),
        ));
    }
    Ok(())
}

/// Truncates the `written` bytes just appended through `file`, unless another
/// writer has appended after them (its line must not be cut; ours is then
/// left torn, as it would be anyway). Best effort: the caller reports the
/// event as not logged either way.
fn take_back(file: &mut fs::File, written: usize) {
    use std::io::Seek;
    let Ok(end) = file.stream_position() else {
        return;
    };
    let Some(start) = end.checked_sub(written as u64) else {
        return;
    };
    if file.metadata().is_ok_and(|m| m.len() == end) {
        let _ = file.set_len(start);
    }
}

/// `events.jsonl.1` beside `path`.
pub fn rotated_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".1");
    PathBuf::from(p)
}

/// A line of the log that did not parse.
#[derive(Debug, Clone, PartialEq)]
pub struct UnreadableLine {
    /// 1-based line number.
    pub line: usize,
    /// Why.
    pub error: String,
}

/// Parses a whole log, keeping unreadable lines apart rather than failing.
pub fn parse_log(text: &str) -> (Vec<Event>, Vec<UnreadableLine>) {
    let mut events = Vec::new();
    let mut bad = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Event>(raw) {
            Ok(e) => events.push(e),
            Err(e) => bad.push(UnreadableLine {
                line: i + 1,
                error: e.to_string(),
            }),
        }
    }
    (events, bad)
}

/// Reads the rotated log then the current one, oldest first.
pub fn read_history(path: &Path) -> io::Result<(Vec<Event>, Vec<UnreadableLine>)> {
    let mut text = String::new();
    for p in [rotated_path(path), path.to_owned()] {
        match fs::read_to_string(&p) {
            Ok(t) => text.push_str(&t),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(parse_log(&text))
}
