//! The one interpreter: performs an [`Op`] through the target's driver and
//! the sandbox's primitives only, so that every backend and every target runs
//! the same operation the same way.
//!
//! | operation | how |
//! |---|---|
//! | operator command | the driver's verb (`gateway stop/start/restart --profile P` for the contract) |
//! | signal | the driver's bare signal (`gateway kill <pid> SIG` for the contract) to the pid its status reports |
//! | `oom` | the driver's OOM command, else `sandbox.oom(profile)` |
//! | container restart / kill | `sandbox.container_restart(stop_timeout)`, `sandbox.container_kill()` |
//! | SIGTERM to the supervisor | `sandbox.supervisor_sigterm()`, then `sandbox.boot()` |
//! | the supervisor alone crashes or restarts | the driver's `supervisor` (the adapter's command, back once it answers) |
//! | a signal through the supervisor's API | the driver's `api_signal` (`docker kill -s SIG`) |
//! | storms | [`super::storm`] |
//! | write, damage, break-start | `sandbox.write_file` (placeholders filled from status) |
//! | filesystem faults | `sandbox.fs_fault`, `sandbox.fs_restore` |
//!
//! As the scenario's fault an operation records the lives it hits (for the
//! observer) and may repeat: between two hits the profile settles again
//! (revived, or given up). As a setup step it is performed once, and its
//! command's exit code is a literal of the table.

use std::collections::BTreeMap;
use std::path::Path;

use super::storm::{storm, Aim, StormCount};
use super::{template, Op, Phase};
use crate::backend::{BackendError, CmdOutput, Signal};
use crate::history::{EntryKind, History};
use crate::observe::{Life, Status, Supervised};
use crate::status::{self, Waits};
use crate::target::adapter::OomWitness;
use crate::target::driver::Background;
use crate::target::driver::{OomCommand, SupervisorAct};
use crate::target::{Sut, Verb};

/// What an operation is performed as.
#[derive(Debug, Clone, Copy)]
pub enum Role<'a> {
    /// Setup step `n` (1-based).
    Setup(usize),
    /// The scenario's fault, `repeat` times, on a settled target whose
    /// status is `before` (T0).
    Fault {
        /// How many times.
        repeat: u32,
        /// The status at T0.
        before: &'a Status,
    },
}

/// What performing an operation left for the observer.
#[derive(Debug, Clone, Default)]
pub struct Performed {
    /// The gateway lives it hit (the last one, when repeated), by profile.
    pub lives: BTreeMap<String, Life>,
    /// The output of its command (operator commands; the last repetition).
    pub command: Option<CmdOutput>,
    /// What a storm did (storms only).
    pub storm: Option<StormCount>,
    /// The status of the settle it ended with, when nothing acted after it:
    /// T1 is that instant (an operation that boots ends with its boot, not a
    /// settle).
    pub settled: Option<Status>,
    /// An OOM kill the target's own command witnessed (the supervisor
    /// reported it), where the engine of the sandbox cannot see it.
    pub oom_witnessed: bool,
}

/// Why an operation could not be performed, or did not do what it must.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// The backend failed: a harness problem, never a verdict on the gateway.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The gateway was not in the state the operation needs (a verdict: it
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
    /// A setup step's command exited with another code than the table's.
    #[error("setup.{step}.exit_code ({command}): expected {expected}, seen {seen}")]
    ExitCode {
        /// The step (1-based).
        step: usize,
        /// The command, as shown.
        command: String,
        /// The table's exit code.
        expected: i32,
        /// The code seen (`killed` without one).
        seen: String,
    },
    /// A setup step's placeholders could not be filled (a profile had no
    /// gateway to name).
    #[error("setup.{step} placeholders: expected every placeholder filled, seen {error}")]
    Placeholders {
        /// The step (1-based).
        step: usize,
        /// Why.
        error: String,
    },
    /// The target's adapter names no way to do it; the scenario should not
    /// have been claimed.
    #[error("setup.{step}: the target's adapter names no way to make a start fail ([drive] break_start); the scenario should not have been claimed")]
    NoBreakStart {
        /// The step (1-based).
        step: usize,
    },
}

/// Performs `op` as `role`.
pub async fn perform(
    sut: &mut Sut<'_>,
    op: &Op,
    role: Role<'_>,
    h: &mut History,
    waits: Waits,
) -> Result<Performed, OpError> {
    match role {
        Role::Setup(n) => {
            h.record(EntryKind::Step, format!("{n}. {op}"));
            setup(sut, op, n, h, waits).await?;
            Ok(Performed::default())
        }
        Role::Fault { repeat, before } => hit(sut, op, repeat, before, h, waits).await,
    }
}

