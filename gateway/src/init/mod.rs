//! `gateway init`: the supervisor (SPEC §4).

use crate::cli::Dirs;
use crate::exit::CommandError;

/// Options of `gateway init`.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Data and run dirs.
    pub dirs: Dirs,
    /// Profiles to create if missing.
    pub profiles: Vec<String>,
    /// Container-stop grace.
    pub grace_ms: u64,
    /// Crash-loop limit.
    pub crash_limit: u32,
    /// Crash-loop window.
    pub crash_window_s: u64,
}

/// Runs init until a container stop; returns its exit code.
pub fn main(_opts: InitOptions) -> Result<i32, CommandError> {
    Err(CommandError::usage("gateway init: not implemented yet"))
}
