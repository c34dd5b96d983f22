//! The timed scenarios of the table (an operation that lands inside a
//! backoff, time that passes between crashes, two commands started together)
//! replay their bug: each fails
//! on the mutant only timing catches in at least 9 runs of 10, and passes on
//! the reference every time. The rates are printed
//! (`cargo test -- --nocapture timing_replays`).

use restart_harness::gateway_bin::Build;
use restart_harness::runner::Outcome;

use crate::support;

/// Runs of each replay.
const RUNS: usize = 10;
/// Runs of [`RUNS`] that must fail on the mutant.
const MUST_FAIL: usize = 9;

/// Each timed scenario and the mutant it is there to kill.
const TIMED: [(&str, &str); 4] = [
    ("67-stop-during-backoff.toml", "stop-keeps-backoff"),
    (
        "68-start-during-backoff.toml",
        "start-in-backoff-keeps-crashes",
    ),
    ("69-crash-window-slides.toml", "crash-window-never-slides"),
    ("71-stop-during-a-restart.toml", "commands-not-serialized"),
];

#[test]
fn each_timed_scenario_fails_on_its_mutant_nine_times_in_ten() {
    let mutants = support::process_backend(Build::Mutants);
    let reference = support::process_backend(Build::Reference);
    let mut short = Vec::new();
    println!("| scenario | mutant | failed on the mutant | passed on the reference |");
    println!("|---|---|---|---|");
    for (file, mutant) in TIMED {
        let failed = (0..RUNS)
            .filter(|_| {
                let r = support::run_embedded(file, &mutants, &[("GATEWAY_MUTANT", mutant)]);
                r.outcome == Outcome::Failed
            })
            .count();
        let passed = (0..RUNS)
            .filter(|_| support::run_embedded(file, &reference, &[]).outcome == Outcome::Passed)
            .count();
        println!("| {file} | {mutant} | {failed}/{RUNS} | {passed}/{RUNS} |");
        if failed < MUST_FAIL || passed < RUNS {
            short.push(format!(
                "{file}: failed on {mutant} {failed}/{RUNS} (at least {MUST_FAIL}), passed on the reference {passed}/{RUNS}"
            ));
        }
    }
    assert!(short.is_empty(), "{short:#?}");
}
