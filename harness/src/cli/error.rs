//! Why a command could not run ([`CliError`]), and the one mapping from it to
//! the process's exit code.

use std::path::PathBuf;

use crate::backend::{BackendError, BackendKind, SelectError};
use crate::mutants::MutantsError;
use crate::scenario::LoadError;
use crate::target::{Claim, TargetError};
use crate::verdict::exit;

use super::validate::Misuse;

/// Why the harness could not run: no verdict (exit 2). Each message names
/// what went wrong and what to do, and quotes what its source says (so the
/// message alone is the whole line `restart-harness: ...`).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line was refused (clap's message, as one line).
    #[error("{0}")]
    Usage(String),
    /// The table is wrong.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// `--filter` is not a regular expression.
    #[error(
        "--filter {pattern:?} is not a regular expression ({}): fix the pattern",
        one_line(.source)
    )]
    Filter {
        /// The pattern given.
        pattern: String,
        /// Why the regex crate refused it.
        #[source]
        source: regex::Error,
    },
    /// No backend.
    #[error(transparent)]
    Select(#[from] SelectError),
    /// Shards' reports that do not merge.
    #[error(transparent)]
    Merge(#[from] crate::report::merge::MergeError),
    /// The backend failed at something the command does itself (an image
    /// build, a sweep).
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// A report or a found scenario could not be written.
    #[error("writing {}: {source}; give a path in a directory you can write", path.display())]
    Write {
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A report could not be rendered (a harness bug).
    #[error("rendering the {what}: {source}; a bug of restart-harness, please report it")]
    Render {
        /// Which report (`JSON report`).
        what: &'static str,
        /// The serializer's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The async runtime could not be started.
    #[error("starting the async runtime: {0}; the machine may be out of threads or memory")]
    Runtime(#[source] std::io::Error),
    /// `replay` of a scenario that is not in the table.
    #[error("no scenario named `{0}`; `restart-harness list` shows them")]
    NoSuchScenario(String),
    /// The mutant gate could not be set up.
    #[error(transparent)]
    Mutants(#[from] MutantsError),
    /// The target could not be had.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The filter left nothing to run.
    #[error("no scenario to run on the {0} backend (check --filter and the scenarios' backends)")]
    Nothing(BackendKind),
    /// Explore wrote a scenario its own target does not claim (a harness bug).
    #[error(
        "explore wrote {path}, which its target does not claim ({claim}: {reason}), so it \
         would not replay there: a bug of restart-harness, please report it with that file"
    )]
    Unreplayable {
        /// The file written.
        path: PathBuf,
        /// The claim it needs.
        claim: Claim,
        /// Why the target does not make it.
        reason: String,
    },
    /// The command line asks for something the harness would not do as asked.
    #[error(transparent)]
    Misuse(#[from] Misuse),
}

impl CliError {
    /// The exit code of a command that ended in this error: no verdict, for
    /// every one of them (an error is never a verdict on the gateway).
    pub fn exit_code(&self) -> u8 {
        exit::NO_VERDICT
    }

    /// [`CliError::Write`].
    pub(super) fn write(path: &std::path::Path, source: std::io::Error) -> Self {
        CliError::Write {
            path: path.to_owned(),
            source,
        }
    }

    /// [`CliError::Render`].
    pub(super) fn render(
        what: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        CliError::Render {
            what,
            source: source.into(),
        }
    }
}

/// A regex error on one line: its last line (`unclosed group`), without the
/// pattern drawn above it.
fn one_line(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or_default();
    last.strip_prefix("error: ").unwrap_or(last).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_filter_is_one_line_naming_the_pattern() {
        let pattern = "(".to_owned();
        let Err(source) = regex::Regex::new(&pattern) else {
            panic!("`(` compiled");
        };
        let e = CliError::Filter { pattern, source };
        assert_eq!(
            e.to_string(),
            "--filter \"(\" is not a regular expression (unclosed group): fix the pattern"
        );
    }
}
