//! The `restart-harness` command line: exit codes 0/1/2, a bad table, `--filter`,
//! and the JSON and JUnit files.

use std::path::Path;

use predicates::prelude::*;
use restart_harness::gateway_bin::Build;

use crate::support::{self, harness};

fn gateway() -> String {
    support::gateway(Build::Reference).display().to_string()
}

fn table_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write a scenario");
    }
    dir
}

#[test]
fn the_whole_table_passes_on_the_process_backend() {
    harness()
        .args([
            "run",
            "--backend",
            "process",
            "-j",
            "2",
            "--gateway",
            &gateway(),
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(
            "restart-harness: backend process (gateway ",
        ))
        .stdout(predicate::str::contains(" 0 failed, 0 errors"));
}

#[test]
fn an_unknown_fault_is_exit_2_naming_file_line_and_the_allowed_faults() {
    let dir = table_dir(&[(
        "01-bad.toml",
        &support::bare_sigterm_scenario("bare-sigterm-x", "running")
            .replace("\"bare-sigterm\"", "\"bare-sigkill\""),
    )]);
    for cmd in [&["list"][..], &["run", "--backend", "process"][..]] {
        harness()
            .args(cmd)
            .arg("--scenarios")
            .arg(dir.path())
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains(
                "01-bad.toml:7: unknown variant `bare-sigkill`",
            ))
            .stderr(predicate::str::contains("container-restart"))
            .stderr(predicate::str::contains("operator-restart"));
    }
}

#[test]
fn a_failing_literal_expectation_is_exit_1() {
    let dir = table_dir(&[(
        "01-wrong.toml",
        &support::bare_sigterm_scenario("bare-sigterm-x", "stopped"),
    )]);
    harness()
        .args([
            "run",
            "--backend",
            "process",
            "--gateway",
            &gateway(),
            "--scenarios",
        ])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "terminal.default.gateway_state: expected stopped, seen running",
        ))
        .stdout(predicate::str::contains("timeline:"));
}

#[test]
fn filter_runs_only_matching_scenarios_and_writes_json_and_junit() {
    let out = tempfile::tempdir().expect("a temp dir");
    let json = out.path().join("report.json");
    let junit = out.path().join("report.xml");
    let assert = harness()
        .args(["run", "--backend", "process", "--gateway", &gateway()])
        .args(["--filter", "^marker-(expired|malformed)$", "--json"])
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .assert()
        .code(0);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("marker-expired "), "{stdout}");
    assert!(stdout.contains("marker-malformed "), "{stdout}");
    assert!(!stdout.contains("container-restart"), "{stdout}");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report"))
            .expect("the JSON report parses");
    assert_eq!(report["summary"]["total"], 2);
    assert_eq!(report["summary"]["passed"], 2);
    assert_eq!(report["backend_kind"], "process");
    assert_eq!(report["results"][0]["name"], "marker-expired");

    let xml = std::fs::read_to_string(&junit).expect("the JUnit report");
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("the JUnit report parses");
    assert_eq!(parsed.tests, 2);
    assert_eq!(parsed.failures, 0);
    assert_eq!(parsed.test_suites[0].test_cases.len(), 2);
}

#[test]
fn docker_without_a_daemon_is_exit_2() {
    support::refused(
        harness()
            .args(["run", "--backend", "docker"])
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"),
        "Docker",
    );
}

#[test]
fn list_shows_every_scenario_with_its_fault_and_backends() {
    harness()
        .arg("list")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("crash-loop-gives-up"))
        .stdout(predicate::str::contains("sigkill default x3"))
        .stdout(predicate::str::contains("process,docker"));
}

