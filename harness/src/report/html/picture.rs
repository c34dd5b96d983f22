//! A scenario's story as things to draw, read from its timeline: one lane per
//! profile, each gateway life a bar, faults, commands, signals and boots as
//! marks, every recorded version of a state file as a tick, and the instants
//! T0, T1, T2.
//!
//! The timeline is text for people; this reads the lines the harness itself
//! writes (a settled status `default=up:22:live`, a phase `at rest after the
//! fault (T1)`, a command `gateway stop --profile a -> exit 0`), and draws
//! nothing it cannot place. Lives are what the harness saw at each settled
//! status: a bar from the first look that showed a pid to the fault or signal
//! that came after its last look (the first look without it, when none did).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::history::{Entry, EntryKind};
use crate::runner::ScenarioResult;

/// One of the three instants every expectation reads at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Instant {
    /// Before the fault.
    T0,
    /// At rest after the fault.
    T1,
    /// After the next boot.
    T2,
}

impl Instant {
    /// `T0`, `T1`, `T2`.
    pub fn name(self) -> &'static str {
        match self {
            Instant::T0 => "T0",
            Instant::T1 => "T1",
            Instant::T2 => "T2",
        }
    }
}

/// What a mark stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    /// The fault, as it began.
    Fault,
    /// A signal sent (a storm's hit, a kill).
    Signal,
    /// An operator command.
    Command,
    /// A boot line: the supervisor started or registered a profile.
    Boot,
    /// Something went wrong.
    Error,
}

impl MarkKind {
    /// Its CSS class.
    pub fn class(self) -> &'static str {
        match self {
            MarkKind::Fault => "fault",
            MarkKind::Signal => "signal",
            MarkKind::Command => "command",
            MarkKind::Boot => "boot",
            MarkKind::Error => "error",
        }
    }
}

/// A mark on a lane (`None`: the supervisor's lane, above the profiles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// When.
    pub at_ms: u64,
    /// Which profile's lane.
    pub lane: Option<String>,
    /// What.
    pub kind: MarkKind,
    /// The timeline's line.
    pub text: String,
}

/// One gateway life, as the settled looks saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Life {
    /// Its profile.
    pub profile: String,
    /// Its pid.
    pub pid: i32,
    /// The first look that saw it.
    pub from_ms: u64,
    /// Where its bar ends: the fault or signal after its last look, else the
    /// first look that did not see it (or the end of the scenario).
    pub to_ms: u64,
    /// The last look that saw it.
    pub last_seen_ms: u64,
    /// How the first look without it found the profile (`down`, `gave-up`,
    /// `up` with another pid), or `None` when it ran to the end.
    pub ended: Option<String>,
}

/// A recorded version of a profile's state file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    /// When the target wrote it, on the timeline.
    pub at_ms: u64,
    /// Whose.
    pub profile: String,
    /// Its text.
    pub text: String,
}

/// Everything drawn for one scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Picture {
    /// The profiles, one lane each.
    pub lanes: Vec<String>,
    /// The lives.
    pub lives: Vec<Life>,
    /// The marks.
    pub marks: Vec<Mark>,
    /// The versions.
    pub ticks: Vec<Tick>,
    /// The instants the scenario reached.
    pub instants: Vec<(Instant, u64)>,
    /// The scenario's length.
    pub end_ms: u64,
}

/// A profile in a settled status summary: `default=up:22:live`.
static STATUS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([A-Za-z0-9_.-]+)=(up|down|backoff|gave-up)(?::(-?\d+))?(?::live)?")
        .expect("a valid pattern")
});
/// The profile a command or signal names: `--profile a`, `-p a`, `a's gateway`.
static NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:--profile |-p |\bprofile=)([A-Za-z0-9_.-]+)|\b([A-Za-z0-9_.-]+)'s gateway")
        .expect("a valid pattern")
});
/// The profile of a boot line.
static BOOT_PROFILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"profile=([A-Za-z0-9_.-]+)").expect("a valid pattern"));

