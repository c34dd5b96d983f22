//! States, intent and exit reasons (SPEC §2).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The observed state of a gateway, `gateway_state` in `gateway_state.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayState {
    /// Started, not yet serving.
    Starting,
    /// Serving; also the terminal write of a signal-initiated teardown (intent preserved).
    Running,
    /// Shutting down; never a terminal write.
    Draining,
    /// Stopped on purpose (operator, interactive, restart request).
    Stopped,
    /// Failed to start (configuration) or given up after a crash loop.
    StartupFailed,
}

impl GatewayState {
    /// Every state, in the order of the spec.
    pub const ALL: [GatewayState; 5] = [
        GatewayState::Starting,
        GatewayState::Running,
        GatewayState::Draining,
        GatewayState::Stopped,
        GatewayState::StartupFailed,
    ];

    /// The word used in files and boot lines.
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayState::Starting => "starting",
            GatewayState::Running => "running",
            GatewayState::Draining => "draining",
            GatewayState::Stopped => "stopped",
            GatewayState::StartupFailed => "startup_failed",
        }
    }
}

impl fmt::Display for GatewayState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GatewayState {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GatewayState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownWord::new("gateway_state", s))
    }
}

/// The operator's intent, `desired_state` in `desired_state.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DesiredState {
    /// `gateway start` or `gateway restart` was the last word.
    Running,
    /// `gateway stop` was the last word.
    Stopped,
}

impl DesiredState {
    /// The word used in files and boot lines.
    pub fn as_str(self) -> &'static str {
        match self {
            DesiredState::Running => "running",
            DesiredState::Stopped => "stopped",
        }
    }
}

impl fmt::Display for DesiredState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DesiredState {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "running" => Ok(DesiredState::Running),
            "stopped" => Ok(DesiredState::Stopped),
            other => Err(UnknownWord::new("desired_state", other)),
        }
    }
}

/// Which operator command wrote the intent (`by` in `desired_state.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentWriter {
    /// `gateway start`.
    Start,
    /// `gateway stop`.
    Stop,
    /// `gateway restart`.
    Restart,
}

impl IntentWriter {
    /// The intent each command records.
    pub fn desired_state(self) -> DesiredState {
        match self {
            IntentWriter::Start | IntentWriter::Restart => DesiredState::Running,
            IntentWriter::Stop => DesiredState::Stopped,
        }
    }
}

/// The signals that end a gateway's life through its own teardown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShutdownSignal {
    /// SIGTERM: operator stop when the marker names the process, else signal-initiated.
    Term,
    /// SIGINT: interactive stop.
    Int,
    /// SIGHUP: signal-initiated.
    Hup,
    /// SIGUSR1: restart request.
    Usr1,
}

impl ShutdownSignal {
    /// Every shutdown signal.
    pub const ALL: [ShutdownSignal; 4] = [
        ShutdownSignal::Term,
        ShutdownSignal::Int,
        ShutdownSignal::Hup,
        ShutdownSignal::Usr1,
    ];

    /// `SIGTERM`, `SIGINT`, ...
    pub fn name(self) -> &'static str {
        match self {
            ShutdownSignal::Term => "SIGTERM",
            ShutdownSignal::Int => "SIGINT",
            ShutdownSignal::Hup => "SIGHUP",
            ShutdownSignal::Usr1 => "SIGUSR1",
        }
    }

    /// The signal number.
    pub fn number(self) -> i32 {
        match self {
            ShutdownSignal::Term => libc_sig::SIGTERM,
            ShutdownSignal::Int => libc_sig::SIGINT,
            ShutdownSignal::Hup => libc_sig::SIGHUP,
            ShutdownSignal::Usr1 => libc_sig::SIGUSR1,
        }
    }

    /// Whether the marker is read (and removed) on this signal.
    pub fn consumes_marker(self) -> bool {
        matches!(self, ShutdownSignal::Term | ShutdownSignal::Hup)
    }
}

