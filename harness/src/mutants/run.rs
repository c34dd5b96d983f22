//! Runs the kill matrix: the table on the reference and on each mutant.
//!
//! The reference runs every scenario (a scenario it fails judges nothing, and
//! the gate exits 1). Each mutant runs the table in table order; without
//! `--full` it stops once a scenario killed it. The [`Scheduler`] decides which
//! run comes next, breadth first: scenario 1 on the reference and on every
//! mutant, then scenario 2, and so on, so that every mutant meets the
//! scenarios most likely to kill it (the table starts with the faults users
//! meet most) before any mutant runs the long tail. At most `jobs` runs are in
//! flight; a mutant run that failed a literal expectation while the
//! reference's run of that scenario is still going holds that mutant's further
//! runs back until the kill is confirmed or refuted, so that a killed mutant
//! starts nothing more.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;

use super::matrix::{Outcomes, RunOutcome};
use super::{list_from_binary, MutantInfo, MutantsError};
use crate::backend::docker::image::MUTANTS_REPO;
use crate::backend::docker::DockerBackend;
use crate::backend::process::ProcessBackend;
use crate::backend::{Backend, BackendError, BackendKind, SelectError, SelectOptions, Selection};
use crate::gateway_bin::{self, Build};
use crate::runner::{self, Outcome, RunOptions, ScenarioResult};
use crate::scenario::Scenario;
use crate::status::Waits;

/// The environment variable that selects a mutant in the `mutants` build.
pub const MUTANT_ENV: &str = "GATEWAY_MUTANT";

/// Who runs a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// The reference gateway.
    Reference,
    /// A mutant, by its row.
    Mutant(usize),
}

/// One run to make: a scenario (by column) on a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Job {
    /// The scenario's column.
    pub scenario: usize,
    /// Who runs it.
    pub subject: Subject,
}

/// Decides which run comes next, from the outcomes so far. Pure: no clock and
/// no process, so its order and its stopping rule are unit-tested.
#[derive(Debug, Clone)]
pub struct Scheduler {
    outcomes: Outcomes,
    started: HashSet<Job>,
    full: bool,
}

impl Scheduler {
    /// Nothing run yet.
    pub fn new(scenarios: Vec<String>, mutants: Vec<String>, full: bool) -> Self {
        Scheduler {
            outcomes: Outcomes::new(scenarios, mutants),
            started: HashSet::new(),
            full,
        }
    }

    /// Every job, in priority order: by scenario, the reference first.
    fn order(&self) -> impl Iterator<Item = Job> + '_ {
        let nm = self.outcomes.mutants.len();
        (0..self.outcomes.scenarios.len()).flat_map(move |scenario| {
            std::iter::once(Subject::Reference)
                .chain((0..nm).map(Subject::Mutant))
                .map(move |subject| Job { scenario, subject })
        })
    }

    /// Whether mutant `m` failed a literal expectation on a scenario whose
    /// reference run has not ended: a kill not yet confirmed.
    fn kill_pending(&self, m: usize) -> bool {
        (0..self.outcomes.scenarios.len()).any(|s| {
            self.outcomes.reference_of(s).is_none()
                && self.outcomes.run_of(m, s).is_some_and(|r| {
                    r.outcome == Outcome::Failed && r.first_literal_failure().is_some()
                })
        })
    }

    fn eligible(&self, job: Job) -> bool {
        if self.started.contains(&job) {
            return false;
        }
        match job.subject {
            Subject::Reference => true,
            Subject::Mutant(_) if self.full => true,
            Subject::Mutant(m) => !self.outcomes.killed(m) && !self.kill_pending(m),
        }
    }

    /// Whether mutant `m` has a run in flight (started, not finished).
    fn in_flight(&self, m: usize) -> bool {
        (0..self.outcomes.scenarios.len()).any(|s| {
            self.started.contains(&Job {
                scenario: s,
                subject: Subject::Mutant(m),
            }) && self.outcomes.run_of(m, s).is_none()
        })
    }

    /// The next run to start, if any may start now (marked started).
    ///
    /// Without `--full`, a mutant whose run is still in flight gets a second
    /// one only when nothing else may start: that run may yet kill it, and
    /// any run started meanwhile would be wasted.
    pub fn next_job(&mut self) -> Option<Job> {
        let free = |j: &Job| match j.subject {
            Subject::Reference => true,
            Subject::Mutant(m) => self.full || !self.in_flight(m),
        };
        let job = self
            .order()
            .find(|j| self.eligible(*j) && free(j))
            .or_else(|| self.order().find(|j| self.eligible(*j)))?;
        self.started.insert(job);
        Some(job)
    }

    /// Records how a run ended.
    pub fn finish(&mut self, job: Job, outcome: RunOutcome) {
        let slot = match job.subject {
            Subject::Reference => self.outcomes.reference.get_mut(job.scenario),
            Subject::Mutant(m) => self
                .outcomes
                .runs
                .get_mut(m)
                .and_then(|row| row.get_mut(job.scenario)),
        };
        if let Some(slot) = slot {
            *slot = Some(outcome);
        }
    }

    /// The outcomes so far.
    pub fn outcomes(&self) -> &Outcomes {
        &self.outcomes
    }

    /// The outcomes.
    pub fn into_outcomes(self) -> Outcomes {
        self.outcomes
    }
}

