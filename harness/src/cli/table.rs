//! Where a command's scenarios come from: `--scenarios` or the embedded
//! table, narrowed by `--filter`.

use std::path::PathBuf;

use clap::Args;

use super::output::emit;
use super::CliError;
use crate::partition::Partition;
use crate::report::Shard;
use crate::scenario::{self, LoadError, Scenario};

/// Where the table comes from.
#[derive(Debug, Clone, Args)]
pub struct TableArgs {
    /// A scenario file or a directory of them (default: the embedded table).
    #[arg(long, value_name = "PATH")]
    pub scenarios: Option<PathBuf>,
    /// Only scenarios whose name matches this regular expression.
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,
    /// Only this shard of the scenarios selected: `count:K/N` (round-robin in
    /// table order) or `hash:K/N` (by name); N jobs with K = 1..N run each
    /// scenario once (`report merge` joins their JSON reports).
    #[arg(long, value_name = "count:K/N|hash:K/N", value_parser = parse_partition)]
    pub partition: Option<Partition>,
}

fn parse_partition(s: &str) -> Result<Partition, String> {
    s.parse::<Partition>().map_err(|e| e.why.to_owned())
}

/// Loads the table: `--scenarios` or the embedded one.
pub fn load_table(path: Option<&std::path::Path>) -> Result<Vec<Scenario>, LoadError> {
    match path {
        Some(p) => scenario::load_path(p),
        None => scenario::embedded::load(),
    }
}

/// The table's scenarios that `--filter` keeps.
pub(super) fn filtered(table: &TableArgs) -> Result<Vec<Scenario>, CliError> {
    let all = load_table(table.scenarios.as_deref())?;
    let Some(pattern) = &table.filter else {
        return Ok(all);
    };
    let re = regex::Regex::new(pattern).map_err(|source| CliError::Filter {
        pattern: pattern.clone(),
        source,
    })?;
    Ok(all.into_iter().filter(|s| re.is_match(&s.name)).collect())
}

/// The scenarios of the run that are this shard's (all of them without
/// `--partition`), and the shard's description for the JSON report.
pub(super) fn shard_of(table: &TableArgs, whole: Vec<Scenario>) -> (Vec<Scenario>, Option<Shard>) {
    let Some(p) = table.partition else {
        return (whole, None);
    };
    let shard = Shard {
        partition: p.to_string(),
        table: whole.iter().map(|s| s.name.clone()).collect(),
    };
    let mine = p.select(whole, |s| s.name.as_str());
    (mine, Some(shard))
}

/// Says that this shard holds none of the `whole` items (`scenarios`,
/// `mutants`) and has nothing to run: a shard, not a verdict (exit 0; `report
/// merge` of every shard gives the run's verdict). `None` without
/// `--partition`.
pub(super) fn empty_shard(table: &TableArgs, whole: usize, items: &str) -> Option<u8> {
    let p = table.partition?;
    emit(&format!(
        "restart-harness: partition {p} holds none of the {whole} {items}: nothing to run in this shard (a shard, not a verdict)\n"
    ));
    Some(crate::verdict::exit::OK)
}
