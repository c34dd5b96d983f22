//! `report merge`: the JSON reports of a run's shards as one report, with the
//! human table on stdout, JSON and JUnit where asked, and the verdict of
//! `run` as the exit code.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::output::{emit, write};
use super::CliError;
use crate::report::{self, merge};

/// `report`.
#[derive(Debug, Clone, Subcommand)]
pub enum ReportCommand {
    /// One report and one verdict from the JSON reports of a run's shards
    /// (`run --partition K/N --json`): every scenario of the run must be in
    /// exactly one of them.
    Merge(MergeArgs),
}

/// `report merge`.
#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
    /// The shards' JSON reports.
    #[arg(required = true, value_name = "PART.json")]
    pub parts: Vec<PathBuf>,
    /// Write the merged JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the merged JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the merged HTML page here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `report ...`; returns the exit code.
pub fn report(cmd: &ReportCommand) -> Result<u8, CliError> {
    match cmd {
        ReportCommand::Merge(args) => merged(args),
    }
}

fn merged(args: &MergeArgs) -> Result<u8, CliError> {
    let parts = merge::read(&args.parts)?;
    let report = merge::merge(&parts)?;
    emit(&format!(
        "restart-harness: merged {} reports\n",
        args.parts.len()
    ));
    emit(&report::human::render(&report));
    if let Some(p) = &args.json {
        let text = report::json::render(&report).map_err(|e| CliError::render("JSON report", e))?;
        write(p, &text)?;
    }
    if let Some(p) = &args.junit {
        let text =
            report::junit::render(&report).map_err(|e| CliError::render("JUnit report", e))?;
        write(p, &text)?;
    }
    if let Some(p) = &args.html {
        let title = match args.parts.len() {
            1 => "restart-harness report".to_owned(),
            n => format!("restart-harness: {n} shards merged"),
        };
        write(p, &report::html::render(&report, &title))?;
    }
    Ok(report.exit_code())
}
