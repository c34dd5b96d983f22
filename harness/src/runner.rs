//! Runs scenarios on a backend.
//!
//! One scenario: create a target → boot → settle → `[config]` (then one clean
//! container restart) → setup steps → settle (**T0**: the pids the fault will hit
//! are recorded) → the fault (× repeat) → settle (**T1**: files at rest and
//! supervision) → the next boot (a clean container restart, unless the fault
//! rebooted the supervisor itself, in which case T1 is already after that boot) →
//! settle (**T2**: boot lines and liveness) → the terminal writes from
//! `events.jsonl` → check → destroy, always, even on error or panic.
//!
//! No instant is settled twice: T0 is the status of the settle before it, T1
//! the fault's own last settle when it ended with one, T2 T1's when the fault
//! booted. At T0, T1 and T2 the sandbox reads every file of the data dir at
//! once ([`crate::backend::Sandbox::freeze`]): the reads of one instant are of
//! one instant, and on Docker one archive (at the first read) instead of one
//! per file.
//!
//! "Settled" means every profile in `gateway status --json` is up and live, down,
//! or given up, seen twice in a row; waits have deadlines and a timeout says what
//! was awaited and what was last seen.

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use serde::{Deserialize, Serialize};

use crate::backend::{profile_file, Backend, BackendError, BackendKind, Sandbox, SandboxSpec};
use crate::check::{check, ExpectationId, ExpectationResult, Verdict};
use crate::history::{Entry, EntryKind, History};
use crate::observe::{self, Observation, Status};
use crate::op::{self, OpError, Role};
use crate::scenario::model::Scenario;
use crate::status::{self, Waits};
use crate::target::{Claim, Driver, Sut, Target};

/// How a scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every expectation held.
    Passed,
    /// A literal expectation did not hold: the gate says no.
    Failed,
    /// The harness or the backend could not run it: no verdict on the gateway.
    Error,
    /// The target does not make a promise the scenario checks: not run, and
    /// never counted as passed.
    #[serde(rename = "not-claimed")]
    NotClaimed,
    /// The backend cannot make a fault of the scenario on this machine (a
    /// full disk on local processes without root or user namespaces): not
    /// run, and never counted as passed.
    #[serde(rename = "not-run")]
    NotRun,
}

impl Outcome {
    /// The word.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "FAILED",
            Outcome::Error => "ERROR",
            Outcome::NotClaimed => "not claimed",
            Outcome::NotRun => "not run",
        }
    }
}

/// The result of one scenario on one backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// The scenario.
    pub name: String,
    /// Its `why`.
    pub why: String,
    /// The fault, as `list` shows it.
    pub fault: String,
    /// The backend it ran on.
    pub backend: BackendKind,
    /// How it ended.
    pub outcome: Outcome,
    /// Wall time.
    pub duration_ms: u64,
    /// Every expectation and what was seen.
    pub expectations: Vec<ExpectationResult>,
    /// The harness or backend error, for `Error`.
    pub error: Option<String>,
    /// The promise the target does not make, and why, for `NotClaimed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_claimed: Option<NotClaimed>,
    /// Why the backend could not run it here, for `NotRun`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_run: Option<String>,
    /// When it started, by the wall clock (RFC 3339): where a time a target
    /// stamped (a recorded version's) falls on the timeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// The engine it ran on (Docker: the engine's URL; a run may deal its
    /// table to several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// The timeline.
    pub timeline: Vec<Entry>,
}

/// Why a scenario was not run on a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotClaimed {
    /// The first claim the scenario needs that the target does not make.
    pub claim: Claim,
    /// The adapter's reason.
    pub reason: String,
}

impl std::fmt::Display for NotClaimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not claimed: {}: {}", self.claim, self.reason)
    }
}

impl ScenarioResult {
    /// The result of `scenario` on `backend` when the harness has none of
    /// its own: it ended in `error` before any check (a task that failed, a
    /// result that was lost).
    pub fn error(scenario: &Scenario, backend: BackendKind, error: String) -> ScenarioResult {
        ScenarioResult {
            name: scenario.name.clone(),
            why: scenario.why.clone(),
            fault: scenario.fault.to_string(),
            backend,
            outcome: Outcome::Error,
            duration_ms: 0,
            expectations: Vec::new(),
            error: Some(error),
            not_claimed: None,
            not_run: None,
            started_at: None,
            engine: None,
            timeline: Vec::new(),
        }
    }

