//! Every scenario of the table that runs on the process backend, each its own
//! test: one failing scenario is one failing test, and it prints its timeline.
//! Scenarios for other backends only are not generated here (`build.rs`).

use restart_harness::backend::BackendKind;
use restart_harness::gateway_bin::Build;

use crate::support;

macro_rules! scenario_test {
    ($name:ident, $file:expr) => {
        #[test]
        fn $name() {
            assert!(support::runs_on($file, BackendKind::Process));
            let backend = support::process_backend(Build::Reference);
            let r = support::run_embedded($file, &backend, &[]);
            support::assert_passed(&r);
        }
    };
}

include!(concat!(env!("OUT_DIR"), "/scenario_tests_process.rs"));
