//! The `[expect.container]` table: supervisor / container facts
//! (`docs/scenarios.md`, "The table format").

use super::{ExpectationId, ExpectationResult, Out, Table};
use crate::backend::BackendKind;
use crate::observe::ContainerSeen;
use crate::scenario::model::ContainerExpect;

/// Checks `exit_code` (the supervisor's last exit), `oom` (Docker only,
/// skipped on processes) and `restarted` (unobserved, an error of the
/// scenario, when no start time was read).
pub(super) fn check(
    out: &mut Out,
    c: &ContainerExpect,
    container: &ContainerSeen,
    backend: BackendKind,
) {
    let after = &container.after;
    if let Some(code) = c.exit_code {
        out.push(match after.last_exit_code {
            Some(seen) => ExpectationResult::compare(
                ExpectationId::expect(Table::Container, None, "exit_code"),
                code,
                seen,
                seen == code,
            ),
            None => ExpectationResult::compare(
                ExpectationId::expect(Table::Container, None, "exit_code"),
                code,
                "no exit recorded",
                false,
            ),
        });
    }
    if let Some(oom) = c.oom {
        out.push(match backend {
            BackendKind::Docker => ExpectationResult::compare(
                ExpectationId::expect(Table::Container, None, "oom"),
                oom,
                after.oom_seen,
                after.oom_seen == oom,
            ),
            BackendKind::Process => ExpectationResult::skipped(
                ExpectationId::expect(Table::Container, None, "oom"),
                oom,
                "not observable on local processes",
            ),
        });
    }
    if let Some(restarted) = c.restarted {
        let before = &container.before.started_at;
        out.push(match (before, &after.started_at) {
            (Some(b), Some(a)) => ExpectationResult::compare(
                ExpectationId::expect(Table::Container, None, "restarted"),
                restarted,
                format!("{} (started {b}, then {a})", a != b),
                (a != b) == restarted,
            ),
            _ => ExpectationResult::unobserved(
                ExpectationId::expect(Table::Container, None, "restarted"),
                restarted,
                "no start time was read before and after the fault",
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::ContainerFacts;
    use crate::check::Verdict;

    fn facts(started_at: Option<&str>) -> ContainerFacts {
        ContainerFacts {
            started_at: started_at.map(str::to_owned),
            ..ContainerFacts::default()
        }
    }

    #[test]
    fn restarted_without_a_start_time_is_unobserved_never_skipped() {
        let expect = ContainerExpect {
            restarted: Some(true),
            ..ContainerExpect::default()
        };
        let rows = [
            (Some("t1"), Some("t2"), Verdict::Pass),
            (Some("t1"), Some("t1"), Verdict::Fail),
            (None, Some("t2"), Verdict::Unobserved),
            (Some("t1"), None, Verdict::Unobserved),
        ];
        for (before, after, verdict) in rows {
            let mut out = Out(Vec::new());
            let seen = ContainerSeen {
                before: facts(before),
                after: facts(after),
            };
            check(&mut out, &expect, &seen, BackendKind::Docker);
            assert_eq!(out.0[0].verdict, verdict, "{before:?} {after:?}");
        }
    }
}
