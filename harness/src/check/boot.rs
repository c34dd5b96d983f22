//! The `[expect.first_boot.P]` and `[expect.boot.P]` tables: the words of a
//! profile's boot line (`docs/scenarios.md`, "The table format").

use std::collections::BTreeMap;

use super::{ExpectationId, ExpectationResult, Out, Table};
use crate::scenario::model::BootExpect;
use restart_contract::boot::BootLine;

/// Checks `prior_state`, `desired` (`-` for none), `action` and `prior_exit`
/// of each profile's boot line in `phase` (`first_boot` or `boot`); with no
/// boot line, every field given fails.
pub(super) fn check(
    out: &mut Out,
    phase: Table,
    expect: &BTreeMap<String, BootExpect>,
    seen: &BTreeMap<String, BootLine>,
) {
    for (profile, e) in expect {
        let line = seen.get(profile);
        let w = |f: &str| ExpectationId::expect(phase, Some(profile), f);
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
                out.push(ExpectationResult::compare(w(f), v, "no boot line", false));
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
