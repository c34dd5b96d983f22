//! `list`: one line per scenario; with `--target`, what that target claims
//! and which scenarios run on it; with `--claims`, every claim.

use clap::Args;

use super::table::{filtered, TableArgs};
use super::CliError;
use crate::scenario::Scenario;
use crate::target::{Claim, Target};

/// `list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Which scenarios.
    #[command(flatten)]
    pub table: TableArgs,
    /// Show what this target claims, and which scenarios it does not claim.
    #[arg(long, value_name = "NAME[@VERSION]")]
    pub target: Option<String>,
    /// List every claim and the promise it names.
    #[arg(long, conflicts_with = "target")]
    pub claims: bool,
}

/// `list`: one line per scenario; what a target claims; every claim.
pub fn list(args: &ListArgs) -> Result<String, CliError> {
    if args.claims {
        return Ok(render_claims());
    }
    let (scenarios, _) = super::table::shard_of(&args.table, filtered(&args.table)?);
    match &args.target {
        None => Ok(render_list(&scenarios)),
        Some(t) => {
            // A release is not needed to say what the target claims.
            let name = t.split('@').next().unwrap_or(t);
            let target = Target {
                adapter: Target::adapter(name)?,
                version: None,
                image: None,
            };
            Ok(render_target(&target, &scenarios))
        }
    }
}

/// `list --claims`: every claim and its promise, core first.
pub fn render_claims() -> String {
    let w = Claim::ALL
        .iter()
        .map(|c| c.as_str().len())
        .max()
        .unwrap_or(8);
    let mut out = format!("{:<w$}  {:<8}  PROMISE\n", "CLAIM", "GROUP");
    for c in Claim::ALL {
        let group = if c.is_core() { "core" } else { "contract" };
        out.push_str(&format!(
            "{:<w$}  {group:<8}  {}\n",
            c.as_str(),
            c.sentence()
        ));
    }
    out
}

/// `list --target NAME`: what the target claims, then each scenario and
/// whether it runs on that target.
pub fn render_target(target: &Target, scenarios: &[Scenario]) -> String {
    let a = &target.adapter;
    let mut out = format!(
        "target {}: {}\nadapter {}, protocol {}, backends {}\n\nMAKES\n",
        a.name,
        a.about,
        a.source.display(),
        a.protocol.as_str(),
        a.backends
            .iter()
            .map(|b| b.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for c in Claim::ALL.iter().filter(|c| a.made.contains(c)) {
        out.push_str(&format!("  {c}\n"));
    }
    if !a.not_made.is_empty() {
        out.push_str("\nDOES NOT MAKE\n");
        for (c, why) in &a.not_made {
            out.push_str(&format!("  {c}: {why}\n"));
        }
    }
    let w = name_width(scenarios);
    out.push_str(&format!("\n{:<w$}  ON {}\n", "SCENARIO", a.name));
    for s in scenarios {
        let on = match target.unclaimed(&s.claims_needed()) {
            None if s.backends.iter().any(|b| a.backends.contains(b)) => "runs".to_owned(),
            None => "no common backend".to_owned(),
            Some((c, _)) => format!("not claimed ({c})"),
        };
        out.push_str(&format!("{:<w$}  {on}\n", s.name));
    }
    out
}

/// The width of the scenario-name column.
fn name_width(scenarios: &[Scenario]) -> usize {
    scenarios
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(8)
        .max(8)
}

/// The `list` output of `scenarios`.
pub fn render_list(scenarios: &[Scenario]) -> String {
    let w = name_width(scenarios);
    let fw = scenarios
        .iter()
        .map(|s| s.fault.to_string().len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!(
        "{:<w$}  {:<fw$}  {:<14}  WHY\n",
        "SCENARIO", "FAULT", "BACKENDS"
    );
    for s in scenarios {
        let backends: Vec<&str> = s.backends.iter().map(|b| b.as_str()).collect();
        out.push_str(&format!(
            "{:<w$}  {:<fw$}  {:<14}  {}\n",
            s.name,
            s.fault.to_string(),
            backends.join(","),
            s.why
        ));
    }
    out
}