/// One setup step.
async fn setup(
    sut: &mut Sut<'_>,
    op: &Op,
    n: usize,
    h: &mut History,
    waits: Waits,
) -> Result<(), OpError> {
    match op {
        Op::Operator {
            verb,
            profile,
            expect_code,
        } => command_step(sut, h, n, *verb, profile, *expect_code).await,
        Op::Signal { profile, signal } => {
            kill_gateway(sut, profile, *signal, h, waits).await?;
            Ok(())
        }
        Op::SignalNoWait { .. } | Op::Background { .. } | Op::Await { .. } | Op::Pause { .. } => {
            timing(sut, op, n, h, waits).await
        }
        Op::ContainerRestart { stop_timeout } => {
            Ok(sut.sandbox.container_restart(*stop_timeout).await?)
        }
        Op::ContainerKill
        | Op::SupervisorSigterm
        | Op::SupervisorCrash
        | Op::SupervisorRestart
        | Op::ApiSignal { .. }
        | Op::Oom { .. }
        | Op::KillStorm { .. }
        | Op::KillStormInit { .. } => {
            // Performed as the fault it is, on the target as it settled.
            let before = status::wait_settled(sut, h, waits).await?;
            hit(sut, op, 1, &before, h, waits).await?;
            Ok(())
        }
        Op::Write { .. }
        | Op::Damage { .. }
        | Op::BreakStart { .. }
        | Op::FsFault { .. }
        | Op::FsRestore { .. } => change_files(sut, op, n, h).await,
    }
}

/// An operation that places the next one in time: a signal sent without
/// waiting, a wait for a transition, time let pass; others do nothing here.
async fn timing(
    sut: &mut Sut<'_>,
    op: &Op,
    n: usize,
    h: &mut History,
    waits: Waits,
) -> Result<(), OpError> {
    match op {
        Op::Background {
            verb,
            profile,
            expect_code,
        } => {
            let (args, command) = sut
                .driver
                .operator_detached(&mut *sut.sandbox, *verb, profile)
                .await?;
            let shown = sut.driver.shown(&args);
            h.record(
                EntryKind::Command,
                format!("{shown}: started in the background"),
            );
            sut.background.push(Background {
                step: n,
                shown,
                expect_code: *expect_code,
                command,
            });
        }
        Op::SignalNoWait { profile, signal } => {
            send_signal(sut, profile, *signal, Delivery::Bare, h).await?;
        }
        Op::Await { profile, phase } => {
            await_phase(sut, profile, *phase, h, waits).await?;
        }
        Op::Pause { duration } => {
            h.record(
                EntryKind::Wait,
                format!("letting {} ms pass (a rule of time)", duration.as_millis()),
            );
            tokio::time::sleep(*duration).await;
        }
        _ => {}
    }
    Ok(())
}

/// An operation on the data dir's files: a write, damage, a start made to
/// fail, a filesystem fault or its end; others do nothing here.
async fn change_files(
    sut: &mut Sut<'_>,
    op: &Op,
    n: usize,
    h: &mut History,
) -> Result<(), OpError> {
    match op {
        Op::Write { path, content } => write(sut, n, path, content, h).await,
        Op::Damage { profile, class } => {
            let path = sut.driver.state_file(&mut *sut.sandbox, profile).await?;
            h.record(
                EntryKind::File,
                format!(
                    "damage {} ({class}): {:?}",
                    path.display(),
                    String::from_utf8_lossy(class.bytes())
                ),
            );
            Ok(sut.sandbox.write_file(&path, class.bytes()).await?)
        }
        Op::BreakStart { profile } => {
            let Some((path, content)) = sut.driver.break_start(profile) else {
                return Err(OpError::NoBreakStart { step: n });
            };
            h.record(
                EntryKind::File,
                format!("write {}:\n{}", path.display(), content.trim_end()),
            );
            Ok(sut.sandbox.write_file(&path, content.as_bytes()).await?)
        }
        Op::FsFault { profile, fault } => Ok(sut.sandbox.fs_fault(profile, fault).await?),
        Op::FsRestore { profile } => Ok(sut.sandbox.fs_restore(profile).await?),
        Op::Operator { .. }
        | Op::Signal { .. }
        | Op::Oom { .. }
        | Op::ContainerRestart { .. }
        | Op::ContainerKill
        | Op::SupervisorSigterm
        | Op::SupervisorCrash
        | Op::SupervisorRestart
        | Op::ApiSignal { .. }
        | Op::KillStorm { .. }
        | Op::KillStormInit { .. }
        | Op::SignalNoWait { .. }
        | Op::Background { .. }
        | Op::Await { .. }
        | Op::Pause { .. } => Ok(()),
    }
}

