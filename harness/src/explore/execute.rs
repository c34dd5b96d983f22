//! Runs one schedule on a real target, in a fresh sandbox, and compares what
//! is observed after every operation with the model.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

use crate::backend::{Backend, BackendKind, SandboxSpec};
use crate::history::{EntryKind, History};
use crate::observe::Status;
use crate::observe::{self, FileState, RestSeen};
use crate::op::Role;
use crate::runner::{self, RunOptions, Stop};
use crate::status;
use crate::target::{Claim, Sut, Target};

use super::model::{
    Action, BootView, Intent, Model, ProfileView, Reason, Supervision, CRASH_WINDOW_S,
};
use super::moves::{recorded_word, Move};
use super::window::WindowCheck;

/// Where a target first did otherwise than the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// The operation after which it was seen (1-based; 0: the first boot).
    pub step: usize,
    /// The profile it was seen on.
    pub profile: String,
    /// What was compared: `gateway_state`, `boot.action`, `exit_code`, ...
    pub field: String,
    /// The model's value.
    pub expected: String,
    /// The target's.
    pub seen: String,
}

impl Divergence {
    fn new(step: usize, profile: &str, field: &str, expected: &str, seen: &str) -> Divergence {
        Divergence {
            step,
            profile: profile.to_owned(),
            field: field.to_owned(),
            expected: expected.to_owned(),
            seen: seen.to_owned(),
        }
    }
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "after step {}: {} of {}: the model says {}, the target shows {}",
            self.step, self.field, self.profile, self.expected, self.seen
        )
    }
}

/// How one schedule went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trial {
    /// Every observation agreed with the model.
    Agreed,
    /// One did not.
    Diverged(Divergence),
    /// The harness or the backend could not run it (no verdict).
    Error(String),
    /// It ran, but slower than the model assumes: exits the model counts in
    /// one crash window were further apart than the window (no verdict).
    Inconclusive(String),
}

/// What explore compares, by what the target claims: it is never judged on
/// something it does not promise to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// exit reason, marker, torn and temp files.
    pub contract_files: bool,
    /// `desired_state.json`.
    pub intent: bool,
    /// Boot lines at all (their `action`).
    pub boot_log: bool,
    /// `prior_state=` of boot lines.
    pub boot_words: bool,
    /// The exit codes of operator commands (the contract's CLI).
    pub cli: bool,
    /// Whether the supervisor is the contract's init: it takes init flags
    /// and starts every profile at the first boot. A declared target's
    /// profiles are provisioned after that boot, which is then not judged.
    pub contract_init: bool,
    /// Whether its supervisor gives up on a crash loop within a window.
    pub gives_up: bool,
}

impl Observed {
    /// What `target` claims to show.
    pub fn of(target: &Target) -> Observed {
        let claims = |c: Claim| target.unclaimed(&[c]).is_none();
        Observed {
            contract_files: claims(Claim::ContractFiles),
            intent: claims(Claim::IntentFile),
            boot_log: claims(Claim::BootLog),
            boot_words: claims(Claim::BootLineWords),
            cli: claims(Claim::ContractCli),
            contract_init: target.shape().contract_init,
            gives_up: claims(Claim::CrashLoopGivesUp),
        }
    }
}

/// `--backoff-ms` explore gives init on `backend`: the first backoff, long
/// enough that a command aimed at it usually lands in it there (a status
/// look and a command are a fork on processes, two `docker exec` round trips
/// of 100 ms or more on a loaded engine), short enough that the exits of a
/// crash loop (the backoff doubles) fall inside one crash window.
/// A command that returns later than that is checked as one that may have
/// missed it ([`super::moves::Applied::missed`]).
pub fn backoff_ms(backend: BackendKind) -> u32 {
    match backend {
        BackendKind::Process => 300,
        BackendKind::Docker => 1000,
    }
}

/// The init flags explore runs a target with: the schedule's crash limit,
/// the model's window, and a first backoff of `backoff_ms`.
pub fn init_args(crash_limit: u32, backoff_ms: u32) -> Vec<String> {
    vec![
        "--crash-limit".to_owned(),
        crash_limit.to_string(),
        "--crash-window-s".to_owned(),
        CRASH_WINDOW_S.to_string(),
        "--backoff-ms".to_owned(),
        backoff_ms.to_string(),
    ]
}

