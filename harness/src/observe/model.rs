//! What the harness observes of a target, as plain data: lives, terminal
//! writes, files at rest, status, liveness, container facts. No IO here: the
//! readers live with the targets (`target/`), the derivations in
//! [`super::derive`], the comparisons in `check/`.

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;

use restart_contract::boot::BootLine;
use restart_contract::status::StatusRow;
use restart_contract::teardown::Cause;
use restart_contract::{DesiredState, GatewayState};
use serde::{Deserialize, Deserializer, Serialize};

use crate::backend::ContainerFacts;

/// A gateway life hit by the fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Life {
    /// Its pid.
    pub pid: i32,
    /// Its start time (with the pid it names one life, even when PIDs repeat).
    pub start_time: u64,
    /// How many events its profile's log held just before the fault hit it.
    pub events_before: usize,
}

/// The terminal write of one faulted life, as its history tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalSeen {
    /// The pid.
    pub pid: i32,
    /// The cause of its `signal` event (`none` without one).
    pub cause: CauseSeen,
    /// The signal of that event.
    pub signal: Option<String>,
    /// The state of its last `persisted` event.
    pub gateway_state: Option<GatewayState>,
    /// The exit reason of its last `persisted` event (`None`: null or no event).
    pub exit_reason: Option<String>,
    /// How init saw it end.
    pub exit: ExitSeen,
}

/// Files and supervision of one profile at rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestSeen {
    /// `gateway_state.json`.
    pub gateway_state: FileState<GatewayState>,
    /// Its `exit_reason` (`None`: null, or no valid file).
    pub exit_reason: Option<String>,
    /// Its `restart_requested` (valid file only).
    pub restart_requested: Option<bool>,
    /// Its top-level keys (valid JSON object only).
    pub state_keys: Vec<String>,
    /// `desired_state.json`.
    pub desired_state: FileState<DesiredState>,
    /// The planned-stop marker exists.
    pub marker: bool,
    /// File names in the home.
    pub home_files: Vec<String>,
    /// Torn files in the home ([`torn_in`]): what a write cut short left.
    pub torn_files: usize,
    /// Temp files of interrupted atomic writes left beside the state file
    /// ([`is_temp_file`], or the adapter's `temp` pattern).
    pub temp_files: usize,
    /// Versions of the state file that do not parse as JSON: the file now
    /// and every version the backend recorded ([`is_whole_json`]).
    pub unparsable_versions: usize,
    /// Status of the profile (`None`: not listed).
    pub supervised: Option<Supervised>,
    /// Whether it answered `ping`.
    pub live: Option<bool>,
    /// Its gateway pid.
    pub pid: Option<i32>,
    /// That gateway's start time.
    pub start_time: Option<u64>,
}

impl RestSeen {
    /// Whether a `<file>.corrupt-*` copy is in the home.
    pub fn kept_aside(&self, file: &str) -> Option<&str> {
        let prefix = format!("{file}.corrupt-");
        self.home_files
            .iter()
            .find(|f| f.starts_with(&prefix))
            .map(String::as_str)
    }
}

/// Liveness of one profile from a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSeen {
    /// `supervised` (`None`: not listed).
    pub supervised: Option<Supervised>,
    /// `live`.
    pub live: Option<bool>,
}

/// Container facts before and after the fault.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerSeen {
    /// Before the fault.
    pub before: ContainerFacts,
    /// After the fault (before any next boot of the runner's).
    pub after: ContainerFacts,
}

/// Everything observed in one run of a scenario.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// The fault command's output (operator faults; the last repetition).
    pub command: Option<crate::backend::CmdOutput>,
    /// Boot lines of the first boot.
    pub first_boot: BTreeMap<String, BootLine>,
    /// Terminal writes of the faulted lives.
    pub terminal: BTreeMap<String, TerminalSeen>,
    /// Files and supervision at rest.
    pub at_rest: BTreeMap<String, RestSeen>,
    /// Boot lines of the next boot.
    pub boot: BTreeMap<String, BootLine>,
    /// Liveness after the next boot.
    pub after_boot: BTreeMap<String, LiveSeen>,
    /// Container facts.
    pub container: ContainerSeen,
    /// The faulted lives.
    pub lives: BTreeMap<String, Life>,
}

