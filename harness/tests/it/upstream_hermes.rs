//! The verdicts the upstream gate exists for, on the real released package
//! (`cargo test --features upstream`; `.ci/run` runs them): hermes-agent
//! releases from PyPI, each in an image built from Debian packages and the
//! wheel alone (adapters/hermes/), driven through adapters/hermes.toml.
//!
//! - 0.16.0 has the bug of upstream issue #42675: its teardown persists
//!   `stopped` whatever stopped it, so after a container restart the next boot
//!   registers the gateway down and it stays dark.
//! - 0.17.0 has the fix (#43236): it comes back after a container restart and
//!   a bare SIGTERM, and an operator stop still keeps it down across one.
//!
//! No daemon is a failure, never a skip.

use restart_harness::report::human::detail;
use restart_harness::runner::Outcome;

use crate::support::docker::run_embedded_on;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hermes_0_16_0_stays_dark_after_a_container_restart() {
    let r = run_embedded_on("39-core-container-restart.toml", "hermes@0.16.0").await;
    let detail = detail(&r);
    assert_eq!(r.outcome, Outcome::Failed, "{detail}");
    let failed: Vec<String> = r.failures().map(ToString::to_string).collect();
    assert!(
        failed
            .contains(&"terminal.default.gateway_state: expected running, seen stopped".to_owned()),
        "{failed:?}\n{detail}"
    );
    assert!(
        failed.contains(&"after_boot.default.supervised: expected up, seen down".to_owned()),
        "{failed:?}\n{detail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hermes_0_17_0_comes_back_after_a_container_restart() {
    let r = run_embedded_on("39-core-container-restart.toml", "hermes@0.17.0").await;
    assert_eq!(r.outcome, Outcome::Passed, "{}", detail(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hermes_0_17_0_comes_back_after_a_bare_sigterm() {
    let r = run_embedded_on("42-core-bare-sigterm.toml", "hermes@0.17.0").await;
    assert_eq!(r.outcome, Outcome::Passed, "{}", detail(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hermes_0_17_0_stays_down_after_an_operator_stop_and_a_container_restart() {
    let r = run_embedded_on("45-core-operator-stop.toml", "hermes@0.17.0").await;
    assert_eq!(r.outcome, Outcome::Passed, "{}", detail(&r));
}

/// The core storm on hermes: 30 SIGKILLs across its start-up and teardown
/// writes. Its atomic writer leaves its temp file behind when a kill lands
/// between `mkstemp` and `os.replace`, and no later life removes it
/// (docs/upstream-hermes.md, finding 4): one leftover per kill that landed
/// there. Thirty hits land in that window now and then, so the verdict is
/// "passed", or failed on such leftovers and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hermes_0_17_0_keeps_its_state_file_whole_through_a_core_storm() {
    let r = run_embedded_on("72-core-kill-storm.toml", "hermes@0.17.0").await;
    let detail = detail(&r);
    let failed: Vec<String> = r.failures().map(ToString::to_string).collect();
    match r.outcome {
        Outcome::Passed => {}
        Outcome::Failed => {
            let leftovers = failed.len() == 1
                && failed[0]
                    .strip_prefix("at_rest.default.temp_files: expected 0, seen ")
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|n| n >= 1);
            assert!(leftovers, "{failed:?}\n{detail}");
            assert!(
                detail.contains("the writer's temp files left: .gateway_state_"),
                "{detail}"
            );
        }
        other => panic!("{other:?}\n{detail}"),
    }
    assert!(
        detail.contains("kill storm hit 30/30"),
        "the storm ended early:\n{detail}"
    );
    assert!(
        detail.contains("gateway_state.json: ")
            && detail.contains("versions recorded, 0 of them do not parse"),
        "{detail}"
    );
}

/// The CLI on the real hermes image: what it gates, what it refuses, and
/// explore on a target that is not the contract's.
mod cli {
    use std::path::{Path, PathBuf};

    use crate::support::{all_output as text, harness};

    /// The hermes@0.17.0 image's tag, built or reused.
    fn hermes_0_17_0_image() -> String {
        let out = harness()
            .args(["image", "build", "--target", "hermes@0.17.0"])
            .output()
            .expect("running restart-harness image build");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// `--target hermes --image IMAGE` gates an image the maintainer has, with
    /// no release named, and the report's first line names that image.
    #[test]
    fn an_image_without_a_version_is_gated_and_named() {
        let image = hermes_0_17_0_image();
        let out = harness()
            .args(["run", "--target", "hermes", "--image", &image])
            .args(["--filter", "^core-container-restart$"])
            .output()
            .unwrap();
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{all}");
        assert!(
            all.starts_with(&format!(
                "restart-harness: target hermes, backend docker (image {image}; engine"
            )),
            "{all}"
        );
    }

    #[test]
    fn an_image_that_is_not_there_is_refused_before_anything_runs() {
        let out = harness()
            .args([
                "run",
                "--target",
                "hermes",
                "--image",
                "restart-harness/hermes:no-such-tag",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr
                .contains("image restart-harness/hermes:no-such-tag does not exist on the engine"),
            "{stderr}"
        );
        assert!(
            stderr.contains("--target hermes@VERSION builds it"),
            "{stderr}"
        );
    }

    /// A supervision command that cannot run (a wrong path in the adapter)
    /// is an error of the scenario, never "not supervised" (which failed the
    /// scenario as if hermes had not come back).
    #[test]
    fn a_supervision_command_that_cannot_run_is_an_error_not_a_verdict() {
        let image = hermes_0_17_0_image();
        let adapters = tempfile::tempdir().unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters");
        let adapter = std::fs::read_to_string(repo.join("hermes.toml"))
            .unwrap()
            .replace(
                r#"argv = ["/command/s6-svstat", "/run/service/gateway-{profile}"]"#,
                r#"argv = ["/command/no-such-s6-svstat", "/run/service/gateway-{profile}"]"#,
            );
        assert!(adapter.contains("no-such-s6-svstat"));
        std::fs::write(adapters.path().join("hermes.toml"), adapter).unwrap();
        std::os::unix::fs::symlink(repo.join("hermes"), adapters.path().join("hermes")).unwrap();
        let out = harness()
            .env("RESTART_HARNESS_ADAPTERS", adapters.path())
            .args(["run", "--target", "hermes", "--image", &image])
            .args(["--filter", "^core-container-restart$"])
            .output()
            .unwrap();
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{all}");
        assert!(all.contains("0 passed, 0 failed, 1 error"), "{all}");
        assert!(
            all.contains("the supervision command `/command/no-such-s6-svstat"),
            "{all}"
        );
        assert!(all.contains("could not run (exit 12"), "{all}");
    }

    /// Explore on hermes compares and writes only what hermes claims to show:
    /// seed 4's first operation is a stop, and hermes@0.17.0 records it as
    /// `running` (finding 3 of docs/upstream-hermes.md). The scenario it
    /// writes replays on hermes with the same verdict (before, it was "not
    /// claimed" there, and explore's first boot diverged on a boot line hermes
    /// never writes).
    #[test]
    fn explore_finds_finding_3_on_hermes_0_17_0_and_its_scenario_replays() {
        let out_dir = tempfile::tempdir().unwrap();
        let out = harness()
            .args([
                "explore",
                "--target",
                "hermes@0.17.0",
                "--seed",
                "4",
                "--schedules",
                "1",
            ])
            .args(["--shrink-budget", "30s", "--out"])
            .arg(out_dir.path())
            .output()
            .unwrap();
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(
            all.contains("gateway_state of a: the model says stopped, the target shows running"),
            "{all}"
        );
        let written: Vec<PathBuf> = std::fs::read_dir(out_dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(written.len(), 1, "{written:?}");
        let scenario = std::fs::read_to_string(&written[0]).unwrap();
        for unclaimed in [
            "exit_reason",
            "desired_state",
            "torn_files",
            "temp_files",
            "init_args",
        ] {
            assert!(!scenario.contains(unclaimed), "{unclaimed} in:\n{scenario}");
        }
        let replay = harness()
            .args(["run", "--target", "hermes@0.17.0", "--scenarios"])
            .arg(&written[0])
            .output()
            .unwrap();
        let all = text(&replay);
        assert_eq!(replay.status.code(), Some(1), "{all}");
        assert!(
            all.contains("at_rest.a.gateway_state: expected stopped, seen running"),
            "{all}"
        );
    }
}
