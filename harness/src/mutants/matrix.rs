//! The kill matrix, computed from outcomes alone: no process, no clock, no
//! backend. Everything here is a pure function of what the runs produced, so the
//! rules can be tested on synthetic outcomes.
//!
//! The rules:
//!
//! - A mutant is **killed** by a scenario only when a *literal* expectation of
//!   that scenario (one the table states: `terminal.*`, `at_rest.*`, `boot.*`,
//!   `first_boot.*`, `after_boot.*`, `container.*`, `command.*`, or a setup
//!   step's `expect_code`) failed on the mutant **and** the reference passed
//!   the same scenario in the same run.
//! - A harness or backend error (on the mutant's run or on the reference's) is
//!   **unknown**, never a kill; so is any result of a scenario the reference did
//!   not pass (a scenario that fails on the reference judges nothing).
//! - A mutant run that failed only off the table (e.g. "no running gateway to
//!   send SIGTERM to", a precondition of the fault, not a literal of the table)
//!   is not a kill: the cell is **survived**, with a note saying so.
//! - Exit code: 2 when any run ended in an error (or a reference result is
//!   missing): the verdict is unknown; else 1 when the reference failed any
//!   scenario, or a mutant survived every scenario (or was left without a
//!   verdict); else 0.

use serde::Serialize;

#[cfg(test)]
use crate::check::{ExpectationId, Table};
use crate::check::{ExpectationResult, Verdict};
use crate::runner::{Outcome, ScenarioResult};

/// What one run of one scenario produced, as far as the matrix is concerned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunOutcome {
    /// How it ended.
    pub outcome: Outcome,
    /// Its failing expectations, in the checker's order.
    pub failures: Vec<ExpectationResult>,
    /// The harness or backend error, for [`Outcome::Error`].
    pub error: Option<String>,
    /// Wall time of the run.
    pub duration_ms: u64,
}

impl RunOutcome {
    /// A passed run (for tests and synthetic reports).
    pub fn passed(duration_ms: u64) -> Self {
        RunOutcome {
            outcome: Outcome::Passed,
            failures: Vec::new(),
            error: None,
            duration_ms,
        }
    }

    /// A failed run with these failing expectations.
    pub fn failed(failures: Vec<ExpectationResult>, duration_ms: u64) -> Self {
        RunOutcome {
            outcome: Outcome::Failed,
            failures,
            error: None,
            duration_ms,
        }
    }

    /// A run that could not be carried out.
    pub fn error(error: impl Into<String>, duration_ms: u64) -> Self {
        RunOutcome {
            outcome: Outcome::Error,
            failures: Vec::new(),
            error: Some(error.into()),
            duration_ms,
        }
    }

    /// The first failing expectation that is a literal of the table.
    pub fn first_literal_failure(&self) -> Option<&ExpectationResult> {
        self.failures
            .iter()
            .find(|e| e.verdict == Verdict::Fail && e.what.is_literal())
    }
}

impl From<&ScenarioResult> for RunOutcome {
    fn from(r: &ScenarioResult) -> Self {
        RunOutcome {
            outcome: r.outcome,
            failures: r.failures().cloned().collect(),
            error: r.error.clone(),
            duration_ms: r.duration_ms,
        }
    }
}

/// One cell: one mutant on one scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "cell", rename_all = "kebab-case")]
pub enum Cell {
    /// A literal expectation failed on the mutant; the reference passed.
    Killed {
        /// The first literal expectation that failed.
        expectation: ExpectationResult,
    },
    /// The scenario ran on the mutant and the reference passed it, but no
    /// literal expectation failed.
    Survived {
        /// Why a failure did not count, when the mutant's run failed off the table.
        note: Option<String>,
    },
    /// No verdict: an error on either side, or the reference did not pass.
    Unknown {
        /// Why.
        reason: String,
    },
    /// Not run (without `--full`, a killed mutant runs no further scenario).
    NotRun,
}

impl Cell {
    /// The matrix symbol: `K`, `.`, `?`, `-`.
    pub fn symbol(&self) -> char {
        match self {
            Cell::Killed { .. } => 'K',
            Cell::Survived { .. } => '.',
            Cell::Unknown { .. } => '?',
            Cell::NotRun => '-',
        }
    }
}