/// The picture of `r`.
pub fn picture(r: &ScenarioResult) -> Picture {
    let mut p = Picture {
        end_ms: r.timeline.last().map_or(0, |e| e.at_ms),
        ..Picture::default()
    };
    // pid seen per profile at each settled look.
    let mut looks: BTreeMap<String, Vec<(u64, Option<i32>, String)>> = BTreeMap::new();
    for e in &r.timeline {
        match e.kind {
            EntryKind::Phase => phase(&mut p, e),
            EntryKind::Wait => {
                if let Some(summary) = e.text.rsplit_once('(').map(|(_, s)| s) {
                    for c in STATUS.captures_iter(summary) {
                        let profile = c[1].to_owned();
                        let pid = c.get(3).and_then(|m| m.as_str().parse().ok());
                        looks
                            .entry(profile)
                            .or_default()
                            .push((e.at_ms, pid, c[2].to_owned()));
                    }
                }
            }
            EntryKind::Signal => p.marks.push(mark(e, MarkKind::Signal)),
            EntryKind::Command => p.marks.push(mark(e, MarkKind::Command)),
            EntryKind::Error => p.marks.push(mark(e, MarkKind::Error)),
            EntryKind::BootLine => boots(&mut p, e),
            EntryKind::Event | EntryKind::File => {
                versions(&mut p, e, r.started_at.as_deref());
            }
            EntryKind::Step | EntryKind::Output | EntryKind::Note => {}
        }
    }
    for (profile, seen) in &looks {
        lives(&mut p, profile, seen);
    }
    let hits: Vec<(u64, Option<String>)> = p
        .marks
        .iter()
        .filter(|m| matches!(m.kind, MarkKind::Fault | MarkKind::Signal))
        .map(|m| (m.at_ms, m.lane.clone()))
        .collect();
    for l in &mut p.lives {
        // Ended by the first fault or signal on it (or on the supervisor)
        // after the last look that saw it.
        if let Some((at, _)) = hits.iter().find(|(at, lane)| {
            *at >= l.last_seen_ms
                && *at <= l.to_ms
                && lane.as_deref().is_none_or(|x| x == l.profile)
        }) {
            if l.ended.is_some() {
                l.to_ms = *at;
            }
        }
    }
    let mut lanes: Vec<String> = looks.into_keys().collect();
    for m in &p.marks {
        if let Some(l) = &m.lane {
            if !lanes.contains(l) {
                lanes.push(l.clone());
            }
        }
    }
    lanes.sort();
    p.lanes = lanes;
    p
}

fn phase(p: &mut Picture, e: &Entry) {
    for i in [Instant::T0, Instant::T1, Instant::T2] {
        if e.text.contains(&format!("({})", i.name())) {
            p.instants.push((i, e.at_ms));
        }
    }
    if e.text.starts_with("fault: ") {
        p.marks.push(Mark {
            at_ms: e.at_ms,
            lane: None,
            kind: MarkKind::Fault,
            text: e.text.clone(),
        });
    }
}

/// A mark on the lane of the profile its text names (`--profile a`, `-p a`,
/// `a's gateway`, `to a`), else the supervisor's.
fn mark(e: &Entry, kind: MarkKind) -> Mark {
    let lane = NAMED
        .captures(&e.text)
        .and_then(|c| c.get(1).or_else(|| c.get(2)))
        .map(|m| m.as_str().to_owned());
    let lane = match (lane, kind) {
        // A contract command without --profile acts on `default`.
        (None, MarkKind::Command) if e.text.starts_with("gateway ") => Some("default".to_owned()),
        (l, _) => l,
    };
    Mark {
        at_ms: e.at_ms,
        lane,
        kind,
        text: e.text.lines().next().unwrap_or_default().to_owned(),
    }
}

/// One mark per boot line (`profile=P ... action=started`).
fn boots(p: &mut Picture, e: &Entry) {
    for l in e.text.lines() {
        if let Some(c) = BOOT_PROFILE.captures(l) {
            p.marks.push(Mark {
                at_ms: e.at_ms,
                lane: Some(c[1].to_owned()),
                kind: MarkKind::Boot,
                text: l.to_owned(),
            });
        }
    }
}

/// Recorded versions, placed by the target's own time where the scenario's
/// start is known: lines `TIME TEXT` under a header `P/FILE versions ...`
/// (a sidecar's record), or the `persisted` events of `P/events.jsonl` (the
/// contract's own record of each write).
fn versions(p: &mut Picture, e: &Entry, started_at: Option<&str>) {
    let Some((head, rest)) = e.text.split_once('\n') else {
        return;
    };
    if !head.contains("versions") && !head.contains("events.jsonl") {
        return;
    }
    let Some(profile) = head.split('/').next().filter(|s| !s.contains(' ')) else {
        return;
    };
    let Some(start) = started_at.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()) else {
        return;
    };
    for l in rest.lines().map(str::trim) {
        let (ts, text) = if l.starts_with('{') {
            // An event: only a persisted state is a version.
            let Ok(v) = serde_json::from_str::<serde_json::Value>(l) else {
                continue;
            };
            match (v.get("ts").and_then(|t| t.as_str()), v.get("gateway_state")) {
                (Some(ts), Some(state)) => (ts.to_owned(), state.to_string()),
                _ => continue,
            }
        } else {
            let Some((ts, text)) = l.split_once(' ') else {
                continue;
            };
            (ts.to_owned(), text.to_owned())
        };
        let Ok(t) = chrono::DateTime::parse_from_rfc3339(&ts) else {
            continue;
        };
        let Ok(at_ms) = u64::try_from((t - start).num_milliseconds()) else {
            continue;
        };
        p.ticks.push(Tick {
            at_ms,
            profile: profile.to_owned(),
            text,
        });
    }
}

