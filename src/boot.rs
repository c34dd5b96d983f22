//! The boot table (SPEC §4) and the boot line (SPEC §2).
//!
//! For each profile home, the first row that matches decides:
//!
//! | what is read                                        | action                                   |
//! |-----------------------------------------------------|------------------------------------------|
//! | a new profile (home just created)                   | start                                    |
//! | `gateway_state` `startup_failed`                    | register down, whatever the intent says  |
//! | `gateway_state` `unsupported`                       | register down                            |
//! | intent present                                      | start if `running`, else register down   |
//! | `gateway_state` `running` or `draining`             | start                                    |
//! | `gateway_state` `stopped` with `restart_requested`  | start (a restart was under way)          |
//! | `gateway_state` `starting` or `stopped`             | register down                            |
//! | no state file in an existing home (`missing`)       | register down                            |
//! | `corrupt`                                           | register down, bytes kept aside          |

use std::fmt;
use std::str::FromStr;

use crate::state::{DesiredState, GatewayState};
use crate::timefmt::{self, Timestamp};

/// The state read from `gateway_state.json` at boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PriorState {
    /// A valid record.
    Recorded {
        /// Its state.
        state: GatewayState,
        /// Its `restart_requested`.
        restart_requested: bool,
    },
    /// No file in an existing home.
    Missing,
    /// Not valid JSON of the schema (kept aside).
    Corrupt,
    /// A valid record of another schema (left alone).
    Unsupported,
}

impl PriorState {
    /// The `prior_state=` word of the boot line.
    pub fn label(self) -> PriorStateLabel {
        match self {
            PriorState::Recorded { state, .. } => PriorStateLabel::State(state),
            PriorState::Missing => PriorStateLabel::Missing,
            PriorState::Corrupt => PriorStateLabel::Corrupt,
            PriorState::Unsupported => PriorStateLabel::Unsupported,
        }
    }
}

/// What boot reads for one profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BootInput {
    /// The home was created by this boot.
    pub new_profile: bool,
    /// The state read.
    pub prior: PriorState,
    /// The intent read (`None`: absent, corrupt or unsupported).
    pub desired: Option<DesiredState>,
}

/// What boot does with a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BootAction {
    /// Start a gateway.
    Start,
    /// Register it, down.
    RegisterDown,
}

impl BootAction {
    /// The `action=` word of the boot line.
    pub fn as_str(self) -> &'static str {
        match self {
            BootAction::Start => "started",
            BootAction::RegisterDown => "registered",
        }
    }
}

impl FromStr for BootAction {
    type Err = BootLineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "started" => Ok(BootAction::Start),
            "registered" => Ok(BootAction::RegisterDown),
            _ => Err(BootLineError::Value("action", s.to_owned())),
        }
    }
}

/// Which row of the boot table decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BootRow {
    /// A new profile.
    NewProfile,
    /// `startup_failed`.
    StartupFailed,
    /// `unsupported`.
    Unsupported,
    /// Intent present.
    IntentPresent,
    /// `running` or `draining`.
    RunningOrDraining,
    /// `stopped` with `restart_requested`.
    RestartUnderWay,
    /// `starting` or `stopped`.
    StartingOrStopped,
    /// `missing`.
    Missing,
    /// `corrupt`.
    Corrupt,
}

/// The boot table: the first row that matches `input` and its action.
pub fn decide(input: BootInput) -> (BootRow, BootAction) {
    use BootAction::{RegisterDown, Start};
    use GatewayState as S;
    use PriorState::{Corrupt, Missing, Recorded, Unsupported};
    match (input.new_profile, input.prior, input.desired) {
        (true, _, _) => (BootRow::NewProfile, Start),
        (
            _,
            Recorded {
                state: S::StartupFailed,
                ..
            },
            _,
        ) => (BootRow::StartupFailed, RegisterDown),
        (_, Unsupported, _) => (BootRow::Unsupported, RegisterDown),
        (_, _, Some(DesiredState::Running)) => (BootRow::IntentPresent, Start),
        (_, _, Some(DesiredState::Stopped)) => (BootRow::IntentPresent, RegisterDown),
        (
            _,
            Recorded {
                state: S::Running | S::Draining,
                ..
            },
            None,
        ) => (BootRow::RunningOrDraining, Start),
        (
            _,
            Recorded {
                state: S::Stopped,
                restart_requested: true,
            },
            None,
        ) => (BootRow::RestartUnderWay, Start),
        (
            _,
            Recorded {
                state: S::Starting | S::Stopped,
                ..
            },
            None,
        ) => (BootRow::StartingOrStopped, RegisterDown),
        (_, Missing, None) => (BootRow::Missing, RegisterDown),
        (_, Corrupt, None) => (BootRow::Corrupt, RegisterDown),
    }
}

