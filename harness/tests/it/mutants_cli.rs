//! `restart-harness mutants` end to end on local processes: the exit codes of
//! the gate (0 all killed, 1 a survivor or a failing reference, 2 a bad
//! `--mutant`), `--full`, `--filter`, the JSON file, and `--help`.

use assert_cmd::Command;
use predicates::prelude::*;

use crate::support::{self, harness};

/// `-j 2`: the reference and the mutant side by side. With more, a mutant
/// may start its second scenario before its first one's kill is known.
fn mutants(args: &[&str]) -> Command {
    let mut c = harness();
    c.args(["mutants", "--backend", "process", "-j", "2"])
        .args(args);
    c
}

#[test]
fn a_killed_mutant_is_exit_0_naming_the_scenario_and_the_expectation() {
    let out = tempfile::tempdir().expect("a temp dir");
    let json = out.path().join("mutants.json");
    mutants(&[
        "--mutant",
        "teardown-always-stopped",
        "--filter",
        "^(container-restart|bare-sigterm)$",
        "--json",
    ])
    .arg(&json)
    .assert()
    .code(0)
    .stdout(predicate::str::starts_with(
        "restart-harness mutants: backend process (gateway ",
    ))
    .stdout(predicate::str::contains("teardown-always-stopped  K-  killed"))
    .stdout(predicate::str::contains(
        "killed    container-restart (#1): terminal.default.gateway_state: expected running, seen stopped",
    ));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report"))
            .expect("the JSON report parses");
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["summary"]["killed"], 1);
    assert_eq!(report["mutants"][0]["verdict"], "killed");
    assert_eq!(
        report["mutants"][0]["cells"]["bare-sigterm"]["cell"],
        "not-run"
    );
}

#[test]
fn full_runs_every_scenario_even_after_the_first_kill() {
    mutants(&[
        "--full",
        "--mutant",
        "teardown-always-stopped",
        "--filter",
        "^(container-restart|bare-sigterm)$",
    ])
    .assert()
    .code(0)
    .stdout(predicate::str::contains(
        "teardown-always-stopped  KK  killed",
    ));
}

#[test]
fn a_surviving_mutant_is_exit_1() {
    // No crash loop in these scenarios: never-give-up survives them.
    mutants(&[
        "--mutant",
        "never-give-up",
        "--filter",
        "^(container-restart|operator-stop)$",
    ])
    .assert()
    .code(1)
    .stdout(predicate::str::contains("never-give-up  ..  SURVIVED"))
    .stdout(predicate::str::contains("a hole in the table"));
}

#[test]
fn a_scenario_the_reference_fails_is_exit_1_and_kills_nothing() {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(
        dir.path().join("01-wrong.toml"),
        support::bare_sigterm_scenario("wrong", "stopped"),
    )
    .expect("write a scenario");
    // teardown-always-stopped does persist `stopped`: it "passes" the wrong
    // expectation, and the reference fails it; neither is a kill.
    mutants(&["--mutant", "teardown-always-stopped", "--scenarios"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "reference                F  passed 0/1, FAILED 1",
        ))
        .stdout(predicate::str::contains(
            "teardown-always-stopped  ?  unknown",
        ))
        .stdout(predicate::str::contains(
            "the reference failed this scenario",
        ));
}

#[test]
fn an_unknown_mutant_is_exit_2_naming_the_gateways_mutants() {
    support::refused(
        &mut mutants(&["--mutant", "no-such-bug"]),
        "unknown mutant `no-such-bug`; the gateway has: teardown-always-stopped, ",
    );
}

#[test]
fn help_documents_the_gates_exit_codes() {
    harness()
        .args(["mutants", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("--full"))
        .stdout(predicate::str::contains(
            "1  the reference failed a scenario, or a mutant survived",
        ))
        .stdout(predicate::str::contains("never a kill"));
}

#[test]
fn docker_without_a_daemon_is_exit_2_and_auto_falls_back_to_processes() {
    harness()
        .args(["mutants", "--backend", "docker"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("no Docker daemon answers"));
    harness()
        .args(["mutants", "--backend", "auto", "-j", "2"])
        .args([
            "--mutant",
            "signal-exits-zero",
            "--filter",
            "^container-restart$",
        ])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(
            "restart-harness mutants: backend process (",
        ))
        .stdout(predicate::str::contains("signal-exits-zero  K  killed"));
}
