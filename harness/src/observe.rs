//! What the checker compares with the table: read from the target's files,
//! `events.jsonl`, `DATA/boot.log` and `gateway status --json`, never from the
//! harness's own idea of what should have happened.
//!
//! - the terminal write of a faulted life: its `signal` event (cause), its last
//!   `persisted` event (state, exit reason), and init's `reaped` event for its pid;
//! - the files at rest: `gateway_state.json` and `desired_state.json` classified as
//!   the contract does (without touching them), the marker, kept-aside copies;
//! - the boot lines of one boot (the lines appended after a given line count);
//! - supervision and liveness from status.

use std::collections::BTreeMap;
use std::path::Path;

use restart_contract::boot::BootLine;
use restart_contract::events::{self, Event, EventKind, Source};
use restart_contract::layout::files;
use restart_contract::records::{DesiredStateRecord, GatewayStateRecord};
use restart_contract::store::{classify, Classified};
use restart_contract::{DesiredState, GatewayState};

use crate::backend::{profile_file, BackendError, BackendResult, ContainerFacts, Sandbox};
use crate::history::{EntryKind, History};
use crate::scenario::model::{CauseSeen, ExitSeen, FileState, Supervised};
use crate::status::Status;

/// A gateway life hit by the fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Life {
    /// Its pid.
    pub pid: i32,
    /// Its start time (with the pid it names one life, even when PIDs repeat).
    pub start_time: u64,
    /// How many events its profile's log held just before the fault hit it.
    pub events_before: usize,
}

/// The terminal write of one faulted life, as its history tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalSeen {
    /// The pid.
    pub pid: i32,
    /// The cause of its `signal` event (`none` without one).
    pub cause: CauseSeen,
    /// The signal of that event.
    pub signal: Option<String>,
    /// The state of its last `persisted` event.
    pub gateway_state: Option<GatewayState>,
    /// The exit reason of its last `persisted` event (`None`: null or no event).
    pub exit_reason: Option<String>,
    /// How init saw it end.
    pub exit: ExitSeen,
}

/// Files and supervision of one profile at rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestSeen {
    /// `gateway_state.json`.
    pub gateway_state: FileState<GatewayState>,
    /// Its `exit_reason` (`None`: null, or no valid file).
    pub exit_reason: Option<String>,
    /// Its `restart_requested` (valid file only).
    pub restart_requested: Option<bool>,
    /// Its top-level keys (valid JSON object only).
    pub state_keys: Vec<String>,
    /// `desired_state.json`.
    pub desired_state: FileState<DesiredState>,
    /// The planned-stop marker exists.
    pub marker: bool,
    /// File names in the home.
    pub home_files: Vec<String>,
    /// Torn files in the home ([`torn_in`]): what a write cut short left.
    pub torn_files: usize,
    /// Temp files of interrupted atomic writes left in the home ([`is_temp_file`]).
    pub temp_files: usize,
    /// Status of the profile (`None`: not listed).
    pub supervised: Option<Supervised>,
    /// Whether it answered `ping`.
    pub live: Option<bool>,
    /// Its gateway pid.
    pub pid: Option<i32>,
    /// That gateway's start time.
    pub start_time: Option<u64>,
}

impl RestSeen {
    /// Whether a `<file>.corrupt-*` copy is in the home.
    pub fn kept_aside(&self, file: &str) -> Option<&str> {
        let prefix = format!("{file}.corrupt-");
        self.home_files
            .iter()
            .find(|f| f.starts_with(&prefix))
            .map(String::as_str)
    }
}

/// Whether `name` is the temp file of an atomic write of the contract
/// (`.<name>.tmp-<pid>-<n>`, `restart_contract::store::write_atomic`).
pub fn is_temp_file(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp-")
}

/// Whether `name` is a file whose bytes [`torn_in`] judges: a `*.json` file, a
/// `*.json.corrupt-*` copy the contract kept aside, or the event log.
pub fn is_judged_for_tears(name: &str) -> bool {
    name.ends_with(".json")
        || name.contains(".json.corrupt-")
        || name == files::EVENTS
        || name == files::EVENTS_ROTATED
}