/// The two gateways a matrix runs: the reference, and the `mutants` build (on
/// Docker one backend holds both images and picks by `GATEWAY_MUTANT`).
#[derive(Clone)]
pub struct Backends {
    /// Runs the reference gateway.
    pub reference: Arc<dyn Backend>,
    /// Runs the `mutants` build; `GATEWAY_MUTANT` is set per run.
    pub mutants: Arc<dyn Backend>,
    /// The report's backend line.
    pub describe: String,
}

impl Backends {
    /// Which backend.
    pub fn kind(&self) -> BackendKind {
        self.reference.kind()
    }

    /// Process backends on two gateway binaries.
    pub fn process(reference: PathBuf, mutants: PathBuf) -> Self {
        let describe = format!(
            "process (gateway {}; mutants gateway {})",
            reference.display(),
            mutants.display()
        );
        Backends {
            reference: Arc::new(ProcessBackend::new(reference)),
            mutants: Arc::new(ProcessBackend::new(mutants)),
            describe,
        }
    }

    /// One Docker backend that has both the reference and the mutants image.
    pub fn docker(backend: DockerBackend) -> Self {
        let describe = backend.describe();
        let b: Arc<dyn Backend> = Arc::new(backend);
        Backends {
            reference: b.clone(),
            mutants: b,
            describe,
        }
    }
}

/// The backends, ready, and the mutants the gateway lists.
pub struct Prepared {
    /// The backends.
    pub backends: Backends,
    /// Every mutant of the mutants build, in its order.
    pub mutants: Vec<MutantInfo>,
}

/// The mutants-build binary of a Docker backend: the static binary in the
/// mutants image (it runs on this host too).
fn docker_mutants_binary(b: &DockerBackend) -> Result<PathBuf, MutantsError> {
    b.built_images()
        .iter()
        .find(|i| i.name.starts_with(&format!("{MUTANTS_REPO}:")))
        .map(|i| i.binary.clone())
        .ok_or_else(|| {
            MutantsError::Select(SelectError::Backend(BackendError::NoMutantsImage {
                wanted_by: "the mutant gate".to_owned(),
            }))
        })
}

async fn prepare_docker() -> Result<Prepared, MutantsError> {
    let opts = SelectOptions {
        mutants: true,
        ..SelectOptions::default()
    };
    let b = DockerBackend::connect(&opts)
        .await
        .map_err(SelectError::Backend)?;
    let binary = docker_mutants_binary(&b)?;
    let mutants = tokio::task::spawn_blocking(move || list_from_binary(&binary))
        .await
        .map_err(|e| SelectError::Backend(BackendError::task("listing the mutants", e)))??;
    Ok(Prepared {
        backends: Backends::docker(b),
        mutants,
    })
}

async fn prepare_process() -> Result<Prepared, MutantsError> {
    // cargo may compile for minutes: keep it off the async workers.
    let built = tokio::task::spawn_blocking(|| {
        let reference = gateway_bin::locate(None, Build::Reference)?;
        let mutants = gateway_bin::locate(None, Build::Mutants)?;
        Ok::<_, gateway_bin::GatewayBinError>((reference, mutants))
    })
    .await
    .map_err(|e| SelectError::Backend(BackendError::task("building the gateway", e)))?
    .map_err(SelectError::Gateway)?;
    let (reference, mutants_bin) = built;
    let listed = mutants_bin.clone();
    let mutants = tokio::task::spawn_blocking(move || list_from_binary(&listed))
        .await
        .map_err(|e| SelectError::Backend(BackendError::task("listing the mutants", e)))??;
    Ok(Prepared {
        backends: Backends::process(reference, mutants_bin),
        mutants,
    })
}

