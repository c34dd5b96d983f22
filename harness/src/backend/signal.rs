//! The signals the harness sends, by name: one enum from the scenario loader
//! to the driver that sends them, never a string in between.

use std::fmt;
use std::str::FromStr;

/// A signal the harness sends to a gateway or a supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signal {
    /// `SIGINT`: an interactive stop.
    Int,
    /// `SIGTERM`: a shutdown request (an operator stop only with its marker).
    Term,
    /// `SIGHUP`: a hang-up, a shutdown signal like a bare SIGTERM.
    Hup,
    /// `SIGKILL`: no teardown at all.
    Kill,
    /// `SIGUSR1`: the contract's restart request.
    Usr1,
}

impl Signal {
    /// Every signal the table may name, in the order messages list them.
    pub const ALL: [Signal; 5] = [
        Signal::Int,
        Signal::Term,
        Signal::Hup,
        Signal::Kill,
        Signal::Usr1,
    ];

    /// Its name: `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
            Signal::Hup => "SIGHUP",
            Signal::Kill => "SIGKILL",
            Signal::Usr1 => "SIGUSR1",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A signal name the harness does not send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signal `{0}` is not allowed: use {names}", names = allowed())]
pub struct UnknownSignal(pub String);

/// Every name [`Signal::ALL`] has, as a refusal lists them.
fn allowed() -> String {
    Signal::ALL.map(Signal::name).join(", ")
}

impl FromStr for Signal {
    type Err = UnknownSignal;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Signal::ALL
            .into_iter()
            .find(|sig| sig.name() == s)
            .ok_or_else(|| UnknownSignal(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_and_others_are_refused() {
        for s in Signal::ALL {
            assert_eq!(s.name().parse::<Signal>(), Ok(s));
        }
        let e = "SIGSEGV".parse::<Signal>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "signal `SIGSEGV` is not allowed: use SIGINT, SIGTERM, SIGHUP, SIGKILL, SIGUSR1"
        );
    }
}
