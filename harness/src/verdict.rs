//! The one verdict rule of every command that gates: `run`, `replay`,
//! `mutants` and `explore` count what they did in a [`Tally`] and exit with
//! [`Tally::verdict`]'s code. A gate never says yes without looking: exit 0
//! needs at least one scenario (or schedule) that ran, every one of them held,
//! and nothing that ended in error (docs/cli.md, "Exit codes").

/// The exit codes, named (nextest's `exit_codes.rs`).
pub mod exit {
    /// Success; for a gate: looked, and everything held.
    pub const OK: u8 = 0;
    /// A literal expectation failed, a divergence was found, a mutant survived:
    /// the gate says no.
    pub const FAILED: u8 = 1;
    /// No verdict: nothing ran, an error, or a misuse of the command line.
    pub const NO_VERDICT: u8 = 2;
}

/// What one gating command did, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Ran, and held (a scenario passed, a schedule agreed, a mutant was killed).
    pub held: usize,
    /// Ran, and did not hold (a literal expectation failed, a divergence, a
    /// surviving mutant, a reference failure).
    pub broke: usize,
    /// Ended in an error of the harness or its backend: no verdict.
    pub errors: usize,
    /// Not run, and never counted as held: not claimed by the target, or a
    /// fault this machine cannot make.
    pub not_run: usize,
}

/// The verdict of a [`Tally`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Something ran, all of it held, nothing erred.
    Held,
    /// Something did not hold, and nothing erred.
    Broke,
    /// Something ended in error: the verdict is unknown (2 wins over 1).
    Error,
    /// Nothing ran: nothing was looked at, so nothing can be said.
    NothingRan,
}

impl Tally {
    /// The rule: an error wins, then a failure; otherwise yes only when
    /// something ran.
    pub fn verdict(&self) -> Verdict {
        if self.errors > 0 {
            Verdict::Error
        } else if self.broke > 0 {
            Verdict::Broke
        } else if self.held == 0 {
            Verdict::NothingRan
        } else {
            Verdict::Held
        }
    }
}

impl Verdict {
    /// The process exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Held => exit::OK,
            Verdict::Broke => exit::FAILED,
            Verdict::Error | Verdict::NothingRan => exit::NO_VERDICT,
        }
    }

    /// One line saying why the exit is not 0, or nothing when it is.
    pub fn explain(self) -> Option<&'static str> {
        match self {
            Verdict::Held | Verdict::Broke => None,
            Verdict::Error => {
                Some("no verdict: a run ended in error, which is no verdict on the target; exit 2")
            }
            Verdict::NothingRan => Some(
                "no verdict: nothing ran (every selected scenario was not claimed or not run \
                 here); select scenarios the target claims, or run where the fault can be made; \
                 exit 2",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(held: usize, broke: usize, errors: usize, not_run: usize) -> Tally {
        Tally {
            held,
            broke,
            errors,
            not_run,
        }
    }

    #[test]
    fn each_row_of_the_rule() {
        // (tally, verdict, exit code), as docs/cli.md states the rule.
        let rows = [
            (t(3, 0, 0, 0), Verdict::Held, 0),
            (t(3, 0, 0, 5), Verdict::Held, 0),
            (t(3, 1, 0, 0), Verdict::Broke, 1),
            (t(0, 1, 0, 0), Verdict::Broke, 1),
            (t(3, 1, 1, 0), Verdict::Error, 2),
            (t(3, 0, 1, 0), Verdict::Error, 2),
            (t(0, 0, 0, 4), Verdict::NothingRan, 2),
            (t(0, 0, 0, 0), Verdict::NothingRan, 2),
        ];
        for (tally, verdict, code) in rows {
            assert_eq!(tally.verdict(), verdict, "{tally:?}");
            assert_eq!(tally.verdict().exit_code(), code, "{tally:?}");
        }
    }

    #[test]
    fn only_a_non_zero_exit_without_a_failure_is_explained() {
        assert_eq!(Verdict::Held.explain(), None);
        assert_eq!(Verdict::Broke.explain(), None);
        assert!(Verdict::NothingRan
            .explain()
            .unwrap()
            .contains("nothing ran"));
        assert!(Verdict::Error.explain().unwrap().contains("error"));
    }
}
