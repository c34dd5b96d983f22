//! `report merge`: the JSON reports of a run's shards as one report, with the
//! human table on stdout, JSON, JUnit and HTML where asked, and the verdict of
//! `run` as the exit code.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::output::emit;
use super::run::{write_reports, ReportFiles};
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
    /// The merged report's files.
    #[command(flatten)]
    pub files: ReportFiles,
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
    let title = match args.parts.len() {
        1 => "restart-harness report".to_owned(),
        n => format!("restart-harness: {n} shards merged"),
    };
    write_reports(&args.files, &report, &title)?;
    Ok(report.exit_code())
}