// Linux x86_64/aarch64 numbers; spelled out so the contract crate needs no libc.
mod libc_sig {
    pub const SIGHUP: i32 = 1;
    pub const SIGINT: i32 = 2;
    pub const SIGUSR1: i32 = 10;
    pub const SIGTERM: i32 = 15;
}

impl fmt::Display for ShutdownSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ShutdownSignal {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ShutdownSignal::ALL
            .into_iter()
            .find(|sig| sig.name() == s)
            .ok_or_else(|| UnknownWord::new("shutdown signal", s))
    }
}

/// Why the last life of a gateway ended, `exit_reason` in `gateway_state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExitReason {
    /// `signal:<NAME>`: a shutdown signal with no marker naming the process.
    Signal(String),
    /// `operator-stop`.
    OperatorStop,
    /// `interactive-stop`.
    InteractiveStop,
    /// `restart`.
    Restart,
    /// `crash-loop`: init gave up.
    CrashLoop,
    /// `config: <message>`.
    Config(String),
    /// Anything another implementation wrote that this contract does not name.
    Other(String),
}

impl ExitReason {
    /// The string written to the file.
    pub fn to_wire(&self) -> String {
        match self {
            ExitReason::Signal(name) => format!("signal:{name}"),
            ExitReason::OperatorStop => "operator-stop".to_owned(),
            ExitReason::InteractiveStop => "interactive-stop".to_owned(),
            ExitReason::Restart => "restart".to_owned(),
            ExitReason::CrashLoop => "crash-loop".to_owned(),
            ExitReason::Config(msg) => format!("config: {msg}"),
            ExitReason::Other(raw) => raw.clone(),
        }
    }

    /// Reads the string written to the file; never fails.
    pub fn from_wire(raw: &str) -> ExitReason {
        match raw {
            "operator-stop" => ExitReason::OperatorStop,
            "interactive-stop" => ExitReason::InteractiveStop,
            "restart" => ExitReason::Restart,
            "crash-loop" => ExitReason::CrashLoop,
            _ => {
                if let Some(name) = raw.strip_prefix("signal:") {
                    ExitReason::Signal(name.to_owned())
                } else if let Some(msg) = raw.strip_prefix("config: ") {
                    ExitReason::Config(msg.to_owned())
                } else {
                    ExitReason::Other(raw.to_owned())
                }
            }
        }
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

impl Serialize for ExitReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_wire())
    }
}

impl<'de> Deserialize<'de> for ExitReason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Ok(ExitReason::from_wire(&raw))
    }
}

/// A word that is not one of the contract's words for `what`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{word}` is not a known {what}")]
pub struct UnknownWord {
    /// What kind of word was expected.
    pub what: &'static str,
    /// The word seen.
    pub word: String,
}

impl UnknownWord {
    fn new(what: &'static str, word: &str) -> Self {
        UnknownWord {
            what,
            word: word.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_reasons_round_trip_through_the_wire() {
        for reason in [
            ExitReason::Signal("SIGTERM".into()),
            ExitReason::OperatorStop,
            ExitReason::InteractiveStop,
            ExitReason::Restart,
            ExitReason::CrashLoop,
            ExitReason::Config("drain_ms: invalid type".into()),
            ExitReason::Other("oom".into()),
        ] {
            assert_eq!(ExitReason::from_wire(&reason.to_wire()), reason);
        }
    }

    #[test]
    fn exit_reason_wire_forms_are_the_specs() {
        assert_eq!(
            ExitReason::Signal("SIGHUP".into()).to_wire(),
            "signal:SIGHUP"
        );
        assert_eq!(ExitReason::Config("bad".into()).to_wire(), "config: bad");
    }

    #[test]
    fn states_parse_their_own_words() {
        for st in GatewayState::ALL {
            assert_eq!(st.as_str().parse::<GatewayState>(), Ok(st));
        }
        assert!("degraded".parse::<GatewayState>().is_err());
    }
}
