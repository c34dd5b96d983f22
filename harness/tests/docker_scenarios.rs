//! Every Docker-capable scenario of the table, each its own test against real
//! containers of the reference image: one failing scenario is one failing test,
//! and it prints its timeline. Scenarios that do not run on Docker pass trivially.
//!
//! The tests are generated from `scenarios/*.toml` by `build.rs` (the same
//! `scenario_test!` list the process tests use); libtest runs them in parallel,
//! and the image is built once per test process.
#![cfg(feature = "docker")]

use restart_harness::backend::docker::testing;
use restart_harness::backend::BackendKind;
use restart_harness::runner::Outcome;

macro_rules! scenario_test {
    ($name:ident, $file:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            if !testing::embedded_scenario($file).runs_on(BackendKind::Docker) {
                return;
            }
            let r = testing::run_embedded($file, None).await;
            eprintln!(
                "{} on docker: {} in {} ms",
                r.name,
                r.outcome.as_str(),
                r.duration_ms
            );
            if r.outcome != Outcome::Passed {
                panic!(
                    "scenario {} {}\n{}",
                    r.name,
                    r.outcome.as_str(),
                    restart_harness::report::human::detail(&r)
                );
            }
        }
    };
}

include!(concat!(env!("OUT_DIR"), "/scenario_tests.rs"));
