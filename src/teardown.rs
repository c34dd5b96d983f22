//! The teardown table (SPEC §3): how a gateway's first shutdown signal decides
//! its cause, and what the cause persists.
//!
//! | cause            | recognised by                                | terminal state, exit_reason                      | exit |
//! |------------------|----------------------------------------------|--------------------------------------------------|------|
//! | operator stop    | SIGTERM, and the marker names this process   | `stopped`, `operator-stop`                       | 0    |
//! | interactive stop | SIGINT                                       | `stopped`, `interactive-stop`                    | 0    |
//! | restart request  | SIGUSR1                                      | `stopped`, `restart`, `restart_requested: true`  | 75   |
//! | anything else    | SIGTERM or SIGHUP, no marker naming it       | `running` (intent preserved), `signal:<NAME>`    | 1    |

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::state::{ExitReason, GatewayState, ShutdownSignal};

/// Exit code of an operator or interactive stop: stay down.
pub const EXIT_STOPPED: i32 = 0;
/// Exit code of a signal-initiated teardown: the supervisor revives it.
pub const EXIT_SIGNALLED: i32 = 1;
/// Exit code of a restart request: started again at once.
pub const EXIT_RESTART: i32 = 75;
/// Exit code of a configuration error: stays down.
pub const EXIT_CONFIG: i32 = 78;

/// Why a gateway is shutting down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// `gateway stop`: SIGTERM with a marker naming this process.
    OperatorStop,
    /// SIGINT.
    InteractiveStop,
    /// SIGUSR1.
    Restart,
    /// Anything else: a container stop, a bare kill. Intent is preserved.
    SignalInitiated,
}

impl Cause {
    /// The word used in `signal` events.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::OperatorStop => "operator-stop",
            Cause::InteractiveStop => "interactive-stop",
            Cause::Restart => "restart",
            Cause::SignalInitiated => "signal-initiated",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The cause of a shutdown, from its first signal and whether the marker named
/// this process. The "recognised by" column.
pub fn cause(signal: ShutdownSignal, marker_names_this_process: bool) -> Cause {
    match (signal, marker_names_this_process) {
        (ShutdownSignal::Term, true) => Cause::OperatorStop,
        (ShutdownSignal::Int, _) => Cause::InteractiveStop,
        (ShutdownSignal::Usr1, _) => Cause::Restart,
        (ShutdownSignal::Term | ShutdownSignal::Hup, _) => Cause::SignalInitiated,
    }
}

/// The terminal write and exit code of a teardown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terminal {
    /// The state persisted last.
    pub gateway_state: GatewayState,
    /// The reason persisted with it.
    pub exit_reason: ExitReason,
    /// `restart_requested` persisted with it.
    pub restart_requested: bool,
    /// The process exit code.
    pub exit_code: i32,
}

/// The terminal write of a teardown caused by `cause` through `signal`.
pub fn terminal(cause: Cause, signal: ShutdownSignal) -> Terminal {
    let (gateway_state, exit_reason, restart_requested, exit_code) = match cause {
        Cause::OperatorStop => (
            GatewayState::Stopped,
            ExitReason::OperatorStop,
            false,
            EXIT_STOPPED,
        ),
        Cause::InteractiveStop => (
            GatewayState::Stopped,
            ExitReason::InteractiveStop,
            false,
            EXIT_STOPPED,
        ),
        Cause::Restart => (
            GatewayState::Stopped,
            ExitReason::Restart,
            true,
            EXIT_RESTART,
        ),
        Cause::SignalInitiated => (
            GatewayState::Running,
            ExitReason::Signal(signal.name().to_owned()),
            false,
            EXIT_SIGNALLED,
        ),
    };
    Terminal {
        gateway_state,
        exit_reason,
        restart_requested,
        exit_code,
    }
}