/// The lives of `profile` from its looks, in order.
fn lives(p: &mut Picture, profile: &str, seen: &[(u64, Option<i32>, String)]) {
    // (pid, first look, last look) of the life being seen.
    let mut current: Option<(i32, u64, u64)> = None;
    for (at, pid, word) in seen {
        match (current, pid) {
            (Some((c, from, _)), Some(now)) if c == *now => current = Some((c, from, *at)),
            (Some((c, from, last)), _) => {
                p.lives.push(Life {
                    profile: profile.to_owned(),
                    pid: c,
                    from_ms: from,
                    to_ms: *at,
                    last_seen_ms: last,
                    ended: Some(match pid {
                        Some(n) => format!("{word}, pid {n}"),
                        None => word.clone(),
                    }),
                });
                current = pid.map(|n| (n, *at, *at));
            }
            (None, Some(now)) => current = Some((*now, *at, *at)),
            (None, None) => {}
        }
    }
    if let Some((c, from, last)) = current {
        p.lives.push(Life {
            profile: profile.to_owned(),
            pid: c,
            from_ms: from,
            to_ms: p.end_ms.max(from),
            last_seen_ms: last,
            ended: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendKind;
    use crate::runner::Outcome;

    fn entry(at_ms: u64, kind: EntryKind, text: &str) -> Entry {
        Entry {
            at_ms,
            kind,
            text: text.to_owned(),
        }
    }

    #[test]
    fn lives_marks_versions_and_instants_are_read_from_the_timeline() {
        let r = ScenarioResult {
            name: "x".into(),
            why: String::new(),
            fault: "container-restart".into(),
            backend: BackendKind::Docker,
            outcome: Outcome::Failed,
            duration_ms: 900,
            expectations: Vec::new(),
            error: None,
            not_claimed: None,
            not_run: None,
            started_at: Some("2026-12-05T18:00:00.000Z".into()),
            engine: None,
            timeline: vec![
                entry(100, EntryKind::Wait, "every profile settled: reached after 3 ms (a=up:7:live default=up:9:live)"),
                entry(100, EntryKind::Phase, "before the fault (T0)"),
                entry(120, EntryKind::Phase, "fault: container-restart"),
                entry(130, EntryKind::Command, "gateway stop --profile a -> exit 0"),
                entry(400, EntryKind::Wait, "settled (a=down default=up:12:live)"),
                entry(400, EntryKind::Phase, "at rest after the fault (T1)"),
                entry(500, EntryKind::Event, "a/gateway_state.json versions from the faulted life on (recorded):\n2026-12-05T18:00:00.250Z {\"gateway_state\":\"stopped\"}"),
                entry(600, EntryKind::Phase, "after the next boot (T2)"),
                entry(600, EntryKind::BootLine, "profile=a action=registered\nprofile=default action=started"),
                entry(900, EntryKind::Phase, "outcome: failed"),
            ],
        };
        let p = picture(&r);
        assert_eq!(p.lanes, ["a", "default"]);
        assert_eq!(
            p.instants,
            [(Instant::T0, 100), (Instant::T1, 400), (Instant::T2, 600)]
        );
        let a: Vec<&Life> = p.lives.iter().filter(|l| l.profile == "a").collect();
        // Seen last at T0, ended by the fault that followed.
        assert_eq!((a[0].pid, a[0].from_ms, a[0].to_ms), (7, 100, 120));
        assert_eq!(a[0].ended.as_deref(), Some("down"));
        let d: Vec<(i32, u64, u64)> = p
            .lives
            .iter()
            .filter(|l| l.profile == "default")
            .map(|l| (l.pid, l.from_ms, l.to_ms))
            .collect();
        assert_eq!(d, [(9, 100, 120), (12, 400, 900)]);
        assert_eq!(p.ticks.len(), 1);
        assert_eq!((p.ticks[0].at_ms, p.ticks[0].profile.as_str()), (250, "a"));
        let kinds: Vec<(MarkKind, Option<&str>)> = p
            .marks
            .iter()
            .map(|m| (m.kind, m.lane.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            [
                (MarkKind::Fault, None),
                (MarkKind::Command, Some("a")),
                (MarkKind::Boot, Some("a")),
                (MarkKind::Boot, Some("default")),
            ]
        );
    }
}
