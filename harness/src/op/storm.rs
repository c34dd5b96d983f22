//! Kill storms: many SIGKILLs at seeded random instants of start-ups.
//!
//! - `kill-storm`: each hit waits until P has a gateway process other than
//!   the one hit last (a new pid in status, even if not yet live: init revives
//!   each SIGKILLed life after its backoff), then a random delay, then SIGKILL
//!   through the driver.
//! - `kill-storm-init`: each hit waits until every profile that ran a
//!   gateway at T0 has a gateway process of the new boot, then a random
//!   delay, then SIGKILL to the supervisor (`sandbox.container_kill()`, which
//!   boots it again): its gateways die with it, mid start-up. With a
//!   teardown window, each hit is drawn as that or as a teardown hit: once
//!   everything settled, SIGTERM to the supervisor and SIGKILL a random delay
//!   later (`sandbox.container_stop_cut()`), mid teardown.
//!
//! Delays spread evenly over their window, or over its octaves: a storm that
//! knows nothing of the target's speed still lands in the first milliseconds
//! of a fast writer and across the seconds of a slow one.
//!
//! A storm does not wait for a settle between hits, only until the next
//! gateway exists, so that the hits land in its start-up writes. Afterwards
//! everything settles, and the target's history says how many lives were
//! started during the storm and how many of them ended before their start-up
//! writes were done.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::perform::{signal_failed, wait_life_ended, OpError, Performed};
use super::{Spread, Storm};
use crate::backend::{BackendError, Signal};
use crate::history::{EntryKind, History};
use crate::observe::{Life, Status, Supervised};
use crate::status::{self, Waits};
use crate::target::Sut;

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

    /// A delay in `window/1024..=window`, with an equal chance for each of
    /// those ten octaves.
    pub fn delay_in_octaves(&mut self, window: Duration) -> Duration {
        // The top 53 bits: a uniform fraction in [0, 1) that an f64 holds exactly.
        #[allow(clippy::cast_precision_loss)]
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        window.mul_f64((-10.0 * u).exp2())
    }

    /// A delay over `window` as `spread` says.
    pub fn delay_spread(&mut self, window: Duration, spread: Spread) -> Duration {
        match spread {
            Spread::Even => self.delay(window),
            Spread::Octaves => self.delay_in_octaves(window),
        }
    }
}

/// The pause between two looks of a storm's wait for the next gateway: short,
/// so that the hit's delay is counted from close to the gateway's spawn.
const STORM_POLL: Duration = Duration::from_millis(2);

/// What a storm hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Aim {
    /// One profile's gateway.
    Gateway,
    /// The supervisor, and so every gateway.
    Init,
}

/// One storm in progress.
struct Hits<'a> {
    aim: Aim,
    /// How many hits it makes at most.
    total: u32,
    storm: Storm,
    /// The profile whose lives are counted afterwards.
    profile: &'a str,
    /// The profiles whose next gateway each hit waits for.
    awaited: Vec<String>,
    /// The history mark the count starts from.
    mark: usize,
}

/// `hits` hits of `aim` at instants drawn from `storm`, on a settled target
/// whose status is `before`; `profile` is the gateway storm's profile.
pub(super) async fn storm(
    sut: &mut Sut<'_>,
    aim: Aim,
    profile: Option<&str>,
    (hits, storm): (u32, Storm),
    before: &Status,
    history: &mut History,
    waits: Waits,
) -> Result<Performed, OpError> {
    let profile = profile
        .map(str::to_owned)
        .or_else(|| before.gateways().into_keys().next())
        .unwrap_or_else(|| "default".to_owned());
    let awaited: Vec<String> = match aim {
        Aim::Init => before.gateways().into_keys().collect(),
        Aim::Gateway => vec![profile.clone()],
    };
    let spread = match storm.spread {
        Spread::Even => "evenly",
        Spread::Octaves => "over the octaves from 1/1024 of it",
    };
    let teardown = storm.teardown.map_or(String::new(), |t| {
        format!(
            "; a teardown hit's SIGKILL within {} ms of its SIGTERM",
            t.as_millis()
        )
    });
    history.record(
        EntryKind::Note,
        format!(
            "kill storm: {hits} hits drawn from seed {}, a start-up hit's delay within {} ms, {spread}{teardown}",
            storm.seed,
            storm.window.as_millis(),
        ),
    );
    let mark = sut
        .driver
        .history_mark(&mut *sut.sandbox, &profile, history)
        .await?;
    let plan = Hits {
        aim,
        total: hits,
        storm,
        profile: &profile,
        awaited,
        mark,
    };
    let (mut run, sent) = hit_all(sut, &plan, history, waits).await?;
    if let Some(life) = run.lives.get(&profile).copied() {
        // The last hit: wait until that life ended (init revives it or not).
        wait_life_ended(sut, &profile, life, history, waits).await?;
    }
    run.storm = Some(count(sut, &plan, sent, history, waits).await?);
    Ok(run)
}