/// Builds (or reuses) the reference and the mutants gateway on the selected
/// backend, and lists the mutants from the mutants build. `auto` takes Docker
/// when a daemon answers.
pub async fn prepare(sel: Selection) -> Result<Prepared, MutantsError> {
    match sel {
        Selection::Process => prepare_process().await,
        Selection::Docker => prepare_docker().await,
        Selection::Auto => match prepare_docker().await {
            Err(MutantsError::Select(SelectError::Backend(BackendError::NoDaemon { .. }))) => {
                prepare_process().await
            }
            other => other,
        },
    }
}

/// Whether a scenario belongs to the mutant gate: the mutants are the
/// reference's, so a scenario needing a claim the reference does not make
/// (another supervisor's) has no column.
pub fn in_the_gate(s: &Scenario) -> bool {
    crate::target::Target::reference()
        .unclaimed(&s.claims_needed())
        .is_none()
}

/// What a matrix run is asked to do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The columns, in table order (already filtered to the backend).
    pub scenarios: Vec<Scenario>,
    /// The rows.
    pub mutants: Vec<MutantInfo>,
    /// Run every scenario on every mutant, even after a kill.
    pub full: bool,
    /// Runs at once.
    pub jobs: usize,
    /// Deadlines of every wait.
    pub waits: Waits,
}

/// A run worth a closer look: a reference run that did not pass, or any run
/// that ended in an error. Kept whole (timeline included) for the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Problem {
    /// `reference` or the mutant's name.
    pub subject: String,
    /// The run.
    pub result: ScenarioResult,
}

/// What a matrix run produced.
#[derive(Debug, Clone)]
pub struct MatrixRun {
    /// Every run's outcome.
    pub outcomes: Outcomes,
    /// The runs worth a closer look, in the order they ended.
    pub problems: Vec<Problem>,
    /// Wall time of the whole matrix.
    pub wall_ms: u64,
}

/// Called as each run ends: who ran it, and its result.
pub type OnRun = Arc<dyn Fn(&str, &ScenarioResult) + Send + Sync>;

fn subject_name(plan: &Plan, subject: Subject) -> String {
    match subject {
        Subject::Reference => "reference".to_owned(),
        Subject::Mutant(m) => plan
            .mutants
            .get(m)
            .map_or_else(|| format!("mutant #{m}"), |i| i.name.clone()),
    }
}