/// Runs `schedule` on a fresh sandbox of `backend`, its init given
/// `crash_limit`; the history is the timeline.
pub async fn run(
    backend: &dyn Backend,
    profiles: &[String],
    schedule: &[Move],
    crash_limit: u32,
    opts: &RunOptions,
) -> (Trial, History) {
    let mut h = History::new();
    h.record(
        EntryKind::Phase,
        format!(
            "explore on {}: {}",
            backend.kind(),
            schedule
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    let spec = SandboxSpec {
        name: runner::unique_name("explore"),
        profiles: profiles.to_vec(),
        init_args: init_args(crash_limit, backoff_ms(backend.kind())),
        env: opts.env.clone(),
        memory_limit: schedule
            .iter()
            .any(|o| matches!(o, Move::Oom(_)))
            .then(|| opts.target.oom_memory())
            .flatten(),
        disk_limit: schedule
            .iter()
            .any(|o| matches!(o, Move::StopUnwritable(_, super::moves::Unwritable::Full)))
            .then_some(crate::backend::FULL_DISK_LIMIT),
        shape: opts.target.shape(),
    };
    let mut sandbox = match backend.create(&spec).await {
        Ok(s) => s,
        Err(e) => return (Trial::Error(format!("creating the target: {e}")), h),
    };
    let mut all = vec!["default".to_owned()];
    all.extend(profiles.iter().filter(|p| *p != "default").cloned());
    all.sort();
    let observed = Observed::of(&opts.target);
    let mut sut = Sut {
        sandbox: &mut *sandbox,
        driver: &*opts.driver,
        profiles: all,
        background: Vec::new(),
    };
    let plan = Plan {
        profiles,
        schedule,
        crash_limit,
        backoff: std::time::Duration::from_millis(u64::from(backoff_ms(backend.kind()))),
    };
    let driven = AssertUnwindSafe(drive(&mut sut, &plan, opts, observed, &mut h))
        .catch_unwind()
        .await;
    let destroyed = sandbox.destroy().await;
    let trial = match driven {
        Ok(t) => t,
        Err(p) => Trial::Error(format!(
            "the harness panicked: {}",
            runner::panic_message(p.as_ref())
        )),
    };
    match (trial, destroyed) {
        (Trial::Error(e), Err(d)) => (Trial::Error(format!("{e}; destroying the target: {d}")), h),
        (_, Err(d)) => (Trial::Error(format!("destroying the target: {d}")), h),
        (t, Ok(())) => (t, h),
    }
}

/// What one trial runs.
struct Plan<'a> {
    profiles: &'a [String],
    schedule: &'a [Move],
    crash_limit: u32,
    /// init's first backoff.
    backoff: std::time::Duration,
}

async fn drive(
    sut: &mut Sut<'_>,
    plan: &Plan<'_>,
    opts: &RunOptions,
    observed: Observed,
    h: &mut History,
) -> Trial {
    match drive_inner(sut, plan, opts, observed, h).await {
        Ok(Trial::Diverged(d)) => {
            h.record(EntryKind::Note, format!("divergence {d}"));
            Trial::Diverged(d)
        }
        Ok(t) => t,
        Err(Stop::Error(e)) => Trial::Error(e),
        // A setup failure before any operation ran is not the schedule's.
        Err(Stop::Failed(r)) => Trial::Error(format!("before the schedule: {r}")),
    }
}

async fn drive_inner(
    sut: &mut Sut<'_>,
    plan: &Plan<'_>,
    opts: &RunOptions,
    observed: Observed,
    h: &mut History,
) -> Result<Trial, Stop> {
    let waits = opts.waits;
    let driver = sut.driver;
    let (mut model, first) = Model::booted_with(plan.profiles, plan.crash_limit);
    let mut window = WindowCheck::new(observed.gives_up);
    h.record(EntryKind::Phase, "first boot");
    sut.sandbox.boot().await?;
    let lines = driver.boot_log(&mut *sut.sandbox).await?;
    let boot = observe::boot_lines_since(&lines, 0, &|l| driver.boot_line(l), h)?;
    // A declared target's first boot finds no profile set up: the harness
    // provisions them after it (creates the named ones, starts every one
    // that is down), so that boot is setup, not an operation to judge.
    if observed.contract_init && observed.boot_log {
        let first: Vec<(String, BootView, bool)> =
            first.into_iter().map(|(p, v)| (p, v, true)).collect();
        if let Some(d) = compare_boot(0, &first, &boot, observed) {
            return Ok(Trial::Diverged(d));
        }
    }
    driver
        .provision(&mut *sut.sandbox, &sut.profiles, h)
        .await?;
    let st = status::wait_settled(sut, h, waits).await?;
    if let Some(d) = compare_rest(0, &model, &observe_all(sut, &st, h).await?, observed) {
        return Ok(Trial::Diverged(d));
    }
    for (i, op) in plan.schedule.iter().enumerate() {
        let n = i + 1;
        let crashes_before = model.clone();
        let started = std::time::Instant::now();
        let applied = op.apply(&mut model);
        let lines_before = match applied.boot {
            Some(_) if observed.boot_log => Some(driver.boot_log(&mut *sut.sandbox).await?.len()),
            Some(_) | None => None,
        };
        let mut performed = Ok(());
        for step in op.ops(applied.codes(observed.cli)) {
            performed = crate::op::perform(sut, &step, Role::Setup(n), h, waits)
                .await
                .map(|_| ());
            if performed.is_err() {
                break;
            }
        }
        // A command started in the background ends with its move.
        if performed.is_ok() {
            performed = crate::op::join_background(sut, h).await;
        }
        let took = started.elapsed();
        match performed.map_err(Stop::from) {
            Ok(()) => {}
            Err(Stop::Failed(r)) => {
                let profile = op.profile().unwrap_or("default");
                h.record(EntryKind::Note, format!("{op}: {r}"));
                // A command's exit code, or what an operation needed of the
                // target and did not see (a transition).
                let field = if r.what.is_literal() {
                    "exit_code"
                } else {
                    "precondition"
                };
                return Ok(Trial::Diverged(Divergence::new(
                    n,
                    profile,
                    field,
                    &r.expected,
                    &r.seen,
                )));
            }
            Err(e) => return Err(e),
        }
        let st = status::wait_settled(sut, h, waits).await?;
        // Before any comparison: a schedule slower than the crash window
        // gives the model's crash count no meaning, so what the target shows
        // then is no verdict either way.
        if let Some(why) = window.after(n, &crashes_before, &model, started) {
            h.record(EntryKind::Note, format!("inconclusive: {why}"));
            return Ok(Trial::Inconclusive(why));
        }
        if let (Some(expected), Some(from)) = (&applied.boot, lines_before) {
            let lines = driver.boot_log(&mut *sut.sandbox).await?;
            let seen = observe::boot_lines_since(&lines, from, &|l| driver.boot_line(l), h)?;
            if let Some(d) = compare_boot(n, expected, &seen, observed) {
                return Ok(Trial::Diverged(d));
            }
        }
        let seen = observe_all(sut, &st, h).await?;
        let last = n == plan.schedule.len();
        if let Some(why) = missed_backoff(
            n,
            op,
            &applied,
            (&model, &seen),
            observed,
            (took, plan.backoff),
            last,
        ) {
            h.record(EntryKind::Note, format!("inconclusive: {why}"));
            return Ok(Trial::Inconclusive(why));
        }
        if let Some(d) = compare_rest(n, &model, &seen, observed) {
            // Operations started together: the other order is as good.
            match applied.or_else {
                Some(other) if compare_rest(n, &other, &seen, observed).is_none() => {
                    h.record(
                        EntryKind::Note,
                        format!("{op}: the target took the other order"),
                    );
                    model = other;
                }
                _ => return Ok(Trial::Diverged(d)),
            }
        }
    }
    Ok(Trial::Agreed)
}

/// Why move `n` leaves the schedule inconclusive, if it aimed a command at a
/// backoff: [`missed_backoff_verdict`] on what is seen.
fn missed_backoff(
    n: usize,
    op: &Move,
    applied: &super::moves::Applied,
    (model, seen): (&Model, &BTreeMap<String, RestSeen>),
    observed: Observed,
    (took, backoff): (std::time::Duration, std::time::Duration),
    last: bool,
) -> Option<String> {
    let late = applied.missed.as_ref()?;
    let landing = Landing {
        as_aimed: compare_rest(n, model, seen, observed).is_none(),
        as_missed: compare_rest(n, late, seen, observed).is_none(),
    };
    let which = missed_backoff_verdict(landing, took >= backoff, last)?;
    Some(format!(
        "step {n} ({op}) took {} ms, longer than the {} ms backoff it aimed at, and the target shows {which}: \
         the machine was slower than the backoff",
        took.as_millis(),
        backoff.as_millis()
    ))
}

/// Which landings of a command aimed at a backoff match what is seen.
#[derive(Debug, Clone, Copy)]
struct Landing {
    /// In the backoff, as the model takes it.
    as_aimed: bool,
    /// After the revival.
    as_missed: bool,
}

/// Whether a move that aimed a command at a backoff is inconclusive, and
/// what the target showed: only when it took longer than the backoff could
/// have lasted (`slow`; the backoff began when the move did, at the
/// earliest), and the target shows the missed landing, or cannot tell the
/// two apart while later moves (not `last`) depend on which it was. Seen
/// landing as aimed, or as neither, the move is judged as usual.
fn missed_backoff_verdict(landing: Landing, slow: bool, last: bool) -> Option<&'static str> {
    match (slow, landing.as_aimed, landing.as_missed) {
        (false, _, _) | (true, true, false) | (true, false, false) => None,
        (true, true, true) if last => None,
        (true, true, true) => {
            Some("either landing, and the two differ in what later moves depend on")
        }
        (true, false, true) => Some("a command that landed after the revival"),
    }
}

