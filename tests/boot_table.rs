//! SPEC §4's boot table: one case per row (and the rows' shadowing order), and a
//! model of the table written here, independently, checked against random input.

use proptest::prelude::*;
use restart_contract::boot::{decide, BootAction, BootInput, BootRow, PriorState};
use restart_contract::{DesiredState, GatewayState};
use rstest::rstest;

use BootAction::{RegisterDown as Down, Start};
use GatewayState as S;

fn rec(state: GatewayState, restart_requested: bool) -> PriorState {
    PriorState::Recorded {
        state,
        restart_requested,
    }
}

#[rstest]
// a new profile (home just created) → start, whatever else is read
#[case::new_profile(true, PriorState::Missing, None, BootRow::NewProfile, Start)]
#[case::new_profile_beats_stopped_intent(
    true,
    PriorState::Missing,
    Some(DesiredState::Stopped),
    BootRow::NewProfile,
    Start
)]
// startup_failed → register down, whatever the intent says
#[case::startup_failed(
    false,
    rec(S::StartupFailed, false),
    None,
    BootRow::StartupFailed,
    Down
)]
#[case::startup_failed_beats_running_intent(
    false,
    rec(S::StartupFailed, false),
    Some(DesiredState::Running),
    BootRow::StartupFailed,
    Down
)]
// unsupported → register down
#[case::unsupported(false, PriorState::Unsupported, None, BootRow::Unsupported, Down)]
#[case::unsupported_beats_running_intent(
    false,
    PriorState::Unsupported,
    Some(DesiredState::Running),
    BootRow::Unsupported,
    Down
)]
// intent present → start if running, else register down
#[case::intent_running(
    false,
    rec(S::Stopped, false),
    Some(DesiredState::Running),
    BootRow::IntentPresent,
    Start
)]
#[case::intent_stopped(
    false,
    rec(S::Running, false),
    Some(DesiredState::Stopped),
    BootRow::IntentPresent,
    Down
)]
#[case::intent_running_over_corrupt(
    false,
    PriorState::Corrupt,
    Some(DesiredState::Running),
    BootRow::IntentPresent,
    Start
)]
#[case::intent_running_over_missing(
    false,
    PriorState::Missing,
    Some(DesiredState::Running),
    BootRow::IntentPresent,
    Start
)]
// running or draining → start
#[case::running(false, rec(S::Running, false), None, BootRow::RunningOrDraining, Start)]
#[case::draining(
    false,
    rec(S::Draining, false),
    None,
    BootRow::RunningOrDraining,
    Start
)]
// stopped with restart_requested → start
#[case::restart_under_way(false, rec(S::Stopped, true), None, BootRow::RestartUnderWay, Start)]
// starting or stopped → register down
#[case::starting(false, rec(S::Starting, false), None, BootRow::StartingOrStopped, Down)]
#[case::stopped(false, rec(S::Stopped, false), None, BootRow::StartingOrStopped, Down)]
// missing → register down
#[case::missing(false, PriorState::Missing, None, BootRow::Missing, Down)]
// corrupt → register down
#[case::corrupt(false, PriorState::Corrupt, None, BootRow::Corrupt, Down)]
fn boot_row(
    #[case] new_profile: bool,
    #[case] prior: PriorState,
    #[case] desired: Option<DesiredState>,
    #[case] row: BootRow,
    #[case] action: BootAction,
) {
    let input = BootInput {
        new_profile,
        prior,
        desired,
    };
    assert_eq!(decide(input), (row, action));
}

/// The table, transcribed a second time as a list of (row matches?, action).
fn model(new_profile: bool, prior: PriorState, desired: Option<DesiredState>) -> bool {
    let state = match prior {
        PriorState::Recorded { state, .. } => Some(state),
        _ => None,
    };
    let restart_requested = matches!(
        prior,
        PriorState::Recorded {
            restart_requested: true,
            ..
        }
    );
    let rows: [(bool, bool); 9] = [
        (new_profile, true),
        (state == Some(S::StartupFailed), false),
        (prior == PriorState::Unsupported, false),
        (desired.is_some(), desired == Some(DesiredState::Running)),
        (matches!(state, Some(S::Running | S::Draining)), true),
        (state == Some(S::Stopped) && restart_requested, true),
        (matches!(state, Some(S::Starting | S::Stopped)), false),
        (prior == PriorState::Missing, false),
        (prior == PriorState::Corrupt, false),
    ];
    rows.iter()
        .find(|(matches, _)| *matches)
        .map(|(_, start)| *start)
        .expect("the boot table covers every input")
}

fn any_prior() -> impl Strategy<Value = PriorState> {
    prop_oneof![
        Just(PriorState::Missing),
        Just(PriorState::Corrupt),
        Just(PriorState::Unsupported),
        (
            prop::sample::select(GatewayState::ALL.to_vec()),
            any::<bool>()
        )
            .prop_map(|(state, restart_requested)| PriorState::Recorded {
                state,
                restart_requested
            }),
    ]
}

fn any_desired() -> impl Strategy<Value = Option<DesiredState>> {
    prop::option::of(prop_oneof![
        Just(DesiredState::Running),
        Just(DesiredState::Stopped)
    ])
}

proptest! {
    #[test]
    fn decide_agrees_with_an_independent_model(
        new_profile in any::<bool>(),
        prior in any_prior(),
        desired in any_desired(),
    ) {
        let (_, action) = decide(BootInput { new_profile, prior, desired });
        prop_assert_eq!(action == Start, model(new_profile, prior, desired));
    }
}
