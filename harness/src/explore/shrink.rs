//! Shrinking a failing schedule on the real target: fewer operations, then
//! simpler ones, keeping only candidates that the model allows step by step
//! and that still show the same kind of divergence.

use crate::backend::BackendKind;

use super::execute::Divergence;
use super::model::Model;
use super::moves::Move;

/// Whether every operation of `schedule` is allowed where the model says it
/// lands (a shrunk schedule must still be performable).
pub fn performable(
    schedule: &[Move],
    profiles: &[String],
    crash_limit: u32,
    backend: BackendKind,
) -> bool {
    let (mut m, _) = Model::booted_with(profiles, crash_limit);
    for (i, op) in schedule.iter().enumerate() {
        // Two orders that end differently only last, as explore draws them.
        let last = i + 1 == schedule.len();
        if !op.allowed(&m, backend) || (!last && op.splits(&m)) {
            return false;
        }
        op.apply(&mut m);
    }
    true
}

/// The candidates tried after `schedule`, smallest first: chunks removed
/// (halves, quarters, ... single operations), then each operation replaced by
/// a simpler one. Only performable ones are kept.
pub fn candidates(
    schedule: &[Move],
    profiles: &[String],
    crash_limit: u32,
    backend: BackendKind,
) -> Vec<Vec<Move>> {
    let n = schedule.len();
    let mut out: Vec<Vec<Move>> = Vec::new();
    let mut chunk = n / 2;
    while chunk >= 1 {
        let mut start = 0;
        while start + chunk <= n {
            let mut c = schedule[..start].to_vec();
            c.extend_from_slice(&schedule[start + chunk..]);
            if !c.is_empty() && !out.contains(&c) {
                out.push(c);
            }
            start += chunk;
        }
        chunk /= 2;
    }
    for (i, op) in schedule.iter().enumerate() {
        for simpler in op.simpler() {
            let mut c = schedule.to_vec();
            c[i] = simpler;
            out.push(c);
        }
        if let Some(settled) = op.settled() {
            let mut c = schedule.to_vec();
            c.splice(i..=i, settled);
            out.push(c);
        }
    }
    out.retain(|c| performable(c, profiles, crash_limit, backend));
    out
}

/// Whether `found` is the same bug as `original` for shrinking: the same
/// field diverged.
pub fn same_bug(original: &Divergence, found: &Divergence) -> bool {
    original.field == found.field
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::model::Signal;

    #[test]
    fn candidates_remove_chunks_then_simplify_and_stay_performable() {
        let p = |s: &str| s.to_owned();
        let schedule = vec![
            Move::Stop(p("a")),
            Move::Signal(p("a"), Signal::Hup),
            Move::ContainerKill,
        ];
        // SIGHUP to a stopped profile is not performable: only a start makes it so.
        assert!(!performable(&schedule, &[p("a")], 3, BackendKind::Process));
        let schedule = vec![
            Move::Signal(p("a"), Signal::Hup),
            Move::Stop(p("a")),
            Move::ContainerKill,
        ];
        let c = candidates(&schedule, &[p("a")], 3, BackendKind::Process);
        assert_eq!(c[0], vec![Move::Stop(p("a")), Move::ContainerKill]);
        assert!(c.contains(&vec![
            Move::Signal(p("a"), Signal::Term),
            Move::Stop(p("a")),
            Move::ContainerKill
        ]));
        assert!(c.contains(&vec![
            Move::Signal(p("a"), Signal::Hup),
            Move::Stop(p("a")),
            Move::ContainerRestart
        ]));
    }
}
