//! Snapshots of the kill-matrix report (human and JSON), rendered from a fixed
//! synthetic outcome set (fixed timings, so nothing varies): a mutant killed at
//! once, one killed later, one that survives every scenario (one failure off
//! the table, which is no kill), and one left unknown by a harness error.

use restart_harness::backend::BackendKind;
use restart_harness::check::{ExpectationId, ExpectationResult, Table, Verdict};
use restart_harness::history::{Entry, EntryKind};
use restart_harness::mutants::matrix::{compute, Outcomes, RunOutcome};
use restart_harness::mutants::report::{self, MutantsReport};
use restart_harness::mutants::run::Problem;
use restart_harness::mutants::MutantInfo;
use restart_harness::runner::{Outcome, ScenarioResult};

use crate::support;

/// An expectation of profile `default`.
fn at(table: Table, field: &str) -> ExpectationId {
    ExpectationId::expect(table, Some("default"), field)
}

fn fail(what: ExpectationId, expected: &str, seen: &str) -> ExpectationResult {
    ExpectationResult {
        what,
        expected: expected.to_owned(),
        seen: seen.to_owned(),
        verdict: Verdict::Fail,
    }
}

fn info(name: &str, describe: &str) -> MutantInfo {
    MutantInfo {
        name: name.to_owned(),
        describe: describe.to_owned(),
    }
}

fn synthetic() -> MutantsReport {
    let scenarios = [
        "container-restart",
        "bare-sigterm",
        "operator-stop",
        "marker-expired",
    ];
    let mutants = [
        info(
            "teardown-always-stopped",
            "Every teardown persists `stopped`: gateways stay dark after every container restart.",
        ),
        info(
            "signal-means-crash",
            "Every SIGTERM is signal-initiated, the marker is ignored: operator stops are undone at the next boot.",
        ),
        info(
            "never-give-up",
            "init never gives up on a crash loop: a gateway that cannot run is restarted forever.",
        ),
        info(
            "marker-never-expires",
            "The 60 s marker window is not enforced: an old marker turns a crash into an operator stop.",
        ),
    ];
    let mut o = Outcomes::new(
        scenarios.iter().map(|s| (*s).to_owned()).collect(),
        mutants.iter().map(|m| m.name.clone()).collect(),
    );
    let pass = |ms| Some(RunOutcome::passed(ms));
    o.reference = vec![pass(512), pass(804), pass(611), pass(733)];
    o.runs[0][0] = Some(RunOutcome::failed(
        vec![
            fail(at(Table::Terminal, "gateway_state"), "running", "stopped"),
            fail(at(Table::Boot, "action"), "started", "registered"),
        ],
        498,
    ));
    o.runs[1] = vec![
        pass(520),
        pass(790),
        Some(RunOutcome::failed(
            vec![fail(
                at(Table::Terminal, "cause"),
                "operator-stop",
                "signal-initiated",
            )],
            640,
        )),
        None,
    ];
    o.runs[2] = vec![
        pass(515),
        Some(RunOutcome::failed(
            vec![fail(
                ExpectationId::precondition("a running gateway of default to send SIGTERM to"),
                "up",
                "down",
            )],
            300,
        )),
        pass(600),
        pass(700),
    ];
    let error = ScenarioResult {
        name: "bare-sigterm".into(),
        why: "A bare SIGTERM is not an operator stop.".into(),
        fault: "bare-sigterm default".into(),
        backend: BackendKind::Docker,
        outcome: Outcome::Error,
        duration_ms: 30_000,
        expectations: vec![],
        error: Some(
            "timed out after 30s waiting for every profile settled; last seen: default=backoff"
                .into(),
        ),
        not_claimed: None,
        not_run: None,
        started_at: None,
        engine: None,
        timeline: vec![Entry {
            at_ms: 30_000,
            kind: EntryKind::Error,
            text: "timed out waiting for every profile settled".into(),
        }],
    };
    o.runs[3] = vec![
        pass(530),
        Some(RunOutcome::from(&error)),
        pass(610),
        pass(720),
    ];
    MutantsReport {
        backend: "docker (image restart-harness/gateway:0123456789ab, mutants image restart-harness/gateway-mutants:ba9876543210; engine 20.10.24 API 1.41)".into(),
        backend_kind: BackendKind::Docker,
        jobs: 4,
        full: false,
        wall_ms: 4_321,
        mutants: mutants.to_vec(),
        matrix: compute(&o),
        problems: vec![Problem {
            subject: "marker-never-expires".into(),
            result: error,
        }],
    }
}

#[test]
fn kill_matrix_human_report() {
    let r = synthetic();
    assert_eq!(r.exit_code(), 2, "an error makes the verdict unknown");
    support::snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "mutants_report__kill_matrix_human_report",
            report::render(&r)
        );
    });
}

#[test]
fn kill_matrix_json_report() {
    support::snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "mutants_report__kill_matrix_json_report",
            report::json(&synthetic()).expect("serializes")
        );
    });
}
