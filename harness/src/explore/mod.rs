//! Explore: seeded random schedules of operations on a real target, each
//! observation compared with an independent model of the contract, and the
//! first divergence shrunk on the target and written as a scenario file.
//!
//! Jepsen's split, as in the rest of the harness:
//! - [`op`]: the generator's operations (and the steps and faults that perform them);
//! - [`model`]: the model, written from `docs/contract.md` apart from the code it checks;
//! - [`execute`]: one schedule on a fresh sandbox, compared after every operation;
//! - [`shrink`]: smaller and simpler candidates of a failing schedule;
//! - [`emit`]: the shrunk schedule as a scenario with literal expectations.
//!
//! Schedule `k` of a run is drawn from `seed` and `k` alone, with the model
//! deciding which operations can be performed: the same seed gives the same
//! schedules whatever the target does.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::Backend;
use crate::op::SplitMix64;
use crate::runner::RunOptions;

pub mod emit;
pub mod execute;
pub mod model;
pub mod moves;
pub mod shrink;
pub mod window;

pub use execute::{Divergence, Trial};
pub use moves::Move;

/// How explore runs.
#[derive(Debug, Clone)]
pub struct ExploreOptions {
    /// The seed of every schedule.
    pub seed: u64,
    /// Operations per schedule.
    pub steps: usize,
    /// Wall time for exploring, until a divergence.
    pub budget: Duration,
    /// Wall time for shrinking a divergence on the target.
    pub shrink_budget: Duration,
    /// At most this many schedules (a budget that does not depend on the
    /// machine's speed: what a test uses).
    pub max_schedules: Option<usize>,
    /// Profiles besides `default`.
    pub profiles: Vec<String>,
}

impl Default for ExploreOptions {
    fn default() -> Self {
        ExploreOptions {
            seed: 1,
            steps: 8,
            budget: Duration::from_secs(120),
            shrink_budget: Duration::from_secs(60),
            max_schedules: None,
            profiles: vec!["a".to_owned()],
        }
    }
}

/// A divergence found, shrunk.
#[derive(Debug, Clone)]
pub struct Found {
    /// Which schedule of the run found it (0-based).
    pub schedule_index: usize,
    /// Its length before shrinking.
    pub original_len: usize,
    /// The first divergence, as found.
    pub original: Divergence,
    /// The shrunk schedule.
    pub schedule: Vec<Move>,
    /// The crash limit its init was given.
    pub crash_limit: u32,
    /// Its divergence.
    pub divergence: Divergence,
    /// From the start of the run to the first divergence.
    pub time_to_find: Duration,
    /// Shrinking candidates run on the target.
    pub shrink_runs: usize,
    /// Whether shrinking stopped at the budget before trying every candidate.
    pub shrink_cut: bool,
    /// The scenario file of the shrunk schedule.
    pub scenario: String,
    /// The timeline of the last run that showed it (the shrunk schedule's).
    pub timeline: Vec<crate::history::Entry>,
}

/// What a run of explore did.
#[derive(Debug, Clone)]
pub struct ExploreReport {
    /// The seed.
    pub seed: u64,
    /// Schedules run to the end without a divergence.
    pub agreed: usize,
    /// Operations performed in them.
    pub operations: usize,
    /// Schedules the harness or backend could not run.
    pub errors: Vec<String>,
    /// Schedules that ran slower than their crash window allows (no verdict).
    pub inconclusive: usize,
    /// The divergence found, if any.
    pub found: Option<Found>,
    /// Wall time.
    pub elapsed: Duration,
}

/// What explore tells as it goes.
#[derive(Debug, Clone)]
pub enum Progress {
    /// A schedule agreed with the model.
    Agreed {
        /// Its index.
        index: usize,
        /// Its operations.
        len: usize,
    },
    /// A schedule diverged.
    Diverged {
        /// Its index.
        index: usize,
        /// The divergence.
        divergence: Divergence,
    },
    /// A shrinking candidate still diverges: the new smallest.
    Shrunk {
        /// Its length.
        len: usize,
    },
    /// A schedule could not be run.
    Error(String),
    /// A schedule ran slower than its crash window allows: no verdict.
    Inconclusive {
        /// Its index.
        index: usize,
        /// What took too long.
        why: String,
    },
}

/// The first number of schedule `index`'s stream: one mixing step first, as
/// SplitMix streams of nearby seeds are the same stream shifted, and
/// schedules must not share their prefixes.
fn mixed(seed: u64, index: usize) -> u64 {
    SplitMix64::new(seed.rotate_left(32) ^ index as u64).next_u64()
}

