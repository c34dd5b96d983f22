//! Claims: the promises a scenario checks and a target makes, in the contract's
//! words.
//!
//! A scenario names the claims it checks (`claims = [...]` in its file); the
//! expectations it reads add the claims they need to be observed at all (a
//! scenario that reads `terminal.cause` needs `teardown-history`, since only a
//! target that keeps the contract's event history can show a cause). A target's
//! adapter lists every claim, made or not made with the reason. A scenario
//! whose claims the target does not all make is reported as *not claimed*, with
//! the first reason, and never counted as passed (Jepsen's nemesis only
//! generates the faults a db supports).
//!
//! The first group is the black-box core: promises any restart-safe supervised
//! service makes, checked only through what an adapter can observe. The second
//! group is the contract's own details.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Claim {
    // The black-box core.
    /// A container restart is not a stop.
    ContainerRestartIsNotAStop,
    /// `docker kill` then start is not a stop.
    ContainerKillIsNotAStop,
    /// A stop timeout that cuts the drain is not a stop.
    CutDrainIsNotAStop,
    /// A bare SIGTERM to one gateway is not a stop.
    BareSigtermIsNotAStop,
    /// A SIGKILL of one gateway is not a stop.
    SigkillIsNotAStop,
    /// An OOM kill of one gateway is not a stop.
    OomIsNotAStop,
    /// An operator stop keeps the gateway down, also across a container restart.
    OperatorStopStaysDown,
    /// An operator stop is recorded as a stop: the gateway's own last write
    /// says stopped.
    OperatorStopIsRecorded,
    /// An operator start brings a stopped gateway back, also across a restart.
    OperatorStartBringsItBack,
    /// Each profile keeps its own fate.
    ProfilesKeepTheirOwnFate,
    /// One damaged state file keeps its own profile down and costs no other
    /// profile its boot.
    DamageStaysWithItsProfile,
    /// A gateway that can never start is not restarted forever across
    /// container restarts.
    NoRestartForever,
    /// The supervisor's crash alone is not a stop.
    SupervisorCrashIsNotAStop,
    /// A clean restart of the supervisor alone is not a stop.
    SupervisorRestartIsNotAStop,
    /// A signal through the supervisor's own API is an operator stop.
    ApiSignalIsAStop,
    /// SIGKILLs at any instant of the writes leave every version of the state
    /// file whole and no temp file of an interrupted write behind.
    KillsLeaveWholeFiles,

    // The contract's details.
    /// Every teardown is in the event history: cause, signal, terminal write,
    /// exit reason, and how the supervisor reaped it.
    TeardownHistory,
    /// Every boot logs, per profile, whether it started it or registered it
    /// down (the boot line's `action`).
    BootLog,
    /// Boot lines say prior_state, desired and prior_exit in the contract's words.
    BootLineWords,
    /// The contract's files: the schema, exit_reason and restart_requested
    /// fields, corrupt and unsupported classes, the marker file, crafted files.
    ContractFiles,
    /// Operator intent lives in desired_state.json, apart from the observed
    /// state, and decides the boot.
    IntentFile,
    /// The marker rule: pid and start time, inside [now - 60 s, now + 5 s],
    /// consumed by the signal that read it, malformed or not.
    MarkerRule,
    /// A stop writes the marker into the stopped profile's own home.
    StopMarksItsOwnHome,
    /// SIGINT is a stop on purpose: stopped/interactive-stop, exit 0.
    InteractiveStop,
    /// SIGHUP is handled like a bare SIGTERM.
    SighupIsABareSignal,
    /// An operator restart persists stopped/restart, exits 75 and is started at
    /// once; restarts are not crashes.
    #[serde(rename = "restart-exits-75")]
    RestartExits75,
    /// A configuration error persists startup_failed and exits 78; nothing
    /// restarts it.
    ConfigErrorStaysDown,
    /// The supervisor gives up after the crash limit and persists
    /// startup_failed/crash-loop.
    CrashLoopGivesUp,
    /// A corrupt file is kept aside, never deleted; an unsupported one is left
    /// in place.
    DamagedFilesKeptAside,
    /// The boot table's rows: missing, starting and stopped register down;
    /// running, draining and a restart under way start.
    BootTable,
    /// A container stop waits the grace, then SIGKILLs what still drains.
    GraceThenSigkill,
    /// A rewrite keeps keys it does not know.
    UnknownKeysKept,
    /// The contract's command line: exit codes and words of stop, start and
    /// restart, and init's exit at a container stop.
    ContractCli,
    /// The contract's configuration: init flags (--profiles, --crash-limit,
    /// --grace-ms) and a profile's config.toml.
    ContractConfiguration,
}

