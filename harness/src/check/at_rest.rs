//! The `[expect.at_rest.P]` table: a profile's files and supervision at rest
//! after the fault (`docs/scenarios.md`, "The table format").

use std::collections::BTreeMap;

use super::{after_boot, desired_str, opt_str, ExpectationId, ExpectationResult, Out, Table};
use crate::observe::{FileState, Life, LiveSeen, RestSeen};
use crate::scenario::model::{AtRestExpect, Presence};

/// Checks each profile's `torn_files`, `temp_files` and `unparsable_versions` (first: a torn file
/// is the cause of whatever else it breaks), `gateway_state`, `exit_reason` and
/// `restart_requested` (from a valid state file), `state_keeps_keys`,
/// `desired_state`, `marker`, `kept_aside`, `supervised` and `live`, and
/// `new_life` (pid or start time differ from the faulted life in `lives`); a
/// profile not observed fails once, on `files`.
pub(super) fn check(
    out: &mut Out,
    expect: &BTreeMap<String, AtRestExpect>,
    seen: &BTreeMap<String, RestSeen>,
    lives: &BTreeMap<String, Life>,
) {
    for (profile, e) in expect {
        let Some(r) = seen.get(profile) else {
            out.push(ExpectationResult::compare(
                id(profile, "files"),
                "observed",
                "not observed",
                false,
            ));
            continue;
        };
        state_file(out, profile, e, r);
        intent_and_marker(out, profile, e, r);
        let live = LiveSeen {
            supervised: r.supervised,
            live: r.live,
        };
        after_boot::live(
            out,
            Table::AtRest,
            profile,
            e.supervised,
            e.live,
            Some(&live),
        );
        if let Some(exp) = e.new_life {
            new_life(out, profile, exp, lives.get(profile), r);
        }
    }
}

fn id(profile: &str, field: &str) -> ExpectationId {
    ExpectationId::expect(Table::AtRest, Some(profile), field)
}

/// The home's torn and temp files, then the state file's fields.
fn state_file(out: &mut Out, profile: &str, e: &AtRestExpect, r: &RestSeen) {
    let w = |f: &str| id(profile, f);
    // First: a torn file is the cause of whatever else it breaks.
    out.eq(
        w("torn_files"),
        &e.torn_files.map(u64::from),
        Some(u64::try_from(r.torn_files).unwrap_or(u64::MAX)),
    );
    out.eq(
        w("temp_files"),
        &e.temp_files.map(u64::from),
        Some(u64::try_from(r.temp_files).unwrap_or(u64::MAX)),
    );
    out.eq(
        w("unparsable_versions"),
        &e.unparsable_versions.map(u64::from),
        Some(u64::try_from(r.unparsable_versions).unwrap_or(u64::MAX)),
    );
    out.eq(
        w("gateway_state"),
        &e.gateway_state.map(|s| s.0.to_string()),
        Some(r.gateway_state.to_string()),
    );
    if let Some(p) = &e.exit_reason {
        let valid = matches!(r.gateway_state, FileState::Value(_));
        out.push(ExpectationResult::compare(
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
        out.push(ExpectationResult::compare(
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
}

/// The intent file, the marker, and the copies kept aside.
fn intent_and_marker(out: &mut Out, profile: &str, e: &AtRestExpect, r: &RestSeen) {
    let w = |f: &str| id(profile, f);
    out.eq(
        w("desired_state"),
        &e.desired_state.map(|d| desired_str(d.0)),
        Some(desired_str(r.desired_state)),
    );
    let word = |present: bool| if present { "present" } else { "absent" };
    out.eq(
        w("marker"),
        &e.marker.map(|m| word(m == Presence::Present)),
        Some(word(r.marker)),
    );
    for file in e.kept_aside.iter().flatten() {
        let found = r.kept_aside(file);
        out.push(ExpectationResult::compare(
            w(&format!("kept_aside.{file}")),
            format!("{file}.corrupt-*"),
            found.unwrap_or("none"),
            found.is_some(),
        ));
    }
}

/// Whether the gateway running now is another life than the faulted one
/// (pid or start time differ).
fn new_life(out: &mut Out, profile: &str, exp: bool, faulted: Option<&Life>, r: &RestSeen) {
    let faulted = faulted.map(|l| (l.pid, l.start_time));
    let now = r.pid.zip(r.start_time);
    let is_new = matches!((faulted, now), (Some(f), Some(n)) if f != n);
    let show = |x: Option<(i32, u64)>| {
        x.map_or_else(
            || "none".to_owned(),
            |(p, t)| format!("pid {p} start_time {t}"),
        )
    };
    out.push(ExpectationResult::compare(
        id(profile, "new_life"),
        exp,
        format!("{is_new} (faulted {}, now {})", show(faulted), show(now)),
        is_new == exp,
    ));
}
