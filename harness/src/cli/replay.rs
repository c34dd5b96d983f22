//! `replay`: one scenario, with its expectations and its whole timeline.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::output::emit;
use super::table::load_table;
use super::target::{describe, one_backend, resolve, target_label, TargetArgs};
use super::CliError;
use crate::report::{self, RunReport};
use crate::runner::{self, RunOptions};

/// `replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// The scenario's name.
    pub name: String,
    /// A scenario file or a directory of them (default: the embedded table).
    #[arg(long, value_name = "PATH")]
    pub scenarios: Option<PathBuf>,
    /// Which gateway, on which backend.
    #[command(flatten)]
    pub target: TargetArgs,
}

/// `replay`: runs one scenario and prints its expectations and whole timeline.
pub async fn replay(args: &ReplayArgs) -> Result<u8, CliError> {
    let all = load_table(args.scenarios.as_deref())?;
    let s = all
        .into_iter()
        .find(|s| s.name == args.name)
        .ok_or_else(|| CliError::NoSuchScenario(args.name.clone()))?;
    let resolved = resolve(&args.target)?;
    let backend = one_backend(&resolved, "replay").await?;
    if !s.runs_on(backend.kind()) {
        return Err(CliError::Nothing(backend.kind()));
    }
    let label = target_label(&resolved.target);
    let described = describe(&*backend, &resolved.target);
    let opts = RunOptions {
        env: resolved.env,
        jobs: 1,
        ..RunOptions::for_target(resolved.target)
    };
    let start = Instant::now();
    let r = runner::run_scenario(&*backend, &s, &opts).await;
    let report = RunReport::new(
        described,
        backend.kind(),
        1,
        u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        vec![r],
    )
    .with_target(label);
    emit(&format!("{}\n", report::human::header(&report)));
    for r in &report.results {
        emit(&report::human::detail(r));
    }
    if let Some(why) = report.verdict().explain() {
        emit(&format!("\n{why}\n"));
    }
    Ok(report.exit_code())
}
