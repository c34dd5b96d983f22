//! Faults, performed through the sandbox's primitives and the target's driver
//! only, so that every backend and every target runs the same fault the same way:
//!
//! | fault | how |
//! |---|---|
//! | `container-restart` | `sandbox.container_restart(None)` |
//! | `stop-timeout` | `sandbox.container_restart(Some(stop_timeout_ms))` |
//! | `container-kill` | `sandbox.container_kill()` |
//! | `bare-sigterm`, `bare-sighup`, `sigkill`, `interactive-stop` | the driver's bare signal (`gateway kill <pid> SIG` for the contract) to the pid its status reports |
//! | `oom` | `sandbox.oom(profile)` |
//! | `operator-stop/start/restart` | the driver's operator verb (`gateway stop/start/restart --profile P` for the contract) |
//! | `kill-storm` | `repeat` times: wait for a new gateway pid of P in status, a seeded random delay, the driver's SIGKILL |
//! | `kill-storm-init` | `repeat` times: wait for a new gateway pid of every profile up before, a seeded random delay, `sandbox.container_kill()` |
//!
//! A repeated fault waits, between two hits, until the profile has settled again
//! (revived, or given up). A storm does not: each hit waits only until the
//! next gateway exists (a new pid in status, even if not yet live), so that
//! the hits land in its start-up writes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::backend::{BackendError, CmdOutput};
use crate::history::{EntryKind, History};
use crate::observe::Life;
use crate::observe::Supervised;
use crate::scenario::model::{Fault, FaultKind, Storm};
use crate::status::{self, Status, Waits};
use crate::target::{Sut, Verb};

/// What performing a fault left for the observer.
#[derive(Debug, Clone, Default)]
pub struct FaultRun {
    /// The gateway lives the fault hit (the last one, when repeated), by profile.
    pub lives: BTreeMap<String, Life>,
    /// The output of the fault's command (operator faults; the last repetition).
    pub command: Option<CmdOutput>,
    /// What a storm did (storms only).
    pub storm: Option<StormCount>,
    /// The status of the settle the fault ended with, when nothing acted after
    /// it: T1 is that instant (a fault that boots ends with its boot, not a
    /// settle).
    pub settled: Option<Status>,
}

/// What a storm did, counted from what the target recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StormCount {
    /// Hits sent.
    pub hits: usize,
    /// Gateway lives started during the storm, the one running after it left
    /// out (`None`: the target's history cannot tell).
    pub lives: Option<usize>,
    /// Of those, the lives that ended before their start-up writes were done
    /// (no persisted `running` in the history).
    pub during_startup: Option<usize>,
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small PRNG, so that a storm's
/// instants are drawn from the scenario's seed and every run of it draws the
/// same ones. Not for anything but reproducible test instants.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A delay in `0..=window`, in whole microseconds.
    pub fn delay(&mut self, window: Duration) -> Duration {
        let us = u64::try_from(window.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(self.next_u64() % us.saturating_add(1).max(1))
    }
}

/// The pause between two looks of a storm's wait for the next gateway: short,
/// so that the hit's delay is counted from close to the gateway's spawn.
const STORM_POLL: Duration = Duration::from_millis(2);

/// Why a fault could not be performed.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    /// The backend failed: a harness problem, never a verdict on the gateway.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The gateway was not in the state the fault needs (a verdict: the gateway
    /// did not do what the setup should have made it do).
    #[error("{what}: expected {expected}, seen {seen}")]
    Precondition {
        /// What was needed.
        what: String,
        /// What it should have been.
        expected: String,
        /// What it was.
        seen: String,
    },
}

fn signal_of(kind: FaultKind) -> Option<&'static str> {
    match kind {
        FaultKind::BareSigterm => Some("SIGTERM"),
        FaultKind::BareSighup => Some("SIGHUP"),
        FaultKind::Sigkill => Some("SIGKILL"),
        FaultKind::InteractiveStop => Some("SIGINT"),
        FaultKind::ContainerRestart
        | FaultKind::ContainerKill
        | FaultKind::StopTimeout
        | FaultKind::Oom
        | FaultKind::OperatorStop
        | FaultKind::OperatorStart
        | FaultKind::OperatorRestart
        | FaultKind::KillStorm
        | FaultKind::KillStormInit => None,
    }
}

async fn life_of(
    sut: &mut Sut<'_>,
    profile: &str,
    (pid, start_time): (i32, u64),
    history: &mut History,
) -> Result<Life, FaultError> {
    let events_before = sut
        .driver
        .history_mark(&mut *sut.sandbox, profile, history)
        .await?;
    Ok(Life {
        pid,
        start_time,
        events_before,
    })
}

