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
//!
//! A repeated fault waits, between two hits, until the profile has settled again
//! (revived, or given up).

use std::collections::BTreeMap;

use crate::backend::{BackendError, CmdOutput};
use crate::history::{EntryKind, History};
use crate::observe::Life;
use crate::scenario::model::{Fault, FaultKind, Supervised};
use crate::status::{self, Status, Waits};
use crate::target::{Sut, Verb};

/// What performing a fault left for the observer.
#[derive(Debug, Clone, Default)]
pub struct FaultRun {
    /// The gateway lives the fault hit (the last one, when repeated), by profile.
    pub lives: BTreeMap<String, Life>,
    /// The output of the fault's command (operator faults; the last repetition).
    pub command: Option<CmdOutput>,
}

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
        | FaultKind::OperatorRestart => None,
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
/// that life has ended and everything settled; returns the life.
pub async fn kill_gateway(
    sut: &mut Sut<'_>,
    profile: &str,
    signal: &str,
    history: &mut History,
    waits: Waits,
) -> Result<Life, FaultError> {
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
    status::wait_settled(sut, history, waits).await?;
    Ok(life)
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
                let life = match signal_of(fault.kind) {
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
                        status::wait_settled(sut, history, waits).await?;
                        life
                    }
                };
                run.lives.insert(profile.to_owned(), life);
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
                status::wait_settled(sut, history, waits).await?;
            }
        }
    }
    Ok(run)
}