/// Runs the matrix; never panics, every target destroyed (the runner does that).
pub async fn run(backends: &Backends, plan: &Plan, on_run: OnRun) -> MatrixRun {
    let started = Instant::now();
    let mut sched = Scheduler::new(
        plan.scenarios.iter().map(|s| s.name.clone()).collect(),
        plan.mutants.iter().map(|m| m.name.clone()).collect(),
        plan.full,
    );
    let scenarios: Vec<Arc<Scenario>> = plan.scenarios.iter().cloned().map(Arc::new).collect();
    let mut set = tokio::task::JoinSet::new();
    let mut problems = Vec::new();
    loop {
        while set.len() < plan.jobs.max(1) {
            let Some(job) = sched.next_job() else { break };
            let Some(scenario) = scenarios.get(job.scenario).cloned() else {
                continue;
            };
            let (backend, env) = match job.subject {
                Subject::Reference => (backends.reference.clone(), Vec::new()),
                Subject::Mutant(_) => (
                    backends.mutants.clone(),
                    vec![(MUTANT_ENV.to_owned(), subject_name(plan, job.subject))],
                ),
            };
            let opts = RunOptions {
                waits: plan.waits,
                env,
                jobs: 1,
                ..RunOptions::default()
            };
            set.spawn(async move {
                // The runner never panics by design; should it, the job must
                // still come back with its id so the matrix records an error.
                let r = AssertUnwindSafe(runner::run_scenario(&*backend, &scenario, &opts))
                    .catch_unwind()
                    .await;
                (
                    job,
                    scenario,
                    r.map_err(|_| "the harness panicked".to_owned()),
                )
            });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let Ok((job, scenario, result)) = joined else {
            // A task is only lost when the runtime is shutting down under us.
            // Its cell stays "not run" (a missing reference run makes the
            // gate exit 2); the other runs are still drained, never dropped
            // mid-scenario, so that each destroys its own target.
            continue;
        };
        let result =
            result.unwrap_or_else(|e| ScenarioResult::error(&scenario, backends.kind(), e));
        let subject = subject_name(plan, job.subject);
        on_run(&subject, &result);
        let problem = result.outcome == Outcome::Error
            || (job.subject == Subject::Reference && result.outcome != Outcome::Passed);
        sched.finish(job, RunOutcome::from(&result));
        if problem {
            problems.push(Problem { subject, result });
        }
    }
    MatrixRun {
        outcomes: sched.into_outcomes(),
        problems,
        wall_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::ExpectationResult;

    fn kill() -> RunOutcome {
        RunOutcome::failed(
            vec![ExpectationResult::compare(
                crate::check::ExpectationId::expect(
                    crate::check::Table::Terminal,
                    Some("default"),
                    "gateway_state",
                ),
                "running",
                "stopped",
                false,
            )],
            1,
        )
    }

    fn sched(ns: usize, nm: usize, full: bool) -> Scheduler {
        Scheduler::new(
            (0..ns).map(|i| format!("s{i}")).collect(),
            (0..nm).map(|i| format!("m{i}")).collect(),
            full,
        )
    }

    fn job(scenario: usize, subject: Subject) -> Job {
        Job { scenario, subject }
    }

    #[test]
    fn a_mutant_with_a_run_in_flight_waits_while_others_may_start() {
        let mut s = sched(3, 1, false);
        assert_eq!(s.next_job(), Some(job(0, Subject::Reference)));
        assert_eq!(s.next_job(), Some(job(0, Subject::Mutant(0))));
        // m0's run of s0 may kill it: the reference goes first…
        assert_eq!(s.next_job(), Some(job(1, Subject::Reference)));
        assert_eq!(s.next_job(), Some(job(2, Subject::Reference)));
        // …and only when nothing else may start does m0 get a second run.
        assert_eq!(s.next_job(), Some(job(1, Subject::Mutant(0))));
    }

    #[test]
    fn breadth_first_the_reference_first() {
        let mut s = sched(2, 2, true);
        let order: Vec<Job> = std::iter::from_fn(|| s.next_job()).collect();
        assert_eq!(
            order,
            [
                job(0, Subject::Reference),
                job(0, Subject::Mutant(0)),
                job(0, Subject::Mutant(1)),
                job(1, Subject::Reference),
                job(1, Subject::Mutant(0)),
                job(1, Subject::Mutant(1)),
            ]
        );
    }

    #[test]
    fn a_killed_mutant_starts_nothing_more() {
        let mut s = sched(3, 2, false);
        let r0 = s.next_job().expect("ref s0");
        let m0 = s.next_job().expect("m0 s0");
        s.finish(r0, RunOutcome::passed(1));
        s.finish(m0, kill());
        let rest: Vec<Job> = std::iter::from_fn(|| s.next_job()).collect();
        assert!(
            rest.iter().all(|j| j.subject != Subject::Mutant(0)),
            "{rest:?}"
        );
        // The reference still runs every scenario.
        assert_eq!(
            rest.iter()
                .filter(|j| j.subject == Subject::Reference)
                .count(),
            2
        );
    }

    #[test]
    fn an_unconfirmed_kill_holds_the_mutant_back_until_the_reference_ends() {
        let mut s = sched(3, 1, false);
        let r0 = s.next_job().expect("ref s0");
        let m0 = s.next_job().expect("m0 s0");
        s.finish(m0, kill());
        // The reference of s0 is still running: only reference runs may start.
        let r1 = s.next_job().expect("ref s1");
        assert_eq!(r1, job(1, Subject::Reference));
        let r2 = s.next_job().expect("ref s2");
        assert_eq!(r2, job(2, Subject::Reference));
        assert_eq!(s.next_job(), None);
        // The reference failed s0: no kill, so the mutant goes on.
        s.finish(r0, RunOutcome::failed(kill().failures, 1));
        assert_eq!(s.next_job(), Some(job(1, Subject::Mutant(0))));
    }

    #[test]
    fn an_error_is_no_kill_and_the_mutant_goes_on() {
        let mut s = sched(2, 1, false);
        let r0 = s.next_job().expect("ref s0");
        let m0 = s.next_job().expect("m0 s0");
        s.finish(r0, RunOutcome::passed(1));
        s.finish(m0, RunOutcome::error("docker", 1));
        assert_eq!(s.next_job(), Some(job(1, Subject::Reference)));
        assert_eq!(s.next_job(), Some(job(1, Subject::Mutant(0))));
    }

    #[test]
    fn full_runs_everything_even_after_a_kill() {
        let mut s = sched(3, 2, true);
        let r0 = s.next_job().expect("ref s0");
        let m0 = s.next_job().expect("m0 s0");
        s.finish(r0, RunOutcome::passed(1));
        s.finish(m0, kill());
        let rest: Vec<Job> = std::iter::from_fn(|| s.next_job()).collect();
        assert_eq!(rest.len(), 3 * 3 - 2);
    }
}