/// `prior_exit=`: did the last life reach its end (`lifecycle.json`)?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PriorExit {
    /// Phase `exited`.
    Clean,
    /// Phase `running`: the last life never finished its teardown.
    Unclean,
    /// No `lifecycle.json`, or unreadable (kept aside when corrupt).
    Unknown,
}

impl PriorExit {
    /// The word of the boot line.
    pub fn as_str(self) -> &'static str {
        match self {
            PriorExit::Clean => "clean",
            PriorExit::Unclean => "unclean",
            PriorExit::Unknown => "unknown",
        }
    }
}

impl FromStr for PriorExit {
    type Err = BootLineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "clean" => Ok(PriorExit::Clean),
            "unclean" => Ok(PriorExit::Unclean),
            "unknown" => Ok(PriorExit::Unknown),
            _ => Err(BootLineError::Value("prior_exit", s.to_owned())),
        }
    }
}

/// `prior_state=`: a state, or what was wrong with the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PriorStateLabel {
    /// A recorded state.
    State(GatewayState),
    /// No file.
    Missing,
    /// Corrupt.
    Corrupt,
    /// Another schema.
    Unsupported,
}

impl PriorStateLabel {
    /// The word of the boot line.
    pub fn as_str(self) -> &'static str {
        match self {
            PriorStateLabel::State(s) => s.as_str(),
            PriorStateLabel::Missing => "missing",
            PriorStateLabel::Corrupt => "corrupt",
            PriorStateLabel::Unsupported => "unsupported",
        }
    }
}

impl fmt::Display for PriorStateLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PriorStateLabel {
    type Err = BootLineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "missing" => Ok(PriorStateLabel::Missing),
            "corrupt" => Ok(PriorStateLabel::Corrupt),
            "unsupported" => Ok(PriorStateLabel::Unsupported),
            other => other
                .parse()
                .map(PriorStateLabel::State)
                .map_err(|_| BootLineError::Value("prior_state", other.to_owned())),
        }
    }
}

/// One line of `DATA/boot.log` (and of init's stdout).
///
/// `2026-11-26T06:00:00.123Z profile=default prior_state=running desired=- action=started prior_exit=clean`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootLine {
    /// When.
    pub ts: Timestamp,
    /// The profile (as written; not validated, so a harness can read any image's log).
    pub profile: String,
    /// The state read.
    pub prior_state: PriorStateLabel,
    /// The intent read, `-` when none.
    pub desired: Option<DesiredState>,
    /// What boot did.
    pub action: BootAction,
    /// How the last life ended.
    pub prior_exit: PriorExit,
}

impl fmt::Display for BootLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} profile={} prior_state={} desired={} action={} prior_exit={}",
            timefmt::format(&self.ts),
            self.profile,
            self.prior_state,
            self.desired.map_or("-", DesiredState::as_str),
            self.action.as_str(),
            self.prior_exit.as_str(),
        )
    }
}

/// A line that is not a boot line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BootLineError {
    /// A field is missing.
    #[error("boot line has no `{0}=` field")]
    Missing(&'static str),
    /// A field has a value outside the contract.
    #[error("boot line field `{0}` has unknown value `{1}`")]
    Value(&'static str, String),
    /// The timestamp does not parse.
    #[error("boot line does not start with an RFC 3339 timestamp")]
    Timestamp,
}

impl FromStr for BootLine {
    type Err = BootLineError;
    fn from_str(line: &str) -> Result<Self, Self::Err> {
        let mut words = line.split_whitespace();
        let ts = words
            .next()
            .and_then(timefmt::parse)
            .ok_or(BootLineError::Timestamp)?;
        let fields: Vec<(&str, &str)> = words.filter_map(|w| w.split_once('=')).collect();
        let get = |key: &'static str| {
            fields
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
                .ok_or(BootLineError::Missing(key))
        };
        let desired = match get("desired")? {
            "-" => None,
            other => Some(
                other
                    .parse()
                    .map_err(|_| BootLineError::Value("desired", other.to_owned()))?,
            ),
        };
        Ok(BootLine {
            ts,
            profile: get("profile")?.to_owned(),
            prior_state: get("prior_state")?.parse()?,
            desired,
            action: get("action")?.parse()?,
            prior_exit: get("prior_exit")?.parse()?,
        })
    }
}