impl Claim {
    /// Every claim, core first, in the order of this file.
    pub const ALL: [Claim; 34] = [
        Claim::ContainerRestartIsNotAStop,
        Claim::ContainerKillIsNotAStop,
        Claim::CutDrainIsNotAStop,
        Claim::BareSigtermIsNotAStop,
        Claim::SigkillIsNotAStop,
        Claim::OomIsNotAStop,
        Claim::OperatorStopStaysDown,
        Claim::OperatorStopIsRecorded,
        Claim::OperatorStartBringsItBack,
        Claim::ProfilesKeepTheirOwnFate,
        Claim::DamageStaysWithItsProfile,
        Claim::NoRestartForever,
        Claim::SupervisorCrashIsNotAStop,
        Claim::SupervisorRestartIsNotAStop,
        Claim::ApiSignalIsAStop,
        Claim::KillsLeaveWholeFiles,
        Claim::TeardownHistory,
        Claim::BootLog,
        Claim::BootLineWords,
        Claim::ContractFiles,
        Claim::IntentFile,
        Claim::MarkerRule,
        Claim::StopMarksItsOwnHome,
        Claim::InteractiveStop,
        Claim::SighupIsABareSignal,
        Claim::RestartExits75,
        Claim::ConfigErrorStaysDown,
        Claim::CrashLoopGivesUp,
        Claim::DamagedFilesKeptAside,
        Claim::BootTable,
        Claim::GraceThenSigkill,
        Claim::UnknownKeysKept,
        Claim::ContractCli,
        Claim::ContractConfiguration,
    ];