/// Sends `signal` to the profile's running gateway (no marker), waits until
/// that life has ended and everything settled; returns the life and that
/// settled status.
pub async fn kill_gateway(
    sut: &mut Sut<'_>,
    profile: &str,
    signal: &str,
    history: &mut History,
    waits: Waits,
) -> Result<(Life, Status), FaultError> {
    let st = status::query(sut).await?;
    let ps = st.get(profile);
    let Some((pid, start_time)) = ps.and_then(|p| p.gateway()) else {
        return Err(FaultError::Precondition {
            what: format!("a running gateway of {profile} to send {signal} to"),
            expected: "up".to_owned(),
            seen: ps
                .map_or("not listed", |p| p.supervised.as_str())
                .to_owned(),
        });
    };
    let life = life_of(sut, profile, (pid, start_time), history).await?;
    history.record(
        EntryKind::Signal,
        format!("{signal} to {profile}'s gateway {pid} (no marker)"),
    );
    let (args, out) = sut.driver.signal(&mut *sut.sandbox, pid, signal).await?;
    history.command(&sut.driver.shown(&args), &out);
    if out.code != Some(0) {
        return Err(BackendError::Other(format!(
            "`{}` failed: {}",
            args.join(" "),
            out.stderr.trim()
        ))
        .into());
    }
    wait_life_ended(sut, profile, life, history, waits).await?;
    let settled = status::wait_settled(sut, history, waits).await?;
    Ok((life, settled))
}

/// Waits until the profile's gateway is no longer `life` (ended, revived or down).
pub async fn wait_life_ended(
    sut: &mut Sut<'_>,
    profile: &str,
    life: Life,
    history: &mut History,
    waits: Waits,
) -> Result<Status, BackendError> {
    let profile_owned = profile.to_owned();
    status::wait_status(
        sut,
        history,
        waits,
        &format!("{profile}'s gateway {} to have ended", life.pid),
        move |st| {
            st.get(&profile_owned).is_none_or(|p| {
                p.supervised != Supervised::Up
                    || (p.pid, p.start_time) != (Some(life.pid), Some(life.start_time))
            })
        },
    )
    .await
}

/// What a storm's wait for the next gateways found.
enum NextGateways {
    /// Every awaited profile runs a gateway other than the one hit last.
    Up(BTreeMap<String, (i32, u64)>),
    /// A profile is not coming back (down or given up): the storm ends there.
    NotRevived(String),
}

/// Waits (deadline: `waits.deadline`) until every profile of `profiles` has
/// a gateway process in status (a pid, even if not yet live) other than its
/// `last` one, or one of them is down or gave up.
async fn wait_next_gateways(
    sut: &mut Sut<'_>,
    profiles: &[String],
    last: &BTreeMap<String, (i32, u64)>,
    history: &mut History,
    waits: Waits,
) -> Result<NextGateways, BackendError> {
    let start = Instant::now();
    let mut last_seen;
    loop {
        match status::query(sut).await {
            Ok(st) => {
                let mut found = BTreeMap::new();
                for p in profiles {
                    let row = st.get(p);
                    match row.map(|r| r.supervised) {
                        None | Some(Supervised::Down | Supervised::GaveUp) => {
                            return Ok(NextGateways::NotRevived(st.summary()));
                        }
                        Some(Supervised::Up | Supervised::Backoff) => {}
                    }
                    if let Some(g) = row.and_then(|r| r.gateway()) {
                        if last.get(p) != Some(&g) {
                            found.insert(p.clone(), g);
                        }
                    }
                }
                if found.len() == profiles.len() {
                    return Ok(NextGateways::Up(found));
                }
                last_seen = st.summary();
            }
            Err(e) => last_seen = e.to_string(),
        }
        if start.elapsed() >= waits.deadline {
            let err = BackendError::Timeout {
                awaited: format!("a new gateway of {} (kill storm)", profiles.join(", ")),
                waited: start.elapsed(),
                last_seen,
            };
            history.record(EntryKind::Error, err.to_string());
            return Err(err);
        }
        tokio::time::sleep(STORM_POLL).await;
    }
}

