//! `explore`: seeded random schedules on a real target, each step compared
//! with a model of the contract; the first divergence shrunk and written as a
//! scenario file that replays it.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::output::{emit, write};
use super::target::{describe, one_backend, resolve, TargetArgs};
use super::validate::Misuse;
use super::values::{parse_budget, parse_count};
use super::CliError;
use crate::backend::{Backend, BackendKind};
use crate::explore::{self as ex, ExploreOptions, Found, Progress};
use crate::runner::RunOptions;
use crate::scenario;
use crate::target::{Claim, Target};
use crate::verdict::Tally;

/// `explore`'s exit codes, for its `--help`.
pub const EXPLORE_EXIT_CODES: &str = "\
Exit codes:
  0  every schedule agreed with the model within the budget
  1  a divergence was found (its shrunk schedule is written to --out)
  2  explore could not run (bad input, no backend, every schedule errored)";

/// `explore`.
#[derive(Debug, Clone, Args)]
pub struct ExploreArgs {
    /// Which gateway, on which backend.
    #[command(flatten)]
    pub target: TargetArgs,
    /// The seed: the same seed gives the same schedules.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Operations per schedule.
    #[arg(long, default_value_t = 8, value_name = "K", value_parser = parse_count)]
    pub steps: usize,
    /// Wall time for exploring, until a divergence: `90s`, `2m`, `1h`.
    #[arg(long, default_value = "2m", value_parser = parse_budget, value_name = "DURATION")]
    pub budget: std::time::Duration,
    /// Wall time for shrinking a divergence on the target.
    #[arg(long, default_value = "1m", value_parser = parse_budget, value_name = "DURATION")]
    pub shrink_budget: std::time::Duration,
    /// Stop after this many schedules, whatever the time (a budget that does
    /// not depend on the machine's speed).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub schedules: Option<usize>,
    /// Where the shrunk schedule is written, as `explored-seed-S-N.toml.new`
    /// (created if it does not exist).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub out: PathBuf,
    /// Also write an HTML page: the report, and the shrunk schedule's run
    /// drawn as a timeline.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Look past a known finding: draw no operation that needs CLAIM, as if
    /// the target did not make it (repeatable). Explore only: a gate (`run`)
    /// judges every claim the target makes.
    #[arg(long = "except-claim", value_name = "CLAIM")]
    pub except_claims: Vec<Claim>,
}

/// `explore`: explores, prints what it found, writes the scenario; returns the
/// exit code.
pub async fn explore(args: &ExploreArgs) -> Result<u8, CliError> {
    let resolved = resolve(&args.target)?;
    // Checked before any image is built.
    let target = except_claims(resolved.target.clone(), &args.except_claims)?;
    let backend: Arc<dyn Backend> = Arc::from(one_backend(&resolved, "explore").await?);
    let described = describe(&*backend, &resolved.target);
    let label = resolved.target.label();
    let kind = backend.kind();
    let opts = RunOptions {
        env: resolved.env,
        ..RunOptions::for_target(target)
    };
    let xo = ExploreOptions {
        seed: args.seed,
        steps: args.steps,
        budget: args.budget,
        shrink_budget: args.shrink_budget,
        max_schedules: args.schedules,
        ..ExploreOptions::default()
    };
    emit(&format!(
        "explore: target {label}, seed {}, {} operations per schedule, budget {:?}, on {described}\n",
        xo.seed, xo.steps, xo.budget,
    ));
    let report = ex::explore(backend, &opts, &xo, &print_progress).await;
    let text = crate::report::explore::render(&report);
    emit(&text);
    if let Some(p) = &args.html {
        write(p, &found_page(&report, &text, kind))?;
    }
    if let Some(found) = &report.found {
        let path = keep_found(args, &opts, found, xo.seed)?;
        emit(&format!(
            "wrote {}\nreplay it: restart-harness run --scenarios {}{}\n",
            path.display(),
            path.display(),
            replay_args(&args.target, &label, kind)
        ));
    }
    let verdict = Tally {
        held: report.agreed,
        broke: usize::from(report.found.is_some()),
        errors: report.errors.len(),
        not_run: 0,
    }
    .verdict();
    if let Some(why) = verdict.explain() {
        emit(&format!("{why}\n"));
    }
    Ok(verdict.exit_code())
}

