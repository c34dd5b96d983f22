//! The kill matrix for humans (a grid, one verdict line per mutant, a legend)
//! and as JSON for CI.

use std::fmt::Write as _;

use serde::Serialize;

use super::matrix::{Cell, Matrix, MatrixSummary, ReferenceCell, RowVerdict};
use super::run::{MatrixRun, Plan, Problem};
use super::MutantInfo;
use crate::backend::BackendKind;
use crate::report::human;

/// Everything a matrix run produced, ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct MutantsReport {
    /// Which backend ran, and what it ran.
    pub backend: String,
    /// The backend's kind.
    pub backend_kind: BackendKind,
    /// Runs at once.
    pub jobs: usize,
    /// Every scenario on every mutant (`--full`), or until the first kill.
    pub full: bool,
    /// Wall time of the whole matrix.
    pub wall_ms: u64,
    /// The rows' mutants, with what each models.
    pub mutants: Vec<MutantInfo>,
    /// The matrix.
    pub matrix: Matrix,
    /// Reference runs that did not pass and runs that ended in an error.
    pub problems: Vec<Problem>,
}

impl MutantsReport {
    /// The report of a finished run.
    pub fn new(backend: String, backend_kind: BackendKind, plan: &Plan, run: MatrixRun) -> Self {
        MutantsReport {
            backend,
            backend_kind,
            jobs: plan.jobs,
            full: plan.full,
            wall_ms: run.wall_ms,
            mutants: plan.mutants.clone(),
            matrix: super::matrix::compute(&run.outcomes),
            problems: run.problems,
        }
    }

    /// The gate's exit code (see [`super::matrix`]).
    pub fn exit_code(&self) -> u8 {
        self.matrix.exit_code
    }

    fn describe(&self, mutant: &str) -> &str {
        self.mutants
            .iter()
            .find(|m| m.name == mutant)
            .map_or("", |m| m.describe.as_str())
    }
}