/// How many torn things the file `name` holding `bytes` counts for:
///
/// - a `*.json` file: 1 unless it parses as a JSON object;
/// - a `*.json.corrupt-*` copy: 1, always: a reader of the contract found the
///   file it was (a torn write, when nothing damaged it on purpose) not valid
///   and kept its bytes aside, so the torn file is still there under that name;
/// - `events.jsonl` (and its rotated copy): each non-empty line that does not
///   parse as a JSON object.
pub fn torn_in(name: &str, bytes: &[u8]) -> usize {
    let object =
        |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).is_ok_and(|v| v.is_object());
    if name == files::EVENTS || name == files::EVENTS_ROTATED {
        bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty() && !object(l))
            .count()
    } else if name.contains(".json.corrupt-") {
        1
    } else if name.ends_with(".json") {
        usize::from(!object(bytes))
    } else {
        0
    }
}

/// The gateway lives init spawned in `events[from..]` (init's `spawned`
/// events, each within its boot: PIDs repeat across boots), and how many of
/// them never logged a persisted `running`: lives ended before their start-up
/// writes were done. `survivor` (the pid running now, in the last boot) is
/// left out: it is not done yet because it is still starting, not because it
/// was hit.
pub fn startups_since(events: &[Event], from: usize, survivor: Option<i32>) -> (usize, usize) {
    use std::collections::BTreeSet;
    let mut boot = 0usize;
    let mut spawned: BTreeSet<(usize, i32)> = BTreeSet::new();
    let mut done: BTreeSet<(usize, i32)> = BTreeSet::new();
    for e in events.get(from..).unwrap_or(&[]) {
        match (&e.source, &e.kind) {
            (Source::Init, EventKind::Boot { .. }) => boot += 1,
            (Source::Init, EventKind::Spawned { child, .. }) => {
                spawned.insert((boot, *child));
            }
            (
                Source::Gateway,
                EventKind::Persisted {
                    gateway_state: GatewayState::Running,
                    ..
                },
            ) => {
                done.insert((boot, e.pid));
            }
            _ => {}
        }
    }
    if let Some(pid) = survivor {
        spawned.remove(&(boot, pid));
    }
    let unfinished = spawned.difference(&done).count();
    (spawned.len(), unfinished)
}

