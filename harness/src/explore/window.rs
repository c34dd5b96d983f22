//! Whether a schedule ran as fast as the model's crash window assumes.
//!
//! The model counts an unexpected exit until a boot, an operator start or a
//! window pass (a pause longer than init's `--crash-window-s`) forgets it.
//! That is init's rule only while the exits it counts fall inside one window:
//! a schedule whose moves took longer would let init forget an exit the
//! model still counts. Explore measures it and calls such a schedule
//! inconclusive, never a divergence: the machine's speed is no bug.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::model::{Model, CRASH_WINDOW_S};

/// The slack kept below the window: a move's crash lies between the instant
/// it began and the instant it settled, both measured here, and init reads
/// its own clock when it reaps.
const SLACK: Duration = Duration::from_millis(250);

/// The instants of the first exit each profile's crash count holds.
#[derive(Debug)]
pub struct WindowCheck {
    /// Whether the target's supervisor gives up by the window at all.
    matters: bool,
    first: BTreeMap<String, Instant>,
}

impl WindowCheck {
    /// A check for a target whose supervisor gives up within a window
    /// (`matters`); for others every schedule is in time.
    pub fn new(matters: bool) -> WindowCheck {
        WindowCheck {
            matters,
            first: BTreeMap::new(),
        }
    }

    /// After move `n`, begun at `started` and settled now, took the model
    /// from `before` to `after`: why the schedule is inconclusive, if it is.
    pub fn after(
        &mut self,
        n: usize,
        before: &Model,
        after: &Model,
        started: Instant,
    ) -> Option<String> {
        if !self.matters {
            return None;
        }
        let window = Duration::from_secs(u64::from(CRASH_WINDOW_S));
        for p in after.names() {
            let (was, now) = (before.crashes(&p), after.crashes(&p));
            if now == 0 {
                self.first.remove(&p);
            } else if was == 0 {
                self.first.insert(p, started);
            } else if now > was {
                let first = *self.first.entry(p.clone()).or_insert(started);
                let span = first.elapsed();
                if span + SLACK >= window {
                    return Some(format!(
                        "the {now} exits of {p} the model counts in one crash window took {:.1} s up to step {n}, \
                         not within the {} s window less {} ms: init may have forgotten the first",
                        span.as_secs_f64(),
                        CRASH_WINDOW_S,
                        SLACK.as_millis()
                    ));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::model::Signal;

    fn killed(m: &Model, p: &str) -> Model {
        let mut after = m.clone();
        after.signal(p, Signal::Kill);
        after
    }

    #[test]
    fn exits_within_the_window_are_in_time_and_a_pass_forgets_them() {
        let (m0, _) = Model::booted_with(&["a".to_owned()], 3);
        let mut w = WindowCheck::new(true);
        let m1 = killed(&m0, "a");
        assert_eq!(w.after(1, &m0, &m1, Instant::now()), None);
        let m2 = killed(&m1, "a");
        assert_eq!(w.after(2, &m1, &m2, Instant::now()), None);
        let mut m3 = m2.clone();
        m3.window_passes();
        assert_eq!(w.after(3, &m2, &m3, Instant::now()), None);
        assert!(w.first.is_empty());
    }

    #[test]
    fn a_count_that_spans_more_than_the_window_is_inconclusive() {
        let (m0, _) = Model::booted_with(&["a".to_owned()], 3);
        let mut w = WindowCheck::new(true);
        let m1 = killed(&m0, "a");
        let long_ago = Instant::now()
            .checked_sub(Duration::from_secs(u64::from(CRASH_WINDOW_S)))
            .unwrap();
        assert_eq!(w.after(1, &m0, &m1, long_ago), None);
        let m2 = killed(&m1, "a");
        let why = w.after(2, &m1, &m2, Instant::now()).unwrap();
        assert!(why.contains("the 2 exits of a"), "{why}");
        // Where the window does not matter, nothing is.
        let mut off = WindowCheck::new(false);
        assert_eq!(off.after(1, &m0, &m1, long_ago), None);
        assert_eq!(off.after(2, &m1, &m2, Instant::now()), None);
    }
}