/// An operator command whose exit code the table gives.
async fn command_step(
    sut: &mut Sut<'_>,
    h: &mut History,
    n: usize,
    verb: Verb,
    profile: &str,
    expect_code: i32,
) -> Result<(), OpError> {
    let (args, out) = sut
        .driver
        .operator(&mut *sut.sandbox, verb, profile)
        .await?;
    h.command(&sut.driver.shown(&args), &out);
    exit_code_is(n, sut.driver.shown(&args), expect_code, &out)
}

/// A setup step's command ended with the table's exit code, or the step failed.
fn exit_code_is(
    step: usize,
    command: String,
    expected: i32,
    out: &CmdOutput,
) -> Result<(), OpError> {
    if out.code == Some(expected) {
        return Ok(());
    }
    Err(OpError::ExitCode {
        step,
        command,
        expected,
        seen: out
            .code
            .map_or_else(|| "killed".to_owned(), |c| c.to_string()),
    })
}

/// A `write` step: placeholders filled from the status now.
async fn write(
    sut: &mut Sut<'_>,
    n: usize,
    path: &str,
    content: &str,
    h: &mut History,
) -> Result<(), OpError> {
    let st = status::query(sut).await?;
    let values = template::Values {
        gateways: st.gateways(),
        now: Some(restart_contract::timefmt::now()),
    };
    let filled = template::fill(content, &values).map_err(|error| OpError::Placeholders {
        step: n,
        error: error.to_string(),
    })?;
    h.record(
        EntryKind::File,
        format!("write {path}:\n{}", filled.trim_end()),
    );
    Ok(sut
        .sandbox
        .write_file(Path::new(path), filled.as_bytes())
        .await?)
}

/// The operation as a fault on a target whose status is `before`.
async fn hit(
    sut: &mut Sut<'_>,
    op: &Op,
    repeat: u32,
    before: &Status,
    h: &mut History,
    waits: Waits,
) -> Result<Performed, OpError> {
    let fault = super::Fault {
        op: op.clone(),
        repeat,
    };
    h.record(EntryKind::Phase, format!("fault: {fault}"));
    match op {
        Op::KillStorm {
            profile,
            hits,
            storm: s,
        } => {
            storm(
                sut,
                Aim::Gateway,
                Some(profile),
                (*hits, *s),
                before,
                h,
                waits,
            )
            .await
        }
        Op::KillStormInit { hits, storm: s } => {
            storm(sut, Aim::Init, None, (*hits, *s), before, h, waits).await
        }
        Op::ContainerRestart { .. } | Op::ContainerKill | Op::SupervisorSigterm => {
            reboot(sut, op, before, h).await
        }
        Op::Signal { profile, .. } | Op::ApiSignal { profile, .. } | Op::Oom { profile } => {
            end_lives(sut, op, profile, repeat, h, waits).await
        }
        Op::SupervisorCrash => supervisor_alone(sut, SupervisorAct::Crash, before, h, waits).await,
        Op::SupervisorRestart => {
            supervisor_alone(sut, SupervisorAct::Restart, before, h, waits).await
        }
        Op::Operator { verb, profile, .. } => operator(sut, *verb, profile, repeat, h, waits).await,
        // Not a fault of the table (no `[fault]` word): performed as a step.
        Op::Write { .. }
        | Op::Damage { .. }
        | Op::BreakStart { .. }
        | Op::FsFault { .. }
        | Op::FsRestore { .. } => {
            change_files(sut, op, 0, h).await?;
            Ok(Performed::default())
        }
        Op::SignalNoWait { .. } | Op::Background { .. } | Op::Await { .. } | Op::Pause { .. } => {
            timing(sut, op, 0, h, waits).await?;
            Ok(Performed::default())
        }
    }
}

