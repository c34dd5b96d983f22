//! Explore on local processes, with a fixed seed and budget: it agrees with
//! the reference gateway, and it finds every mutant the gateway lists but
//! `writes-in-place` (the table's kill storms find that one) and
//! `commands-not-serialized` (the table's `stop-during-a-restart`). Each
//! mutant's shrunk schedule, written as a scenario, fails on that mutant and
//! passes on the reference when run by the ordinary runner; one whose
//! operations land mid-transition fails in at least 9 runs of 10.
//!
//! Two explores run at once (`RH_EXPLORE_JOBS`); the table of what was found,
//! how fast and how short is printed (`cargo test -- --nocapture`).

use std::sync::Arc;
use std::time::Duration;

use restart_harness::backend::Backend;
use restart_harness::explore::{self, ExploreOptions, Progress};
use restart_harness::gateway_bin::Build;
use restart_harness::runner::{self, Outcome, RunOptions};
use restart_harness::scenario::load::parse_scenario;

use crate::support;

/// The seed every run of this test uses.
const SEED: u64 = 1;
/// Schedules to find one mutant in: a budget that does not depend on how
/// loaded the machine is (the wall budget below is only a backstop).
const SCHEDULES: usize = 80;

fn options() -> ExploreOptions {
    ExploreOptions {
        seed: SEED,
        budget: Duration::from_secs(600),
        shrink_budget: Duration::from_secs(40),
        max_schedules: Some(SCHEDULES),
        ..ExploreOptions::default()
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn quiet(_: &Progress) {}

#[test]
fn explore_agrees_with_the_reference_gateway() {
    let backend: Arc<dyn Backend> = Arc::new(support::process_backend(Build::Reference));
    let xo = ExploreOptions {
        max_schedules: Some(12),
        ..options()
    };
    let report = rt().block_on(explore::explore(
        backend,
        &RunOptions::default(),
        &xo,
        &quiet,
    ));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    if let Some(f) = &report.found {
        panic!(
            "the reference diverged from the model (a bug in one of them):\n{}\n{}",
            f.divergence, f.scenario
        );
    }
    assert_eq!(report.agreed, 12, "every schedule runs to its end");
}

#[test]
fn explore_finds_every_mutant_and_its_scenario_replays() {
    // Every mutant but two. `writes-in-place`: its bug only shows when a kill
    // lands inside a write, which the table's kill storms make likely with
    // `write_pause_ms` in config.toml, and explore writes no config.
    // `commands-not-serialized`: it needs a restart and a stop of one profile
    // started together as the last move, a rare draw (seed 7 finds it at
    // schedule 36; the table's `stop-during-a-restart` kills it).
    const NOT_EXPLORED: [&str; 2] = ["writes-in-place", "commands-not-serialized"];
    let mutants: Vec<&str> = support::KNOWN_MUTANTS
        .into_iter()
        .filter(|m| !NOT_EXPLORED.contains(m))
        .collect();
    assert_eq!(
        mutants.len(),
        support::KNOWN_MUTANTS.len() - NOT_EXPLORED.len()
    );
    let jobs = support::jobs_from_env("RH_EXPLORE_JOBS", 2);
    let rt = rt();
    let mutant_backend: Arc<dyn Backend> = Arc::new(support::process_backend(Build::Mutants));
    let reference: Arc<dyn Backend> = Arc::new(support::process_backend(Build::Reference));
    let results = rt.block_on(async {
        let permits = Arc::new(tokio::sync::Semaphore::new(jobs));
        let mut handles = Vec::new();
        for m in mutants {
            let backend = mutant_backend.clone();
            let permits = permits.clone();
            handles.push(tokio::spawn(async move {
                let _p = permits.acquire_owned().await;
                let opts = RunOptions {
                    env: vec![("GATEWAY_MUTANT".to_owned(), m.to_owned())],
                    ..RunOptions::default()
                };
                (
                    m,
                    explore::explore(backend, &opts, &options(), &quiet).await,
                )
            }));
        }
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.expect("an explore task"));
        }
        out
    });

    println!("| mutant | found | time to find | schedule | shrunk to | divergence |");
    println!("|---|---|---|---|---|---|");
    let mut missed = Vec::new();
    for (m, r) in &results {
        match &r.found {
            Some(f) => println!(
                "| {m} | yes | {:.1} s | {} | {} of {} | {} {} |",
                f.time_to_find.as_secs_f64(),
                f.schedule_index,
                f.schedule.len(),
                f.original_len,
                f.divergence.field,
                f.divergence.seen
            ),
            None => {
                println!("| {m} | NO | - | - | - | - |");
                missed.push(format!("{m} (errors: {:?})", r.errors));
            }
        }
    }
    assert!(
        missed.is_empty(),
        "explore (seed {SEED}, {SCHEDULES} schedules) missed: {missed:?}"
    );

    // Each written scenario is a real replay: it fails on its mutant and
    // passes on the reference, run by the ordinary runner.
    for (m, r) in &results {
        let f = r.found.as_ref().expect("found");
        let s = parse_scenario("explored.toml", &f.scenario).unwrap_or_else(|e| {
            panic!(
                "{m}: the written scenario does not load: {e}\n{}",
                f.scenario
            )
        });
        let on_mutant = rt.block_on(runner::run_scenario(
            &*mutant_backend,
            &s,
            &RunOptions {
                env: vec![("GATEWAY_MUTANT".to_owned(), (*m).to_owned())],
                ..RunOptions::default()
            },
        ));
        assert_eq!(
            on_mutant.outcome,
            Outcome::Failed,
            "{m}: the shrunk scenario did not fail on the mutant: {:?}\n{}",
            on_mutant.first_failure(),
            f.scenario
        );
        // A replay whose operations land mid-transition must fail again in
        // at least 9 runs of 10 (this one and 9 more).
        // A window let pass is timed too.
        if f.scenario.contains("wait = false") || f.scenario.contains("op = \"pause\"") {
            let failed = 1
                + (1..10)
                    .filter(|_| {
                        let r = rt.block_on(runner::run_scenario(
                            &*mutant_backend,
                            &s,
                            &RunOptions {
                                env: vec![("GATEWAY_MUTANT".to_owned(), (*m).to_owned())],
                                ..RunOptions::default()
                            },
                        ));
                        r.outcome == Outcome::Failed
                    })
                    .count();
            println!("{m}: the timed replay failed on the mutant {failed}/10");
            assert!(
                failed >= 9,
                "{m}: the timed replay failed only {failed}/10\n{}",
                f.scenario
            );
        }
        let on_reference = rt.block_on(runner::run_scenario(
            &*reference,
            &s,
            &RunOptions::default(),
        ));
        assert_eq!(
            on_reference.outcome,
            Outcome::Passed,
            "{m}: the shrunk scenario does not pass on the reference: {:?}\n{}",
            on_reference.first_failure(),
            f.scenario
        );
    }
}
