//! The checker: literal expectations of the table against observations, one
//! result per expectation (what, expected, seen, verdict).
//!
//! Each expectation table of a scenario (`docs/scenarios.md`, "The table
//! format") has its own file: [`command`], [`boot`] (both `first_boot` and
//! `boot`), [`terminal`], [`at_rest`], [`after_boot`] (liveness, also read at
//! rest) and [`container`]. [`check`] runs them in the table's order.

mod after_boot;
mod at_rest;
mod boot;
mod command;
mod container;
mod id;
mod terminal;

pub use id::{ExpectationId, Field, Table};

use std::fmt::Display;

use serde::{Deserialize, Serialize};

use crate::backend::BackendKind;
use crate::observe::FileState;
use crate::observe::Observation;
use crate::scenario::model::Expectations;

/// The verdict on one expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// As expected.
    Pass,
    /// Not as expected.
    Fail,
    /// This backend cannot observe it, by its nature (an OOM on local
    /// processes): known before the run, the same on every run.
    Skipped,
    /// The harness could have observed it and did not (no start time was
    /// read): the scenario ends in error, never in a verdict.
    Unobserved,
}

/// One expectation and what was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectationResult {
    /// Which expectation: `terminal.default.cause`.
    pub what: ExpectationId,
    /// The literal from the table.
    pub expected: String,
    /// What was observed.
    pub seen: String,
    /// The verdict.
    pub verdict: Verdict,
}

/// `what: expected X, seen Y`, as every report prints it.
impl Display for ExpectationResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {}, seen {}",
            self.what, self.expected, self.seen
        )
    }
}

impl ExpectationResult {
    /// A result from a comparison.
    pub fn compare(
        what: ExpectationId,
        expected: impl Display,
        seen: impl Display,
        pass: bool,
    ) -> Self {
        ExpectationResult {
            what,
            expected: expected.to_string(),
            seen: seen.to_string(),
            verdict: if pass { Verdict::Pass } else { Verdict::Fail },
        }
    }

    /// A result the harness failed to observe this time.
    pub fn unobserved(what: ExpectationId, expected: impl Display, why: &str) -> Self {
        ExpectationResult {
            what,
            expected: expected.to_string(),
            seen: why.to_owned(),
            verdict: Verdict::Unobserved,
        }
    }

    /// A result the backend cannot observe.
    pub fn skipped(what: ExpectationId, expected: impl Display, why: &str) -> Self {
        ExpectationResult {
            what,
            expected: expected.to_string(),
            seen: why.to_owned(),
            verdict: Verdict::Skipped,
        }
    }
}

/// The results so far, in the order the tables are checked.
struct Out(Vec<ExpectationResult>);

impl Out {
    /// Adds one result.
    fn push(&mut self, result: ExpectationResult) {
        self.0.push(result);
    }

    /// Compares an optional literal with what was seen (`nothing` if
    /// unseen); adds nothing when the table leaves the field out.
    fn eq<T: PartialEq + Display>(
        &mut self,
        what: ExpectationId,
        expected: &Option<T>,
        seen: Option<T>,
    ) {
        if let Some(exp) = expected {
            let pass = seen.as_ref() == Some(exp);
            let seen = seen.map_or_else(|| "nothing".to_owned(), |s| s.to_string());
            self.push(ExpectationResult::compare(what, exp, seen, pass));
        }
    }
}

// The table says `absent` for an intent nobody wrote.
fn desired_str(d: FileState<restart_contract::DesiredState>) -> String {
    match d {
        FileState::Missing => "absent".to_owned(),
        other => other.to_string(),
    }
}

// An optional string as JSON shows it: `null` for none.
fn opt_str(s: Option<&str>) -> String {
    s.map_or_else(|| "null".to_owned(), str::to_owned)
}