    /// The first failing expectation, as one line.
    pub fn first_failure(&self) -> Option<String> {
        if let Some(e) = &self.error {
            return Some(e.lines().next().unwrap_or("").to_owned());
        }
        if let Some(nc) = &self.not_claimed {
            return Some(nc.to_string());
        }
        if let Some(why) = &self.not_run {
            return Some(format!("not run: {why}"));
        }
        self.failures().next().map(ToString::to_string)
    }

    /// The expectations that failed.
    pub fn failures(&self) -> impl Iterator<Item = &ExpectationResult> {
        self.expectations
            .iter()
            .filter(|e| e.verdict == Verdict::Fail)
    }
}

/// How scenarios are run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Deadlines and poll interval of every wait.
    pub waits: Waits,
    /// Extra environment for init, gateways and commands (e.g. `GATEWAY_MUTANT`).
    pub env: Vec<(String, String)>,
    /// How many scenarios run at once.
    pub jobs: usize,
    /// What is gated.
    pub target: Arc<Target>,
    /// How the harness reaches it.
    pub driver: Arc<dyn Driver>,
}

impl RunOptions {
    /// The defaults, gating `target`.
    pub fn for_target(target: Target) -> RunOptions {
        RunOptions {
            driver: target.driver(),
            target: Arc::new(target),
            ..RunOptions::default()
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        let target = Target::reference();
        RunOptions {
            waits: Waits::default(),
            env: Vec::new(),
            jobs: std::thread::available_parallelism().map_or(1, usize::from),
            driver: target.driver(),
            target: Arc::new(target),
        }
    }
}

/// Why a run stopped before checking.
pub(crate) enum Stop {
    /// A harness or backend problem.
    Error(String),
    /// The gateway did not do what a setup step needed (a literal expectation).
    Failed(ExpectationResult),
}

impl From<BackendError> for Stop {
    fn from(e: BackendError) -> Self {
        Stop::Error(e.to_string())
    }
}

impl From<OpError> for Stop {
    fn from(e: OpError) -> Self {
        let failed = |what, expected: String, seen: String| {
            Stop::Failed(ExpectationResult::compare(what, expected, seen, false))
        };
        match e {
            OpError::Backend(b) => Stop::Error(b.to_string()),
            e @ OpError::NoBreakStart { .. } => Stop::Error(e.to_string()),
            OpError::Precondition {
                what,
                expected,
                seen,
            } => failed(ExpectationId::precondition(what), expected, seen),
            OpError::ExitCode {
                step,
                command,
                expected,
                seen,
            } => failed(
                ExpectationId::setup_exit_code(step, command),
                expected.to_string(),
                seen,
            ),
            OpError::Placeholders { step, error } => failed(
                ExpectationId::setup_placeholders(step),
                "every placeholder filled".to_owned(),
                error,
            ),
        }
    }
}

pub(crate) fn unique_name(scenario: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tag = nanos ^ std::process::id().rotate_left(16) ^ N.fetch_add(1, Ordering::Relaxed);
    let short: String = scenario.chars().take(40).collect();
    format!("rh-{short}-{tag:08x}")
}

/// Runs one scenario on `backend`; never panics, always destroys its target.
pub async fn run_scenario(
    backend: &dyn Backend,
    scenario: &Scenario,
    opts: &RunOptions,
) -> ScenarioResult {
    let started = Instant::now();
    let mut history = History::new();
    history.record(
        EntryKind::Phase,
        format!(
            "scenario {} on {}: {}",
            scenario.name,
            backend.kind(),
            scenario.why
        ),
    );
    if let Some((claim, reason)) = opts.target.unclaimed(&scenario.claims_needed()) {
        let nc = NotClaimed { claim, reason };
        history.record(EntryKind::Phase, format!("{}: {nc}", opts.target.label()));
        return ScenarioResult {
            not_claimed: Some(nc),
            ..not_run_result(scenario, backend.kind(), Outcome::NotClaimed, history)
        };
    }
    let spec = sandbox_spec(scenario, opts);
    if let Some(why) = backend.cannot(&spec) {
        history.record(
            EntryKind::Phase,
            format!("not run on {}: {why}", backend.kind()),
        );
        return ScenarioResult {
            not_run: Some(why),
            ..not_run_result(scenario, backend.kind(), Outcome::NotRun, history)
        };
    }
    let (expectations, error) = match backend.create(&spec).await {
        Err(e) => {
            history.record(EntryKind::Error, e.to_string());
            (Vec::new(), Some(format!("creating the target: {e}")))
        }
        Ok(target) => run_on(target, scenario, &mut history, opts).await,
    };
    let outcome = if error.is_some() {
        Outcome::Error
    } else if expectations.iter().any(|r| r.verdict == Verdict::Fail) {
        Outcome::Failed
    } else {
        Outcome::Passed
    };
    history.record(EntryKind::Phase, format!("outcome: {}", outcome.as_str()));
    ScenarioResult {
        name: scenario.name.clone(),
        why: scenario.why.clone(),
        fault: scenario.fault.to_string(),
        backend: backend.kind(),
        outcome,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        expectations,
        error,
        not_claimed: None,
        not_run: None,
        started_at: Some(history.started_at()),
        engine: None,
        timeline: history.into_entries(),
    }
}

/// The sandbox a scenario needs from the target gated.
fn sandbox_spec(scenario: &Scenario, opts: &RunOptions) -> SandboxSpec {
    SandboxSpec {
        name: unique_name(&scenario.name),
        profiles: scenario.profiles.clone(),
        init_args: scenario.init_args.clone(),
        env: opts.env.clone(),
        memory_limit: scenario.ooms().then(|| opts.target.oom_memory()).flatten(),
        disk_limit: scenario
            .fills_disk()
            .then_some(crate::backend::FULL_DISK_LIMIT),
        shape: opts.target.shape(),
    }
}

/// Drives the scenario on a created sandbox and destroys it, whatever
/// happens inside (an error, a panic); returns the results and the error
/// that voids them, if any.
async fn run_on(
    mut target: Box<dyn Sandbox>,
    scenario: &Scenario,
    history: &mut History,
    opts: &RunOptions,
) -> (Vec<ExpectationResult>, Option<String>) {
    let mut sut = Sut {
        sandbox: &mut *target,
        driver: &*opts.driver,
        profiles: scenario.all_profiles(),
        background: Vec::new(),
    };
    let driven = AssertUnwindSafe(drive(&mut sut, scenario, history, opts))
        .catch_unwind()
        .await;
    if let Ok(logs) = target.logs().await {
        if !logs.trim().is_empty() {
            history.record(EntryKind::Output, logs.trim_end().to_owned());
        }
    }
    let destroyed = target.destroy().await;
    let (mut results, mut error) = match driven {
        Ok(Ok(results)) => {
            // A check that could not observe voids the verdict.
            let unobserved = results
                .iter()
                .find(|r| r.verdict == Verdict::Unobserved)
                .map(|r| format!("the harness could not observe {}: {}", r.what, r.seen));
            (results, unobserved)
        }
        Ok(Err(Stop::Failed(r))) => (vec![r], None),
        Ok(Err(Stop::Error(e))) => (Vec::new(), Some(e)),
        Err(panic) => (
            Vec::new(),
            Some(format!(
                "the harness panicked: {}",
                panic_message(panic.as_ref())
            )),
        ),
    };
    if let Err(e) = destroyed {
        history.record(EntryKind::Error, format!("destroy: {e}"));
        let msg = format!("destroying the target: {e}");
        error = Some(match error {
            Some(prev) => format!("{prev}; {msg}"),
            None => msg,
        });
    }
    if error.is_some() {
        // An error voids the verdict: a half-run scenario proves nothing.
        results.retain(|r| r.verdict != Verdict::Fail);
    }
    (results, error)
}

/// The result of a scenario that was not run (`outcome` says why: not
/// claimed, or not run here), with its timeline so far.
fn not_run_result(
    scenario: &Scenario,
    backend: BackendKind,
    outcome: Outcome,
    history: History,
) -> ScenarioResult {
    ScenarioResult {
        name: scenario.name.clone(),
        why: scenario.why.clone(),
        fault: scenario.fault.to_string(),
        backend,
        outcome,
        duration_ms: 0,
        expectations: Vec::new(),
        error: None,
        not_claimed: None,
        not_run: None,
        started_at: Some(history.started_at()),
        engine: None,
        timeline: history.into_entries(),
    }
}

async fn drive(
    sut: &mut Sut<'_>,
    s: &Scenario,
    h: &mut History,
    opts: &RunOptions,
) -> Result<Vec<ExpectationResult>, Stop> {
    let waits = opts.waits;
    let mut obs = Observation::default();
    let before = prepare(sut, s, h, &mut obs, waits).await?;

    // T0: what the fault will hit: the status of the settle just done. Every
    // file of T0 from one read (the fault's own first reads too); a fault
    // that does not boot reads no boot lines here (the next boot's are
    // counted from T1's files).
    h.record(EntryKind::Phase, "before the fault (T0)");
    sut.sandbox.freeze().await?;
    obs.container.before = sut.sandbox.facts().await?;
    let boot_lines_before = if s.fault.op.reboots() {
        Some(sut.driver.boot_log(&mut *sut.sandbox).await?.len())
    } else {
        None
    };
    let role = Role::Fault {
        repeat: s.fault.repeat,
        before: &before,
    };
    let run = op::perform(sut, &s.fault.op, role, h, waits).await?;
    // Commands the setup started in the background ran with the fault.
    op::join_background(sut, h).await?;
    obs.lives = run.lives;
    obs.command = run.command;

    let after = at_rest(sut, s, run.settled, h, &mut obs, waits).await?;
    // A supervisor that limits each service's memory itself saw the kill
    // that the sandbox's engine could not.
    obs.container.after.oom_seen |= run.oom_witnessed;
    next_boot(sut, s, (after, boot_lines_before), h, &mut obs, waits).await?;

    h.record(EntryKind::Phase, "check");
    let results = check(&s.expect, &obs, sut.sandbox.kind());
    for r in results.iter().filter(|r| r.verdict != Verdict::Pass) {
        h.record(EntryKind::Note, format!("{:?} {r}", r.verdict));
    }
    Ok(results)
}

/// The first boot, the `[config]`, the setup; returns the status of the
/// last settle (T0 is that very instant when nothing happened since), or of
/// the last look after a step that does not settle.
async fn prepare(
    sut: &mut Sut<'_>,
    s: &Scenario,
    h: &mut History,
    obs: &mut Observation,
    waits: Waits,
) -> Result<Status, Stop> {
    let driver = sut.driver;
    h.record(EntryKind::Phase, "first boot");
    sut.sandbox.boot().await?;
    // Read only when checked (the container's log, kept in the report, shows
    // them anyway): on Docker each read of boot.log is an archive request.
    if !s.expect.first_boot.is_empty() {
        let lines = driver.boot_log(&mut *sut.sandbox).await?;
        obs.first_boot = observe::boot_lines_since(&lines, 0, &|l| driver.boot_line(l), h)?;
    }
    driver
        .provision(&mut *sut.sandbox, &sut.profiles, h)
        .await?;
    let mut settled = status::wait_settled(sut, h, waits).await?;
    if !s.config.is_empty() {
        h.record(
            EntryKind::Phase,
            "config (then a clean container restart so every gateway reads it)",
        );
        for (profile, text) in &s.config {
            h.record(
                EntryKind::File,
                format!("write {profile}/config.toml:\n{}", text.trim_end()),
            );
            sut.sandbox
                .write_file(&profile_file(profile, "config.toml"), text.as_bytes())
                .await?;
        }
        sut.sandbox.container_restart(None).await?;
        settled = status::wait_settled(sut, h, waits).await?;
    }
    if !s.setup.is_empty() {
        h.record(EntryKind::Phase, "setup");
    }
    for (i, step) in s.setup.iter().enumerate() {
        op::perform(sut, step, Role::Setup(i + 1), h, waits).await?;
        // After a step that set a transition going or waited for one, the
        // next lands inside it: T0 is then that instant, not a settle.
        settled = if step.settles() {
            status::wait_settled(sut, h, waits).await?
        } else {
            status::query(sut).await?
        };
    }
    Ok(settled)
}

/// T1: at rest after the fault (after the fault's own boot, for faults that
/// boot): every file from one read, each profile's home and status.
async fn at_rest(
    sut: &mut Sut<'_>,
    s: &Scenario,
    settled: Option<Status>,
    h: &mut History,
    obs: &mut Observation,
    waits: Waits,
) -> Result<Status, Stop> {
    h.record(EntryKind::Phase, "at rest after the fault (T1)");
    // A fault that ended with a settle and nothing after it: T1 is that
    // settle's status (no second settle of the same instant).
    let after = match settled {
        Some(settled) => settled,
        None => status::wait_settled(sut, h, waits).await?,
    };
    // Every file of T1 from one read: the homes at rest and, after a fault
    // that booted, T2's boot lines and the terminal writes (nothing acts
    // between them).
    sut.sandbox.freeze().await?;
    obs.container.after = sut.sandbox.facts().await?;
    let mut observed: BTreeSet<String> = s.all_profiles().into_iter().collect();
    observed.extend(s.expect.at_rest.keys().cloned());
    for profile in &observed {
        let rest = sut
            .driver
            .at_rest(&mut *sut.sandbox, profile, &after, h)
            .await?;
        obs.at_rest.insert(profile.clone(), rest);
    }
    Ok(after)
}

/// T2: the boot lines of the next boot (the fault's own, or a clean
/// container restart's), liveness after it, and the terminal writes.
async fn next_boot(
    sut: &mut Sut<'_>,
    s: &Scenario,
    (after, boot_lines_before): (Status, Option<usize>),
    h: &mut History,
    obs: &mut Observation,
    waits: Waits,
) -> Result<(), Stop> {
    let driver = sut.driver;
    let boot_from = if let Some(n) = boot_lines_before {
        n
    } else {
        h.record(EntryKind::Phase, "next boot: a clean container restart");
        let n = driver.boot_log(&mut *sut.sandbox).await?.len();
        sut.sandbox.container_restart(None).await?;
        n
    };
    // After a fault that booted, T1 already settled that very boot and
    // nothing acted since (files were only read): its status is T2's, and so
    // are its files.
    h.record(EntryKind::Phase, "after the next boot (T2)");
    let settled = if s.fault.op.reboots() {
        after
    } else {
        let settled = status::wait_settled(sut, h, waits).await?;
        sut.sandbox.freeze().await?;
        settled
    };
    let lines = driver.boot_log(&mut *sut.sandbox).await?;
    obs.boot = observe::boot_lines_since(&lines, boot_from, &|l| driver.boot_line(l), h)?;
    obs.after_boot = observe::liveness(&settled);
    for (profile, life) in &obs.lives {
        let terminal = driver
            .terminal(&mut *sut.sandbox, profile, *life, h)
            .await?;
        obs.terminal.insert(profile.clone(), terminal);
    }
    Ok(())
}

/// Runs `scenarios` on `backend`, `opts.jobs` at a time; results in table order.
/// `on_done` is called as each finishes (for a progress bar).
pub async fn run_all(
    backend: Arc<dyn Backend>,
    scenarios: Vec<Scenario>,
    opts: RunOptions,
    on_done: Arc<dyn Fn(&ScenarioResult) + Send + Sync>,
) -> Vec<ScenarioResult> {
    run_on_engines(vec![backend], scenarios, opts, on_done).await
}

/// Runs `scenarios` on several engines, `opts.jobs` at a time on each: the
/// scenarios wait in table order, and each goes to the first engine with a
/// job free, so that a slow engine takes fewer. Each result names its
/// engine; results in table order.
pub async fn run_on_engines(
    engines: Vec<Arc<dyn Backend>>,
    scenarios: Vec<Scenario>,
    opts: RunOptions,
    on_done: Arc<dyn Fn(&ScenarioResult) + Send + Sync>,
) -> Vec<ScenarioResult> {
    let kind = engines.first().map_or(BackendKind::Process, |e| e.kind());
    let scenarios = Arc::new(scenarios);
    let queue = Arc::new(tokio::sync::Mutex::new(
        (0..scenarios.len()).collect::<std::collections::VecDeque<_>>(),
    ));
    let opts = Arc::new(opts);
    let mut workers = Vec::new();
    for engine in &engines {
        for _ in 0..opts.jobs.max(1) {
            let (engine, scenarios, queue, opts, on_done) = (
                engine.clone(),
                scenarios.clone(),
                queue.clone(),
                opts.clone(),
                on_done.clone(),
            );
            workers.push(tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let Some(i) = queue.lock().await.pop_front() else {
                        break;
                    };
                    let r = run_caught(engine.clone(), scenarios[i].clone(), opts.clone()).await;
                    on_done(&r);
                    done.push((i, r));
                }
                done
            }));
        }
    }
    let mut slots: Vec<Option<ScenarioResult>> = vec![None; scenarios.len()];
    let mut lost = None;
    for w in workers {
        match w.await {
            Ok(done) => done.into_iter().for_each(|(i, r)| slots[i] = Some(r)),
            // Only `on_done` can panic there; the scenarios that worker ran
            // are errors below, never missing from the report.
            Err(e) => lost = Some(e.to_string()),
        }
    }
    slots
        .into_iter()
        .zip(scenarios.iter())
        .map(|(r, s)| {
            r.unwrap_or_else(|| {
                let why = lost.as_deref().unwrap_or("its worker ended early");
                ScenarioResult::error(s, kind, format!("the scenario's result was lost: {why}"))
            })
        })
        .collect()
}

