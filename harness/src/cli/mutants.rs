//! `mutants`: the mutant gate. The table on the reference gateway and on each
//! deliberate bug of its `mutants` build, scored as a kill matrix.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use clap::Args;

use super::output::{emit, write};
use super::table::{filtered, TableArgs};
use super::target::BackendArg;
use super::values::parse_count;
use super::CliError;
use crate::mutants::{self as gate, report::MutantsReport, run as mrun};
use crate::runner::RunOptions;
use crate::scenario::Scenario;

/// `mutants`'s exit codes, for its `--help`.
pub const MUTANTS_EXIT_CODES: &str = "\
A mutant is killed by a scenario only when a literal expectation of that
scenario failed on the mutant while the reference passed the same scenario in
the same run. The mutant list comes from the gateway (`gateway mutants`).

Exit codes:
  0  the reference passed every scenario and every mutant was killed
  1  the reference failed a scenario, or a mutant survived every scenario
     (a hole in the table: add a scenario that kills it)
  2  no verdict: nothing ran, a run ended in an error (a harness or Docker
     error is \"unknown\", never a kill), or the command line was refused";

/// `mutants`.
#[derive(Debug, Clone, Args)]
pub struct MutantsArgs {
    /// Which scenarios.
    #[command(flatten)]
    pub table: TableArgs,
    /// Which backend runs the scenarios (the reference and the mutants build
    /// of the gateway; on Docker their two images).
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendArg,
    /// Runs at once (default: the number of cores).
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = parse_count)]
    pub jobs: Option<usize>,
    /// Also write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write an HTML page: the kill matrix, and each run worth a closer
    /// look (the reference failing, a run that ended in error) drawn as a
    /// timeline.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Run every scenario on every mutant; by default a mutant stops at its
    /// first kill.
    #[arg(long)]
    pub full: bool,
    /// Only this mutant (repeatable; default: every mutant the gateway lists).
    #[arg(long = "mutant", value_name = "NAME")]
    pub mutants: Vec<String>,
}

/// `mutants`: runs the kill matrix, prints it, writes JSON; returns the exit code.
pub async fn mutants(args: &MutantsArgs) -> Result<u8, CliError> {
    let scenarios = filtered(&args.table)?;
    let prepared = mrun::prepare(args.backend.into()).await?;
    let kind = prepared.backends.kind();
    let scenarios: Vec<Scenario> = scenarios
        .into_iter()
        .filter(|s| s.runs_on(kind) && mrun::in_the_gate(s))
        .collect();
    if scenarios.is_empty() {
        return Err(CliError::Nothing(kind));
    }
    let mutants = gate::select(prepared.mutants, &args.mutants)?;
    // A kill needs the whole table, so a shard of the gate is a share of the
    // mutants, each against every scenario: every shard's verdict stands on
    // its own.
    let total = mutants.len();
    let mutants = match args.table.partition {
        Some(p) => p.select(mutants, |m| m.name.as_str()),
        None => mutants,
    };
    if mutants.is_empty() {
        if let Some(code) = super::table::empty_shard(&args.table, total, "mutants") {
            return Ok(code);
        }
    }
    let plan = mrun::Plan {
        scenarios,
        mutants,
        full: args.full,
        jobs: args.jobs.unwrap_or_else(|| RunOptions::default().jobs),
        waits: RunOptions::default().waits,
    };
    let bar = spinner(&prepared.backends.describe);
    let run = mrun::run(&prepared.backends, &plan, on_run(bar.clone())).await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = MutantsReport::new(prepared.backends.describe.clone(), kind, &plan, run);
    emit(&gate::report::render(&report));
    if let Some(p) = &args.html {
        let runs: Vec<crate::runner::ScenarioResult> = report
            .problems
            .iter()
            .map(|pr| crate::runner::ScenarioResult {
                name: format!("{} on {}", pr.result.name, pr.subject),
                ..pr.result.clone()
            })
            .collect();
        let refs: Vec<&crate::runner::ScenarioResult> = runs.iter().collect();
        let page = crate::report::html::render_runs(
            "restart-harness mutants",
            &gate::report::table(&report),
            &refs,
        );
        write(p, &page)?;
    }
    if let Some(p) = &args.json {
        let text = gate::report::json(&report).map_err(|e| CliError::render("JSON report", e))?;
        write(p, &text)?;
    }
    Ok(report.exit_code())
}

/// A spinner on a terminal; nothing when stdout is not one.
fn spinner(described: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
        b.set_style(style);
    }
    b.enable_steady_tick(std::time::Duration::from_millis(200));
    b.set_message(format!("on {described}"));
    Some(b)
}

/// Counts the runs as they end and shows the last on the spinner.
fn on_run(bar: Option<indicatif::ProgressBar>) -> mrun::OnRun {
    let count = AtomicUsize::new(0);
    Arc::new(move |subject, r| {
        let n = count.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(b) = &bar {
            b.set_message(format!(
                "{n} runs; {subject} on {}: {}",
                r.name,
                r.outcome.as_str()
            ));
        }
    })
}
