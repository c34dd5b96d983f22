//! Snapshots of what people and CI read: the human report, the JSON report and
//! `list`, for a fixed synthetic result set (fixed timings, so nothing varies).

use restart_harness::backend::BackendKind;
use restart_harness::check::{ExpectationId, ExpectationResult, Table, Verdict};
use restart_harness::history::{Entry, EntryKind};
use restart_harness::report::{human, json, junit, RunReport};
use restart_harness::runner::{Outcome, ScenarioResult};
use restart_harness::{cli, scenario};

use crate::support;

/// An expectation of profile `default`.
fn at(table: Table, field: &str) -> ExpectationId {
    ExpectationId::expect(table, Some("default"), field)
}

fn exp(what: ExpectationId, expected: &str, seen: &str, verdict: Verdict) -> ExpectationResult {
    ExpectationResult {
        what,
        expected: expected.to_owned(),
        seen: seen.to_owned(),
        verdict,
    }
}

fn entry(at_ms: u64, kind: EntryKind, text: &str) -> Entry {
    Entry {
        at_ms,
        kind,
        text: text.to_owned(),
    }
}

fn synthetic() -> RunReport {
    let passed = ScenarioResult {
        name: "container-restart".into(),
        why: "A container restart is not an operator stop.".into(),
        fault: "container-restart".into(),
        backend: BackendKind::Process,
        outcome: Outcome::Passed,
        duration_ms: 312,
        expectations: vec![
            exp(
                at(Table::Terminal, "cause"),
                "signal-initiated",
                "signal-initiated",
                Verdict::Pass,
            ),
            exp(
                at(Table::Boot, "action"),
                "started",
                "started",
                Verdict::Pass,
            ),
        ],
        error: None,
        not_claimed: None,
        not_run: None,
        started_at: None,
        engine: None,
        timeline: vec![entry(0, EntryKind::Phase, "first boot")],
    };
    let failed = ScenarioResult {
        name: "bare-sigterm".into(),
        why: "A bare SIGTERM is not an operator stop.".into(),
        fault: "bare-sigterm default".into(),
        backend: BackendKind::Process,
        outcome: Outcome::Failed,
        duration_ms: 655,
        expectations: vec![
            exp(at(Table::Terminal, "cause"), "signal-initiated", "signal-initiated", Verdict::Pass),
            exp(at(Table::Terminal, "gateway_state"), "running", "stopped", Verdict::Fail),
            exp(at(Table::AtRest, "live"), "true", "false", Verdict::Fail),
        ],
        error: None,
        not_claimed: None,
        not_run: None,
        started_at: None,
        engine: None,
        timeline: vec![
            entry(0, EntryKind::Phase, "first boot"),
            entry(71, EntryKind::Signal, "SIGTERM to default's gateway 4242 (no marker)"),
            entry(
                72,
                EntryKind::Command,
                "gateway kill 4242 SIGTERM -> exit 0",
            ),
            entry(
                410,
                EntryKind::BootLine,
                "2026-11-26T06:00:00.123Z profile=default prior_state=stopped desired=- action=registered prior_exit=clean",
            ),
        ],
    };
    let error = ScenarioResult {
        name: "oom".into(),
        why: "An OOM kill is not a stop.".into(),
        fault: "oom default".into(),
        backend: BackendKind::Process,
        outcome: Outcome::Error,
        duration_ms: 20,
        expectations: vec![],
        error: Some("the process backend cannot make the kernel OOM-kill a gateway".into()),
        not_claimed: None,
        not_run: None,
        started_at: None,
        engine: None,
        timeline: vec![entry(0, EntryKind::Error, "the process backend cannot OOM")],
    };
    RunReport::new(
        "process (gateway /work/target/debug/gateway)".into(),
        BackendKind::Process,
        2,
        1_234,
        vec![passed, failed, error],
    )
}

#[test]
fn human_report() {
    support::snapshot_settings().bind(|| {
        insta::assert_snapshot!("reports__human_report", human::render(&synthetic()));
    });
}

#[test]
fn json_report() {
    support::snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "reports__json_report",
            json::render(&synthetic()).expect("serializes")
        );
    });
}

#[test]
fn junit_report_parses_back() {
    let xml = junit::render(&synthetic()).expect("serializes");
    let r = quick_junit::Report::deserialize_from_str(&xml).expect("parses");
    assert_eq!((r.tests, r.failures, r.errors), (3, 1, 1));
}

#[test]
fn list_of_the_embedded_table() {
    let table = scenario::embedded::load().expect("the embedded table loads");
    support::snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "reports__list_of_the_embedded_table",
            cli::render_list(&table)
        );
    });
}

#[test]
fn exit_codes_follow_the_worst_outcome() {
    let mut r = synthetic();
    assert_eq!(r.exit_code(), 2);
    r.results.retain(|x| x.outcome != Outcome::Error);
    let r = RunReport::new(r.backend, r.backend_kind, 2, 1, r.results);
    assert_eq!(r.exit_code(), 1);
}