/// One line per schedule as it ends.
fn print_progress(p: &Progress) {
    let line = match p {
        Progress::Agreed { index, len } => {
            format!("schedule {index}: agreed ({len} operations)")
        }
        Progress::Diverged { index, divergence } => {
            format!("schedule {index}: DIVERGED {divergence}")
        }
        Progress::Shrunk { len } => format!("  shrunk to {len} operations"),
        Progress::Error(e) => format!("schedule error: {e}"),
        Progress::Inconclusive { index, why } => {
            format!("schedule {index}: inconclusive, no verdict: {why}")
        }
    };
    emit(&format!("{line}\n"));
}

/// Writes the found scenario to `--out` and checks that it replays on the
/// target explored; returns where it is.
fn keep_found(
    args: &ExploreArgs,
    opts: &RunOptions,
    found: &Found,
    seed: u64,
) -> Result<PathBuf, CliError> {
    let path = ex::output_path(&args.out, found, seed);
    write(&path, &found.scenario)?;
    // What explore writes must replay on the target it explored.
    let written = scenario::load::parse_scenario(&path.display().to_string(), &found.scenario)?;
    if let Some((claim, reason)) = opts.target.unclaimed(&written.claims_needed()) {
        return Err(CliError::Unreplayable {
            path,
            claim,
            reason,
        });
    }
    Ok(path)
}

/// `target` without `claims` (`explore --except-claim`); a claim it does not
/// make is a misuse.
fn except_claims(target: Target, claims: &[Claim]) -> Result<Target, CliError> {
    if claims.is_empty() {
        return Ok(target);
    }
    let mut adapter = (*target.adapter).clone();
    for c in claims {
        if !adapter.made.contains(c) {
            return Err(Misuse::ExceptUnmade {
                claim: *c,
                target: target.label(),
            }
            .into());
        }
        adapter.made.retain(|m| m != c);
        adapter.not_made.insert(
            *c,
            "left out of this explore with --except-claim".to_owned(),
        );
    }
    Ok(Target {
        adapter: Arc::new(adapter),
        ..target
    })
}

/// The options that replay a found scenario on the target explore ran.
fn replay_args(t: &TargetArgs, label: &str, kind: BackendKind) -> String {
    let mut out = String::new();
    if label != crate::target::REFERENCE {
        out.push_str(&format!(" --target {label}"));
    }
    out.push_str(&format!(" --backend {kind}"));
    if let Some(image) = &t.image {
        out.push_str(&format!(" --image {image}"));
    }
    if let Some(g) = &t.gateway {
        out.push_str(&format!(" --gateway {}", g.display()));
    }
    if let Some(m) = &t.mutant {
        out.push_str(&format!(" --mutant {m}"));
    }
    out
}

/// The HTML page of an explore run: its report, and the run of the shrunk
/// schedule drawn like a scenario's.
fn found_page(report: &ex::ExploreReport, text: &str, kind: BackendKind) -> String {
    let title = format!("restart-harness explore, seed {}", report.seed);
    let Some(f) = &report.found else {
        return crate::report::html::render_runs(&title, text, &[]);
    };
    let run = crate::runner::ScenarioResult {
        name: format!("explored-seed-{}-{}", report.seed, f.schedule_index),
        why: f
            .schedule
            .iter()
            .enumerate()
            .map(|(i, m)| format!("{}. {m}", i + 1))
            .collect::<Vec<_>>()
            .join("; "),
        fault: f.divergence.to_string(),
        backend: kind,
        outcome: crate::runner::Outcome::Failed,
        duration_ms: f.timeline.last().map_or(0, |e| e.at_ms),
        expectations: vec![crate::check::ExpectationResult {
            what: crate::check::ExpectationId::precondition(format!(
                "after step {}: {} of {}",
                f.divergence.step, f.divergence.field, f.divergence.profile
            )),
            expected: format!("{} (the model)", f.divergence.expected),
            seen: f.divergence.seen.clone(),
            verdict: crate::check::Verdict::Fail,
        }],
        error: None,
        not_claimed: None,
        not_run: None,
        started_at: None,
        engine: None,
        timeline: f.timeline.clone(),
    };
    crate::report::html::render_runs(&title, text, &[&run])
}