/// [`run_scenario`] on `engine` in a task of its own, so that a panic in it
/// is that scenario's error, not the run's end; the result names the engine.
async fn run_caught(
    engine: Arc<dyn Backend>,
    s: Scenario,
    opts: Arc<RunOptions>,
) -> ScenarioResult {
    let (kind, name) = (engine.kind(), engine.engine());
    let scenario = s.clone();
    let task = tokio::spawn(async move { run_scenario(&*engine, &s, &opts).await });
    let mut r = match task.await {
        Ok(r) => r,
        Err(e) => {
            ScenarioResult::error(&scenario, kind, format!("the scenario's task failed: {e}"))
        }
    };
    r.engine = name;
    r
}

/// The message of a caught panic.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{BackendResult, Sandbox};
    use crate::report::RunReport;
    use crate::scenario::{embedded, load};

    /// A backend that cannot make the fault here (as the process backend
    /// without root or user namespaces cannot fill a disk).
    struct CannotFillADisk;

    #[async_trait::async_trait]
    impl Backend for CannotFillADisk {
        fn kind(&self) -> BackendKind {
            BackendKind::Process
        }

        fn cannot(&self, spec: &SandboxSpec) -> Option<String> {
            spec.disk_limit
                .map(|_| "needs root or user namespaces".to_owned())
        }

        async fn create(&self, _spec: &SandboxSpec) -> BackendResult<Box<dyn Sandbox>> {
            Err(BackendError::Other(
                "this test's backend creates nothing".to_owned(),
            ))
        }
    }

    fn scenario(file: &str) -> Scenario {
        let text = embedded::text(file).unwrap();
        load::parse_scenario(file, text).unwrap()
    }

    #[tokio::test]
    async fn a_fault_the_backend_cannot_make_is_not_run_and_no_verdict() {
        let r = run_scenario(
            &CannotFillADisk,
            &scenario("60-stop-on-a-full-disk.toml"),
            &RunOptions::default(),
        )
        .await;
        assert_eq!(r.outcome, Outcome::NotRun);
        assert_eq!(
            r.first_failure().as_deref(),
            Some("not run: needs root or user namespaces")
        );
        let report = RunReport::new("test".into(), BackendKind::Process, 1, 0, vec![r]);
        assert_eq!(report.summary.not_run, 1);
        assert_eq!(report.summary.passed, 0);
        assert_eq!(report.exit_code(), 2, "nothing ran: no verdict");
    }

    #[tokio::test]
    async fn two_engines_give_every_scenario_once_in_table_order_and_lose_none() {
        let files = [
            "02-bare-sigterm.toml",
            "60-stop-on-a-full-disk.toml",
            "01-container-restart.toml",
        ];
        let table: Vec<Scenario> = files.iter().map(|f| scenario(f)).collect();
        let engines: Vec<Arc<dyn Backend>> =
            vec![Arc::new(CannotFillADisk), Arc::new(CannotFillADisk)];
        let names = |rs: &[ScenarioResult]| rs.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
        let want: Vec<String> = table.iter().map(|s| s.name.clone()).collect();
        let quiet: Arc<dyn Fn(&ScenarioResult) + Send + Sync> = Arc::new(|_| {});
        let rs = run_on_engines(engines.clone(), table.clone(), RunOptions::default(), quiet).await;
        assert_eq!(names(&rs), want);
        assert_eq!(rs[1].outcome, Outcome::NotRun);
        // A worker that dies (here: its progress callback panics) loses no
        // scenario: what it ran is an error, never missing from the report.
        let panicky: Arc<dyn Fn(&ScenarioResult) + Send + Sync> =
            Arc::new(|r| assert_ne!(r.outcome, Outcome::NotRun, "a callback that panics"));
        let rs = run_on_engines(engines, table, RunOptions::default(), panicky).await;
        assert_eq!(names(&rs), want);
        assert_eq!(rs[1].outcome, Outcome::Error);
        assert!(rs[1].error.as_deref().unwrap().contains("result was lost"));
    }

    #[tokio::test]
    async fn a_scenario_it_can_run_is_not_held_back() {
        // Created (and so tried), not reported "not run".
        let r = run_scenario(
            &CannotFillADisk,
            &scenario("02-bare-sigterm.toml"),
            &RunOptions::default(),
        )
        .await;
        assert_eq!(r.outcome, Outcome::Error);
        assert!(r.error.unwrap().contains("creates nothing"));
    }
}