/// The crash limit schedule `index` of a run seeded with `seed` gives init:
/// drawn from [`model::DRAWN_CRASH_LIMITS`] where the target takes init's
/// flags and gives up (a stream of its own, so that it leaves the moves'
/// draws alone), else [`model::CRASH_LIMIT`].
pub fn crash_limit(seed: u64, index: usize, run: &RunOptions) -> u32 {
    use crate::target::Claim;
    let drawn = run
        .target
        .unclaimed(&[Claim::ContractConfiguration, Claim::CrashLoopGivesUp])
        .is_none();
    if !drawn {
        return model::CRASH_LIMIT;
    }
    let n = model::DRAWN_CRASH_LIMITS.len() as u64;
    let k = SplitMix64::new(!mixed(seed, index)).next_u64() % n;
    model::DRAWN_CRASH_LIMITS[usize::try_from(k).unwrap_or(0)]
}

/// Schedule `index` of a run seeded with `seed`.
pub fn schedule(
    seed: u64,
    index: usize,
    opts: &ExploreOptions,
    run: &RunOptions,
    backend: crate::backend::BackendKind,
) -> Vec<Move> {
    let mut rng = SplitMix64::new(mixed(seed, index));
    let (mut m, _) = model::Model::booted_with(&opts.profiles, crash_limit(seed, index, run));
    let gives_up = run
        .target
        .unclaimed(&[crate::target::Claim::CrashLoopGivesUp])
        .is_none();
    // Only what the target claims, and no crash past the limit where its
    // supervisor does not claim to give up.
    let usable = |o: &Move, m: &model::Model, last: bool| {
        run.target.unclaimed(&o.claims()).is_none()
            && (gives_up || !o.makes_init_give_up(m))
            // Two orders that end differently: only as the last move, so
            // that no later move depends on the order the target took.
            && (last || !o.splits(m))
    };
    let mut out = Vec::new();
    while out.len() < opts.steps {
        let last = out.len() + 1 == opts.steps;
        // Bursts: a third of the time the last operation again, when it still
        // can be. Bugs of repetition (crash loops, a second stop, a marker
        // left by the first) need the same operation on the same profile
        // several times in a row, which uniform draws rarely give.
        let again = out
            .last()
            .filter(|prev: &&Move| {
                rng.next_u64().is_multiple_of(3)
                    && prev.allowed(&m, backend)
                    && usable(prev, &m, last)
            })
            .cloned();
        // The moves whose outcome depends on timing can only come last: a
        // quarter of the last moves are drawn among them alone, or they
        // would be rare.
        let timed = (again.is_none() && last && rng.next_u64().is_multiple_of(4))
            .then(|| {
                Move::draw(&mut rng, &m, backend, &|o| {
                    usable(o, &m, true) && o.splits(&m)
                })
            })
            .flatten();
        let Some(op) = again
            .or(timed)
            .or_else(|| Move::draw(&mut rng, &m, backend, &|o| usable(o, &m, last)))
        else {
            break;
        };
        op.apply(&mut m);
        out.push(op);
    }
    out
}

/// Explores `backend` until a divergence is found and shrunk, or the budget is
/// spent.
pub async fn explore(
    backend: Arc<dyn Backend>,
    run: &RunOptions,
    opts: &ExploreOptions,
    on_progress: &(dyn Fn(&Progress) + Send + Sync),
) -> ExploreReport {
    let start = Instant::now();
    let kind = backend.kind();
    let mut report = ExploreReport {
        seed: opts.seed,
        agreed: 0,
        operations: 0,
        errors: Vec::new(),
        inconclusive: 0,
        found: None,
        elapsed: Duration::ZERO,
    };
    let mut index = 0;
    while start.elapsed() < opts.budget && opts.max_schedules.is_none_or(|max| index < max) {
        let s = schedule(opts.seed, index, opts, run, kind);
        let limit = crash_limit(opts.seed, index, run);
        let (trial, history) = execute::run(&*backend, &opts.profiles, &s, limit, run).await;
        match trial {
            Trial::Agreed => {
                report.agreed += 1;
                report.operations += s.len();
                on_progress(&Progress::Agreed {
                    index,
                    len: s.len(),
                });
            }
            Trial::Inconclusive(why) => {
                on_progress(&Progress::Inconclusive {
                    index,
                    why: why.clone(),
                });
                report.inconclusive += 1;
            }
            Trial::Error(e) => {
                on_progress(&Progress::Error(e.clone()));
                report.errors.push(format!("schedule {index}: {e}"));
                if report.errors.len() >= 3 {
                    break;
                }
            }
            Trial::Diverged(d) => {
                on_progress(&Progress::Diverged {
                    index,
                    divergence: d.clone(),
                });
                let time_to_find = start.elapsed();
                let found = shrink(
                    &*backend,
                    run,
                    opts,
                    (index, limit),
                    (s, history.into_entries()),
                    d,
                    time_to_find,
                    on_progress,
                )
                .await;
                report.found = Some(found);
                break;
            }
        }
        index += 1;
    }
    report.elapsed = start.elapsed();
    report
}

