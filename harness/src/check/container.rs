//! The `[expect.container]` table: supervisor / container facts
//! (`docs/scenarios.md`, "The table format").

use super::{ExpectationResult, Out};
use crate::backend::BackendKind;
use crate::observe::ContainerSeen;
use crate::scenario::model::ContainerExpect;

/// Checks `exit_code` (the supervisor's last exit), `oom` (Docker only,
/// skipped on processes) and `restarted` (skipped with no start time).
pub(super) fn check(
    out: &mut Out,
    c: &ContainerExpect,
    container: &ContainerSeen,
    backend: BackendKind,
) {
    let after = &container.after;
    if let Some(code) = c.exit_code {
        out.push(match after.last_exit_code {
            Some(seen) => {
                ExpectationResult::compare("container.exit_code".into(), code, seen, seen == code)
            }
            None => ExpectationResult::compare(
                "container.exit_code".into(),
                code,
                "no exit recorded",
                false,
            ),
        });
    }
    if let Some(oom) = c.oom {
        out.push(match backend {
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
        let before = &container.before.started_at;
        out.push(match (before, &after.started_at) {
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