#[test]
fn help_documents_the_exit_codes() {
    harness()
        .args(["run", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("1  a scenario failed"))
        .stdout(predicate::str::contains("2  no verdict: nothing ran"));
}

#[test]
fn replay_prints_the_whole_timeline() {
    harness()
        .args([
            "replay",
            "interactive-stop",
            "--backend",
            "process",
            "--gateway",
            &gateway(),
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("SIGINT to default's gateway"))
        .stdout(predicate::str::contains("boot    "))
        .stdout(predicate::str::contains(
            "ok   terminal.default.cause: expected interactive-stop",
        ));
}

#[test]
fn a_missing_gateway_binary_is_exit_2() {
    support::refused(
        harness()
            .args(["run", "--backend", "process", "--gateway"])
            .arg(Path::new("/nonexistent/gateway")),
        "/nonexistent/gateway does not exist",
    );
}

#[test]
fn completions_and_the_man_page_come_from_the_cli_definitions() {
    harness()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("restart-harness"))
        .stdout(predicate::str::contains("--target"));
    harness()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(".ie"))
        .stdout(predicate::str::contains(".TH restart-harness 1"));
    support::refused(
        harness().args(["completions", "tcsh"]),
        "invalid value 'tcsh'",
    );
}

#[test]
fn list_target_says_what_hermes_claims_and_why_not() {
    harness()
        .args(["list", "--target", "hermes"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "protocol declared, backends docker",
        ))
        .stdout(predicate::str::contains(
            "MAKES\n  container-restart-is-not-a-stop",
        ))
        .stdout(predicate::str::contains(
            "teardown-history: hermes keeps no event history",
        ))
        // Names are padded to the longest scenario name of the table.
        .stdout(predicate::str::is_match(r"(?m)^\s*core-container-restart +runs$").unwrap())
        .stdout(
            predicate::str::is_match(
                r"(?m)^\s*container-restart +not claimed \(teardown-history\)$",
            )
            .unwrap(),
        );
}

#[test]
fn a_bad_target_is_one_line_and_exit_2() {
    support::refused(
        harness().args(["run", "--target", "hermes", "--backend", "process"]),
        "target hermes is built per release: name one, as hermes@VERSION",
    );
    support::refused(
        harness().args(["run", "--target", "hermes@0.17.0", "--backend", "process"]),
        "target hermes runs on docker only; use --backend docker",
    );
    support::refused(
        harness().args(["list", "--target", "nosuch"]),
        "adapters/nosuch.toml",
    );
}

/// The one line a refused command prints (progress lines aside), and its code.
fn refusal(args: &[&str]) -> (Option<i32>, Vec<String>) {
    let out = harness()
        .args(args)
        .output()
        .expect("running restart-harness");
    let lines = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.contains("building the gateway") && !l.contains("compiling the static"))
        .map(str::to_owned)
        .collect();
    (out.status.code(), lines)
}

