//! The checker: literal expectations of the table against observations, one
//! result per expectation (what, expected, seen, verdict).

use std::collections::BTreeMap;
use std::fmt::Display;

use serde::Serialize;

use crate::backend::BackendKind;
use crate::observe::{LiveSeen, Observation};
use crate::scenario::model::{BootExpect, Expectations, FileState};
use restart_contract::boot::BootLine;

/// The verdict on one expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// As expected.
    Pass,
    /// Not as expected.
    Fail,
    /// This backend cannot observe it.
    Skipped,
}

/// One expectation and what was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectationResult {
    /// Which expectation: `terminal.default.cause`.
    pub what: String,
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
    pub fn compare(what: String, expected: impl Display, seen: impl Display, pass: bool) -> Self {
        ExpectationResult {
            what,
            expected: expected.to_string(),
            seen: seen.to_string(),
            verdict: if pass { Verdict::Pass } else { Verdict::Fail },
        }
    }

    /// A result the backend cannot observe.
    pub fn skipped(what: String, expected: impl Display, why: &str) -> Self {
        ExpectationResult {
            what,
            expected: expected.to_string(),
            seen: why.to_owned(),
            verdict: Verdict::Skipped,
        }
    }
}

struct Out(Vec<ExpectationResult>);

impl Out {
    fn eq<T: PartialEq + Display>(&mut self, what: String, expected: &Option<T>, seen: Option<T>) {
        if let Some(exp) = expected {
            let pass = seen.as_ref() == Some(exp);
            let seen = seen.map_or_else(|| "nothing".to_owned(), |s| s.to_string());
            self.0
                .push(ExpectationResult::compare(what, exp, seen, pass));
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

fn opt_str(s: Option<&str>) -> String {
    s.map_or_else(|| "null".to_owned(), str::to_owned)
}

fn boot(
    out: &mut Out,
    phase: &str,
    expect: &BTreeMap<String, BootExpect>,
    seen: &BTreeMap<String, BootLine>,
) {
    for (profile, e) in expect {
        let line = seen.get(profile);
        let w = |f: &str| format!("{phase}.{profile}.{f}");
        if line.is_none() {
            let fields = [
                e.prior_state
                    .map(|v| ("prior_state", v.0.as_str().to_owned())),
                e.desired
                    .map(|v| ("desired", v.0.map_or("-", |d| d.as_str()).to_owned())),
                e.action.map(|v| ("action", v.0.as_str().to_owned())),
                e.prior_exit
                    .map(|v| ("prior_exit", v.0.as_str().to_owned())),
            ];
            for (f, v) in fields.into_iter().flatten() {
                out.0
                    .push(ExpectationResult::compare(w(f), v, "no boot line", false));
            }
            continue;
        }
        out.eq(
            w("prior_state"),
            &e.prior_state.map(|v| v.0.as_str()),
            line.map(|l| l.prior_state.as_str()),
        );
        out.eq(
            w("desired"),
            &e.desired.map(|v| v.0.map_or("-", |d| d.as_str())),
            line.map(|l| l.desired.map_or("-", |d| d.as_str())),
        );
        out.eq(
            w("action"),
            &e.action.map(|v| v.0.as_str()),
            line.map(|l| l.action.as_str()),
        );
        out.eq(
            w("prior_exit"),
            &e.prior_exit.map(|v| v.0.as_str()),
            line.map(|l| l.prior_exit.as_str()),
        );
    }
}

fn live(
    out: &mut Out,
    phase: &str,
    profile: &str,
    supervised: &Option<crate::scenario::model::Supervised>,
    live: &Option<bool>,
    seen: Option<&LiveSeen>,
) {
    out.eq(
        format!("{phase}.{profile}.supervised"),
        &supervised.map(|s| s.as_str()),
        seen.and_then(|s| s.supervised).map(|s| s.as_str()),
    );
    out.eq(
        format!("{phase}.{profile}.live"),
        live,
        seen.and_then(|s| s.live),
    );
}

/// Compares every expectation with what was observed on `backend`.
pub fn check(
    expect: &Expectations,
    obs: &Observation,
    backend: BackendKind,
) -> Vec<ExpectationResult> {
    let mut out = Out(Vec::new());

    if let Some(c) = &expect.command {
        let cmd = obs.command.as_ref();
        out.eq(
            "command.exit_code".to_owned(),
            &c.exit_code.map(|c| c.to_string()),
            cmd.map(|o| {
                o.code
                    .map_or_else(|| "killed".to_owned(), |c| c.to_string())
            }),
        );
        if let Some(needle) = &c.output_contains {
            let text = cmd
                .map(|o| format!("{}{}", o.stdout, o.stderr))
                .unwrap_or_default();
            out.0.push(ExpectationResult::compare(
                "command.output_contains".to_owned(),
                format!("{needle:?}"),
                format!("{:?}", text.trim()),
                text.contains(needle.as_str()),
            ));
        }
    }

    boot(&mut out, "first_boot", &expect.first_boot, &obs.first_boot);

    for (profile, e) in &expect.terminal {
        let w = |f: &str| format!("terminal.{profile}.{f}");
        let Some(t) = obs.terminal.get(profile) else {
            out.0.push(ExpectationResult::compare(
                w("life"),
                "a faulted gateway life",
                "no gateway of this profile was running when the fault hit",
                false,
            ));
            continue;
        };
        out.eq(
            w("cause"),
            &e.cause.map(|c| c.as_str()),
            Some(t.cause.as_str()),
        );
        out.eq(w("signal"), &e.signal.clone(), t.signal.clone());
        out.eq(
            w("gateway_state"),
            &e.gateway_state.map(|s| s.as_str()),
            t.gateway_state.map(|s| s.as_str()),
        );
        if let Some(p) = &e.exit_reason {
            out.0.push(ExpectationResult::compare(
                w("exit_reason"),
                &p.0,
                opt_str(t.exit_reason.as_deref()),
                t.gateway_state.is_some() && p.matches(t.exit_reason.as_deref()),
            ));
        }
        out.eq(
            w("exit"),
            &e.exit.as_ref().map(ToString::to_string),
            Some(t.exit.to_string()),
        );
    }

    for (profile, e) in &expect.at_rest {
        let w = |f: &str| format!("at_rest.{profile}.{f}");
        let Some(r) = obs.at_rest.get(profile) else {
            out.0.push(ExpectationResult::compare(
                w("files"),
                "observed",
                "not observed",
                false,
            ));
            continue;
        };
        out.eq(
            w("gateway_state"),
            &e.gateway_state.map(|s| s.0.to_string()),
            Some(r.gateway_state.to_string()),
        );
        if let Some(p) = &e.exit_reason {
            let valid = matches!(r.gateway_state, FileState::Value(_));
            out.0.push(ExpectationResult::compare(
                w("exit_reason"),
                &p.0,
                if valid {
                    opt_str(r.exit_reason.as_deref())
                } else {
                    format!("no valid file ({})", r.gateway_state)
                },
                valid && p.matches(r.exit_reason.as_deref()),
            ));
        }
        out.eq(
            w("restart_requested"),
            &e.restart_requested,
            r.restart_requested,
        );
        for key in e.state_keeps_keys.iter().flatten() {
            out.0.push(ExpectationResult::compare(
                w(&format!("keeps_key.{key}")),
                "present",
                if r.state_keys.contains(key) {
                    "present"
                } else {
                    "absent"
                },
                r.state_keys.contains(key),
            ));
        }
        out.eq(
            w("desired_state"),
            &e.desired_state.map(|d| desired_str(d.0)),
            Some(desired_str(r.desired_state)),
        );
        out.eq(
            w("marker"),
            &e.marker.map(|m| {
                if m == crate::scenario::model::Presence::Present {
                    "present"
                } else {
                    "absent"
                }
            }),
            Some(if r.marker { "present" } else { "absent" }),
        );
        for file in e.kept_aside.iter().flatten() {
            let found = r.kept_aside(file);
            out.0.push(ExpectationResult::compare(
                w(&format!("kept_aside.{file}")),
                format!("{file}.corrupt-*"),
                found.unwrap_or("none"),
                found.is_some(),
            ));
        }
        let seen = LiveSeen {
            supervised: r.supervised,
            live: r.live,
        };
        live(
            &mut out,
            "at_rest",
            profile,
            &e.supervised,
            &e.live,
            Some(&seen),
        );
        if let Some(exp) = e.new_life {
            let faulted = obs.lives.get(profile).map(|l| (l.pid, l.start_time));
            let now = r.pid.zip(r.start_time);
            let is_new = matches!((faulted, now), (Some(f), Some(n)) if f != n);
            let show = |x: Option<(i32, u64)>| {
                x.map_or_else(
                    || "none".to_owned(),
                    |(p, t)| format!("pid {p} start_time {t}"),
                )
            };
            out.0.push(ExpectationResult::compare(
                w("new_life"),
                exp,
                format!("{is_new} (faulted {}, now {})", show(faulted), show(now)),
                is_new == exp,
            ));
        }
    }

    boot(&mut out, "boot", &expect.boot, &obs.boot);

    for (profile, e) in &expect.after_boot {
        live(
            &mut out,
            "after_boot",
            profile,
            &e.supervised,
            &e.live,
            obs.after_boot.get(profile),
        );
    }

    if let Some(c) = &expect.container {
        let after = &obs.container.after;
        if let Some(code) = c.exit_code {
            out.0.push(match after.last_exit_code {
                Some(seen) => ExpectationResult::compare(
                    "container.exit_code".into(),
                    code,
                    seen,
                    seen == code,
                ),
                None => ExpectationResult::compare(
                    "container.exit_code".into(),
                    code,
                    "no exit recorded",
                    false,
                ),
            });
        }
        if let Some(oom) = c.oom {
            out.0.push(match backend {
                BackendKind::Docker => ExpectationResult::compare(
                    "container.oom".into(),
                    oom,
                    after.oom_seen,
                    after.oom_seen == oom,
                ),
                BackendKind::Process => ExpectationResult::skipped(
                    "container.oom".into(),
                    oom,
                    "not observable on local processes",
                ),
            });
        }
        if let Some(restarted) = c.restarted {
            let before = &obs.container.before.started_at;
            out.0.push(match (before, &after.started_at) {
                (Some(b), Some(a)) => ExpectationResult::compare(
                    "container.restarted".into(),
                    restarted,
                    format!("{} (started {b}, then {a})", a != b),
                    (a != b) == restarted,
                ),
                _ => ExpectationResult::skipped(
                    "container.restarted".into(),
                    restarted,
                    "no start time reported",
                ),
            });
        }
    }
    out.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{Life, RestSeen, TerminalSeen};
    use crate::scenario::model::{CauseSeen, ExitSeen, Supervised};
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
            .map(|x| x.what.as_str())
            .collect();
        assert_eq!(failed, vec!["terminal.default.gateway_state"]);
        assert_eq!(r.len(), 9);
        let d = r
            .iter()
            .find(|x| x.what == "at_rest.default.desired_state")
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
