//! `gateway run --profile P`: one gateway process (SPEC §3).

use crate::cli::Dirs;
use crate::exit::CommandError;

/// Runs a gateway until its first shutdown signal; returns its exit code.
pub fn main(_dirs: &Dirs, _profile: &str) -> Result<i32, CommandError> {
    Err(CommandError::usage("gateway run: not implemented yet"))
}
