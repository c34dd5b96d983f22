//! The operator and helper commands (SPEC §5).

use crate::cli::{ControlArgs, Dirs};
use crate::exit::CommandError;

/// `gateway stop`.
pub fn stop(_args: &ControlArgs) -> Result<i32, CommandError> {
    Err(CommandError::usage("not implemented yet"))
}
/// `gateway start`.
pub fn start(_args: &ControlArgs) -> Result<i32, CommandError> {
    Err(CommandError::usage("not implemented yet"))
}
/// `gateway restart`.
pub fn restart(_args: &ControlArgs) -> Result<i32, CommandError> {
    Err(CommandError::usage("not implemented yet"))
}
/// `gateway status`.
pub fn status(_dirs: &Dirs, _json: bool) -> Result<i32, CommandError> {
    Err(CommandError::usage("not implemented yet"))
}
pub mod balloon;
pub mod kill;
pub mod ping;

/// `gateway ping`.
pub fn ping(dirs: &Dirs, profile: &str) -> Result<i32, CommandError> {
    ping::ping(dirs, profile)
}
/// `gateway kill`.
pub fn kill(pid: i32, signal: &str) -> Result<i32, CommandError> {
    kill::kill(pid, signal)
}
/// `gateway balloon`.
pub fn balloon(dirs: &Dirs, mib: u64, profile: &str) -> Result<i32, CommandError> {
    balloon::balloon(dirs, mib, profile)
}
