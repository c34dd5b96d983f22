//! Where a command's scenarios come from: `--scenarios` or the embedded
//! table, narrowed by `--filter`.

use std::path::PathBuf;

use clap::Args;

use super::CliError;
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
