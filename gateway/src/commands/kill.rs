//! `gateway kill PID SIGNAL`: a bare kill(2), no marker (the image has no shell).

use std::str::FromStr;

use nix::errno::Errno;
use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

use crate::exit::CommandError;

/// Parses `SIGTERM`, `TERM`, `15` (names in any case): any signal nix knows.
pub fn parse_signal(raw: &str) -> Result<Signal, CommandError> {
    let word = raw.trim();
    let parsed = if let Ok(n) = word.parse::<i32>() {
        Signal::try_from(n).ok()
    } else {
        let upper = word.to_ascii_uppercase();
        let name = if upper.starts_with("SIG") {
            upper
        } else {
            format!("SIG{upper}")
        };
        Signal::from_str(&name).ok()
    };
    parsed.ok_or_else(|| {
        CommandError::usage(format!(
            "unknown signal `{raw}`: give a name like SIGTERM or TERM, or a number like 15"
        ))
    })
}

/// Sends `signal` to `pid`. Exit 2 for a bad pid or signal, 1 when the process
/// does not exist or may not be signalled.
pub fn kill(pid: i32, signal: &str) -> Result<i32, CommandError> {
    let sig = parse_signal(signal)?;
    // 0 and negative pids address process groups; a typo there would signal many.
    if pid <= 0 {
        return Err(CommandError::usage(format!(
            "`{pid}` is not a process id: give one positive pid (process groups are not supported)"
        )));
    }
    match signal::kill(Pid::from_raw(pid), sig) {
        Ok(()) => Ok(crate::exit::OK),
        Err(Errno::ESRCH) => Err(CommandError::failed(format!("no such process {pid}"))),
        Err(Errno::EPERM) => Err(CommandError::failed(format!(
            "not permitted to send {sig} to {pid}: run as its user"
        ))),
        Err(e) => Err(CommandError::failed(format!("sending {sig} to {pid}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("SIGTERM", Signal::SIGTERM)]
    #[case("TERM", Signal::SIGTERM)]
    #[case("15", Signal::SIGTERM)]
    #[case("term", Signal::SIGTERM)]
    #[case("SIGKILL", Signal::SIGKILL)]
    #[case("USR1", Signal::SIGUSR1)]
    #[case("1", Signal::SIGHUP)]
    fn signals_parse(#[case] raw: &str, #[case] sig: Signal) {
        assert_eq!(parse_signal(raw).ok(), Some(sig));
    }

    #[rstest]
    #[case("")]
    #[case("0")]
    #[case("-15")]
    #[case("999")]
    #[case("SIGFOO")]
    #[case("SIG")]
    fn bad_signals_are_usage_errors(#[case] raw: &str) {
        let err = parse_signal(raw).err().map(|e| e.code);
        assert_eq!(err, Some(crate::exit::USAGE));
    }
}
