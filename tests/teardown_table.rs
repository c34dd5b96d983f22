//! One case per row of SPEC §3's teardown table, plus upstream's persist-decision
//! table (#43236): signal-initiated → running, operator → stopped, restart → stopped.

use restart_contract::state::ShutdownSignal::{self, Hup, Int, Term, Usr1};
use restart_contract::teardown::{cause, terminal, Cause};
use restart_contract::{ExitReason, GatewayState};
use rstest::rstest;

#[rstest]
// operator stop: SIGTERM, and the marker names this process
#[case::operator_stop(
    Term,
    true,
    Cause::OperatorStop,
    GatewayState::Stopped,
    "operator-stop",
    false,
    0
)]
// interactive stop: SIGINT (marker irrelevant)
#[case::interactive_stop(
    Int,
    false,
    Cause::InteractiveStop,
    GatewayState::Stopped,
    "interactive-stop",
    false,
    0
)]
#[case::interactive_stop_with_marker(
    Int,
    true,
    Cause::InteractiveStop,
    GatewayState::Stopped,
    "interactive-stop",
    false,
    0
)]
// restart request: SIGUSR1; upstream: "restart with the signal flag set → stopped"
#[case::restart(
    Usr1,
    false,
    Cause::Restart,
    GatewayState::Stopped,
    "restart",
    true,
    75
)]
#[case::restart_with_marker(Usr1, true, Cause::Restart, GatewayState::Stopped, "restart", true, 75)]
// anything else: SIGTERM or SIGHUP with no marker naming this process → running, intent preserved
#[case::bare_sigterm(
    Term,
    false,
    Cause::SignalInitiated,
    GatewayState::Running,
    "signal:SIGTERM",
    false,
    1
)]
#[case::sighup(
    Hup,
    false,
    Cause::SignalInitiated,
    GatewayState::Running,
    "signal:SIGHUP",
    false,
    1
)]
#[case::sighup_with_marker(
    Hup,
    true,
    Cause::SignalInitiated,
    GatewayState::Running,
    "signal:SIGHUP",
    false,
    1
)]
fn teardown_row(
    #[case] signal: ShutdownSignal,
    #[case] marker_names_this_process: bool,
    #[case] expected_cause: Cause,
    #[case] state: GatewayState,
    #[case] reason: &str,
    #[case] restart_requested: bool,
    #[case] exit_code: i32,
) {
    let c = cause(signal, marker_names_this_process);
    assert_eq!(c, expected_cause);
    let t = terminal(c, signal);
    assert_eq!(t.gateway_state, state);
    assert_eq!(t.exit_reason.to_wire(), reason);
    assert_eq!(t.restart_requested, restart_requested);
    assert_eq!(t.exit_code, exit_code);
}

#[test]
fn a_terminal_write_is_never_draining_nor_starting() {
    for signal in ShutdownSignal::ALL {
        for marker in [false, true] {
            let t = terminal(cause(signal, marker), signal);
            assert!(
                matches!(
                    t.gateway_state,
                    GatewayState::Running | GatewayState::Stopped
                ),
                "{signal} marker={marker}: {:?}",
                t.gateway_state
            );
        }
    }
}

#[test]
fn only_sigterm_and_sighup_consume_the_marker() {
    let consuming: Vec<_> = ShutdownSignal::ALL
        .into_iter()
        .filter(|s| s.consumes_marker())
        .collect();
    assert_eq!(consuming, vec![Term, Hup]);
}

#[test]
fn signal_initiated_keeps_the_signal_name() {
    assert_eq!(
        terminal(Cause::SignalInitiated, Term).exit_reason,
        ExitReason::Signal("SIGTERM".into())
    );
}