/// Reads a profile's history (rotated log first), recording unreadable lines.
pub async fn read_events(
    target: &mut dyn Sandbox,
    profile: &str,
    history: &mut History,
) -> BackendResult<Vec<Event>> {
    let mut text = String::new();
    for name in [files::EVENTS_ROTATED, files::EVENTS] {
        if let Some(bytes) = target.read_file(&profile_file(profile, name)).await? {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    let (events, bad) = events::parse_log(&text);
    for b in bad {
        history.record(
            EntryKind::Note,
            format!(
                "{profile}/events.jsonl line {}: unreadable ({})",
                b.line, b.error
            ),
        );
    }
    Ok(events)
}

/// The terminal write of `life` in `events` (its profile's whole history).
///
/// Its life runs from the last init `boot` event before the fault to the first
/// init `boot` event after it (in a container PIDs repeat from one boot to the
/// next, so nothing beyond a boot can be about it), restricted to its pid.
pub fn terminal_of(events: &[Event], life: Life) -> TerminalSeen {
    let before = life.events_before.min(events.len());
    // Its life lies within one boot: from the last init `boot` event before the
    // fault. (Not from init's `spawned` event: a child may log before its parent
    // does. Within one boot a pid names one life; across boots PIDs repeat.)
    let start = events[..before]
        .iter()
        .rposition(|e| e.source == Source::Init && matches!(e.kind, EventKind::Boot { .. }))
        .unwrap_or(0);
    let end = events[before..]
        .iter()
        .position(|e| e.source == Source::Init && matches!(e.kind, EventKind::Boot { .. }))
        .map_or(events.len(), |i| before + i);
    let window = &events[start..end];
    let mine = || {
        window
            .iter()
            .filter(|e| e.source == Source::Gateway && e.pid == life.pid)
    };
    let (cause, signal) = mine()
        .find_map(|e| match &e.kind {
            EventKind::Signal { signal, cause, .. } => {
                Some((CauseSeen::from(*cause), Some(signal.clone())))
            }
            _ => None,
        })
        .unwrap_or((CauseSeen::None, None));
    let (gateway_state, exit_reason) = mine()
        .filter_map(|e| match &e.kind {
            EventKind::Persisted {
                gateway_state,
                exit_reason,
            } => Some((Some(*gateway_state), exit_reason.clone())),
            _ => None,
        })
        .next_back()
        .unwrap_or((None, None));
    let exit = window
        .iter()
        .filter(|e| e.source == Source::Init)
        .find_map(|e| match &e.kind {
            EventKind::Reaped {
                child,
                code,
                signal,
            } if *child == life.pid => Some(match (code, signal) {
                (_, Some(s)) => ExitSeen::Signal(s.clone()),
                (Some(c), None) => ExitSeen::Code(*c),
                (None, None) => ExitSeen::NotReaped,
            }),
            _ => None,
        })
        .unwrap_or(ExitSeen::NotReaped);
    TerminalSeen {
        pid: life.pid,
        cause,
        signal,
        gateway_state,
        exit_reason,
        exit,
    }
}

/// The lines of `DATA/boot.log`.
pub async fn boot_log(target: &mut dyn Sandbox) -> BackendResult<Vec<String>> {
    read_lines(target, Path::new("boot.log")).await
}

/// The non-empty lines of a data-dir file (none when it does not exist).
pub async fn read_lines(target: &mut dyn Sandbox, rel: &Path) -> BackendResult<Vec<String>> {
    Ok(target
        .read_file(rel)
        .await?
        .map(|b| {
            String::from_utf8_lossy(&b)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default())
}

/// Records the tail of a profile's history from just before `life`'s fault on.
pub fn record_events_tail(profile: &str, events: &[Event], life: Life, history: &mut History) {
    let tail: Vec<String> = events
        .iter()
        .skip(life.events_before.saturating_sub(3))
        .filter_map(|e| serde_json::to_string(e).ok())
        .collect();
    history.record(
        EntryKind::Event,
        format!(
            "{profile}/events.jsonl from the faulted life on:\n{}",
            tail.join("\n")
        ),
    );
}

/// The boot lines appended after line `from`, the last one per profile, read
/// by `parse` (the target's driver). Lines that do not parse are recorded and
/// skipped.
pub fn boot_lines_since(
    lines: &[String],
    from: usize,
    parse: &dyn Fn(&str) -> Result<BootLine, String>,
    history: &mut History,
) -> BackendResult<BTreeMap<String, BootLine>> {
    let mut out = BTreeMap::new();
    let new = lines.get(from..).unwrap_or(&[]);
    history.record(
        EntryKind::BootLine,
        if new.is_empty() {
            "no new boot line".to_owned()
        } else {
            new.join("\n")
        },
    );
    for (i, l) in new.iter().enumerate() {
        // A line the harness cannot read is no observation: read as missing,
        // it would fail every field of that boot as if the target wrote none.
        let b = parse(l).map_err(|e| {
            BackendError::Other(format!(
                "boot log line {} cannot be read ({e}): {l:?}",
                from + i + 1
            ))
        })?;
        out.insert(b.profile.clone(), b);
    }
    Ok(out)
}

fn classified<R, T>(c: Option<Classified<R>>, value: impl Fn(&R) -> T) -> FileState<T> {
    match c {
        None => FileState::Missing,
        Some(Classified::Valid(r)) => FileState::Value(value(&r)),
        Some(Classified::Corrupt(_)) => FileState::Corrupt,
        Some(Classified::Unsupported(_)) => FileState::Unsupported,
    }
}

/// Reads one profile's files at rest (changing nothing) and its status: the
/// home in one read where the backend can, so every file is of one instant.
pub async fn at_rest(
    target: &mut dyn Sandbox,
    profile: &str,
    status: &Status,
    history: &mut History,
) -> BackendResult<RestSeen> {
    let home = target
        .read_dir(&Path::new("profiles").join(profile))
        .await?;
    // Something that is not a file where a file belongs (a directory, after a
    // `dir-where-file` fault) reads as zero bytes: unreadable, so corrupt and
    // torn, as the contract's boot counts a file it cannot read.
    let file = |name: &str| {
        home.iter()
            .find(|e| e.name == name)
            .map(|e| e.content.clone().unwrap_or_default())
    };
    let state_bytes = file(files::GATEWAY_STATE);
    let desired_bytes = file(files::DESIRED_STATE);
    let marker = file(files::PLANNED_STOP_MARKER);
    let home_files: Vec<String> = home.iter().map(|e| e.name.clone()).collect();
    for (name, bytes) in [
        (files::GATEWAY_STATE, &state_bytes),
        (files::DESIRED_STATE, &desired_bytes),
        (files::PLANNED_STOP_MARKER, &marker),
    ] {
        history.record(
            EntryKind::File,
            format!(
                "{profile}/{name}: {}",
                bytes.as_ref().map_or_else(
                    || "absent".to_owned(),
                    |b| String::from_utf8_lossy(b).trim_end().to_owned()
                )
            ),
        );
    }
    history.record(
        EntryKind::File,
        format!("{profile}/: {}", home_files.join(" ")),
    );
    let mut torn_files = 0;
    for name in home_files.iter().filter(|n| is_judged_for_tears(n)) {
        let Some(bytes) = file(name) else {
            continue;
        };
        let torn = torn_in(name, &bytes);
        if torn > 0 {
            history.record(
                EntryKind::File,
                format!(
                    "{profile}/{name}: torn ({torn}): {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(400)]).trim_end()
                ),
            );
        }
        torn_files += torn;
    }
    let temp_files = home_files.iter().filter(|n| is_temp_file(n)).count();
    let state = state_bytes.as_deref().map(classify::<GatewayStateRecord>);
    let (exit_reason, restart_requested) = match &state {
        Some(Classified::Valid(r)) => (
            r.exit_reason.as_ref().map(|x| x.to_wire()),
            Some(r.restart_requested),
        ),
        _ => (None, None),
    };
    let state_keys = state_bytes
        .as_deref()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
        .unwrap_or_default();
    let desired = desired_bytes.as_deref().map(classify::<DesiredStateRecord>);
    let st = status.get(profile);
    Ok(RestSeen {
        gateway_state: classified(state, |r| r.gateway_state),
        exit_reason,
        restart_requested,
        state_keys,
        desired_state: classified(desired, |r| r.desired_state),
        marker: marker.is_some(),
        home_files,
        torn_files,
        temp_files,
        supervised: st.map(|s| s.supervised),
        live: st.map(|s| s.live),
        pid: st.and_then(|s| s.pid),
        start_time: st.and_then(|s| s.start_time),
    })
}

/// Liveness of one profile from a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSeen {
    /// `supervised` (`None`: not listed).
    pub supervised: Option<Supervised>,
    /// `live`.
    pub live: Option<bool>,
}

/// Liveness of every profile in `status`.
pub fn liveness(status: &Status) -> BTreeMap<String, LiveSeen> {
    status
        .profiles
        .iter()
        .map(|p| {
            (
                p.profile.clone(),
                LiveSeen {
                    supervised: Some(p.supervised),
                    live: Some(p.live),
                },
            )
        })
        .collect()
}

/// Container facts before and after the fault.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerSeen {
    /// Before the fault.
    pub before: ContainerFacts,
    /// After the fault (before any next boot of the runner's).
    pub after: ContainerFacts,
}

/// Everything observed in one run of a scenario.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// The fault command's output (operator faults; the last repetition).
    pub command: Option<crate::backend::CmdOutput>,
    /// Boot lines of the first boot.
    pub first_boot: BTreeMap<String, BootLine>,
    /// Terminal writes of the faulted lives.
    pub terminal: BTreeMap<String, TerminalSeen>,
    /// Files and supervision at rest.
    pub at_rest: BTreeMap<String, RestSeen>,
    /// Boot lines of the next boot.
    pub boot: BTreeMap<String, BootLine>,
    /// Liveness after the next boot.
    pub after_boot: BTreeMap<String, LiveSeen>,
    /// Container facts.
    pub container: ContainerSeen,
    /// The faulted lives.
    pub lives: BTreeMap<String, Life>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(line: &str) -> Event {
        serde_json::from_str(line).unwrap()
    }

    fn log(lines: &[&str]) -> Vec<Event> {
        lines.iter().map(|l| ev(l)).collect()
    }

    const T: &str = "2026-11-26T06:00:00.000Z";

    #[test]
    fn a_signal_initiated_teardown_is_read_from_its_life() {
        let events = log(&[
            &format!(r#"{{"ts":"{T}","source":"gateway","pid":7,"event":"starting"}}"#),
            &format!(
                r#"{{"ts":"{T}","source":"gateway","pid":7,"event":"persisted","gateway_state":"running"}}"#
            ),
            &format!(
                r#"{{"ts":"{T}","source":"gateway","pid":7,"event":"signal","signal":"SIGTERM","cause":"signal-initiated"}}"#
            ),
            &format!(
                r#"{{"ts":"{T}","source":"gateway","pid":7,"event":"persisted","gateway_state":"draining"}}"#
            ),
            &format!(
                r#"{{"ts":"{T}","source":"gateway","pid":7,"event":"persisted","gateway_state":"running","exit_reason":"signal:SIGTERM"}}"#
            ),
            &format!(r#"{{"ts":"{T}","source":"gateway","pid":7,"event":"exited","code":1}}"#),
            &format!(
                r#"{{"ts":"{T}","source":"init","pid":1,"event":"reaped","child":7,"code":1}}"#
            ),
            // Next boot: pid 7 again (a container), which must not count.
            &format!(
                r#"{{"ts":"{T}","source":"init","pid":1,"event":"boot","prior_state":"running","desired":"-","action":"started","prior_exit":"clean"}}"#
            ),
            &format!(r#"{{"ts":"{T}","source":"gateway","pid":7,"event":"starting"}}"#),
            &format!(
                r#"{{"ts":"{T}","source":"gateway","pid":7,"event":"persisted","gateway_state":"starting"}}"#
            ),
        ]);
        let t = terminal_of(
            &events,
            Life {
                pid: 7,
                start_time: 1,
                events_before: 2,
            },
        );
        assert_eq!(t.cause, CauseSeen::SignalInitiated);
        assert_eq!(t.signal.as_deref(), Some("SIGTERM"));
        assert_eq!(t.gateway_state, Some(GatewayState::Running));
        assert_eq!(t.exit_reason.as_deref(), Some("signal:SIGTERM"));
        assert_eq!(t.exit, ExitSeen::Code(1));
    }

    #[test]
    fn a_sigkill_leaves_no_signal_event_and_the_last_write_stands() {
        let events = log(&[
            &format!(r#"{{"ts":"{T}","source":"gateway","pid":9,"event":"starting"}}"#),
            &format!(
                r#"{{"ts":"{T}","source":"gateway","pid":9,"event":"persisted","gateway_state":"running"}}"#
            ),
            &format!(
                r#"{{"ts":"{T}","source":"init","pid":1,"event":"reaped","child":9,"signal":"SIGKILL"}}"#
            ),
        ]);
        let t = terminal_of(
            &events,
            Life {
                pid: 9,
                start_time: 1,
                events_before: 2,
            },
        );
        assert_eq!(t.cause, CauseSeen::None);
        assert_eq!(t.gateway_state, Some(GatewayState::Running));
        assert_eq!(t.exit, ExitSeen::Signal("SIGKILL".into()));
        let t = terminal_of(
            &events[..2],
            Life {
                pid: 9,
                start_time: 1,
                events_before: 2,
            },
        );
        assert_eq!(t.exit, ExitSeen::NotReaped);
    }

    #[test]
    fn a_life_is_cut_at_boots_not_at_spawned_events() {
        let events = log(&[
            &format!(
                r#"{{"ts":"{T}","source":"init","pid":1,"event":"boot","prior_state":"missing","desired":"-","action":"started","prior_exit":"unknown"}}"#
            ),
            &format!(
                r#"{{"ts":"{T}","source":"gateway","pid":7,"event":"persisted","gateway_state":"stopped","exit_reason":"interactive-stop"}}"#
            ),
            &format!(
                r#"{{"ts":"{T}","source":"init","pid":1,"event":"boot","prior_state":"stopped","desired":"running","action":"started","prior_exit":"clean"}}"#
            ),
            // The child logs before its parent's `spawned` line.
            &format!(
                r#"{{"ts":"{T}","source":"gateway","pid":7,"event":"persisted","gateway_state":"running"}}"#
            ),
            &format!(
                r#"{{"ts":"{T}","source":"init","pid":1,"event":"spawned","child":7,"reason":"boot"}}"#
            ),
        ]);
        let t = terminal_of(
            &events,
            Life {
                pid: 7,
                start_time: 2,
                events_before: 5,
            },
        );
        assert_eq!(t.gateway_state, Some(GatewayState::Running));
        assert_eq!(t.exit_reason, None);
        assert_eq!(t.exit, ExitSeen::NotReaped);
    }

    #[test]
    fn startups_are_counted_per_boot_and_the_survivor_is_left_out() {
        let events = log(&[
            &format!(
                r#"{{"ts":"{T}","source":"init","pid":1,"event":"spawned","child":7,"reason":"revive"}}"#
            ),
            &format!(
                r#"{{"ts":"{T}","source":"gateway","pid":7,"event":"persisted","gateway_state":"starting"}}"#
            ),
            &format!(
                r#"{{"ts":"{T}","source":"gateway","pid":7,"event":"persisted","gateway_state":"running"}}"#
            ),
            &format!(
                r#"{{"ts":"{T}","source":"init","pid":1,"event":"spawned","child":8,"reason":"revive"}}"#
            ),
            &format!(
                r#"{{"ts":"{T}","source":"gateway","pid":8,"event":"persisted","gateway_state":"starting"}}"#
            ),
            &format!(
                r#"{{"ts":"{T}","source":"init","pid":1,"event":"boot","prior_state":"starting","desired":"running","action":"started","prior_exit":"unclean"}}"#
            ),
            // pid 7 again, in the next boot: another life, killed while starting.
            &format!(
                r#"{{"ts":"{T}","source":"init","pid":1,"event":"spawned","child":7,"reason":"boot"}}"#
            ),
            &format!(
                r#"{{"ts":"{T}","source":"init","pid":1,"event":"boot","prior_state":"starting","desired":"running","action":"started","prior_exit":"unclean"}}"#
            ),
            &format!(
                r#"{{"ts":"{T}","source":"init","pid":1,"event":"spawned","child":7,"reason":"boot"}}"#
            ),
        ]);
        assert_eq!(startups_since(&events, 0, Some(7)), (3, 2));
        assert_eq!(startups_since(&events, 0, None), (4, 3));
        assert_eq!(startups_since(&events, 3, Some(7)), (2, 2));
    }

    #[test]
    fn torn_files_and_temp_files_are_told_by_name_and_bytes() {
        assert_eq!(torn_in("gateway_state.json", br#"{"schema":1}"#), 0);
        assert_eq!(torn_in("gateway_state.json", b""), 1);
        assert_eq!(torn_in("lifecycle.json", br#"{"phase":"runn"#), 1);
        assert_eq!(torn_in("desired_state.json", br#"["running"]"#), 1);
        assert_eq!(torn_in("gateway_state.json.corrupt-1700000000", b"{}"), 1);
        assert_eq!(torn_in("config.toml", b"drain_ms = "), 0);
        assert_eq!(
            torn_in("events.jsonl", b"{\"a\":1}\n{\"b\":\n{\"c\":3}\n"),
            1
        );
        assert_eq!(torn_in("events.jsonl", b""), 0);
        assert!(is_judged_for_tears(".gateway-planned-stop.json"));
        assert!(!is_judged_for_tears("config.toml"));
        assert!(is_temp_file(".gateway_state.json.tmp-41-0"));
        assert!(!is_temp_file("gateway_state.json"));
        assert!(!is_temp_file(".gateway-planned-stop.json"));
        assert!(!is_judged_for_tears(".gateway_state.json.tmp-41-0"));
    }

    #[test]
    fn boot_lines_since_takes_the_new_lines() {
        let lines: Vec<String> = [
            "2026-11-26T06:00:00.000Z profile=default prior_state=missing desired=- action=started prior_exit=unknown",
            "2026-11-26T06:00:01.000Z profile=default prior_state=running desired=- action=started prior_exit=clean",
            "garbage",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut h = History::new();
        let parse = |l: &str| l.parse::<BootLine>().map_err(|e| e.to_string());
        let e = boot_lines_since(&lines, 1, &parse, &mut h).unwrap_err();
        assert!(e.to_string().contains("line 3 cannot be read"), "{e}");
        let b = boot_lines_since(&lines[..2], 1, &parse, &mut h).unwrap();
        assert_eq!(b["default"].prior_state.as_str(), "running");
    }
}