/// Judges one cell from the reference's and the mutant's runs of one scenario.
pub fn judge(reference: Option<&RunOutcome>, mutant: Option<&RunOutcome>) -> Cell {
    let Some(m) = mutant else {
        return Cell::NotRun;
    };
    if matches!(m.outcome, Outcome::NotRun | Outcome::NotClaimed) {
        return Cell::NotRun;
    }
    if m.outcome == Outcome::Error {
        return Cell::Unknown {
            reason: format!(
                "the mutant's run ended in an error: {}",
                first_line(m.error.as_deref())
            ),
        };
    }
    match reference.map(|r| r.outcome) {
        Some(Outcome::Passed) => {}
        Some(Outcome::Failed) => {
            return Cell::Unknown {
                reason: "the reference failed this scenario: it judges nothing".to_owned(),
            }
        }
        Some(Outcome::Error) => {
            return Cell::Unknown {
                reason: format!(
                    "the reference's run ended in an error: {}",
                    first_line(reference.and_then(|r| r.error.as_deref()))
                ),
            }
        }
        Some(Outcome::NotClaimed | Outcome::NotRun) | None => {
            return Cell::Unknown {
                reason: "the reference did not run this scenario".to_owned(),
            }
        }
    }
    match (m.outcome, m.first_literal_failure()) {
        (Outcome::Failed, Some(e)) => Cell::Killed {
            expectation: e.clone(),
        },
        (Outcome::Failed, None) => Cell::Survived {
            note: Some(format!(
                "failed, but on no literal expectation: {}",
                m.failures.first().map_or_else(
                    || "no failing expectation recorded".to_owned(),
                    ToString::to_string
                )
            )),
        },
        _ => Cell::Survived { note: None },
    }
}

fn first_line(s: Option<&str>) -> String {
    s.and_then(|s| s.lines().next())
        .unwrap_or("no message")
        .to_owned()
}

/// Everything a matrix run produced: the input of [`compute`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcomes {
    /// The scenarios, in table order (the columns).
    pub scenarios: Vec<String>,
    /// The mutants, in the gateway's order (the rows).
    pub mutants: Vec<String>,
    /// The reference's run of each scenario (`None`: not run).
    pub reference: Vec<Option<RunOutcome>>,
    /// `runs[m][s]`: mutant `m`'s run of scenario `s` (`None`: not run).
    pub runs: Vec<Vec<Option<RunOutcome>>>,
}

impl Outcomes {
    /// No run yet, for these scenarios and mutants.
    pub fn new(scenarios: Vec<String>, mutants: Vec<String>) -> Self {
        let (ns, nm) = (scenarios.len(), mutants.len());
        Outcomes {
            scenarios,
            mutants,
            reference: vec![None; ns],
            runs: vec![vec![None; ns]; nm],
        }
    }

    /// The reference's run of scenario `s`.
    pub fn reference_of(&self, s: usize) -> Option<&RunOutcome> {
        self.reference.get(s).and_then(Option::as_ref)
    }

    /// Mutant `m`'s run of scenario `s`.
    pub fn run_of(&self, m: usize, s: usize) -> Option<&RunOutcome> {
        self.runs
            .get(m)
            .and_then(|row| row.get(s))
            .and_then(Option::as_ref)
    }

    /// The cell of mutant `m` on scenario `s`.
    pub fn cell(&self, m: usize, s: usize) -> Cell {
        judge(self.reference_of(s), self.run_of(m, s))
    }

    /// Whether mutant `m` is killed by a scenario already.
    pub fn killed(&self, m: usize) -> bool {
        (0..self.scenarios.len()).any(|s| matches!(self.cell(m, s), Cell::Killed { .. }))
    }

    /// How many runs were made, the reference's included.
    pub fn run_count(&self) -> usize {
        self.reference.iter().flatten().count() + self.runs.iter().flatten().flatten().count()
    }
}

/// The reference's cell of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceCell {
    /// The scenario.
    pub scenario: String,
    /// How the reference's run ended (`None`: not run).
    pub outcome: Option<Outcome>,
    /// Its first failing expectation or error, one line.
    pub detail: Option<String>,
    /// Wall time.
    pub duration_ms: Option<u64>,
}

impl ReferenceCell {
    /// The matrix symbol of the reference row: `p` passed, `F` failed, `?` error, `-` not run.
    pub fn symbol(&self) -> char {
        match self.outcome {
            Some(Outcome::Passed) => 'p',
            Some(Outcome::Failed) => 'F',
            Some(Outcome::Error) => '?',
            Some(Outcome::NotClaimed | Outcome::NotRun) | None => '-',
        }
    }
}