/// A fault that ends the supervisor and boots it again: every gateway up at
/// T0 is a life it hits.
async fn reboot(
    sut: &mut Sut<'_>,
    op: &Op,
    before: &Status,
    h: &mut History,
) -> Result<Performed, OpError> {
    let run = lives_at(sut, before, h).await?;
    match op {
        Op::ContainerKill => {
            h.record(EntryKind::Signal, "SIGKILL to init (container kill)");
            sut.sandbox.container_kill().await?;
        }
        Op::ContainerRestart {
            stop_timeout: Some(timeout),
        } => {
            h.record(
                EntryKind::Signal,
                format!(
                    "SIGTERM to init, SIGKILL after {timeout:?} (container restart with a short stop timeout)"
                ),
            );
            sut.sandbox.container_restart(Some(*timeout)).await?;
        }
        Op::SupervisorSigterm => {
            h.record(
                EntryKind::Signal,
                "SIGTERM to init alone (no stop timeout, no restart)",
            );
            sut.sandbox.supervisor_sigterm().await?;
            h.record(EntryKind::Note, "the supervisor exited; booting it again");
            sut.sandbox.boot().await?;
        }
        _ => {
            h.record(EntryKind::Signal, "SIGTERM to init (container restart)");
            sut.sandbox.container_restart(None).await?;
        }
    }
    h.record(EntryKind::Note, "the supervisor booted again");
    Ok(run)
}