async fn observe_all(
    sut: &mut Sut<'_>,
    st: &Status,
    h: &mut History,
) -> Result<BTreeMap<String, RestSeen>, Stop> {
    let mut out = BTreeMap::new();
    for p in sut.profiles.clone() {
        let rest = sut.driver.at_rest(&mut *sut.sandbox, &p, st, h).await?;
        out.insert(p, rest);
    }
    Ok(out)
}

/// The model's word for supervision, as status prints it.
pub fn supervision_word(s: Supervision) -> &'static str {
    match s {
        Supervision::Up => "up",
        Supervision::Down => "down",
        Supervision::GaveUp => "gave-up",
    }
}

/// The model's exit reason, as the state file holds it.
pub fn reason_word(r: Reason) -> &'static str {
    match r {
        Reason::Null => "null",
        Reason::OperatorStop => "operator-stop",
        Reason::InteractiveStop => "interactive-stop",
        Reason::CrashLoop => "crash-loop",
        Reason::SignalTerm => "signal:SIGTERM",
    }
}

/// The model's intent, as the table writes it.
pub fn intent_word(i: Intent) -> &'static str {
    match i {
        Intent::Absent => "absent",
        Intent::Running => "running",
        Intent::Stopped => "stopped",
        Intent::Unwritable => "corrupt",
    }
}