/// Sends the hits, each once the next gateways exist; stops early when a
/// profile is not revived. Returns the lives hit last and the hits sent.
async fn hit_all(
    sut: &mut Sut<'_>,
    plan: &Hits<'_>,
    history: &mut History,
    waits: Waits,
) -> Result<(Performed, usize), OpError> {
    let mut run = Performed::default();
    let mut rng = SplitMix64::new(plan.storm.seed);
    let mut last: BTreeMap<String, (i32, u64)> = BTreeMap::new();
    let mut sent = 0usize;
    for n in 1..=plan.total {
        let seen = match wait_next_gateways(sut, &plan.awaited, &last, history, waits).await? {
            NextGateways::Up(g) => g,
            NextGateways::NotRevived(summary) => {
                history.record(
                    EntryKind::Note,
                    format!(
                        "kill storm hit {n}/{}: not every profile runs a gateway any more ({summary}); no more hits",
                        plan.total
                    ),
                );
                break;
            }
        };
        sent += 1;
        let teardown = match (plan.aim, plan.storm.teardown) {
            (Aim::Init, Some(window)) if rng.next_u64() % 2 == 1 => Some(window),
            _ => None,
        };
        if let Some(window) = teardown {
            // Its teardown writes: once every gateway is live, a stop cut short.
            status::wait_settled(sut, history, waits).await?;
            let delay = rng.delay_spread(window, plan.storm.spread);
            history.record(
                EntryKind::Signal,
                format!(
                    "kill storm hit {n}/{}: SIGTERM to init (a container stop), SIGKILL {} us later unless it exited",
                    plan.total,
                    delay.as_micros()
                ),
            );
            sut.sandbox.container_stop_cut(delay).await?;
        } else {
            // Not a wait for a condition: where in the start-up the hit lands
            // is the fault itself, drawn from the scenario's seed.
            let delay = rng.delay_spread(plan.storm.window, plan.storm.spread);
            tokio::time::sleep(delay).await;
            hit(sut, plan, n, delay, &seen, &mut run, history).await?;
        }
        last = seen;
    }
    Ok((run, sent))
}

/// One hit, `delay` after the gateways `seen` were seen.
async fn hit(
    sut: &mut Sut<'_>,
    plan: &Hits<'_>,
    n: u32,
    delay: Duration,
    seen: &BTreeMap<String, (i32, u64)>,
    run: &mut Performed,
    history: &mut History,
) -> Result<(), OpError> {
    let shown = seen
        .iter()
        .map(|(p, (pid, _))| format!("{p}'s gateway {pid}"))
        .collect::<Vec<_>>()
        .join(", ");
    if plan.aim == Aim::Init {
        history.record(
            EntryKind::Signal,
            format!(
                "kill storm hit {n}/{}: SIGKILL to init (container kill), {} us after {shown} was seen",
                plan.total,
                delay.as_micros()
            ),
        );
        sut.sandbox.container_kill().await?;
        return Ok(());
    }
    for (p, (pid, start_time)) in seen {
        history.record(
            EntryKind::Signal,
            format!(
                "kill storm hit {n}/{}: SIGKILL to {shown}, {} us after it was seen",
                plan.total,
                delay.as_micros()
            ),
        );
        let (args, out) = sut
            .driver
            .signal(&mut *sut.sandbox, *pid, Signal::Kill)
            .await?;
        if out.code != Some(0) {
            history.command(&sut.driver.shown(&args), &out);
            return Err(signal_failed(&args, &out).into());
        }
        run.lives.insert(
            p.clone(),
            Life {
                pid: *pid,
                start_time: *start_time,
                events_before: plan.mark,
            },
        );
    }
    Ok(())
}

/// Settles, then counts from the target's history the lives started during
/// the storm and those cut before their start-up writes were done.
async fn count(
    sut: &mut Sut<'_>,
    plan: &Hits<'_>,
    hits: usize,
    history: &mut History,
    waits: Waits,
) -> Result<StormCount, OpError> {
    let profile = plan.profile;
    let settled = status::wait_settled(sut, history, waits).await?;
    let survivor = settled.get(profile).and_then(|p| p.gateway()).map(|g| g.0);
    let startups = sut
        .driver
        .startups_since(&mut *sut.sandbox, profile, plan.mark, survivor)
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
    Ok(count)
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
                if let Some(next) = next_gateways(&st, profiles, last) {
                    return Ok(next);
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

/// What one status says of the next gateways: `None` while some are not
/// there yet.
fn next_gateways(
    st: &Status,
    profiles: &[String],
    last: &BTreeMap<String, (i32, u64)>,
) -> Option<NextGateways> {
    let mut found = BTreeMap::new();
    for p in profiles {
        let row = st.get(p);
        match row.map(|r| r.supervised) {
            None | Some(Supervised::Down | Supervised::GaveUp) => {
                return Some(NextGateways::NotRevived(st.summary()));
            }
            Some(Supervised::Up | Supervised::Backoff) => {}
        }
        if let Some(g) = row.and_then(|r| r.gateway()) {
            if last.get(p) != Some(&g) {
                found.insert(p.clone(), g);
            }
        }
    }
    (found.len() == profiles.len()).then_some(NextGateways::Up(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octave_delays_stay_in_their_window_and_fill_every_octave() {
        let window = Duration::from_millis(2048);
        let mut rng = SplitMix64::new(11);
        let mut per_octave = [0u32; 10];
        for _ in 0..10_000 {
            let d = rng.delay_in_octaves(window);
            assert!(d <= window && d >= window / 1024, "{d:?}");
            // Octave k holds (window/2^(k+1), window/2^k].
            let k = (window.as_secs_f64() / d.as_secs_f64()).log2().floor();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let k = (k as usize).min(9);
            per_octave[k] += 1;
        }
        // 1000 expected in each; a fair draw stays well within 800..1200.
        assert!(
            per_octave.iter().all(|n| (800..1200).contains(n)),
            "{per_octave:?}"
        );
        let again: Vec<Duration> = {
            let mut r = SplitMix64::new(11);
            (0..3).map(|_| r.delay_in_octaves(window)).collect()
        };
        let mut r = SplitMix64::new(11);
        assert_eq!(
            again,
            (0..3)
                .map(|_| r.delay_in_octaves(window))
                .collect::<Vec<_>>()
        );
    }
}
