//! `run`: the scenario table against one target, with the human report on
//! stdout and, if asked, JSON and JUnit reports.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;

use super::output::{emit, write};
use super::table::{empty_shard, filtered, shard_of, TableArgs};
use super::target::{backends_for, describe, resolve, target_label, TargetArgs};
use super::values::parse_count;
use super::CliError;
use crate::backend::Backend;
use crate::report::{self, RunReport};
use crate::runner::{self, RunOptions, ScenarioResult};
use crate::scenario::Scenario;

/// `run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Which scenarios.
    #[command(flatten)]
    pub table: TableArgs,
    /// Which gateway, on which backend.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Scenarios at once, on each engine (default: the number of cores).
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = parse_count)]
    pub jobs: Option<usize>,
    /// The report files to write.
    #[command(flatten)]
    pub files: ReportFiles,
}

/// The report files a run's report is also written to (`run`, `report merge`).
#[derive(Debug, Clone, Default, Args)]
pub struct ReportFiles {
    /// Also write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write one self-contained HTML page here, titled as the command
    /// says: the summary, and per scenario its expectations and its timeline
    /// drawn as SVG.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `run`: runs the table, prints the report, writes JSON and JUnit; returns the
/// exit code.
pub async fn run(args: &RunArgs) -> Result<u8, CliError> {
    let scenarios = filtered(&args.table)?;
    let resolved = resolve(&args.target)?;
    let engines: Vec<Arc<dyn Backend>> = backends_for(&resolved)
        .await?
        .into_iter()
        .map(Arc::from)
        .collect();
    let kind = engines
        .first()
        .map_or(crate::backend::BackendKind::Process, |b| b.kind());
    let label = target_label(&resolved.target);
    let described = engines
        .iter()
        .map(|b| describe(&**b, &resolved.target))
        .collect::<Vec<_>>()
        .join(" and ");
    let whole: Vec<Scenario> = scenarios.into_iter().filter(|s| s.runs_on(kind)).collect();
    if whole.is_empty() {
        return Err(CliError::Nothing(kind));
    }
    let total = whole.len();
    let (scenarios, shard) = shard_of(&args.table, whole);
    if scenarios.is_empty() {
        if let Some(code) = empty_shard(&args.table, total, "scenarios") {
            return Ok(code);
        }
    }
    let opts = RunOptions {
        env: resolved.env,
        jobs: args.jobs.unwrap_or_else(|| RunOptions::default().jobs),
        ..RunOptions::for_target(resolved.target)
    };
    let jobs = opts.jobs;
    let bar = progress_bar(scenarios.len(), &described);
    let bar_cb = bar.clone();
    let on_done: Arc<dyn Fn(&ScenarioResult) + Send + Sync> = Arc::new(move |r| {
        if let Some(b) = &bar_cb {
            b.inc(1);
            b.set_message(format!("{} {}", r.name, r.outcome.as_str()));
        }
    });
    let start = Instant::now();
    let results = runner::run_on_engines(engines, scenarios, opts, on_done).await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = RunReport::new(
        described,
        kind,
        jobs,
        u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        results,
    )
    .with_target(label)
    .with_partition(shard);
    emit(&report::human::render(&report));
    write_reports(&args.files, &report, "restart-harness run")?;
    Ok(report.exit_code())
}

/// A bar of `len` scenarios on a terminal; nothing when stdout is not one.
fn progress_bar(len: usize, described: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
    {
        b.set_style(style);
    }
    b.set_message(format!("on {described}"));
    Some(b)
}

/// The JSON, JUnit and HTML reports, where `files` asks; `title` titles the page.
pub(super) fn write_reports(
    files: &ReportFiles,
    report: &RunReport,
    title: &str,
) -> Result<(), CliError> {
    if let Some(p) = &files.json {
        let text = report::json::render(report).map_err(|e| CliError::render("JSON report", e))?;
        write(p, &text)?;
    }
    if let Some(p) = &files.junit {
        let text =
            report::junit::render(report).map_err(|e| CliError::render("JUnit report", e))?;
        write(p, &text)?;
    }
    if let Some(p) = &files.html {
        write(p, &report::html::render(report, title))?;
    }
    Ok(())
}