/// The model's boot action word.
pub fn action_word(a: Action) -> &'static str {
    match a {
        Action::Started => "started",
        Action::Registered => "registered",
    }
}

fn file_word<T: std::fmt::Display>(f: &FileState<T>, missing: &str) -> String {
    match f {
        FileState::Missing => missing.to_owned(),
        other => other.to_string(),
    }
}

/// The first field of any profile where the target and the model differ.
fn compare_rest(
    step: usize,
    model: &Model,
    seen: &BTreeMap<String, RestSeen>,
    observed: Observed,
) -> Option<Divergence> {
    for (profile, want) in model.views() {
        let Some(got) = seen.get(&profile) else {
            return Some(Divergence::new(
                step,
                &profile,
                "supervised",
                supervision_word(want.supervision),
                "no such profile",
            ));
        };
        for (field, expected, actual) in rest_fields(&want, got, observed) {
            if expected != actual {
                return Some(Divergence::new(step, &profile, field, &expected, &actual));
            }
        }
    }
    None
}

/// (field, model, target) for every field compared at rest.
fn rest_fields(
    want: &ProfileView,
    got: &RestSeen,
    observed: Observed,
) -> Vec<(&'static str, String, String)> {
    let mut out = vec![
        (
            "supervised",
            supervision_word(want.supervision).to_owned(),
            got.supervised
                .map_or_else(|| "no status".to_owned(), |s| s.as_str().to_owned()),
        ),
        (
            "live",
            (want.supervision == Supervision::Up).to_string(),
            got.live.unwrap_or(false).to_string(),
        ),
    ];
    if observed.contract_files || want.recorded.is_a_state() {
        out.push((
            "gateway_state",
            recorded_word(want.recorded).to_owned(),
            file_word(&got.gateway_state, "missing"),
        ));
    }
    if observed.intent {
        out.push((
            "desired_state",
            intent_word(want.intent).to_owned(),
            file_word(&got.desired_state, "absent"),
        ));
    }
    if observed.contract_files {
        out.push((
            "exit_reason",
            reason_word(want.reason).to_owned(),
            got.exit_reason.clone().unwrap_or_else(|| "null".to_owned()),
        ));
        out.push((
            "marker",
            presence(want.marker).to_owned(),
            presence(got.marker).to_owned(),
        ));
        out.push((
            "torn_files",
            want.torn_files.to_string(),
            got.torn_files.to_string(),
        ));
        out.push(("temp_files", "0".to_owned(), got.temp_files.to_string()));
    }
    out
}

