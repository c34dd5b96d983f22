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
#![cfg(feature = "upstream")]

use restart_harness::backend::docker::testing::run_embedded_on;
use restart_harness::report::human::detail;
use restart_harness::runner::Outcome;

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
        failed.contains(&"boot.default.action: expected started, seen registered".to_owned()),
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