/// A storm: `fault.repeat` hits at seeded random instants.
///
/// - `kill-storm`: each hit waits until P has a gateway process other than
///   the one hit last (a new pid in status, even if not yet live: init revives
///   each SIGKILLed life after its backoff), then a random delay, then SIGKILL
///   through the driver.
/// - `kill-storm-init`: each hit waits until every profile that ran a
///   gateway at T0 has a gateway process of the new boot, then a random
///   delay, then SIGKILL to the supervisor (`sandbox.container_kill()`, which
///   boots it again): its gateways die with it, mid start-up.
///
/// Afterwards everything settles, and the target's history says how many
/// lives were started during the storm and how many of them ended before
/// their start-up writes were done.
async fn storm(
    sut: &mut Sut<'_>,
    fault: &Fault,
    storm: Storm,
    before: &Status,
    history: &mut History,
    waits: Waits,
) -> Result<FaultRun, FaultError> {
    let mut run = FaultRun::default();
    let on_init = fault.kind == FaultKind::KillStormInit;
    let profile = fault
        .profile
        .clone()
        .or_else(|| before.gateways().into_keys().next())
        .unwrap_or_else(|| "default".to_owned());
    // The profiles whose next gateway each hit waits for.
    let profiles: Vec<String> = if on_init {
        before.gateways().into_keys().collect()
    } else {
        vec![profile.clone()]
    };
    let mut rng = SplitMix64::new(storm.seed);
    history.record(
        EntryKind::Note,
        format!(
            "kill storm: {} hits, delays 0-{} ms drawn from seed {}",
            fault.repeat,
            storm.window.as_millis(),
            storm.seed
        ),
    );
    let mark = sut
        .driver
        .history_mark(&mut *sut.sandbox, &profile, history)
        .await?;
    let mut last: BTreeMap<String, (i32, u64)> = BTreeMap::new();
    let mut hits = 0usize;
    for i in 0..fault.repeat {
        let n = i + 1;
        let seen = match wait_next_gateways(sut, &profiles, &last, history, waits).await? {
            NextGateways::Up(g) => g,
            NextGateways::NotRevived(summary) => {
                history.record(
                    EntryKind::Note,
                    format!(
                        "kill storm hit {n}/{}: not every profile runs a gateway any more ({summary}); no more hits",
                        fault.repeat
                    ),
                );
                break;
            }
        };
        // Not a wait for a condition: where in the start-up the hit lands is
        // the fault itself, drawn from the scenario's seed.
        let delay = rng.delay(storm.window);
        tokio::time::sleep(delay).await;
        hits += 1;
        let shown = seen
            .iter()
            .map(|(p, (pid, _))| format!("{p}'s gateway {pid}"))
            .collect::<Vec<_>>()
            .join(", ");
        if on_init {
            history.record(
                EntryKind::Signal,
                format!(
                    "kill storm hit {n}/{}: SIGKILL to init (container kill), {} us after {shown} was seen",
                    fault.repeat,
                    delay.as_micros()
                ),
            );
            sut.sandbox.container_kill().await?;
        } else {
            for (p, (pid, start_time)) in &seen {
                history.record(
                    EntryKind::Signal,
                    format!(
                        "kill storm hit {n}/{}: SIGKILL to {shown}, {} us after it was seen",
                        fault.repeat,
                        delay.as_micros()
                    ),
                );
                let (args, out) = sut
                    .driver
                    .signal(&mut *sut.sandbox, *pid, "SIGKILL")
                    .await?;
                if out.code != Some(0) {
                    history.command(&sut.driver.shown(&args), &out);
                    return Err(BackendError::Other(format!(
                        "`{}` failed: {}",
                        args.join(" "),
                        out.stderr.trim()
                    ))
                    .into());
                }
                run.lives.insert(
                    p.clone(),
                    Life {
                        pid: *pid,
                        start_time: *start_time,
                        events_before: mark,
                    },
                );
            }
        }
        last = seen;
    }
    if let Some(life) = run.lives.get(&profile).copied() {
        // The last hit: wait until that life ended (init revives it or not).
        wait_life_ended(sut, &profile, life, history, waits).await?;
    }
    let settled = status::wait_settled(sut, history, waits).await?;
    let survivor = settled.get(&profile).and_then(|p| p.gateway()).map(|g| g.0);
    let startups = sut
        .driver
        .startups_since(&mut *sut.sandbox, &profile, mark, survivor)
        .await?;
    let count = StormCount {
        hits,
        lives: startups.map(|s| s.0),
        during_startup: startups.map(|s| s.1),
    };
    history.record(
        EntryKind::Note,
        match (count.lives, count.during_startup) {
            (Some(lives), Some(unfinished)) => format!(
                "kill storm: {hits} hits; {lives} lives of {profile} started during the storm \
                 (the one running now left out), {unfinished} of them ended before their \
                 start-up writes were done (no persisted running)"
            ),
            _ => format!(
                "kill storm: {hits} hits (the target's history does not say when its start-up writes were done)"
            ),
        },
    );
    run.storm = Some(count);
    Ok(run)
}