/// Every misuse exits 2 before anything runs, with one line that names the
/// problem and its fix. Before this table, the first rows exited 0: they ran
/// the reference gateway (a misspelt or unlisted mutant) or nothing at all.
#[test]
fn each_misuse_is_refused_in_one_line_naming_the_fix() {
    let gw = gateway();
    let rows: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "run",
                "--backend",
                "process",
                "--docker-host",
                "unix:///nowhere.sock",
            ],
            "--docker-host names a Docker Engine, and the process backend runs local processes: \
             drop --docker-host, or add --backend docker",
        ),
        (
            vec![
                "explore",
                "--backend",
                "docker",
                "--docker-host",
                "unix:///a.sock",
                "--docker-host",
                "unix:///b.sock",
            ],
            "`explore` runs on one engine and --docker-host was given 2 times: give it once",
        ),
        (
            vec![
                "run",
                "--backend",
                "process",
                "--filter",
                "^container-restart$",
                "--mutant",
                "teardown-alwys-stopped",
            ],
            "unknown mutant `teardown-alwys-stopped` (did you mean `teardown-always-stopped`?)",
        ),
        (
            vec![
                "run",
                "--backend",
                "process",
                "--gateway",
                &gw,
                "--mutant",
                "teardown-always-stopped",
            ],
            "does not list mutant `teardown-always-stopped` (`",
        ),
        (
            vec![
                "replay",
                "container-restart",
                "--backend",
                "process",
                "--mutant",
                "teardown-alwys-stopped",
            ],
            "did you mean `teardown-always-stopped`?",
        ),
        (
            vec![
                "explore",
                "--backend",
                "process",
                "--mutant",
                "teardown-alwys-stopped",
            ],
            "did you mean `teardown-always-stopped`?",
        ),
        (
            vec!["run", "-j", "0"],
            "0 would run nothing: give 1 or more",
        ),
        (
            vec!["mutants", "-j", "0"],
            "0 would run nothing: give 1 or more",
        ),
        (
            vec!["explore", "--steps", "0"],
            "0 would run nothing: give 1 or more",
        ),
        (
            vec!["explore", "--schedules", "0"],
            "0 would run nothing: give 1 or more",
        ),
        (
            vec!["explore", "--budget", "0s"],
            "give a duration above zero",
        ),
        (
            vec!["explore", "--shrink-budget", "0m"],
            "give a duration above zero",
        ),
        (
            vec!["run", "--backend", "process", "--image", "my/gateway:1"],
            "drop --image, or add --backend docker",
        ),
        (
            vec!["run", "--backend", "docker", "--gateway", &gw],
            "drop --gateway, or add --backend process",
        ),
        (
            vec!["run", "--gateway", &gw, "--image", "my/gateway:1"],
            "give one, or name the backend",
        ),
        (
            vec![
                "run",
                "--backend",
                "docker",
                "--image",
                "my/gateway:1",
                "--mutant",
                "never-give-up",
            ],
            "cannot tell which mutants --image my/gateway:1 holds: drop --image",
        ),
        (
            vec![
                "run",
                "--target",
                "hermes@0.17.0",
                "--mutant",
                "never-give-up",
            ],
            "target hermes@0.17.0 has none: drop --mutant",
        ),
        (
            vec!["explore", "--target", "hermes@0.17.0", "--gateway", &gw],
            "drop --gateway (--image IMAGE gates another image of it)",
        ),
        (
            vec!["run", "--target", "hermes"],
            "or gate an image you have with --image IMAGE",
        ),
        (
            vec!["run", "--mutnt", "never-give-up"],
            "a similar argument exists: '--mutant'",
        ),
    ];
    for (args, fix) in rows {
        let (code, lines) = refusal(&args);
        assert_eq!(code, Some(2), "{args:?}: {lines:?}");
        assert_eq!(lines.len(), 1, "{args:?}: one line, got {lines:?}");
        assert!(
            lines[0].starts_with("restart-harness: "),
            "{args:?}: {lines:?}"
        );
        assert!(
            lines[0].contains(fix),
            "{args:?}: {:?} lacks {fix:?}",
            lines[0]
        );
    }
}

/// A run in which every selected scenario is not claimed looked at nothing:
/// exit 2, never 0 (it was 0, "0 passed").
#[test]
fn a_run_where_nothing_is_claimed_is_exit_2() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let reference = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters/reference.toml"),
    )
    .expect("adapters/reference.toml");
    let partial = reference
        .replace("name = \"reference\"", "name = \"no-marker-rule\"")
        .replace("    \"marker-rule\",\n", "")
        .replace(
            "[claims.not_made]\n",
            "[claims.not_made]\nmarker-rule = \"this test's target makes no marker promise\"\n",
        );
    let adapter = dir.path().join("no-marker-rule.toml");
    std::fs::write(&adapter, partial).expect("write the adapter");
    let out = harness()
        .args([
            "run",
            "--backend",
            "process",
            "--gateway",
            &gateway(),
            "--target",
        ])
        .arg(&adapter)
        .args(["--filter", "^marker-(expired|malformed)$"])
        .output()
        .expect("running restart-harness");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("0 passed, 0 failed, 0 errors, 2 not claimed"),
        "{stdout}"
    );
    assert!(stdout.contains("no verdict: nothing ran"), "{stdout}");
}

/// `explore --out DIR` creates DIR: what it found is never lost to a missing
/// directory (it was: the divergence was found, then the write failed).
#[test]
fn explore_writes_what_it_found_into_a_new_directory() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out_dir = dir.path().join("new").join("found");
    let out = harness()
        .args([
            "explore",
            "--backend",
            "process",
            "--mutant",
            "teardown-always-stopped",
            "--seed",
            "1",
            "--schedules",
            "4",
            "--shrink-budget",
            "20s",
            "--out",
        ])
        .arg(&out_dir)
        .output()
        .expect("running restart-harness");
    let all = support::all_output(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let written: Vec<_> = std::fs::read_dir(&out_dir)
        .expect("the new directory")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(written.len(), 1, "{written:?}\n{all}");
    assert!(
        all.contains("--backend process --mutant teardown-always-stopped"),
        "{all}"
    );
}