    /// The name in scenario and adapter files.
    pub fn as_str(self) -> &'static str {
        match self {
            Claim::ContainerRestartIsNotAStop => "container-restart-is-not-a-stop",
            Claim::ContainerKillIsNotAStop => "container-kill-is-not-a-stop",
            Claim::CutDrainIsNotAStop => "cut-drain-is-not-a-stop",
            Claim::BareSigtermIsNotAStop => "bare-sigterm-is-not-a-stop",
            Claim::SigkillIsNotAStop => "sigkill-is-not-a-stop",
            Claim::OomIsNotAStop => "oom-is-not-a-stop",
            Claim::OperatorStopStaysDown => "operator-stop-stays-down",
            Claim::OperatorStopIsRecorded => "operator-stop-is-recorded",
            Claim::OperatorStartBringsItBack => "operator-start-brings-it-back",
            Claim::ProfilesKeepTheirOwnFate => "profiles-keep-their-own-fate",
            Claim::DamageStaysWithItsProfile => "damage-stays-with-its-profile",
            Claim::NoRestartForever => "no-restart-forever",
            Claim::SupervisorCrashIsNotAStop => "supervisor-crash-is-not-a-stop",
            Claim::SupervisorRestartIsNotAStop => "supervisor-restart-is-not-a-stop",
            Claim::ApiSignalIsAStop => "api-signal-is-a-stop",
            Claim::KillsLeaveWholeFiles => "kills-leave-whole-files",
            Claim::TeardownHistory => "teardown-history",
            Claim::BootLog => "boot-log",
            Claim::BootLineWords => "boot-line-words",
            Claim::ContractFiles => "contract-files",
            Claim::IntentFile => "intent-file",
            Claim::MarkerRule => "marker-rule",
            Claim::StopMarksItsOwnHome => "stop-marks-its-own-home",
            Claim::InteractiveStop => "interactive-stop",
            Claim::SighupIsABareSignal => "sighup-is-a-bare-signal",
            Claim::RestartExits75 => "restart-exits-75",
            Claim::ConfigErrorStaysDown => "config-error-stays-down",
            Claim::CrashLoopGivesUp => "crash-loop-gives-up",
            Claim::DamagedFilesKeptAside => "damaged-files-kept-aside",
            Claim::BootTable => "boot-table",
            Claim::GraceThenSigkill => "grace-then-sigkill",
            Claim::UnknownKeysKept => "unknown-keys-kept",
            Claim::ContractCli => "contract-cli",
            Claim::ContractConfiguration => "contract-configuration",
        }
    }

    /// The promise, in one sentence.
    pub fn sentence(self) -> &'static str {
        match self {
            Claim::ContainerRestartIsNotAStop => {
                "A container restart is not a stop: the gateway's last write keeps it running and it is up after the next boot."
            }
            Claim::ContainerKillIsNotAStop => {
                "docker kill then start is not a stop: the gateway is up after the boot."
            }
            Claim::CutDrainIsNotAStop => {
                "A stop timeout that cuts the drain is not a stop: the gateway is up after the next boot."
            }
            Claim::BareSigtermIsNotAStop => {
                "A bare SIGTERM to one gateway is not a stop: its last write keeps it running, it is revived, and up after the next boot."
            }
            Claim::SigkillIsNotAStop => {
                "A SIGKILL of one gateway is not a stop: it is revived, and up after the next boot."
            }
            Claim::OomIsNotAStop => {
                "An OOM kill of one gateway is not a stop: it is revived, and up after the next boot."
            }
            Claim::OperatorStopStaysDown => {
                "An operator stop keeps the gateway down, also across a container restart."
            }
            Claim::OperatorStopIsRecorded => {
                "An operator stop is recorded as a stop: the gateway's own last write says stopped, not the running of an unexpected signal."
            }
            Claim::OperatorStartBringsItBack => {
                "An operator start brings a stopped gateway back, also across a container restart."
            }
            Claim::ProfilesKeepTheirOwnFate => {
                "Each profile keeps its own fate: stopping one stops no other, and a restart brings back exactly the running ones."
            }
            Claim::DamageStaysWithItsProfile => {
                "One damaged state file keeps its own profile down without costing any other profile its boot."
            }
            Claim::NoRestartForever => {
                "A gateway that can never start is not restarted forever across container restarts."
            }
            Claim::SupervisorCrashIsNotAStop => {
                "The supervisor's crash alone (SIGKILL to it, its services left alive) is not a stop: once it runs again, every gateway that ran is up and a stopped one stays down."
            }
            Claim::SupervisorRestartIsNotAStop => {
                "A clean restart of the supervisor alone is not a stop: once it runs again, every gateway that ran is up and a stopped one stays down."
            }
            Claim::ApiSignalIsAStop => {
                "A signal sent to a gateway through the supervisor's own API (`docker kill`) is an operator stop: it is recorded as one, and the gateway stays down, also across a container restart."
            }
            Claim::KillsLeaveWholeFiles => {
                "SIGKILLs landing at any instant of a gateway's start-up and teardown writes leave every version of its state file whole, and no temp file of an interrupted write outlives the next life."
            }
            Claim::TeardownHistory => {
                "Every teardown is in the event history: the cause and signal it read, its terminal write and exit reason, and how the supervisor reaped it."
            }
            Claim::BootLog => {
                "Every boot logs a line per profile saying what it did: started it, or registered it down."
            }
            Claim::BootLineWords => {
                "The boot line says prior_state, desired and prior_exit in the contract's words."
            }
            Claim::ContractFiles => {
                "The contract's files: the schema and its fields (exit_reason, restart_requested), the corrupt and unsupported classes, the marker file, crafted files in a profile's home."
            }
            Claim::IntentFile => {
                "Operator intent lives in desired_state.json, apart from the observed state, and decides the boot."
            }
            Claim::MarkerRule => {
                "A planned-stop marker matches only this pid and start time, written within [now - 60 s, now + 5 s]; the signal that read it consumes it, malformed or not."
            }
            Claim::StopMarksItsOwnHome => {
                "A stop writes the marker into the stopped profile's own home."
            }
            Claim::InteractiveStop => {
                "SIGINT is a stop on purpose: stopped/interactive-stop, exit 0, and it stays down."
            }
            Claim::SighupIsABareSignal => {
                "SIGHUP is a shutdown signal like a bare SIGTERM: intent preserved, exit 1, revived."
            }
            Claim::RestartExits75 => {
                "An operator restart persists stopped/restart with restart_requested, exits 75 and is started again at once; restarts are not crashes."
            }
            Claim::ConfigErrorStaysDown => {
                "A configuration error persists startup_failed and exits 78; nothing restarts it."
            }
            Claim::CrashLoopGivesUp => {
                "More unexpected exits than the crash limit within the window: the supervisor gives up and persists startup_failed/crash-loop."
            }
            Claim::DamagedFilesKeptAside => {
                "A corrupt state, intent or lifecycle file is kept aside, never deleted; an unsupported one is left in place."
            }
            Claim::BootTable => {
                "The boot table: missing, starting and stopped register down; running, draining and a restart under way start."
            }
            Claim::GraceThenSigkill => {
                "A container stop waits the grace, then SIGKILLs the gateways still draining."
            }
            Claim::UnknownKeysKept => "A rewrite keeps the keys it does not know.",
            Claim::ContractCli => {
                "The contract's command line: the exit codes and words of stop, start and restart, and the supervisor's exit at a container stop."
            }
            Claim::ContractConfiguration => {
                "The contract's configuration: the supervisor's flags (--profiles, --crash-limit, --grace-ms) and a profile's config.toml."
            }
        }
    }

    /// Whether it belongs to the black-box core.
    pub fn is_core(self) -> bool {
        match self {
            Claim::ContainerRestartIsNotAStop
            | Claim::ContainerKillIsNotAStop
            | Claim::CutDrainIsNotAStop
            | Claim::BareSigtermIsNotAStop
            | Claim::SigkillIsNotAStop
            | Claim::OomIsNotAStop
            | Claim::OperatorStopStaysDown
            | Claim::OperatorStopIsRecorded
            | Claim::OperatorStartBringsItBack
            | Claim::ProfilesKeepTheirOwnFate
            | Claim::DamageStaysWithItsProfile
            | Claim::NoRestartForever
            | Claim::SupervisorCrashIsNotAStop
            | Claim::SupervisorRestartIsNotAStop
            | Claim::ApiSignalIsAStop
            | Claim::KillsLeaveWholeFiles => true,
            Claim::TeardownHistory
            | Claim::BootLog
            | Claim::BootLineWords
            | Claim::ContractFiles
            | Claim::IntentFile
            | Claim::MarkerRule
            | Claim::StopMarksItsOwnHome
            | Claim::InteractiveStop
            | Claim::SighupIsABareSignal
            | Claim::RestartExits75
            | Claim::ConfigErrorStaysDown
            | Claim::CrashLoopGivesUp
            | Claim::DamagedFilesKeptAside
            | Claim::BootTable
            | Claim::GraceThenSigkill
            | Claim::UnknownKeysKept
            | Claim::ContractCli
            | Claim::ContractConfiguration => false,
        }
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no claim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a claim: `restart-harness list --claims` shows them")]
pub struct UnknownClaim(pub String);

impl FromStr for Claim {
    type Err = UnknownClaim;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Claim::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownClaim(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_claim_round_trips_and_is_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Claim::ALL {
            assert_eq!(c.as_str().parse::<Claim>(), Ok(c));
            let json = serde_json::to_value(c).unwrap();
            assert_eq!(json, c.as_str());
            assert!(c.sentence().ends_with('.'), "{c}");
            seen.insert(c);
        }
        assert_eq!(seen.len(), Claim::ALL.len());
    }

    #[test]
    fn an_unknown_name_says_where_the_list_is() {
        let e = "a-container-restart".parse::<Claim>().unwrap_err();
        assert!(e.to_string().contains("list --claims"), "{e}");
    }
}