/// One profile in `gateway status --json`.
pub type ProfileStatus = StatusRow;

/// `gateway status --json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Status {
    /// Every profile.
    pub profiles: Vec<ProfileStatus>,
}

impl Status {
    /// Parses the command's stdout.
    pub fn parse(stdout: &str) -> Result<Status, String> {
        serde_json::from_str(stdout.trim()).map_err(|e| {
            format!(
                "`gateway status --json` printed something that is not the contract's JSON ({e}): {}",
                stdout.trim()
            )
        })
    }

    /// One profile.
    pub fn get(&self, profile: &str) -> Option<&ProfileStatus> {
        self.profiles.iter().find(|p| p.profile == profile)
    }

    /// Every profile settled.
    pub fn settled(&self) -> bool {
        self.profiles.iter().all(ProfileStatus::settled)
    }

    /// Running gateways by profile: (pid, start_time).
    pub fn gateways(&self) -> BTreeMap<String, (i32, u64)> {
        self.profiles
            .iter()
            .filter_map(|p| p.gateway().map(|g| (p.profile.clone(), g)))
            .collect()
    }

    /// A one-line summary: `a=up:123:live b=down`.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for p in &self.profiles {
            if !s.is_empty() {
                s.push(' ');
            }
            let _ = write!(s, "{}={}", p.profile, p.supervised.as_str());
            if let Some(pid) = p.pid {
                let _ = write!(s, ":{pid}");
            }
            if p.live {
                s.push_str(":live");
            }
        }
        s
    }
}

/// A cause as seen in the `signal` event, or `none` when no teardown ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseSeen {
    /// SIGTERM with a marker naming the process.
    OperatorStop,
    /// SIGINT.
    InteractiveStop,
    /// SIGUSR1.
    Restart,
    /// Anything else.
    SignalInitiated,
    /// No `signal` event: nothing ran (SIGKILL, OOM).
    None,
}

impl From<Cause> for CauseSeen {
    fn from(c: Cause) -> Self {
        match c {
            Cause::OperatorStop => CauseSeen::OperatorStop,
            Cause::InteractiveStop => CauseSeen::InteractiveStop,
            Cause::Restart => CauseSeen::Restart,
            Cause::SignalInitiated => CauseSeen::SignalInitiated,
        }
    }
}

impl CauseSeen {
    /// The word in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            CauseSeen::OperatorStop => "operator-stop",
            CauseSeen::InteractiveStop => "interactive-stop",
            CauseSeen::Restart => "restart",
            CauseSeen::SignalInitiated => "signal-initiated",
            CauseSeen::None => "none",
        }
    }
}

/// How a process ended, as init's `reaped` event says.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExitSeen {
    /// Exited with a code.
    Code(i32),
    /// Killed by a signal (`SIGKILL`).
    Signal(String),
    /// No `reaped` event: its supervisor died with it.
    NotReaped,
}

impl fmt::Display for ExitSeen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitSeen::Code(c) => write!(f, "{c}"),
            ExitSeen::Signal(s) => f.write_str(s),
            ExitSeen::NotReaped => f.write_str("not-reaped"),
        }
    }
}

impl<'de> Deserialize<'de> for ExitSeen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Code(i32),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Code(c) => Ok(ExitSeen::Code(c)),
            Raw::Word(w) if w == "not-reaped" => Ok(ExitSeen::NotReaped),
            Raw::Word(w) if w.starts_with("SIG") && w.len() > 3 => Ok(ExitSeen::Signal(w)),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                "`{w}` is not an exit: use an exit code (1), a signal name (\"SIGKILL\") or \"not-reaped\""
            ))),
        }
    }
}

/// What a state file holds at rest: a state, or what is wrong with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileState<T> {
    /// A valid record with this value.
    Value(T),
    /// No file.
    Missing,
    /// Not valid JSON of the schema.
    Corrupt,
    /// Another schema.
    Unsupported,
}

impl<T: fmt::Display> fmt::Display for FileState<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileState::Value(v) => v.fmt(f),
            FileState::Missing => f.write_str("missing"),
            FileState::Corrupt => f.write_str("corrupt"),
            FileState::Unsupported => f.write_str("unsupported"),
        }
    }
}

/// The supervision of a profile, as `gateway status --json` says.
pub use restart_contract::status::Supervised;
