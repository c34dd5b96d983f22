//! Records, atomic writes and damaged-file handling (SPEC §2).

use std::fs;
use std::os::unix::fs::PermissionsExt;

use proptest::prelude::*;
use restart_contract::boot::{BootAction, BootLine, PriorExit, PriorStateLabel};
use restart_contract::procfs::ProcessIdentity;
use restart_contract::records::{DesiredStateRecord, GatewayStateRecord, LifecycleRecord};
use restart_contract::state::IntentWriter;
use restart_contract::store::{
    classify, keep_aside, read_record, rewrite_record, write_record, Classified, ReadOutcome,
    StoreError,
};
use restart_contract::{timefmt, DesiredState, ExitReason, GatewayState};

const SPEC_EXAMPLE: &str = r#"{"schema":1,"profile":"default","gateway_state":"running","exit_reason":null,
 "pid":7,"start_time":5551234,"restart_requested":false,"updated_at":"2026-11-26T06:00:00.123Z"}"#;

fn sample(state: GatewayState) -> GatewayStateRecord {
    GatewayStateRecord::new(
        "default",
        ProcessIdentity {
            pid: 7,
            start_time: 5_551_234,
        },
        state,
        None,
        false,
        timefmt::parse("2026-11-26T06:00:00.123Z").unwrap(),
    )
}

#[test]
fn the_specs_example_state_is_valid() {
    match classify::<GatewayStateRecord>(SPEC_EXAMPLE.as_bytes()) {
        Classified::Valid(r) => {
            assert_eq!(r.gateway_state, GatewayState::Running);
            assert_eq!(r.exit_reason, None);
            assert_eq!(r.process().start_time, 5_551_234);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_specs_example_intent_is_valid() {
    let raw = br#"{"schema":1,"desired_state":"stopped","by":"stop","updated_at":"2026-11-26T06:00:00.123Z"}"#;
    match classify::<DesiredStateRecord>(raw) {
        Classified::Valid(r) => {
            assert_eq!(r.desired_state, DesiredState::Stopped);
            assert_eq!(r.by, IntentWriter::Stop);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn another_schema_is_unsupported_not_corrupt() {
    let raw = br#"{"schema":2,"gateway_state":"hibernating"}"#;
    assert_eq!(
        classify::<GatewayStateRecord>(raw),
        Classified::Unsupported(2)
    );
}

#[test]
fn writes_are_0600_and_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway_state.json");
    write_record(&path, &sample(GatewayState::Running)).unwrap();
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.ends_with('\n'));
    // No temp file is left behind.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn writes_refuse_a_symlink_and_leave_its_target_alone() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere");
    fs::write(&target, "precious").unwrap();
    let path = dir.path().join("gateway_state.json");
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let err = write_record(&path, &sample(GatewayState::Running)).unwrap_err();
    assert!(matches!(err, StoreError::Symlink { .. }), "{err}");
    assert!(err.to_string().contains("symlink"));
    assert_eq!(fs::read_to_string(&target).unwrap(), "precious");
}

#[test]
fn writes_refuse_a_symlinked_home() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    fs::create_dir(&real).unwrap();
    let home = dir.path().join("home");
    std::os::unix::fs::symlink(&real, &home).unwrap();
    let err = write_record(
        &home.join("gateway_state.json"),
        &sample(GatewayState::Running),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::Symlink { .. }), "{err}");
    assert_eq!(fs::read_dir(&real).unwrap().count(), 0);
}

#[test]
fn a_rewrite_keeps_keys_it_does_not_know() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway_state.json");
    fs::write(
        &path,
        SPEC_EXAMPLE.replace(
            "\"schema\":1",
            "\"schema\":1,\"degraded_by\":\"newer-gateway\"",
        ),
    )
    .unwrap();
    rewrite_record(&path, sample(GatewayState::Draining)).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(v["degraded_by"], "newer-gateway");
    assert_eq!(v["gateway_state"], "draining");
}

#[test]
fn a_corrupt_file_is_kept_aside_byte_for_byte_and_never_replaces_an_earlier_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway_state.json");
    let mut kept = Vec::new();
    for i in 0..3 {
        let bytes = format!("{{\"schema\":1, truncated {i}");
        fs::write(&path, &bytes).unwrap();
        match read_record::<GatewayStateRecord>(&path).unwrap() {
            ReadOutcome::Corrupt { kept_aside, .. } => {
                assert_eq!(fs::read_to_string(&kept_aside).unwrap(), bytes);
                kept.push(kept_aside);
            }
            other => panic!("{other:?}"),
        }
        assert!(!path.exists());
    }
    // Three distinct copies, all still there, named <name>.corrupt-<secs>[-N].
    kept.sort();
    kept.dedup();
    assert_eq!(kept.len(), 3);
    for k in &kept {
        let name = k.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("gateway_state.json.corrupt-"), "{name}");
        assert!(k.exists());
    }
}

#[test]
fn an_unsupported_file_is_left_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway_state.json");
    fs::write(&path, br#"{"schema":9}"#).unwrap();
    assert_eq!(
        read_record::<GatewayStateRecord>(&path).unwrap(),
        ReadOutcome::Unsupported(9)
    );
    assert_eq!(fs::read(&path).unwrap(), br#"{"schema":9}"#);
}

#[test]
fn keep_aside_of_a_missing_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    assert!(keep_aside(&dir.path().join("nope")).is_err());
}

#[test]
fn lifecycle_round_trips() {
    let raw = br#"{"phase":"exited","pid":7,"start_time":5551234,"updated_at":"2026-11-26T06:00:00.123Z"}"#;
    assert!(matches!(
        classify::<LifecycleRecord>(raw),
        Classified::Valid(_)
    ));
}

