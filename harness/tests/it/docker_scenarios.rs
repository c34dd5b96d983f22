//! Every Docker-capable scenario of the table, each its own test against real
//! containers of the reference image: one failing scenario is one failing test,
//! and it prints its timeline. Scenarios that do not run on Docker are not
//! generated here.
//!
//! The tests are generated from `scenarios/*.toml` by `build.rs` (the same
//! way as the process tests, from each file's `backends`). The first test to run starts
//! every selected scenario at once on one backend (`RH_DOCKER_JOBS` at a time,
//! default 8; the image is built once), and each test waits for its own result.

use restart_harness::backend::BackendKind;
use restart_harness::runner::Outcome;

use crate::support;

/// What libtest puts before this module's test names (`docker_scenarios::`):
/// the batch runs the scenarios whose tests the command line selects.
fn prefix() -> String {
    support::test_name(module_path!(), "")
}

macro_rules! scenario_test {
    ($name:ident, $file:expr) => {
        #[test]
        fn $name() {
            assert!(support::docker::embedded_scenario($file).runs_on(BackendKind::Docker));
            let r = support::docker::batch_result(&prefix(), $file);
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

include!(concat!(env!("OUT_DIR"), "/scenario_tests_docker.rs"));

/// After every scenario: no container or volume of the run is left.
#[test]
fn zz_the_batch_leaves_no_container_or_volume() {
    let left = support::docker::batch_leftovers(&prefix());
    assert!(left.is_empty(), "the docker scenarios left {left}");
}
