//! The `[expect.terminal.P]` table: the terminal write of the faulted life
//! (`docs/scenarios.md`, "The table format").

use std::collections::BTreeMap;

use super::{opt_str, ExpectationId, ExpectationResult, Out, Table};
use crate::observe::TerminalSeen;
use crate::scenario::model::TerminalExpect;

/// Checks `cause`, `signal`, `gateway_state`, `exit_reason` and `exit` of
/// each profile's faulted life; a profile with no faulted life fails once,
/// on `life`.
pub(super) fn check(
    out: &mut Out,
    expect: &BTreeMap<String, TerminalExpect>,
    seen: &BTreeMap<String, TerminalSeen>,
) {
    for (profile, e) in expect {
        let w = |f: &str| ExpectationId::expect(Table::Terminal, Some(profile), f);
        let Some(t) = seen.get(profile) else {
            out.push(ExpectationResult::compare(
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
            out.push(ExpectationResult::compare(
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
}