/// The verdict on one mutant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum RowVerdict {
    /// Killed; by the first killing scenario in table order.
    Killed {
        /// That scenario.
        scenario: String,
        /// Its column (0-based).
        column: usize,
        /// The literal expectation that failed.
        expectation: ExpectationResult,
    },
    /// Every scenario ran with a verdict and none killed it: a hole in the table.
    Survived,
    /// Not killed, and some scenario gave no verdict: cannot tell.
    Unknown,
}

impl RowVerdict {
    /// One word.
    pub fn as_str(&self) -> &'static str {
        match self {
            RowVerdict::Killed { .. } => "killed",
            RowVerdict::Survived => "SURVIVED",
            RowVerdict::Unknown => "unknown",
        }
    }
}

/// One mutant's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The mutant's name.
    pub mutant: String,
    /// One cell per scenario, in table order.
    pub cells: Vec<Cell>,
    /// The verdict.
    pub verdict: RowVerdict,
    /// Runs made for this mutant.
    pub runs: usize,
}

/// Counts of a matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct MatrixSummary {
    /// Mutants killed.
    pub killed: usize,
    /// Mutants that survived every scenario.
    pub survived: usize,
    /// Mutants without a verdict.
    pub unknown: usize,
    /// Scenarios the reference passed.
    pub reference_passed: usize,
    /// Scenarios the reference failed.
    pub reference_failed: usize,
    /// Reference runs and mutant runs that ended in an error.
    pub errors: usize,
    /// Runs made, the reference's included.
    pub runs: usize,
}

/// The kill matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matrix {
    /// The columns.
    pub scenarios: Vec<String>,
    /// The reference's row.
    pub reference: Vec<ReferenceCell>,
    /// One row per mutant.
    pub rows: Vec<Row>,
    /// Counts.
    pub summary: MatrixSummary,
    /// 0 every mutant killed and the reference passed everything; 1 the
    /// reference failed a scenario or a mutant was not killed; 2 an error.
    pub exit_code: u8,
}

/// Computes the matrix from the outcomes of a run.
pub fn compute(o: &Outcomes) -> Matrix {
    let reference = reference_row(o);
    let rows: Vec<Row> = o
        .mutants
        .iter()
        .enumerate()
        .map(|(m, name)| mutant_row(o, m, name))
        .collect();
    let summary = summarize(o, &reference, &rows);
    let reference_missing = reference.iter().any(|c| c.outcome.is_none());
    let tally = crate::verdict::Tally {
        held: summary.killed,
        broke: summary.reference_failed + summary.survived + summary.unknown,
        errors: summary.errors + usize::from(reference_missing),
        not_run: 0,
    };
    Matrix {
        scenarios: o.scenarios.clone(),
        reference,
        rows,
        summary,
        exit_code: tally.verdict().exit_code(),
    }
}

/// The reference's row: each scenario's outcome, and why it did not pass.
fn reference_row(o: &Outcomes) -> Vec<ReferenceCell> {
    o.scenarios
        .iter()
        .enumerate()
        .map(|(s, name)| {
            let r = o.reference_of(s);
            ReferenceCell {
                scenario: name.clone(),
                outcome: r.map(|r| r.outcome),
                detail: r.and_then(|r| match r.outcome {
                    Outcome::Passed => None,
                    Outcome::NotClaimed => Some("not claimed".to_owned()),
                    Outcome::NotRun => Some("not run".to_owned()),
                    Outcome::Error => Some(first_line(r.error.as_deref())),
                    Outcome::Failed => r.failures.first().map(ToString::to_string),
                }),
                duration_ms: r.map(|r| r.duration_ms),
            }
        })
        .collect()
}

/// Mutant `m`'s row: its cells, and its verdict (killed by the first
/// scenario that killed it; survived only when every cell says so).
fn mutant_row(o: &Outcomes, m: usize, name: &str) -> Row {
    let cells: Vec<Cell> = (0..o.scenarios.len()).map(|s| o.cell(m, s)).collect();
    let first_kill = cells.iter().enumerate().find_map(|(s, c)| match c {
        Cell::Killed { expectation } => Some((s, expectation.clone())),
        _ => None,
    });
    let verdict = match first_kill {
        Some((column, expectation)) => RowVerdict::Killed {
            scenario: o.scenarios[column].clone(),
            column,
            expectation,
        },
        None if cells.iter().all(|c| matches!(c, Cell::Survived { .. })) => RowVerdict::Survived,
        None => RowVerdict::Unknown,
    };
    let runs = o.runs.get(m).map_or(0, |r| r.iter().flatten().count());
    Row {
        mutant: name.to_owned(),
        cells,
        verdict,
        runs,
    }
}

