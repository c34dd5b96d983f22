//! The mutant gate on real containers: the Docker-capable table against the
//! reference image and against the mutants image
//! (`restart-harness/gateway-mutants:<hash>`, `GATEWAY_MUTANT=<name>` in the
//! container's environment), every mutant the gateway lists, each until its
//! first kill, in parallel. Every mutant must be killed and the reference must
//! pass everything; the four bug classes upstream users met in containers are
//! required by name. No daemon: the test fails (never skips).

use std::sync::Arc;

use restart_harness::backend::docker::labels;
use restart_harness::backend::BackendKind;
use restart_harness::mutants::list_from_binary;
use restart_harness::mutants::matrix::RowVerdict;
use restart_harness::mutants::report::{self, MutantsReport};
use restart_harness::mutants::run::{self, Backends};

use crate::support;

/// The mutants upstream users met in containers: these must be in the matrix.
const REQUIRED: [&str; 4] = [
    "teardown-always-stopped",
    "teardown-skips-terminal-write",
    "signal-means-crash",
    "stop-writes-no-marker",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_mutant_is_killed_on_docker_and_the_reference_image_passes() {
    // Panics (the test fails) when no daemon answers or an image cannot be built.
    let backend = support::docker::backend().await;
    let mutants_image = support::docker::mutants_image().await;
    // The list is the mutants image's own binary's (static: it runs here too).
    let binary = mutants_image.binary.clone();
    let mutants = tokio::task::spawn_blocking(move || list_from_binary(&binary))
        .await
        .unwrap_or_else(|e| panic!("listing the mutants: {e}"))
        .unwrap_or_else(|e| panic!("{e}"));
    for required in REQUIRED {
        assert!(
            mutants.iter().any(|m| m.name == required),
            "{required} is not in {mutants:?}"
        );
    }
    let docker = backend.docker().clone();
    let run_id = backend.run_id().to_owned();
    let backends = Backends::docker(backend);
    let plan = support::mutant_plan(BackendKind::Docker, mutants, false, support::docker::jobs());
    let done = run::run(&backends, &plan, Arc::new(|_, _| {})).await;
    let report = MutantsReport::new(backends.describe.clone(), BackendKind::Docker, &plan, done);
    eprintln!("{}", report::table(&report));
    for required in REQUIRED {
        let row = report
            .matrix
            .rows
            .iter()
            .find(|r| r.mutant == required)
            .unwrap_or_else(|| panic!("{required} has no row"));
        assert!(
            matches!(row.verdict, RowVerdict::Killed { .. }),
            "{required} was not killed on Docker\n{}",
            report::render(&report)
        );
    }
    support::assert_every_mutant_killed(&report);
    let left = labels::leftovers(&docker, Some(&run_id), None)
        .await
        .unwrap_or_else(|e| panic!("listing leftovers: {e}"));
    assert!(
        left.is_empty(),
        "the mutant matrix left {left} on the engine"
    );
}
