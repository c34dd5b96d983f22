//! Reports of a run: a table for humans, JSON and JUnit XML for CI.

pub mod explore;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod merge;

use serde::{Deserialize, Serialize};

use crate::backend::BackendKind;
use crate::runner::{Outcome, ScenarioResult};
use crate::verdict::{Tally, Verdict};

/// Counts of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Scenarios run.
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed: a literal expectation did not hold.
    pub failed: usize,
    /// Could not be run.
    pub error: usize,
    /// Not run: the target does not make a promise they check.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_claimed: usize,
    /// Not run: the backend cannot make their fault on this machine.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_run: usize,
}

impl Summary {
    /// The counts the verdict rule reads.
    pub fn tally(&self) -> Tally {
        Tally {
            held: self.passed,
            broke: self.failed,
            errors: self.error,
            not_run: self.not_claimed + self.not_run,
        }
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Which backend ran, and what it ran (`process (gateway /path)`).
    pub backend: String,
    /// The backend's kind.
    pub backend_kind: BackendKind,
    /// Scenarios at once.
    pub jobs: usize,
    /// Wall time of the whole run.
    pub wall_ms: u64,
    /// The target gated, when it is not the reference (`hermes@0.17.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The shard this run was, when it was one (`--partition`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<Shard>,
    /// Counts.
    pub summary: Summary,
    /// Per scenario, in table order.
    pub results: Vec<ScenarioResult>,
}

impl RunReport {
    /// A report of `results`.
    pub fn new(
        backend: String,
        backend_kind: BackendKind,
        jobs: usize,
        wall_ms: u64,
        results: Vec<ScenarioResult>,
    ) -> Self {
        let count = |o: Outcome| results.iter().filter(|r| r.outcome == o).count();
        let summary = Summary {
            total: results.len(),
            passed: count(Outcome::Passed),
            failed: count(Outcome::Failed),
            error: count(Outcome::Error),
            not_claimed: count(Outcome::NotClaimed),
            not_run: count(Outcome::NotRun),
        };
        RunReport {
            backend,
            backend_kind,
            jobs,
            wall_ms,
            target: None,
            partition: None,
            summary,
            results,
        }
    }

    /// The same report, naming the target it gated (none for the reference).
    pub fn with_target(mut self, target: Option<String>) -> Self {
        self.target = target;
        self
    }

    /// The same report, as the shard `shard` of a run.
    pub fn with_partition(mut self, shard: Option<Shard>) -> Self {
        self.partition = shard;
        self
    }

    /// The verdict of the run ([`crate::verdict`]).
    pub fn verdict(&self) -> Verdict {
        self.summary.tally().verdict()
    }

    /// The exit code the gate reports: 0 something ran and all passed, 1 a
    /// scenario failed, 2 an error or nothing ran ([`crate::verdict`]).
    pub fn exit_code(&self) -> u8 {
        self.verdict().exit_code()
    }
}

/// Which shard of which run a report is (`run --partition`), so that `report
/// merge` can tell a missing shard from a complete run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// The partition (`count:1/3`).
    pub partition: String,
    /// Every scenario of the whole run, in table order, this shard's and the
    /// others'.
    pub table: Vec<String>,
}