/// Performs `fault` (with its repeats) on a settled target whose status is `before`.
pub async fn perform(
    sut: &mut Sut<'_>,
    fault: &Fault,
    before: &Status,
    history: &mut History,
    waits: Waits,
) -> Result<FaultRun, FaultError> {
    let mut run = FaultRun::default();
    history.record(EntryKind::Phase, format!("fault: {fault}"));
    match fault.kind {
        FaultKind::KillStorm | FaultKind::KillStormInit => {
            let Some(s) = fault.storm else {
                return Err(BackendError::Other(format!(
                    "fault `{}` has no seed and window (the loader requires them)",
                    fault.kind
                ))
                .into());
            };
            return storm(sut, fault, s, before, history, waits).await;
        }
        FaultKind::ContainerRestart | FaultKind::ContainerKill | FaultKind::StopTimeout => {
            for (profile, gateway) in before.gateways() {
                let life = life_of(sut, &profile, gateway, history).await?;
                run.lives.insert(profile, life);
            }
            match fault.kind {
                FaultKind::ContainerKill => {
                    history.record(EntryKind::Signal, "SIGKILL to init (container kill)");
                    sut.sandbox.container_kill().await?;
                }
                FaultKind::StopTimeout => {
                    history.record(
                        EntryKind::Signal,
                        format!(
                            "SIGTERM to init, SIGKILL after {:?} (container restart with a short stop timeout)",
                            fault.stop_timeout.unwrap_or_default()
                        ),
                    );
                    sut.sandbox.container_restart(fault.stop_timeout).await?;
                }
                _ => {
                    history.record(EntryKind::Signal, "SIGTERM to init (container restart)");
                    sut.sandbox.container_restart(None).await?;
                }
            }
            history.record(EntryKind::Note, "the supervisor booted again");
        }
        FaultKind::BareSigterm
        | FaultKind::BareSighup
        | FaultKind::Sigkill
        | FaultKind::InteractiveStop
        | FaultKind::Oom => {
            let profile = fault.profile.as_deref().unwrap_or("default");
            for i in 0..fault.repeat {
                if i > 0 {
                    // The point of a repeat is a crash loop: stop once the
                    // supervisor no longer revives it (the expectations judge that).
                    let st = status::query(sut).await?;
                    if st.get(profile).and_then(|p| p.gateway()).is_none() {
                        history.record(
                            EntryKind::Note,
                            format!(
                                "repeat {}: {profile} is not running any more ({}); no more hits",
                                i + 1,
                                st.summary()
                            ),
                        );
                        break;
                    }
                }
                let (life, settled) = match signal_of(fault.kind) {
                    Some(sig) => kill_gateway(sut, profile, sig, history, waits).await?,
                    None => {
                        let st = status::query(sut).await?;
                        let Some((pid, start_time)) = st.get(profile).and_then(|p| p.gateway())
                        else {
                            return Err(FaultError::Precondition {
                                what: format!("a running gateway of {profile} to OOM-kill"),
                                expected: "up".to_owned(),
                                seen: st.summary(),
                            });
                        };
                        let life = life_of(sut, profile, (pid, start_time), history).await?;
                        history.record(
                            EntryKind::Signal,
                            format!("OOM of {profile}'s gateway {pid}"),
                        );
                        match sut.driver.oom_command(pid) {
                            Some(argv) => {
                                let out = sut.sandbox.oom_with(&argv).await?;
                                history.command(&argv.join(" "), &out);
                            }
                            None => sut.sandbox.oom(profile).await?,
                        }
                        wait_life_ended(sut, profile, life, history, waits).await?;
                        let settled = status::wait_settled(sut, history, waits).await?;
                        (life, settled)
                    }
                };
                run.lives.insert(profile.to_owned(), life);
                run.settled = Some(settled);
            }
        }
        FaultKind::OperatorStop | FaultKind::OperatorStart | FaultKind::OperatorRestart => {
            let profile = fault.profile.as_deref().unwrap_or("default");
            let verb = match fault.kind {
                FaultKind::OperatorStop => Verb::Stop,
                FaultKind::OperatorStart => Verb::Start,
                _ => Verb::Restart,
            };
            for _ in 0..fault.repeat {
                let st = status::query(sut).await?;
                // start does not end a running life; stop and restart do.
                if fault.kind != FaultKind::OperatorStart {
                    if let Some(gateway) = st.get(profile).and_then(|p| p.gateway()) {
                        let life = life_of(sut, profile, gateway, history).await?;
                        run.lives.insert(profile.to_owned(), life);
                    }
                }
                let (args, out) = sut
                    .driver
                    .operator(&mut *sut.sandbox, verb, profile)
                    .await?;
                history.command(&sut.driver.shown(&args), &out);
                run.command = Some(out);
                run.settled = Some(status::wait_settled(sut, history, waits).await?);
            }
        }
    }
    Ok(run)
}
