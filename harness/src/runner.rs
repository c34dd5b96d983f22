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
//! "Settled" means every profile in `gateway status --json` is up and live, down,
//! or given up, seen twice in a row; waits have deadlines and a timeout says what
//! was awaited and what was last seen.

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use serde::Serialize;

use crate::backend::{profile_file, Backend, BackendError, BackendKind, Sandbox, SandboxSpec};
use crate::check::{check, ExpectationResult, Verdict};
use crate::fault::{self, FaultError};
use crate::history::{Entry, EntryKind, History};
use crate::observe::{self, Observation};
use crate::scenario::model::{FaultKind, Scenario, Step};
use crate::scenario::template;
use crate::status::{self, Waits};

/// How a scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every expectation held.
    Passed,
    /// A literal expectation did not hold: the gate says no.
    Failed,
    /// The harness or the backend could not run it: no verdict on the gateway.
    Error,
}

impl Outcome {
    /// The word.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "FAILED",
            Outcome::Error => "ERROR",
        }
    }
}

/// The result of one scenario on one backend.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// The timeline.
    pub timeline: Vec<Entry>,
}

impl ScenarioResult {
    /// The first failing expectation, as one line.
    pub fn first_failure(&self) -> Option<String> {
        if let Some(e) = &self.error {
            return Some(e.lines().next().unwrap_or("").to_owned());
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
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            waits: Waits::default(),
            env: Vec::new(),
            jobs: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }
}

/// Why a run stopped before checking.
enum Stop {
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

impl From<FaultError> for Stop {
    fn from(e: FaultError) -> Self {
        match e {
            FaultError::Backend(b) => Stop::Error(b.to_string()),
            FaultError::Precondition {
                what,
                expected,
                seen,
            } => Stop::Failed(ExpectationResult::compare(what, expected, seen, false)),
        }
    }
}

fn unique_name(scenario: &str) -> String {
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
    let spec = SandboxSpec {
        name: unique_name(&scenario.name),
        profiles: scenario.profiles.clone(),
        init_args: scenario.init_args.clone(),
        env: opts.env.clone(),
        memory_limit: (scenario.fault.kind == FaultKind::Oom).then_some(64 << 20),
    };
    let (expectations, error) = match backend.create(&spec).await {
        Err(e) => {
            history.record(EntryKind::Error, e.to_string());
            (Vec::new(), Some(format!("creating the target: {e}")))
        }
        Ok(mut target) => {
            // The guard: whatever happens inside (an error, a panic), destroy runs.
            let driven = AssertUnwindSafe(drive(&mut *target, scenario, &mut history, opts))
                .catch_unwind()
                .await;
            if let Ok(logs) = target.logs().await {
                if !logs.trim().is_empty() {
                    history.record(EntryKind::Output, logs.trim_end().to_owned());
                }
            }
            let destroyed = target.destroy().await;
            let (mut results, mut error) = match driven {
                Ok(Ok(results)) => (results, None),
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
        timeline: history.into_entries(),
    }
}

async fn command_step(
    target: &mut dyn Sandbox,
    history: &mut History,
    n: usize,
    verb: &str,
    profile: &str,
    expect_code: i32,
) -> Result<(), Stop> {
    let args = vec![verb.to_owned(), "--profile".to_owned(), profile.to_owned()];
    let out = target.gateway(&args).await?;
    history.command(&args, &out);
    if out.code != Some(expect_code) {
        return Err(Stop::Failed(ExpectationResult::compare(
            format!("setup.{n}.exit_code (gateway {verb} --profile {profile})"),
            expect_code,
            out.code
                .map_or_else(|| "killed".to_owned(), |c| c.to_string()),
            false,
        )));
    }
    Ok(())
}

async fn drive(
    target: &mut dyn Sandbox,
    s: &Scenario,
    h: &mut History,
    opts: &RunOptions,
) -> Result<Vec<ExpectationResult>, Stop> {
    let waits = opts.waits;
    let mut obs = Observation::default();

    h.record(EntryKind::Phase, "first boot");
    target.boot().await?;
    let lines = observe::boot_log(target).await?;
    obs.first_boot = observe::boot_lines_since(&lines, 0, h);
    status::wait_settled(target, h, waits).await?;

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
            target
                .write_file(&profile_file(profile, "config.toml"), text.as_bytes())
                .await?;
        }
        target.container_restart(None).await?;
        status::wait_settled(target, h, waits).await?;
    }

    if !s.setup.is_empty() {
        h.record(EntryKind::Phase, "setup");
    }
    for (i, step) in s.setup.iter().enumerate() {
        let n = i + 1;
        h.record(EntryKind::Step, format!("{n}. {step}"));
        match step {
            Step::Start {
                profile,
                expect_code,
            } => command_step(target, h, n, "start", profile, *expect_code).await?,
            Step::Stop {
                profile,
                expect_code,
            } => command_step(target, h, n, "stop", profile, *expect_code).await?,
            Step::Restart {
                profile,
                expect_code,
            } => command_step(target, h, n, "restart", profile, *expect_code).await?,
            Step::Write { path, content } => {
                let st = status::query(target).await?;
                let values = template::Values {
                    gateways: st.gateways(),
                    now: Some(restart_contract::timefmt::now()),
                };
                let filled = template::fill(content, &values).map_err(|e| {
                    Stop::Failed(ExpectationResult::compare(
                        format!("setup.{n} placeholders"),
                        "every placeholder filled",
                        e,
                        false,
                    ))
                })?;
                h.record(
                    EntryKind::File,
                    format!("write {path}:\n{}", filled.trim_end()),
                );
                target
                    .write_file(Path::new(path), filled.as_bytes())
                    .await?;
            }
            Step::Kill { profile, signal } => {
                fault::kill_gateway(target, profile, signal, h, waits).await?;
            }
            Step::ContainerRestart => target.container_restart(None).await?,
        }
        status::wait_settled(target, h, waits).await?;
    }

    // T0: what the fault will hit.
    h.record(EntryKind::Phase, "before the fault (T0)");
    let before = status::wait_settled(target, h, waits).await?;
    obs.container.before = target.facts().await?;
    let boot_lines_before = observe::boot_log(target).await?.len();

    let run = fault::perform(target, &s.fault, &before, h, waits).await?;
    obs.lives = run.lives.clone();
    obs.command = run.command;

    // T1: at rest after the fault (after the fault's own boot, for faults that boot).
    h.record(EntryKind::Phase, "at rest after the fault (T1)");
    let after = status::wait_settled(target, h, waits).await?;
    obs.container.after = target.facts().await?;
    let mut observed: BTreeSet<String> = s.all_profiles().into_iter().collect();
    observed.extend(s.expect.at_rest.keys().cloned());
    for profile in &observed {
        let rest = observe::at_rest(target, profile, &after, h).await?;
        obs.at_rest.insert(profile.clone(), rest);
    }

    // The next boot.
    let boot_from = if s.fault.kind.reboots() {
        boot_lines_before
    } else {
        h.record(EntryKind::Phase, "next boot: a clean container restart");
        let n = observe::boot_log(target).await?.len();
        target.container_restart(None).await?;
        n
    };

    // T2: the boot lines of that boot and liveness after it.
    h.record(EntryKind::Phase, "after the next boot (T2)");
    let lines = observe::boot_log(target).await?;
    obs.boot = observe::boot_lines_since(&lines, boot_from, h);
    let settled = status::wait_settled(target, h, waits).await?;
    obs.after_boot = observe::liveness(&settled);

    for (profile, life) in &obs.lives {
        let events = observe::read_events(target, profile, h).await?;
        let tail: Vec<String> = events
            .iter()
            .skip(life.events_before.saturating_sub(3))
            .filter_map(|e| serde_json::to_string(e).ok())
            .collect();
        h.record(
            EntryKind::Event,
            format!(
                "{profile}/events.jsonl from the faulted life on:\n{}",
                tail.join("\n")
            ),
        );
        obs.terminal
            .insert(profile.clone(), observe::terminal_of(&events, *life));
    }

    h.record(EntryKind::Phase, "check");
    let results = check(&s.expect, &obs, target.kind());
    for r in results.iter().filter(|r| r.verdict != Verdict::Pass) {
        h.record(EntryKind::Note, format!("{:?} {r}", r.verdict));
    }
    Ok(results)
}

/// Runs `scenarios` on `backend`, `opts.jobs` at a time; results in table order.
/// `on_done` is called as each finishes (for a progress bar).
pub async fn run_all(
    backend: Arc<dyn Backend>,
    scenarios: Vec<Scenario>,
    opts: RunOptions,
    on_done: Arc<dyn Fn(&ScenarioResult) + Send + Sync>,
) -> Vec<ScenarioResult> {
    let permits = Arc::new(tokio::sync::Semaphore::new(opts.jobs.max(1)));
    let opts = Arc::new(opts);
    let mut handles = Vec::new();
    for s in scenarios {
        let backend = backend.clone();
        let permits = permits.clone();
        let opts = opts.clone();
        let on_done = on_done.clone();
        handles.push((
            s.clone(),
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await;
                let r = run_scenario(&*backend, &s, &opts).await;
                on_done(&r);
                r
            }),
        ));
    }
    let mut out = Vec::new();
    for (s, h) in handles {
        out.push(match h.await {
            Ok(r) => r,
            Err(e) => ScenarioResult {
                name: s.name.clone(),
                why: s.why.clone(),
                fault: s.fault.to_string(),
                backend: backend.kind(),
                outcome: Outcome::Error,
                duration_ms: 0,
                expectations: Vec::new(),
                error: Some(format!("the scenario's task failed: {e}")),
                timeline: Vec::new(),
            },
        });
    }
    out
}

/// The message of a caught panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned())
}
