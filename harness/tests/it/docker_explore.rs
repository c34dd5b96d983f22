//! Explore on real containers: with a fixed seed and a schedule budget it
//! agrees with the reference image (OOM kills and init kill storms among the
//! operations), and it finds a mutant of the stop path (a stop that exits 0
//! though its intent was not persisted, on a full disk or a read-only home)
//! whose shrunk scenario replays. No daemon: the test fails (never skips).

use std::sync::Arc;
use std::time::Duration;

use restart_harness::backend::Backend;
use restart_harness::explore::{self, ExploreOptions, Move, Progress};
use restart_harness::runner::{self, Outcome, RunOptions};
use restart_harness::scenario::load::parse_scenario;

use crate::support;

fn quiet(_: &Progress) {}

fn options(seed: u64, schedules: usize) -> ExploreOptions {
    ExploreOptions {
        seed,
        budget: Duration::from_secs(900),
        shrink_budget: Duration::from_secs(120),
        max_schedules: Some(schedules),
        ..ExploreOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn explore_agrees_with_the_reference_image_and_finds_a_mutant() {
    let backend: Arc<dyn Backend> = Arc::new(support::docker::backend().await);

    let xo = options(2, 3);
    let drawn: Vec<Move> = (0..3)
        .flat_map(|k| {
            explore::schedule(
                2,
                k,
                &xo,
                &RunOptions::default(),
                restart_harness::backend::BackendKind::Docker,
            )
        })
        .collect();
    let report = explore::explore(backend.clone(), &RunOptions::default(), &xo, &quiet).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    if let Some(f) = &report.found {
        panic!(
            "the reference image diverged from the model:\n{}\n{}",
            f.divergence, f.scenario
        );
    }
    assert_eq!(report.agreed, 3);
    println!(
        "reference: 3 schedules, {} operations: {}",
        drawn.len(),
        drawn
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );

    let mutant = RunOptions {
        env: vec![(
            "GATEWAY_MUTANT".to_owned(),
            "stop-ignores-intent-failure".to_owned(),
        )],
        ..RunOptions::default()
    };
    let report = explore::explore(backend.clone(), &mutant, &options(1, 10), &quiet).await;
    let f = report.found.unwrap_or_else(|| {
        panic!(
            "stop-ignores-intent-failure not found in 10 schedules: {:?}",
            report.errors
        )
    });
    println!(
        "stop-ignores-intent-failure: found in {:.1} s (schedule {}), shrunk {} -> {}: {}",
        f.time_to_find.as_secs_f64(),
        f.schedule_index,
        f.original_len,
        f.schedule.len(),
        f.divergence
    );
    let s = parse_scenario("explored.toml", &f.scenario).expect("the written scenario loads");
    let r = runner::run_scenario(&*backend, &s, &mutant).await;
    assert_eq!(
        r.outcome,
        Outcome::Failed,
        "{:?}\n{}",
        r.first_failure(),
        f.scenario
    );
}