/// The matrix's counts.
fn summarize(o: &Outcomes, reference: &[ReferenceCell], rows: &[Row]) -> MatrixSummary {
    let count = |f: &dyn Fn(&RowVerdict) -> bool| rows.iter().filter(|r| f(&r.verdict)).count();
    let ref_count = |x: Outcome| reference.iter().filter(|c| c.outcome == Some(x)).count();
    let errors = o
        .reference
        .iter()
        .chain(o.runs.iter().flatten())
        .flatten()
        .filter(|r| r.outcome == Outcome::Error)
        .count();
    MatrixSummary {
        killed: count(&|v| matches!(v, RowVerdict::Killed { .. })),
        survived: count(&|v| matches!(v, RowVerdict::Survived)),
        unknown: count(&|v| matches!(v, RowVerdict::Unknown)),
        reference_passed: ref_count(Outcome::Passed),
        reference_failed: ref_count(Outcome::Failed),
        errors,
        runs: o.run_count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(what: ExpectationId, expected: &str, seen: &str) -> ExpectationResult {
        ExpectationResult::compare(what, expected, seen, false)
    }

    fn boot_action() -> ExpectationId {
        ExpectationId::expect(Table::Boot, Some("default"), "action")
    }

    fn gateway_state() -> ExpectationId {
        ExpectationId::expect(Table::Terminal, Some("default"), "gateway_state")
    }

    fn literal() -> RunOutcome {
        RunOutcome::failed(vec![fail(gateway_state(), "running", "stopped")], 10)
    }

    fn pass() -> RunOutcome {
        RunOutcome::passed(10)
    }

    fn outcomes(
        reference: Vec<Option<RunOutcome>>,
        runs: Vec<Vec<Option<RunOutcome>>>,
    ) -> Outcomes {
        Outcomes {
            scenarios: (0..reference.len()).map(|i| format!("s{i}")).collect(),
            mutants: (0..runs.len()).map(|i| format!("m{i}")).collect(),
            reference,
            runs,
        }
    }

    #[test]
    fn a_literal_failure_where_the_reference_passed_is_a_kill() {
        let c = judge(Some(&pass()), Some(&literal()));
        assert_eq!(c.symbol(), 'K');
        assert!(matches!(c, Cell::Killed { expectation } if expectation.what == gateway_state()));
    }

    #[test]
    fn an_error_is_unknown_never_a_kill() {
        // On the mutant's side…
        let c = judge(Some(&pass()), Some(&RunOutcome::error("docker said no", 1)));
        assert!(matches!(c, Cell::Unknown { ref reason } if reason.contains("docker said no")));
        // …and on the reference's, even though the mutant failed a literal.
        let c = judge(Some(&RunOutcome::error("timeout", 1)), Some(&literal()));
        assert!(matches!(c, Cell::Unknown { .. }));
        // An error with failing expectations left in it is still no kill.
        let mut half = literal();
        half.outcome = Outcome::Error;
        half.error = Some("destroying the target".into());
        assert_eq!(judge(Some(&pass()), Some(&half)).symbol(), '?');
    }

    #[test]
    fn a_scenario_the_reference_fails_judges_nothing() {
        let reference = RunOutcome::failed(vec![fail(boot_action(), "started", "registered")], 1);
        assert_eq!(judge(Some(&reference), Some(&literal())).symbol(), '?');
        assert_eq!(judge(Some(&reference), Some(&pass())).symbol(), '?');
        assert_eq!(judge(None, Some(&literal())).symbol(), '?');
    }

    #[test]
    fn a_failure_off_the_table_is_not_a_kill() {
        let m = RunOutcome::failed(
            vec![fail(
                ExpectationId::precondition("a running gateway of default to send SIGTERM to"),
                "up",
                "down",
            )],
            1,
        );
        let c = judge(Some(&pass()), Some(&m));
        assert!(matches!(c, Cell::Survived { note: Some(ref n) } if n.contains("no literal")));
    }

    #[test]
    fn only_literals_of_the_table_kill() {
        // A placeholder the runner could not fill is the runner's, not the
        // table's: a mutant that fails only there survives.
        let m = RunOutcome::failed(
            vec![fail(
                ExpectationId::setup_placeholders(1),
                "filled",
                "no pid",
            )],
            1,
        );
        assert_eq!(judge(Some(&pass()), Some(&m)).symbol(), '.');
        let m = RunOutcome::failed(
            vec![fail(
                ExpectationId::setup_exit_code(2, "gateway stop --profile b"),
                "0",
                "1",
            )],
            1,
        );
        assert_eq!(judge(Some(&pass()), Some(&m)).symbol(), 'K');
    }

    #[test]
    fn not_run_is_not_run() {
        assert_eq!(judge(Some(&pass()), None), Cell::NotRun);
    }

    #[test]
    fn every_mutant_killed_and_the_reference_passing_exits_0() {
        let m = compute(&outcomes(
            vec![Some(pass()), Some(pass())],
            vec![
                vec![Some(literal()), None],
                vec![Some(pass()), Some(literal())],
            ],
        ));
        assert_eq!(m.exit_code, 0);
        assert_eq!(m.summary.killed, 2);
        assert_eq!(m.summary.runs, 5);
        assert!(
            matches!(&m.rows[1].verdict, RowVerdict::Killed { scenario, column: 1, .. } if scenario == "s1")
        );
    }

    #[test]
    fn the_first_kill_is_the_first_in_table_order() {
        let m = compute(&outcomes(
            vec![Some(pass()), Some(pass())],
            vec![vec![Some(literal()), Some(literal())]],
        ));
        assert!(matches!(
            &m.rows[0].verdict,
            RowVerdict::Killed { column: 0, .. }
        ));
    }

    #[test]
    fn a_survivor_exits_1() {
        let m = compute(&outcomes(
            vec![Some(pass()), Some(pass())],
            vec![
                vec![Some(literal()), None],
                vec![Some(pass()), Some(pass())],
            ],
        ));
        assert_eq!(m.rows[1].verdict, RowVerdict::Survived);
        assert_eq!((m.summary.survived, m.exit_code), (1, 1));
    }

    #[test]
    fn the_reference_failing_a_scenario_exits_1() {
        let reference = RunOutcome::failed(vec![fail(boot_action(), "started", "registered")], 1);
        let m = compute(&outcomes(
            vec![Some(pass()), Some(reference)],
            vec![vec![Some(literal()), None]],
        ));
        assert_eq!(m.summary.killed, 1);
        assert_eq!((m.summary.reference_failed, m.exit_code), (1, 1));
        assert_eq!(m.reference[1].symbol(), 'F');
    }

    #[test]
    fn an_error_exits_2_even_when_everything_else_is_killed() {
        let m = compute(&outcomes(
            vec![Some(pass()), Some(pass())],
            vec![vec![Some(literal()), Some(RunOutcome::error("boom", 1))]],
        ));
        assert_eq!(m.summary.killed, 1);
        assert_eq!((m.summary.errors, m.exit_code), (1, 2));
    }

    #[test]
    fn an_error_wins_over_a_reference_failure_and_a_survivor() {
        let reference = RunOutcome::failed(vec![fail(boot_action(), "started", "registered")], 1);
        let m = compute(&outcomes(
            vec![
                Some(RunOutcome::error("boom", 1)),
                Some(reference),
                Some(pass()),
            ],
            vec![vec![Some(pass()), Some(pass()), Some(pass())]],
        ));
        assert_eq!(m.exit_code, 2);
    }

    #[test]
    fn a_mutant_left_without_a_verdict_is_unknown_not_survived() {
        // Errors only: no kill, but not every scenario judged it.
        let m = compute(&outcomes(
            vec![Some(pass()), Some(pass())],
            vec![vec![Some(pass()), Some(RunOutcome::error("boom", 1))]],
        ));
        assert_eq!(m.rows[0].verdict, RowVerdict::Unknown);
        assert_eq!(m.exit_code, 2);
        // A scenario not run leaves no verdict either.
        let m = compute(&outcomes(
            vec![Some(pass()), Some(pass())],
            vec![vec![Some(pass()), None]],
        ));
        assert_eq!(m.rows[0].verdict, RowVerdict::Unknown);
        assert_eq!(m.exit_code, 1);
    }

    #[test]
    fn a_missing_reference_run_exits_2() {
        let m = compute(&outcomes(
            vec![Some(pass()), None],
            vec![vec![Some(literal()), None]],
        ));
        assert_eq!(m.exit_code, 2);
    }
}