fn secs(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

/// The first line: backend, size, mode.
pub fn header(r: &MutantsReport) -> String {
    format!(
        "restart-harness mutants: backend {}, {} scenario{} x {} mutant{}, -j {}, {}",
        r.backend,
        r.matrix.scenarios.len(),
        if r.matrix.scenarios.len() == 1 {
            ""
        } else {
            "s"
        },
        r.matrix.rows.len(),
        if r.matrix.rows.len() == 1 { "" } else { "s" },
        r.jobs,
        if r.full {
            "--full (every scenario on every mutant)"
        } else {
            "each mutant until its first kill"
        }
    )
}

/// Column numbers over the grid: tens on the first line, units on the second.
fn ruler(pad: usize, n: usize) -> String {
    let mut tens = " ".repeat(pad);
    let mut units = " ".repeat(pad);
    for i in 1..=n {
        tens.push(if i % 10 == 0 {
            char::from_digit(((i / 10) % 10) as u32, 10).unwrap_or('?')
        } else {
            ' '
        });
        units.push(char::from_digit((i % 10) as u32, 10).unwrap_or('?'));
    }
    // A table of fewer than ten scenarios needs no tens line.
    if tens.trim().is_empty() {
        format!("{units}\n")
    } else {
        format!("{}\n{units}\n", tens.trim_end())
    }
}

fn reference_suffix(cells: &[ReferenceCell], s: &MatrixSummary) -> String {
    let errors = cells.iter().filter(|c| c.symbol() == '?').count();
    format!(
        "passed {}/{}{}{}",
        s.reference_passed,
        cells.len(),
        if s.reference_failed > 0 {
            format!(", FAILED {}", s.reference_failed)
        } else {
            String::new()
        },
        if errors > 0 {
            format!(", {errors} error{}", if errors == 1 { "" } else { "s" })
        } else {
            String::new()
        }
    )
}

/// The scenario legend, column-major in three columns.
fn legend(scenarios: &[String]) -> String {
    let entries: Vec<String> = scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{:>2} {s}", i + 1))
        .collect();
    let cols = 3;
    let rows = entries.len().div_ceil(cols);
    let w = entries.iter().map(String::len).max().unwrap_or(0) + 2;
    let mut out = String::new();
    for r in 0..rows {
        let mut line = String::new();
        for c in 0..cols {
            if let Some(e) = entries.get(c * rows + r) {
                let _ = write!(line, "{e:<w$}");
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// The grid, the verdict lines, the legend and the summary.
pub fn table(r: &MutantsReport) -> String {
    let m = &r.matrix;
    let w = m
        .rows
        .iter()
        .map(|row| row.mutant.len())
        .chain([9])
        .max()
        .unwrap_or(9);
    let mut out = String::new();
    let _ = writeln!(out, "{}", header(r));
    let _ = writeln!(out);
    grid(&mut out, m, w);
    first_kills(&mut out, r, w);
    notes(&mut out, m);
    let _ = writeln!(out);
    let _ = writeln!(out, "SCENARIOS");
    out.push_str(&legend(&m.scenarios));
    summary(&mut out, r);
    out
}

/// The ruler, one line of symbols per row (the reference's first), and
/// what the symbols mean; `w` is the width of the name column.
fn grid(out: &mut String, m: &Matrix, w: usize) {
    out.push_str(&ruler(w + 2, m.scenarios.len()));
    let symbols: String = m.reference.iter().map(ReferenceCell::symbol).collect();
    let _ = writeln!(
        out,
        "{:<w$}  {symbols}  {}",
        "reference",
        reference_suffix(&m.reference, &m.summary)
    );
    for row in &m.rows {
        let symbols: String = row.cells.iter().map(Cell::symbol).collect();
        let _ = writeln!(
            out,
            "{:<w$}  {symbols}  {}",
            row.mutant,
            row.verdict.as_str()
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "K killed (a literal expectation failed; the reference passed)  . survived  \
         ? unknown (an error, or the reference did not pass)  - not run"
    );
    let _ = writeln!(out, "reference: p passed  F failed  ? error  - not run");
    let _ = writeln!(out);
}

/// One line per mutant: its verdict and the scenario that killed it first,
/// or why none did.
fn first_kills(out: &mut String, r: &MutantsReport, w: usize) {
    let _ = writeln!(out, "{:<w$}  {:<8}  FIRST KILL", "MUTANT", "VERDICT");
    for row in &r.matrix.rows {
        let line = match &row.verdict {
            RowVerdict::Killed {
                scenario,
                column,
                expectation: e,
            } => format!("{scenario} (#{}): {e}", column + 1),
            RowVerdict::Survived => format!(
                "none: a hole in the table; it models: {}",
                r.describe(&row.mutant)
            ),
            RowVerdict::Unknown => {
                let unknown = row
                    .cells
                    .iter()
                    .filter(|c| !matches!(c, Cell::Survived { .. }))
                    .count();
                format!(
                    "none, and {unknown} scenario{} gave no verdict",
                    if unknown == 1 { "" } else { "s" }
                )
            }
        };
        let _ = writeln!(
            out,
            "{:<w$}  {:<8}  {line}",
            row.mutant,
            row.verdict.as_str()
        );
    }
}

/// Why a cell survived with a note, or gave no verdict.
fn notes(out: &mut String, m: &Matrix) {
    let notes: Vec<String> = m
        .rows
        .iter()
        .flat_map(|row| {
            row.cells
                .iter()
                .zip(&m.scenarios)
                .filter_map(move |(c, s)| match c {
                    Cell::Survived { note: Some(n) } => Some(format!("{} on {s}: {n}", row.mutant)),
                    Cell::Unknown { reason } => Some(format!("{} on {s}: {reason}", row.mutant)),
                    _ => None,
                })
        })
        .collect();
    if notes.is_empty() {
        return;
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "NOTES");
    for n in notes {
        let _ = writeln!(out, "{n}");
    }
}

/// The counts and the exit code, and what to do about a survivor.
fn summary(out: &mut String, r: &MutantsReport) {
    let s = &r.matrix.summary;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{} killed, {} survived, {} unknown; reference {} passed, {} failed; {} error{}; {} runs in {}; exit {}",
        s.killed,
        s.survived,
        s.unknown,
        s.reference_passed,
        s.reference_failed,
        s.errors,
        if s.errors == 1 { "" } else { "s" },
        s.runs,
        secs(r.wall_ms),
        r.matrix.exit_code
    );
    if s.survived > 0 {
        let _ = writeln!(
            out,
            "A surviving mutant is a bug class the table lets through: add a scenario whose \
             literal expectations fail on it (docs/mutants.md); never delete the mutant."
        );
    }
}

/// The whole human report: the table, then every problem run's expectations and timeline.
pub fn render(r: &MutantsReport) -> String {
    let mut out = table(r);
    for p in &r.problems {
        out.push('\n');
        let _ = writeln!(out, "--- {}:", p.subject);
        out.push_str(&human::detail(&p.result));
    }
    out
}

/// One mutant in the JSON report.
#[derive(Debug, Serialize)]
struct JsonMutant<'a> {
    name: &'a str,
    describe: &'a str,
    #[serde(flatten)]
    verdict: &'a RowVerdict,
    runs: usize,
    /// Scenario name → cell, in table order.
    cells: serde_json::Map<String, serde_json::Value>,
}

/// The JSON report.
#[derive(Debug, Serialize)]
struct JsonReport<'a> {
    backend: &'a str,
    backend_kind: BackendKind,
    jobs: usize,
    full: bool,
    wall_ms: u64,
    exit_code: u8,
    summary: &'a MatrixSummary,
    scenarios: &'a [String],
    reference: &'a [ReferenceCell],
    mutants: Vec<JsonMutant<'a>>,
    problems: &'a [Problem],
}

/// The report as pretty JSON.
pub fn json(r: &MutantsReport) -> Result<String, serde_json::Error> {
    let mut mutants = Vec::new();
    for row in &r.matrix.rows {
        let mut cells = serde_json::Map::new();
        for (c, s) in row.cells.iter().zip(&r.matrix.scenarios) {
            cells.insert(s.clone(), serde_json::to_value(c)?);
        }
        mutants.push(JsonMutant {
            name: &row.mutant,
            describe: r.describe(&row.mutant),
            verdict: &row.verdict,
            runs: row.runs,
            cells,
        });
    }
    serde_json::to_string_pretty(&JsonReport {
        backend: &r.backend,
        backend_kind: r.backend_kind,
        jobs: r.jobs,
        full: r.full,
        wall_ms: r.wall_ms,
        exit_code: r.matrix.exit_code,
        summary: &r.matrix.summary,
        scenarios: &r.matrix.scenarios,
        reference: &r.matrix.reference,
        mutants,
        problems: &r.problems,
    })
}
