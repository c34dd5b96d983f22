//! The `[expect.after_boot.P]` table: liveness after the next boot, from
//! `gateway status --json` (`docs/scenarios.md`, "The table format"). The
//! same check reads `supervised` and `live` of `[expect.at_rest.P]`.

use super::{ExpectationId, Out, Table};
use crate::observe::LiveSeen;
use crate::observe::Supervised;

/// Checks `supervised` and `live` of one profile in `phase` (`after_boot` or
/// `at_rest`).
pub(super) fn live(
    out: &mut Out,
    phase: Table,
    profile: &str,
    supervised: Option<Supervised>,
    live: Option<bool>,
    seen: Option<&LiveSeen>,
) {
    out.eq(
        ExpectationId::expect(phase, Some(profile), "supervised"),
        &supervised.map(|s| s.as_str()),
        seen.and_then(|s| s.supervised).map(|s| s.as_str()),
    );
    out.eq(
        ExpectationId::expect(phase, Some(profile), "live"),
        &live,
        seen.and_then(|s| s.live),
    );
}
