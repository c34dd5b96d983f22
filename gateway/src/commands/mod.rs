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
/// `gateway ping`.
pub fn ping(_dirs: &Dirs, _profile: &str) -> Result<i32, CommandError> {
    Err(CommandError::usage("not implemented yet"))
}
/// `gateway kill`.
pub fn kill(_pid: i32, _signal: &str) -> Result<i32, CommandError> {
    Err(CommandError::usage("not implemented yet"))
}
/// `gateway balloon`.
pub fn balloon(_dirs: &Dirs, _mib: u64, _profile: &str) -> Result<i32, CommandError> {
    Err(CommandError::usage("not implemented yet"))
}