#[allow(clippy::too_many_arguments)]
async fn shrink(
    backend: &dyn Backend,
    run: &RunOptions,
    opts: &ExploreOptions,
    (index, crash_limit): (usize, u32),
    (schedule, timeline): (Vec<Move>, Vec<crate::history::Entry>),
    original: Divergence,
    time_to_find: Duration,
    on_progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Found {
    let kind = backend.kind();
    let original_len = schedule.len();
    // The operations after the divergence played no part.
    let mut best: Vec<Move> = schedule[..original.step.max(1).min(schedule.len())].to_vec();
    let mut best_div = original.clone();
    let mut best_timeline = timeline;
    let mut runs = 0;
    let mut cut = false;
    let shrink_start = Instant::now();
    'outer: loop {
        for candidate in shrink::candidates(&best, &opts.profiles, crash_limit, kind) {
            if shrink_start.elapsed() >= opts.shrink_budget {
                cut = true;
                break 'outer;
            }
            runs += 1;
            let (trial, history) =
                execute::run(backend, &opts.profiles, &candidate, crash_limit, run).await;
            if let Trial::Diverged(d) = trial {
                if shrink::same_bug(&original, &d) {
                    best = candidate[..d.step.max(1).min(candidate.len())].to_vec();
                    best_div = d;
                    best_timeline = history.into_entries();
                    on_progress(&Progress::Shrunk { len: best.len() });
                    continue 'outer;
                }
            }
        }
        break;
    }
    let name = format!("explored-seed-{}-{}", opts.seed, index);
    let why = format!(
        "Found by `restart-harness explore --seed {}` (schedule {index}, shrunk from {original_len} to {} operations): {best_div}.",
        opts.seed,
        best.len()
    );
    let observed = execute::Observed::of(&run.target);
    let scenario = emit::scenario_toml(&name, &why, &opts.profiles, (&best, crash_limit), observed);
    Found {
        schedule_index: index,
        crash_limit,
        original_len,
        original,
        schedule: best,
        divergence: best_div,
        time_to_find,
        shrink_runs: runs,
        shrink_cut: cut,
        timeline: best_timeline,
        scenario,
    }
}

/// Where explore writes a found scenario: `DIR/<name>.toml.new` (never over a
/// table file: a reader renames it into `scenarios/` once it is understood).
pub fn output_path(dir: &std::path::Path, found: &Found, seed: u64) -> PathBuf {
    dir.join(format!(
        "explored-seed-{seed}-{}.toml.new",
        found.schedule_index
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendKind;

    /// The operations of the first `n` schedules of seed 1, as displayed.
    fn drawn(backend: BackendKind, n: usize) -> Vec<String> {
        let opts = ExploreOptions::default();
        let run = RunOptions::default();
        (0..n)
            .flat_map(|k| schedule(1, k, &opts, &run, backend))
            .map(|op| op.to_string())
            .collect()
    }

    #[test]
    fn crash_limits_are_drawn_only_where_the_target_gives_up_by_its_flags() {
        let run = RunOptions::default();
        let limits: Vec<u32> = (0..60).map(|k| crash_limit(1, k, &run)).collect();
        for l in model::DRAWN_CRASH_LIMITS {
            assert!(limits.contains(&l), "{l} never drawn: {limits:?}");
        }
        assert_eq!(
            limits,
            (0..60).map(|k| crash_limit(1, k, &run)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_same_seed_draws_the_same_schedules() {
        assert_eq!(drawn(BackendKind::Docker, 5), drawn(BackendKind::Docker, 5));
    }

    #[test]
    fn eighty_schedules_reach_the_filesystem_faults() {
        let ops = drawn(BackendKind::Docker, 80);
        for kind in [
            "into a read-only home",
            "on a full disk",
            "desired_state.json belongs",
            "oom ",
            "kill-storm-init",
            "stop a in its backoff",
            "start default in its backoff",
            "started together",
            "ms later",
            "let the crash window pass",
        ] {
            assert!(
                ops.iter().any(|o| o.contains(kind)),
                "no `{kind}` among {} operations",
                ops.len()
            );
        }
    }
}
