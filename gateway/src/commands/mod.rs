//! The operator and helper commands (SPEC §5).

use crate::cli::{ControlArgs, Dirs};
use crate::exit::CommandError;

mod operator;
pub mod restart;
pub mod start;
pub mod status;
pub mod stop;

/// `gateway stop`.
pub fn stop(args: &ControlArgs) -> Result<i32, CommandError> {
    stop::stop(args)
}
/// `gateway start`.
pub fn start(args: &ControlArgs) -> Result<i32, CommandError> {
    start::start(args)
}
/// `gateway restart`.
pub fn restart(args: &ControlArgs) -> Result<i32, CommandError> {
    restart::restart(args)
}
/// `gateway status`.
pub fn status(dirs: &Dirs, json: bool) -> Result<i32, CommandError> {
    status::status(dirs, json)
}
pub mod balloon;
pub mod kill;
pub mod ping;
pub mod watch;

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
