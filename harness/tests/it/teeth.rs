//! The table has teeth: a gateway whose every teardown persists `stopped`
//! (upstream's first bug) fails the container-restart and bare-sigterm
//! scenarios, while the reference gateway passes them.

use restart_harness::gateway_bin::Build;
use restart_harness::runner::Outcome;

use crate::support;

const MUTANT: (&str, &str) = ("GATEWAY_MUTANT", "teardown-always-stopped");

fn teeth(file: &str) {
    let reference = support::process_backend(Build::Reference);
    let r = support::run_embedded(file, &reference, &[]);
    support::assert_passed(&r);

    let mutants = support::process_backend(Build::Mutants);
    let m = support::run_embedded(file, &mutants, &[MUTANT]);
    assert_eq!(
        m.outcome,
        Outcome::Failed,
        "the mutant must fail {file} on a literal expectation, not pass or error:\n{}",
        restart_harness::report::human::detail(&m)
    );
    let failed: Vec<String> = m.failures().map(|e| e.what.to_string()).collect();
    // The terminal write is what the mutant breaks: stopped instead of running.
    assert!(
        failed.iter().any(|w| w == "terminal.default.gateway_state"),
        "{failed:?}"
    );
}

#[test]
fn teardown_always_stopped_fails_container_restart() {
    teeth("01-container-restart.toml");
}

#[test]
fn teardown_always_stopped_fails_bare_sigterm() {
    teeth("02-bare-sigterm.toml");
}