/// A signal or an OOM kill of one profile's gateway, `repeat` times: each
/// waits until that life ended and everything settled. A repeat makes a
/// crash loop, so it stops once the supervisor no longer revives it (the
/// expectations judge that).
async fn end_lives(
    sut: &mut Sut<'_>,
    op: &Op,
    profile: &str,
    repeat: u32,
    h: &mut History,
    waits: Waits,
) -> Result<Performed, OpError> {
    let mut run = Performed::default();
    for i in 0..repeat {
        if i > 0 {
            let st = status::query(sut).await?;
            if st.get(profile).and_then(|p| p.gateway()).is_none() {
                h.record(
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
        let (life, settled) = match op {
            Op::Signal { signal, .. } => kill_gateway(sut, profile, *signal, h, waits).await?,
            Op::ApiSignal { signal, .. } => {
                signal_gateway(sut, profile, *signal, Delivery::SupervisorApi, h, waits).await?
            }
            _ => {
                let (life, settled, witnessed) = oom_gateway(sut, profile, h, waits).await?;
                run.oom_witnessed |= witnessed;
                (life, settled)
            }
        };
        run.lives.insert(profile.to_owned(), life);
        run.settled = Some(settled);
    }
    Ok(run)
}

/// An operator command as the fault, `repeat` times, each followed by a
/// settle; stop and restart end the running life, start does not.
async fn operator(
    sut: &mut Sut<'_>,
    verb: Verb,
    profile: &str,
    repeat: u32,
    h: &mut History,
    waits: Waits,
) -> Result<Performed, OpError> {
    let mut run = Performed::default();
    for _ in 0..repeat {
        let st = status::query(sut).await?;
        if verb != Verb::Start {
            if let Some(gateway) = st.get(profile).and_then(|p| p.gateway()) {
                let life = life_of(sut, profile, gateway, h).await?;
                run.lives.insert(profile.to_owned(), life);
            }
        }
        let (args, out) = sut
            .driver
            .operator(&mut *sut.sandbox, verb, profile)
            .await?;
        h.command(&sut.driver.shown(&args), &out);
        run.command = Some(out);
        run.settled = Some(status::wait_settled(sut, h, waits).await?);
    }
    Ok(run)
}

async fn life_of(
    sut: &mut Sut<'_>,
    profile: &str,
    (pid, start_time): (i32, u64),
    history: &mut History,
) -> Result<Life, OpError> {
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

/// The profile's running gateway, or the precondition it breaks.
fn running_gateway(st: &Status, profile: &str, what: String) -> Result<(i32, u64), OpError> {
    let ps = st.get(profile);
    ps.and_then(|p| p.gateway())
        .ok_or_else(|| OpError::Precondition {
            what,
            expected: "up".to_owned(),
            seen: ps
                .map_or("not listed", |p| p.supervised.as_str())
                .to_owned(),
        })
}

/// How a signal reaches a gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// A bare kill(2) through the driver's `signal` (no marker).
    Bare,
    /// Through the supervisor's own API (the driver's `api_signal`).
    SupervisorApi,
}

/// Sends `signal` to the profile's running gateway (no marker), waits until
/// that life has ended and everything settled; returns the life and that
/// settled status.
pub async fn kill_gateway(
    sut: &mut Sut<'_>,
    profile: &str,
    signal: Signal,
    history: &mut History,
    waits: Waits,
) -> Result<(Life, Status), OpError> {
    signal_gateway(sut, profile, signal, Delivery::Bare, history, waits).await
}

/// Sends `signal` to the profile's running gateway as `delivery` says, waits
/// until that life has ended and everything settled.
async fn signal_gateway(
    sut: &mut Sut<'_>,
    profile: &str,
    signal: Signal,
    delivery: Delivery,
    history: &mut History,
    waits: Waits,
) -> Result<(Life, Status), OpError> {
    let life = send_signal(sut, profile, signal, delivery, history).await?;
    wait_life_ended(sut, profile, life, history, waits).await?;
    let settled = status::wait_settled(sut, history, waits).await?;
    Ok((life, settled))
}

/// Sends `signal` to the profile's running gateway as `delivery` says;
/// returns the life it was sent to.
async fn send_signal(
    sut: &mut Sut<'_>,
    profile: &str,
    signal: Signal,
    delivery: Delivery,
    history: &mut History,
) -> Result<Life, OpError> {
    let st = status::query(sut).await?;
    let (to, how) = match delivery {
        Delivery::Bare => ("", "(no marker)"),
        Delivery::SupervisorApi => (" through its supervisor", "through the supervisor's API"),
    };
    let what = format!("a running gateway of {profile} to send {signal} to{to}");
    let gateway = running_gateway(&st, profile, what)?;
    let life = life_of(sut, profile, gateway, history).await?;
    history.record(
        EntryKind::Signal,
        format!("{signal} to {profile}'s gateway {} {how}", life.pid),
    );
    let sb = &mut *sut.sandbox;
    let (args, out) = match delivery {
        Delivery::Bare => sut.driver.signal(sb, life.pid, signal).await?,
        Delivery::SupervisorApi => sut.driver.api_signal(sb, profile, signal).await?,
    };
    history.command(&sut.driver.shown(&args), &out);
    if out.code != Some(0) {
        return Err(signal_failed(&args, &out).into());
    }
    Ok(life)
}

/// Waits until every operator command started in the background has ended,
/// and checks each one's exit code.
pub async fn join_background(sut: &mut Sut<'_>, h: &mut History) -> Result<(), OpError> {
    for bg in std::mem::take(&mut sut.background) {
        let out = bg.command.join().await?;
        h.command(&format!("{} (background, ended)", bg.shown), &out);
        exit_code_is(bg.step, bg.shown, bg.expect_code, &out)?;
    }
    Ok(())
}

/// Waits until `profile` is in `phase`. A profile that is down or given up
/// will not be: a precondition the target broke. One up with another life
/// than at the first look went through it between two looks: the harness
/// missed it, which is no verdict on the target.
async fn await_phase(
    sut: &mut Sut<'_>,
    profile: &str,
    phase: Phase,
    h: &mut History,
    waits: Waits,
) -> Result<Status, OpError> {
    let started = std::time::Instant::now();
    let first = status::query(sut).await?;
    let at_first = first.get(profile).and_then(|p| p.gateway());
    let mut seen = first;
    loop {
        let row = seen.get(profile);
        if row.is_some_and(|p| in_phase(p, phase)) {
            h.record(
                EntryKind::Wait,
                format!(
                    "{profile} in {phase}: reached after {} ms ({})",
                    started.elapsed().as_millis(),
                    seen.summary()
                ),
            );
            return Ok(seen);
        }
        let settled = row.filter(|p| p.settled()).map(|p| p.gateway());
        if settled == Some(None) {
            return Err(OpError::Precondition {
                what: format!("{profile} to be in {phase}"),
                expected: phase.to_string(),
                seen: seen.summary(),
            });
        }
        let missed = settled.is_some_and(|life| life != at_first);
        if missed || started.elapsed() >= waits.deadline {
            let passed = if missed {
                "it passed between two looks: "
            } else {
                ""
            };
            let err = BackendError::Timeout {
                awaited: format!("{profile} in {phase}"),
                waited: started.elapsed(),
                last_seen: format!("{passed}{}", seen.summary()),
            };
            h.record(EntryKind::Error, err.to_string());
            return Err(err.into());
        }
        tokio::time::sleep(waits.poll).await;
        seen = status::query(sut).await?;
    }
}

/// Whether a profile's status shows `phase`.
fn in_phase(p: &crate::observe::ProfileStatus, phase: Phase) -> bool {
    use restart_contract::GatewayState;
    let up = p.supervised == crate::observe::Supervised::Up;
    match phase {
        Phase::Backoff => p.supervised == crate::observe::Supervised::Backoff,
        Phase::Starting => up && p.gateway_state == Some(GatewayState::Starting),
        Phase::Draining => up && p.gateway_state == Some(GatewayState::Draining),
    }
}

/// Every gateway up in `before`, as the lives a fault on the whole
/// supervisor hits.
async fn lives_at(
    sut: &mut Sut<'_>,
    before: &Status,
    h: &mut History,
) -> Result<Performed, OpError> {
    let mut run = Performed::default();
    for (profile, gateway) in before.gateways() {
        let life = life_of(sut, &profile, gateway, h).await?;
        run.lives.insert(profile, life);
    }
    Ok(run)
}

/// The supervisor alone crashes or restarts (the target's command returns
/// once it answers again); every gateway up at T0 is a life it may hit.
/// Then everything settled.
async fn supervisor_alone(
    sut: &mut Sut<'_>,
    act: SupervisorAct,
    before: &Status,
    h: &mut History,
    waits: Waits,
) -> Result<Performed, OpError> {
    let mut run = lives_at(sut, before, h).await?;
    let what = match act {
        SupervisorAct::Crash => "SIGKILL to the supervisor alone, its services left alive",
        SupervisorAct::Restart => "a clean restart of the supervisor alone",
    };
    h.record(EntryKind::Signal, what);
    let (args, out) = sut.driver.supervisor(&mut *sut.sandbox, act).await?;
    h.command(&sut.driver.shown(&args), &out);
    if out.code != Some(0) {
        return Err(OpError::Backend(BackendError::CommandFailed {
            purpose: act.what().to_owned(),
            argv: args,
            status: crate::backend::error::exited(out.code),
            stderr: out.stderr,
        }));
    }
    h.record(EntryKind::Note, "the supervisor answers again");
    run.settled = Some(status::wait_settled(sut, h, waits).await?);
    Ok(run)
}

/// The kernel OOM-kills the profile's running gateway; then that life has
/// ended and everything settled.
async fn oom_gateway(
    sut: &mut Sut<'_>,
    profile: &str,
    h: &mut History,
    waits: Waits,
) -> Result<(Life, Status, bool), OpError> {
    let st = status::query(sut).await?;
    let Some(gateway) = st.get(profile).and_then(|p| p.gateway()) else {
        return Err(OpError::Precondition {
            what: format!("a running gateway of {profile} to OOM-kill"),
            expected: "up".to_owned(),
            seen: st.summary(),
        });
    };
    let life = life_of(sut, profile, gateway, h).await?;
    h.record(
        EntryKind::Signal,
        format!("OOM of {profile}'s gateway {}", life.pid),
    );
    let witnessed = match sut.driver.oom_command(profile, life.pid) {
        Some(OomCommand {
            argv,
            witness: OomWitness::Engine,
        }) => {
            let out = sut.sandbox.oom_with(&argv).await?;
            h.command(&argv.join(" "), &out);
            false
        }
        Some(OomCommand {
            argv,
            witness: OomWitness::Command,
        }) => {
            // The supervisor limits the service's memory itself: the
            // command's exit 0 is its witness of the kernel's kill.
            let out = sut.sandbox.exec(&argv).await?;
            h.command(&argv.join(" "), &out);
            if out.code != Some(0) {
                return Err(BackendError::CommandFailed {
                    purpose: format!("OOM-killing {profile}'s gateway"),
                    argv,
                    status: crate::backend::error::exited(out.code),
                    stderr: out.stderr,
                }
                .into());
            }
            true
        }
        None => {
            sut.sandbox.oom(profile).await?;
            false
        }
    };
    wait_life_ended(sut, profile, life, h, waits).await?;
    let settled = status::wait_settled(sut, h, waits).await?;
    Ok((life, settled, witnessed))
}

/// The error of a signal command that did not exit 0.
pub(super) fn signal_failed(args: &[String], out: &CmdOutput) -> BackendError {
    BackendError::CommandFailed {
        purpose: "sending a bare signal".to_owned(),
        argv: args.to_vec(),
        status: crate::backend::error::exited(out.code),
        stderr: out.stderr.clone(),
    }
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