/// Compares every expectation with what was observed on `backend`.
pub fn check(
    expect: &Expectations,
    obs: &Observation,
    backend: BackendKind,
) -> Vec<ExpectationResult> {
    let mut out = Out(Vec::new());
    if let Some(c) = &expect.command {
        command::check(&mut out, c, obs.command.as_ref());
    }
    boot::check(
        &mut out,
        Table::FirstBoot,
        &expect.first_boot,
        &obs.first_boot,
    );
    terminal::check(&mut out, &expect.terminal, &obs.terminal);
    at_rest::check(&mut out, &expect.at_rest, &obs.at_rest, &obs.lives);
    boot::check(&mut out, Table::Boot, &expect.boot, &obs.boot);
    for (profile, e) in &expect.after_boot {
        let seen = obs.after_boot.get(profile);
        after_boot::live(
            &mut out,
            Table::AfterBoot,
            profile,
            e.supervised,
            e.live,
            seen,
        );
    }
    if let Some(c) = &expect.container {
        container::check(&mut out, c, &obs.container, backend);
    }
    out.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{CauseSeen, ExitSeen, Supervised};
    use crate::observe::{Life, RestSeen, TerminalSeen};
    use restart_contract::GatewayState;

    fn scenario_expect(text: &str) -> Expectations {
        let s = format!(
            "name = \"t\"\nwhy = \"w\"\nprofiles = [\"default\"]\nbackends = [\"process\"]\nclaims = [\"marker-rule\"]\n[fault]\nkind = \"bare-sigterm\"\nprofile = \"default\"\n{text}"
        );
        crate::scenario::load::parse_scenario("t.toml", &s)
            .unwrap()
            .expect
    }

    #[test]
    fn terminal_and_rest_expectations_pass_and_fail_literally() {
        let e = scenario_expect(
            "[expect.terminal.default]\ncause = \"signal-initiated\"\ngateway_state = \"running\"\nexit_reason = \"signal:SIGTERM\"\nexit = 1\n\
             [expect.at_rest.default]\ngateway_state = \"running\"\ndesired_state = \"absent\"\nmarker = \"absent\"\nlive = true\nnew_life = true\n",
        );
        let mut obs = Observation::default();
        obs.lives.insert(
            "default".into(),
            Life {
                pid: 7,
                start_time: 1,
                events_before: 3,
            },
        );
        obs.terminal.insert(
            "default".into(),
            TerminalSeen {
                pid: 7,
                cause: CauseSeen::SignalInitiated,
                signal: Some("SIGTERM".into()),
                gateway_state: Some(GatewayState::Stopped),
                exit_reason: Some("signal:SIGTERM".into()),
                exit: ExitSeen::Code(1),
            },
        );
        obs.at_rest.insert(
            "default".into(),
            RestSeen {
                gateway_state: FileState::Value(GatewayState::Running),
                exit_reason: None,
                restart_requested: Some(false),
                state_keys: vec![],
                desired_state: FileState::Missing,
                marker: false,
                home_files: vec![],
                torn_files: 0,
                temp_files: 0,
                unparsable_versions: 0,
                supervised: Some(Supervised::Up),
                live: Some(true),
                pid: Some(8),
                start_time: Some(1),
            },
        );
        let r = check(&e, &obs, BackendKind::Process);
        let failed: Vec<_> = r
            .iter()
            .filter(|x| x.verdict == Verdict::Fail)
            .map(|x| x.what.to_string())
            .collect();
        assert_eq!(failed, vec!["terminal.default.gateway_state".to_owned()]);
        assert_eq!(r.len(), 9);
        let d = r
            .iter()
            .find(|x| x.what.to_string() == "at_rest.default.desired_state")
            .unwrap();
        assert_eq!((d.expected.as_str(), d.seen.as_str()), ("absent", "absent"));
    }

    #[test]
    fn a_missing_boot_line_fails_every_field() {
        let e = scenario_expect(
            "[expect.boot.default]\naction = \"started\"\nprior_exit = \"clean\"\n",
        );
        let r = check(&e, &Observation::default(), BackendKind::Process);
        assert_eq!(r.len(), 2);
        assert!(r
            .iter()
            .all(|x| x.verdict == Verdict::Fail && x.seen == "no boot line"));
    }
}
