//! The JUnit XML report: one test suite per run (named by its backend), one test
//! case per scenario; a failed scenario is a `failure`, a scenario that could not
//! run an `error`, and both carry their timeline in `system-out`; a scenario
//! the target does not claim is `skipped`, with the claim and the reason.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::RunReport;
use crate::history;
use crate::runner::Outcome;

/// The report as JUnit XML.
pub fn render(report: &RunReport) -> Result<String, quick_junit::SerializeError> {
    let mut suite = TestSuite::new(format!("restart-harness.{}", report.backend_kind));
    for r in &report.results {
        let status = match r.outcome {
            Outcome::Passed => TestCaseStatus::success(),
            Outcome::NotClaimed | Outcome::NotRun => {
                let mut st = TestCaseStatus::skipped();
                st.set_message(r.first_failure().unwrap_or_default());
                st
            }
            Outcome::Failed | Outcome::Error => {
                let kind = if r.outcome == Outcome::Failed {
                    NonSuccessKind::Failure
                } else {
                    NonSuccessKind::Error
                };
                let mut st = TestCaseStatus::non_success(kind);
                st.set_message(r.first_failure().unwrap_or_default());
                let failing: Vec<String> = r
                    .failures()
                    .map(ToString::to_string)
                    .chain(r.error.clone())
                    .collect();
                st.set_description(failing.join("\n"));
                st
            }
        };
        let mut case = TestCase::new(r.name.clone(), status);
        case.set_classname(format!("restart-harness.{}", r.backend))
            .set_time(Duration::from_millis(r.duration_ms))
            .set_assertions(r.expectations.len());
        if let Some(engine) = &r.engine {
            case.add_property(("engine", engine.as_str()));
        }
        if !matches!(
            r.outcome,
            Outcome::Passed | Outcome::NotClaimed | Outcome::NotRun
        ) {
            case.set_system_out(history::render(&r.timeline));
        }
        suite.add_test_case(case);
    }
    suite.set_time(Duration::from_millis(report.wall_ms));
    let mut junit = Report::new("restart-harness");
    junit.set_time(Duration::from_millis(report.wall_ms));
    junit.add_test_suite(suite);
    junit.to_string()
}
