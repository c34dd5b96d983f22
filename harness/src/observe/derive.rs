//! What follows from what was read, with no IO: a life's terminal write from
//! its profile's history, start-ups counted in a storm, torn and temp files
//! told by name and bytes, the boot lines of one boot, liveness from a status.

use std::collections::BTreeMap;

use restart_contract::boot::BootLine;
use restart_contract::events::{Event, EventKind, Source};
use restart_contract::layout::files;
use restart_contract::GatewayState;

use super::model::{CauseSeen, ExitSeen, Life, LiveSeen, Status, TerminalSeen};
use crate::backend::{BackendError, BackendResult};
use crate::history::{EntryKind, History};

/// Whether `name` is the temp file of an atomic write of the contract
/// (`.<name>.tmp-<pid>-<n>`, `restart_contract::store::write_atomic`).
pub fn is_temp_file(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp-")
}

/// Whether `bytes` parse as one JSON document: what any reader of a state
/// file needs, whatever its fields (a torn write does not parse).
pub fn is_whole_json(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes).is_ok()
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
        let b = parse(l).map_err(|why| BackendError::UnreadableBootLine {
            line_no: from + i + 1,
            why,
            line: l.clone(),
        })?;
        out.insert(b.profile.clone(), b);
    }
    Ok(out)
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