fn presence(b: bool) -> &'static str {
    if b {
        "present"
    } else {
        "absent"
    }
}

fn compare_boot(
    step: usize,
    expected: &[(String, BootView, bool)],
    seen: &BTreeMap<String, restart_contract::boot::BootLine>,
    observed: Observed,
) -> Option<Divergence> {
    for (profile, want, prior_known) in expected {
        let Some(line) = seen.get(profile) else {
            return Some(Divergence::new(
                step,
                profile,
                "boot.action",
                action_word(want.action),
                "no boot line",
            ));
        };
        let action = line.action.as_str();
        if action != action_word(want.action) {
            return Some(Divergence::new(
                step,
                profile,
                "boot.action",
                action_word(want.action),
                action,
            ));
        }
        let prior = line.prior_state.to_string();
        if observed.boot_words && *prior_known && prior != recorded_word(want.prior) {
            return Some(Divergence::new(
                step,
                profile,
                "boot.prior_state",
                recorded_word(want.prior),
                &prior,
            ));
        }
    }
    None
}

/// Which backends a schedule can run on.
pub fn backends_of(schedule: &[Move]) -> Vec<BackendKind> {
    if schedule.iter().any(|o| matches!(o, Move::Oom(_))) {
        vec![BackendKind::Docker]
    } else {
        vec![BackendKind::Process, BackendKind::Docker]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn landing(as_aimed: bool, as_missed: bool) -> Landing {
        Landing {
            as_aimed,
            as_missed,
        }
    }

    #[test]
    fn a_command_aimed_at_a_backoff_is_inconclusive_only_when_slow_and_seen_late() {
        // Fast enough: the backoff cannot have ended, whatever is seen.
        for (a, m) in [(true, true), (true, false), (false, true), (false, false)] {
            assert_eq!(missed_backoff_verdict(landing(a, m), false, false), None);
        }
        // Slow, and seen as aimed: the landing is known.
        assert_eq!(
            missed_backoff_verdict(landing(true, false), true, false),
            None
        );
        // Slow, and seen as neither: a divergence, judged as usual.
        assert_eq!(
            missed_backoff_verdict(landing(false, false), true, false),
            None
        );
        // Slow, and seen as missed.
        assert_eq!(
            missed_backoff_verdict(landing(false, true), true, true),
            Some("a command that landed after the revival")
        );
        // Slow, seen as both: fine last, not when later moves depend on it.
        assert_eq!(
            missed_backoff_verdict(landing(true, true), true, true),
            None
        );
        assert!(missed_backoff_verdict(landing(true, true), true, false)
            .is_some_and(|w| w.starts_with("either landing")));
    }

    #[test]
    fn explore_gives_docker_a_longer_backoff_and_writes_it_as_init_args() {
        assert!(backoff_ms(BackendKind::Docker) > backoff_ms(BackendKind::Process));
        assert_eq!(
            init_args(2, 1500),
            [
                "--crash-limit",
                "2",
                "--crash-window-s",
                "12",
                "--backoff-ms",
                "1500"
            ]
        );
    }
}
