//! The mutant gate on local processes: the whole table against the reference
//! gateway and against every mutant the gateway lists, each mutant until its
//! first kill, in parallel. Every mutant must be killed by a literal
//! expectation that the reference passes, and the reference must pass all.

use std::sync::Arc;

use restart_harness::backend::BackendKind;
use restart_harness::gateway_bin::Build;
use restart_harness::mutants::report::{self, MutantsReport};
use restart_harness::mutants::run::{self, Backends};
use restart_harness::mutants::{list_from_binary, MutantInfo};

use crate::support;

/// Runs at once: `RH_MUTANT_JOBS`, default 8.
fn jobs() -> usize {
    support::jobs_from_env("RH_MUTANT_JOBS", 8)
}

fn listed() -> Vec<MutantInfo> {
    let bin = support::gateway(Build::Mutants);
    list_from_binary(&bin).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_gateway_lists_every_known_mutant_with_a_sentence() {
    let names: Vec<String> = listed().into_iter().map(|m| m.name).collect();
    for known in support::KNOWN_MUTANTS {
        assert!(
            names.iter().any(|n| n == known),
            "`gateway mutants` no longer lists {known}: never delete a mutant ({names:?})"
        );
    }
    // The reference build enables none, so it lists none: a `--mutant` with
    // it is refused rather than run as the reference.
    let reference = list_from_binary(&support::gateway(Build::Reference));
    assert!(
        matches!(
            reference,
            Err(restart_harness::mutants::MutantsError::NoMutants(_))
        ),
        "{reference:?}"
    );
}

#[test]
fn every_mutant_is_killed_on_processes_and_the_reference_passes() {
    let mutants = listed();
    let backends = Backends::process(
        support::gateway(Build::Reference),
        support::gateway(Build::Mutants),
    );
    let plan = support::mutant_plan(BackendKind::Process, mutants, false, jobs());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("a tokio runtime: {e}"));
    let done = rt.block_on(run::run(&backends, &plan, Arc::new(|_, _| {})));
    let report = MutantsReport::new(backends.describe.clone(), BackendKind::Process, &plan, done);
    eprintln!("{}", report::table(&report));
    support::assert_every_mutant_killed(&report);
}
