//! `gateway status --json` (SPEC §5): written by the gateway, read by observers.
//!
//! `{"profiles":[{"profile","supervised":"up|down|backoff|gave-up","pid","start_time",
//! "gateway_state","desired_state","live"}]}`

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::state::{DesiredState, GatewayState};

/// How init supervises a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Supervised {
    /// A gateway process is alive.
    Up,
    /// No process, none pending.
    Down,
    /// Exited unexpectedly; revival pending.
    Backoff,
    /// Crash loop: not started again until an operator starts it.
    GaveUp,
}

impl Supervised {
    /// The word used in `status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Supervised::Up => "up",
            Supervised::Down => "down",
            Supervised::Backoff => "backoff",
            Supervised::GaveUp => "gave-up",
        }
    }
}

impl fmt::Display for Supervised {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One profile of `gateway status --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRow {
    /// The profile.
    pub profile: String,
    /// How init supervises it.
    pub supervised: Supervised,
    /// The live gateway's pid.
    #[serde(default)]
    pub pid: Option<i32>,
    /// Its start time.
    #[serde(default)]
    pub start_time: Option<u64>,
    /// What a valid `gateway_state.json` says (null when missing, corrupt or unsupported).
    #[serde(default)]
    pub gateway_state: Option<GatewayState>,
    /// What a valid `desired_state.json` says (null when absent).
    #[serde(default)]
    pub desired_state: Option<DesiredState>,
    /// The channel answered `ping` within 1 s.
    #[serde(default)]
    pub live: bool,
}

impl StatusRow {
    /// At rest: up and live, down, or given up. Backing off, or up but not yet
    /// live, is a transition.
    pub fn settled(&self) -> bool {
        match self.supervised {
            Supervised::Up => self.live,
            Supervised::Down | Supervised::GaveUp => true,
            Supervised::Backoff => false,
        }
    }

    /// The running gateway's (pid, start_time), when up.
    pub fn gateway(&self) -> Option<(i32, u64)> {
        match (self.supervised, self.pid, self.start_time) {
            (Supervised::Up, Some(pid), Some(st)) => Some((pid, st)),
            _ => None,
        }
    }
}

/// The whole `gateway status --json` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Every profile, in name order.
    pub profiles: Vec<StatusRow>,
    /// The active mutant of a `mutants` build, only when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutant: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specs_shape_parses() {
        let doc = r#"{"profiles":[{"profile":"default","supervised":"gave-up","pid":null,
            "start_time":null,"gateway_state":"startup_failed","desired_state":"running","live":false}]}"#;
        let r: StatusReport = serde_json::from_str(doc).unwrap();
        assert_eq!(r.profiles[0].supervised, Supervised::GaveUp);
        assert_eq!(
            r.profiles[0].gateway_state,
            Some(GatewayState::StartupFailed)
        );
        assert_eq!(r.mutant, None);
    }
}
