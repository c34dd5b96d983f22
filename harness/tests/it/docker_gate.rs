//! The gate bites on Docker: the gateway whose every teardown persists `stopped`
//! (upstream's first bug), built into the mutants image, FAILS the
//! container-restart scenario on a literal expectation, while the reference
//! image passes it. A real `docker restart` of a real container, both ways.

use restart_harness::runner::Outcome;

use crate::support;

const SCENARIO: &str = "01-container-restart.toml";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_image_passes_container_restart() {
    let r = support::docker::run_embedded(SCENARIO, None).await;
    assert_eq!(
        r.outcome,
        Outcome::Passed,
        "{}",
        restart_harness::report::human::detail(&r)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_always_stopped_fails_container_restart() {
    let r = support::docker::run_embedded(SCENARIO, Some("teardown-always-stopped")).await;
    let detail = restart_harness::report::human::detail(&r);
    assert_eq!(
        r.outcome,
        Outcome::Failed,
        "the mutant must fail on a literal expectation, not pass or error:\n{detail}"
    );
    let failed: Vec<String> = r.failures().map(|e| e.what.to_string()).collect();
    // What the bug breaks: the terminal write says stopped, so the next boot
    // registers the gateway down and it stays dark.
    assert!(
        failed.iter().any(|w| w == "terminal.default.gateway_state"),
        "{failed:?}\n{detail}"
    );
    assert!(
        failed.iter().any(|f| f.starts_with("boot.default.action")),
        "{failed:?}\n{detail}"
    );
}
