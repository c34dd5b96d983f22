//! SPEC §3's marker rule: pid × start_time × age (including the future) × malformed.

use chrono::Duration;
use proptest::prelude::*;
use restart_contract::marker::{judge, MarkerVerdict};
use restart_contract::procfs::ProcessIdentity;
use restart_contract::timefmt;
use rstest::rstest;

const ME: ProcessIdentity = ProcessIdentity {
    pid: 7,
    start_time: 5_551_234,
};

fn marker(pid: i32, start_time: Option<u64>, age_ms: i64) -> Vec<u8> {
    let now = timefmt::parse("2026-11-26T06:00:00.000Z").unwrap();
    let written = now - Duration::milliseconds(age_ms);
    let mut obj = serde_json::json!({
        "target_pid": pid,
        "stopper_pid": 42,
        "written_at": timefmt::format(&written),
    });
    if let Some(t) = start_time {
        obj["target_start_time"] = t.into();
    }
    serde_json::to_vec(&obj).unwrap()
}

fn at_now() -> restart_contract::timefmt::Timestamp {
    timefmt::parse("2026-11-26T06:00:00.000Z").unwrap()
}

#[rstest]
#[case::names_this_process(7, Some(5_551_234), 1_000, MarkerVerdict::NamesThisProcess)]
#[case::just_written(7, Some(5_551_234), 0, MarkerVerdict::NamesThisProcess)]
#[case::sixty_seconds_old(7, Some(5_551_234), 60_000, MarkerVerdict::NamesThisProcess)]
#[case::five_seconds_ahead(7, Some(5_551_234), -5_000, MarkerVerdict::NamesThisProcess)]
#[case::expired(7, Some(5_551_234), 60_001, MarkerVerdict::Expired)]
#[case::from_the_future(7, Some(5_551_234), -5_001, MarkerVerdict::FromTheFuture)]
#[case::other_pid(8, Some(5_551_234), 1_000, MarkerVerdict::OtherPid)]
#[case::reused_pid_other_life(7, Some(1), 1_000, MarkerVerdict::OtherStartTime)]
#[case::missing_start_time_never_matches(7, None, 1_000, MarkerVerdict::NoStartTime)]
fn marker_cases(
    #[case] pid: i32,
    #[case] start_time: Option<u64>,
    #[case] age_ms: i64,
    #[case] verdict: MarkerVerdict,
) {
    assert_eq!(
        judge(Some(&marker(pid, start_time, age_ms)), ME, at_now()),
        verdict
    );
}

#[rstest]
#[case::empty(b"")]
#[case::not_json(b"{target_pid: 7")]
#[case::array(b"[7, 5551234]")]
#[case::pid_as_string(br#"{"target_pid":"7","target_start_time":5551234,"stopper_pid":1,"written_at":"2026-11-26T06:00:00.000Z"}"#)]
#[case::bad_time(
    br#"{"target_pid":7,"target_start_time":5551234,"stopper_pid":1,"written_at":"yesterday"}"#
)]
#[case::no_written_at(br#"{"target_pid":7,"target_start_time":5551234,"stopper_pid":1}"#)]
fn malformed_markers_never_match(#[case] bytes: &[u8]) {
    assert_eq!(judge(Some(bytes), ME, at_now()), MarkerVerdict::Malformed);
}

#[test]
fn no_marker_is_absent() {
    assert_eq!(judge(None, ME, at_now()), MarkerVerdict::Absent);
}

proptest! {
    /// Matches exactly when pid and start time are ours and the age is within
    /// [-5 s, +60 s].
    #[test]
    fn matches_iff_pid_start_time_and_window_agree(
        pid in prop_oneof![Just(7), any::<i32>()],
        start_time in prop::option::of(prop_oneof![Just(5_551_234u64), any::<u64>()]),
        age_ms in -120_000i64..180_000,
    ) {
        let verdict = judge(Some(&marker(pid, start_time, age_ms)), ME, at_now());
        let expected = pid == ME.pid
            && start_time == Some(ME.start_time)
            && (-5_000..=60_000).contains(&age_ms);
        prop_assert_eq!(verdict.names_this_process(), expected, "{:?}", verdict);
    }

    /// Random bytes never panic and never match.
    #[test]
    fn random_bytes_never_match(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let v = judge(Some(&bytes), ME, at_now());
        prop_assert!(!v.names_this_process());
    }
}