#[test]
fn the_specs_boot_line_parses_and_prints_back() {
    let raw = "2026-11-26T06:00:00.123Z profile=default prior_state=running desired=- action=started prior_exit=clean";
    let line: BootLine = raw.parse().unwrap();
    assert_eq!(
        line.prior_state,
        PriorStateLabel::State(GatewayState::Running)
    );
    assert_eq!(line.desired, None);
    assert_eq!(line.action, BootAction::Start);
    assert_eq!(line.prior_exit, PriorExit::Clean);
    assert_eq!(line.to_string(), raw);
}

#[test]
fn boot_lines_with_unknown_words_are_errors() {
    for bad in [
        "2026-11-26T06:00:00.123Z profile=a prior_state=degraded desired=- action=started prior_exit=clean",
        "2026-11-26T06:00:00.123Z profile=a prior_state=running desired=- action=spawned prior_exit=clean",
        "2026-11-26T06:00:00.123Z profile=a prior_state=running desired=- action=started",
        "yesterday profile=a prior_state=running desired=- action=started prior_exit=clean",
    ] {
        assert!(bad.parse::<BootLine>().is_err(), "{bad}");
    }
}

fn any_state() -> impl Strategy<Value = GatewayState> {
    prop::sample::select(GatewayState::ALL.to_vec())
}

fn any_reason() -> impl Strategy<Value = Option<ExitReason>> {
    prop::option::of(prop_oneof![
        Just(ExitReason::OperatorStop),
        Just(ExitReason::InteractiveStop),
        Just(ExitReason::Restart),
        Just(ExitReason::CrashLoop),
        "[A-Z]{3,8}".prop_map(|s| ExitReason::Signal(format!("SIG{s}"))),
        "[ -~]{0,40}".prop_map(ExitReason::Config),
    ])
}

proptest! {
    /// A state record survives a write and a read, unknown keys included.
    #[test]
    fn state_records_round_trip_with_unknown_keys(
        state in any_state(),
        reason in any_reason(),
        pid in 1i32..i32::MAX,
        start_time in any::<u64>(),
        restart_requested in any::<bool>(),
        extra in prop::collection::btree_map("x_[a-z]{1,8}", "[ -~]{0,16}", 0..4),
    ) {
        let mut rec = GatewayStateRecord::new(
            "p",
            ProcessIdentity { pid, start_time },
            state,
            reason,
            restart_requested,
            timefmt::parse("2026-11-26T06:00:00.123Z").unwrap(),
        );
        for (k, v) in &extra {
            rec.extra.insert(k.clone(), serde_json::Value::String(v.clone()));
        }
        let bytes = serde_json::to_vec(&rec).unwrap();
        prop_assert_eq!(classify::<GatewayStateRecord>(&bytes), Classified::Valid(rec));
    }

    /// Random bytes as a state file never panic, and are classified by what
    /// they are: not JSON is corrupt; unsupported names the file's own schema,
    /// which is not 1; valid is a schema-1 object.
    #[test]
    fn random_bytes_classify_by_what_they_are(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let json = serde_json::from_slice::<serde_json::Value>(&bytes).ok();
        let schema = json.as_ref().and_then(|v| v.get("schema")).and_then(serde_json::Value::as_u64);
        match classify::<GatewayStateRecord>(&bytes) {
            Classified::Valid(_) => prop_assert_eq!(schema, Some(1)),
            Classified::Unsupported(u) => prop_assert!(schema == Some(u) && u != 1),
            Classified::Corrupt(_) => prop_assert!(json.is_none() || schema == Some(1) || schema.is_none()),
        }
        match classify::<DesiredStateRecord>(&bytes) {
            Classified::Valid(_) => prop_assert_eq!(schema, Some(1)),
            Classified::Unsupported(u) => prop_assert!(schema == Some(u) && u != 1),
            Classified::Corrupt(_) => prop_assert!(json.is_none() || schema == Some(1) || schema.is_none()),
        }
    }

    /// Random bytes that are not JSON at all are always corrupt.
    #[test]
    fn random_non_json_is_corrupt(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        prop_assume!(serde_json::from_slice::<serde_json::Value>(&bytes).is_err());
        prop_assert!(matches!(classify::<GatewayStateRecord>(&bytes), Classified::Corrupt(_)));
        prop_assert!(matches!(classify::<DesiredStateRecord>(&bytes), Classified::Corrupt(_)));
    }

    /// Random JSON objects: classified by the schema rule.
    #[test]
    fn random_objects_follow_the_schema_rule(
        schema in prop::option::of(0u64..4),
        state in prop::option::of("[a-z_]{0,14}"),
    ) {
        let mut obj = serde_json::json!({"pid": 7, "start_time": 1, "updated_at": "2026-11-26T06:00:00.123Z"});
        if let Some(s) = schema { obj["schema"] = s.into(); }
        if let Some(s) = &state { obj["gateway_state"] = s.clone().into(); }
        let verdict = classify::<GatewayStateRecord>(&serde_json::to_vec(&obj).unwrap());
        match (schema, &verdict) {
            (Some(s), Classified::Unsupported(u)) => prop_assert!(s != 1 && *u == s),
            (Some(1), Classified::Valid(r)) => prop_assert_eq!(Some(r.gateway_state.as_str().to_owned()), state),
            (_, Classified::Corrupt(_)) => prop_assert!(
                schema != Some(1) || state.as_deref().and_then(|s| s.parse::<GatewayState>().ok()).is_none()
            ),
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}
