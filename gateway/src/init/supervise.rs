//! Supervision (SPEC §4): one gateway per started profile, and what init does when
//! one ends, by how it ended:
//!
//! - exit 0 or 78: stays down;
//! - exit 75: started again at once;
//! - any other exit, or death by a signal: unexpected. Started again after a
//!   backoff (100 ms doubling to 5 s, reset after 10 s up); more than
//!   `crash_limit` unexpected exits within `crash_window` and init gives up:
//!   `startup_failed` / `crash-loop` and a `gave-up` event;
//! - a process an operator stop was sent to stays down whatever its exit code.
//!
//! All of it runs on init's one thread: spawning from a single long-lived thread is
//! what makes the gateways' parent-death signal fire only when init dies.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use restart_contract::events::{self, Event, EventKind, Source};
use restart_contract::layout::{ProfileHome, ProfileName};
use restart_contract::procfs::{self, ProcessIdentity};
use restart_contract::records::GatewayStateRecord;
use restart_contract::state::{ExitReason, GatewayState};
use restart_contract::store::{self, Classified};
use restart_contract::teardown::{EXIT_CONFIG, EXIT_RESTART, EXIT_STOPPED};
use restart_contract::timefmt;

use crate::control::{
    unknown_profile_message, ErrorKind, ExitStatus, ProfileStatus, Refusal, Request, Response,
    Supervised,
};
use crate::init::spawn::Spawner;
use crate::mutants::{self, Mutant};

/// The longest backoff delay (unless the first one is longer).
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// A life at least this long resets the backoff.
pub const BACKOFF_RESET_AFTER: Duration = Duration::from_secs(10);

/// The crash-loop rule.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Unexpected exits tolerated within the window.
    pub crash_limit: u32,
    /// The window.
    pub crash_window: Duration,
    /// The first backoff delay (`--backoff-ms`).
    pub backoff_start: Duration,
}

impl Policy {
    /// The longest backoff delay.
    fn backoff_max(&self) -> Duration {
        BACKOFF_MAX.max(self.backoff_start)
    }
}

/// Why a gateway was spawned (the `reason` of the `spawned` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnReason {
    /// Boot decided to start it.
    Boot,
    /// `gateway start` / `gateway restart` of a profile that was down.
    OperatorStart,
    /// It exited 75.
    Restart,
    /// After the backoff of an unexpected exit.
    Revive,
}

impl SpawnReason {
    fn as_str(self) -> &'static str {
        match self {
            SpawnReason::Boot => "boot",
            SpawnReason::OperatorStart => "operator-start",
            SpawnReason::Restart => "restart",
            SpawnReason::Revive => "revive",
        }
    }
}

/// One life of a gateway, as init spawned it.
#[derive(Debug, Clone, Copy)]
struct Child {
    pid: i32,
    start_time: Option<u64>,
    started: Instant,
}

/// What to do when the current process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterExit {
    /// Decide by how it ended.
    ByExit,
    /// An operator stop was sent: stay down whatever the exit.
    StayDown,
    /// An operator stop was overtaken by an operator start: start again.
    StartAgain,
}

#[derive(Debug, Clone, Copy)]
enum SlotState {
    Down,
    Up { child: Child, after: AfterExit },
    Backoff { until: Instant },
    GaveUp,
}

#[derive(Debug)]
struct Slot {
    home: ProfileHome,
    state: SlotState,
    /// Times of recent unexpected exits (pruned to the window).
    crashes: VecDeque<Instant>,
    /// The delay of the next backoff.
    next_delay: Duration,
    last_exit: Option<ExitStatus>,
    last_child: Option<Child>,
}

/// The supervisor of every profile.
#[derive(Debug)]
pub struct Supervisor {
    slots: BTreeMap<ProfileName, Slot>,
    spawner: Spawner,
    policy: Policy,
    shutting_down: bool,
}

fn warn(msg: impl std::fmt::Display) {
    eprintln!("gateway init: {msg}");
}

fn emit(home: &ProfileHome, kind: EventKind) {
    if let Err(e) = events::append(&home.events(), &Event::now(Source::Init, kind)) {
        warn(format!(
            "cannot append an event to {}: {e}",
            home.events().display()
        ));
    }
}

impl Supervisor {
    /// A supervisor of `profiles`, all down.
    pub fn new(
        profiles: impl IntoIterator<Item = (ProfileName, ProfileHome)>,
        spawner: Spawner,
        policy: Policy,
    ) -> Self {
        let slots = profiles
            .into_iter()
            .map(|(name, home)| {
                (
                    name,
                    Slot {
                        home,
                        state: SlotState::Down,
                        crashes: VecDeque::new(),
                        next_delay: policy.backoff_start,
                        last_exit: None,
                        last_child: None,
                    },
                )
            })
            .collect();
        Supervisor {
            slots,
            spawner,
            policy,
            shutting_down: false,
        }
    }

    /// Spawns the gateway of `name` now. A failed spawn counts as an unexpected
    /// exit (so a binary that cannot start ends in a crash-loop give-up).
    pub fn start(&mut self, name: &ProfileName, reason: SpawnReason) -> Result<(), String> {
        let Some(slot) = self.slots.get_mut(name) else {
            return Err(unknown_profile_message(name.as_str()));
        };
        match self.spawner.spawn(name) {
            Ok(spawned) => {
                let child = Child {
                    pid: spawned.pid,
                    start_time: spawned.start_time,
                    started: Instant::now(),
                };
                slot.state = SlotState::Up {
                    child,
                    after: AfterExit::ByExit,
                };
                slot.last_child = Some(child);
                emit(
                    &slot.home,
                    EventKind::Spawned {
                        child: spawned.pid,
                        reason: reason.as_str().to_owned(),
                    },
                );
                Ok(())
            }
            Err(e) => {
                let msg = format!(
                    "cannot spawn the gateway of profile `{name}` ({}): {e}",
                    self.spawner.exe.display()
                );
                warn(&msg);
                slot.state = SlotState::Down;
                self.unexpected(name, None);
                Err(msg)
            }
        }
    }

    /// Reaps every child that has ended, gateways and orphans alike.
    pub fn reap_all(&mut self) {
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => {
                    self.on_reaped(pid.as_raw(), ExitStatus::Code(code))
                }
                Ok(WaitStatus::Signaled(pid, sig, _)) => {
                    self.on_reaped(pid.as_raw(), ExitStatus::Signal(sig.as_str().to_owned()))
                }
                // Stopped/continued children are not ends; keep looking.
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
                Ok(_) | Err(Errno::EINTR) => continue,
                Err(e) => {
                    warn(format!("waitpid: {e}"));
                    return;
                }
            }
        }
    }

    fn on_reaped(&mut self, pid: i32, status: ExitStatus) {
        let Some((name, child, after)) = self.slots.iter().find_map(|(n, s)| match s.state {
            SlotState::Up { child, after } if child.pid == pid => Some((n.clone(), child, after)),
            _ => None,
        }) else {
            // An orphan of an exec'd command, reparented to us: reaped, nothing else.
            return;
        };
        let Some(slot) = self.slots.get_mut(&name) else {
            return;
        };
        let (code, signal) = match &status {
            ExitStatus::Code(c) => (Some(*c), None),
            ExitStatus::Signal(s) => (None, Some(s.clone())),
        };
        emit(
            &slot.home,
            EventKind::Reaped {
                child: pid,
                code,
                signal,
            },
        );
        slot.last_exit = Some(status.clone());
        slot.state = SlotState::Down;
        if self.shutting_down {
            return;
        }
        match after {
            AfterExit::StayDown => {}
            AfterExit::StartAgain => {
                let _ = self.start(&name, SpawnReason::OperatorStart);
            }
            AfterExit::ByExit => match status {
                ExitStatus::Code(EXIT_STOPPED | EXIT_CONFIG) => {}
                ExitStatus::Code(EXIT_RESTART) => {
                    let _ = self.start(&name, SpawnReason::Restart);
                }
                _ => self.unexpected(&name, Some(child)),
            },
        }
    }

    /// An unexpected exit (or a failed spawn): back off, or give up.
    fn unexpected(&mut self, name: &ProfileName, child: Option<Child>) {
        let now = Instant::now();
        let window = self.policy.crash_window;
        let limit = self.policy.crash_limit;
        let Some(slot) = self.slots.get_mut(name) else {
            return;
        };
        slot.crashes.push_back(now);
        while !mutants::is(Mutant::CrashWindowNeverSlides)
            && slot
                .crashes
                .front()
                .is_some_and(|t| now.duration_since(*t) > window)
        {
            slot.crashes.pop_front();
        }
        let exits = slot.crashes.len();
        if exits > limit as usize && !mutants::is(Mutant::NeverGiveUp) {
            slot.state = SlotState::GaveUp;
            warn(format!(
                "profile `{name}`: {exits} unexpected exits within {} s; not started again \
                 (`gateway start --profile {name}` to try again)",
                window.as_secs()
            ));
            persist_give_up(name, slot);
            emit(
                &slot.home,
                EventKind::GaveUp {
                    exits: u32::try_from(exits).unwrap_or(u32::MAX),
                },
            );
            return;
        }
        if child.is_some_and(|c| now.duration_since(c.started) >= BACKOFF_RESET_AFTER) {
            slot.next_delay = self.policy.backoff_start;
        }
        let delay = slot.next_delay;
        slot.next_delay = (delay * 2).min(self.policy.backoff_max());
        slot.state = SlotState::Backoff { until: now + delay };
        emit(
            &slot.home,
            EventKind::Backoff {
                delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            },
        );
    }

    /// The earliest pending revival.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.slots
            .values()
            .filter_map(|s| match s.state {
                SlotState::Backoff { until } => Some(until),
                _ => None,
            })
            .min()
    }

    /// Revives every profile whose backoff has passed.
    pub fn on_timer(&mut self, now: Instant) {
        let due: Vec<ProfileName> = self
            .slots
            .iter()
            .filter(|(_, s)| matches!(s.state, SlotState::Backoff { until } if until <= now))
            .map(|(n, _)| n.clone())
            .collect();
        for name in due {
            let _ = self.start(&name, SpawnReason::Revive);
        }
    }

    /// Handles one control request.
    pub fn handle(&mut self, req: Request) -> Response {
        if self.shutting_down {
            return Response::Error {
                error: ErrorKind::ShuttingDown,
                message: "init is stopping (container stop)".to_owned(),
            };
        }
        let profile = match &req {
            Request::Status => {
                let now = Instant::now();
                return Response::Status {
                    mutant: mutants::active().map(|m| m.name().to_owned()),
                    profiles: self
                        .slots
                        .iter()
                        .map(|(n, s)| status_of(n, s, now))
                        .collect(),
                };
            }
            Request::Start { profile }
            | Request::StopTarget { profile, .. }
            | Request::Restart { profile }
            | Request::Cancel { profile } => profile.clone(),
        };
        let name = match ProfileName::new(&profile) {
            Ok(n) if self.slots.contains_key(&n) => n,
            Ok(_) => {
                return Response::Error {
                    error: ErrorKind::UnknownProfile,
                    message: unknown_profile_message(&profile),
                }
            }
            Err(e) => {
                return Response::Error {
                    error: ErrorKind::UnknownProfile,
                    message: e.to_string(),
                }
            }
        };
        match req {
            Request::Status => self.reply_ok(&name),
            Request::Start { .. } => self.req_start(&name),
            Request::StopTarget {
                pid, start_time, ..
            } => self.req_stop_target(&name, pid, start_time),
            Request::Restart { .. } => self.req_restart(&name),
            Request::Cancel { .. } => self.req_cancel(&name),
        }
    }

    fn current(&self, name: &ProfileName) -> ProfileStatus {
        match self.slots.get(name) {
            Some(s) => status_of(name, s, Instant::now()),
            None => ProfileStatus {
                profile: name.as_str().to_owned(),
                supervised: Supervised::Down,
                pid: None,
                start_time: None,
                last_exit: None,
                retry_in_ms: None,
                stopping: false,
            },
        }
    }

    fn reply_ok(&self, name: &ProfileName) -> Response {
        Response::Ok {
            profile: self.current(name),
        }
    }

    fn refuse(&self, name: &ProfileName, refusal: Refusal) -> Response {
        Response::Refused {
            refusal,
            profile: self.current(name),
        }
    }

    fn req_start(&mut self, name: &ProfileName) -> Response {
        let Some(slot) = self.slots.get_mut(name) else {
            return self.refuse(name, Refusal::NotRunning);
        };
        match &mut slot.state {
            SlotState::Up { after, .. } => {
                // An operator stop is under way: let it finish, then start anew.
                if *after == AfterExit::StayDown {
                    *after = AfterExit::StartAgain;
                }
                self.reply_ok(name)
            }
            SlotState::Down | SlotState::Backoff { .. } | SlotState::GaveUp => {
                // The operator takes responsibility: forget the crash history.
                let in_backoff = matches!(slot.state, SlotState::Backoff { .. });
                if !(in_backoff && mutants::is(Mutant::StartInBackoffKeepsCrashes)) {
                    slot.crashes.clear();
                }
                slot.next_delay = self.policy.backoff_start;
                match self.start(name, SpawnReason::OperatorStart) {
                    Ok(()) => self.reply_ok(name),
                    Err(message) => Response::Error {
                        error: ErrorKind::Failed,
                        message,
                    },
                }
            }
        }
    }

    fn req_stop_target(&mut self, name: &ProfileName, pid: i32, start_time: u64) -> Response {
        let Some(slot) = self.slots.get_mut(name) else {
            return self.refuse(name, Refusal::NotRunning);
        };
        let SlotState::Up { child, after } = &mut slot.state else {
            return self.refuse(name, Refusal::NotRunning);
        };
        if child.pid != pid || child.start_time != Some(start_time) {
            return self.refuse(name, Refusal::Changed);
        }
        // Marked before the signal: whatever the exit code, it is not revived.
        *after = AfterExit::StayDown;
        if let Err(e) = kill(Pid::from_raw(pid), Signal::SIGTERM) {
            // ESRCH: it is already gone and about to be reaped; stays down anyway.
            if e != Errno::ESRCH {
                return Response::Error {
                    error: ErrorKind::Failed,
                    message: format!("cannot signal pid {pid} of profile `{name}`: {e}"),
                };
            }
        }
        self.reply_ok(name)
    }

    fn req_restart(&mut self, name: &ProfileName) -> Response {
        let Some(slot) = self.slots.get_mut(name) else {
            return self.refuse(name, Refusal::NotRunning);
        };
        let SlotState::Up { child, after } = &mut slot.state else {
            return self.refuse(name, Refusal::NotRunning);
        };
        // An operator stop is under way (its SIGTERM came first, so the gateway
        // would ignore a SIGUSR1): let it finish, then start anew.
        if *after != AfterExit::ByExit {
            *after = AfterExit::StartAgain;
            return self.reply_ok(name);
        }
        let child = *child;
        match kill(Pid::from_raw(child.pid), Signal::SIGUSR1) {
            Ok(()) | Err(Errno::ESRCH) => self.reply_ok(name),
            Err(e) => Response::Error {
                error: ErrorKind::Failed,
                message: format!("cannot signal pid {} of profile `{name}`: {e}", child.pid),
            },
        }
    }

    fn req_cancel(&mut self, name: &ProfileName) -> Response {
        let Some(slot) = self.slots.get_mut(name) else {
            return self.refuse(name, Refusal::NotRunning);
        };
        match &mut slot.state {
            SlotState::Up { after, .. } => {
                // A stop that an operator start overtook: back to staying down.
                if *after == AfterExit::StartAgain {
                    *after = AfterExit::StayDown;
                    return self.reply_ok(name);
                }
                self.refuse(name, Refusal::Running)
            }
            SlotState::Backoff { .. } if mutants::is(Mutant::StopKeepsBackoff) => {
                self.reply_ok(name)
            }
            SlotState::Down | SlotState::Backoff { .. } | SlotState::GaveUp => {
                slot.state = SlotState::Down;
                self.reply_ok(name)
            }
        }
    }

    /// Container stop, first step: SIGTERM (no marker) to every gateway; pending
    /// revivals are dropped.
    pub fn begin_shutdown(&mut self) {
        self.shutting_down = true;
        for (name, slot) in &mut self.slots {
            match slot.state {
                SlotState::Up { child, .. } => {
                    if let Err(e) = kill(Pid::from_raw(child.pid), Signal::SIGTERM) {
                        if e != Errno::ESRCH {
                            warn(format!("cannot signal pid {} of `{name}`: {e}", child.pid));
                        }
                    }
                }
                SlotState::Backoff { .. } => slot.state = SlotState::Down,
                SlotState::Down | SlotState::GaveUp => {}
            }
        }
    }

    /// Whether any gateway is still alive (not yet reaped).
    pub fn any_up(&self) -> bool {
        self.slots
            .values()
            .any(|s| matches!(s.state, SlotState::Up { .. }))
    }

    /// Container stop, last step: SIGKILL every gateway still alive.
    pub fn kill_remaining(&mut self) {
        for (name, slot) in &self.slots {
            if let SlotState::Up { child, .. } = slot.state {
                warn(format!(
                    "profile `{name}`: pid {} did not stop within the grace period; SIGKILL",
                    child.pid
                ));
                let _ = kill(Pid::from_raw(child.pid), Signal::SIGKILL);
            }
        }
    }
}

fn status_of(name: &ProfileName, slot: &Slot, now: Instant) -> ProfileStatus {
    let (supervised, child, retry_in_ms, stopping) = match slot.state {
        SlotState::Up { child, after } => (
            Supervised::Up,
            Some(child),
            None,
            after == AfterExit::StayDown,
        ),
        SlotState::Down => (Supervised::Down, None, None, false),
        SlotState::Backoff { until } => (
            Supervised::Backoff,
            None,
            Some(u64::try_from(until.saturating_duration_since(now).as_millis()).unwrap_or(0)),
            false,
        ),
        SlotState::GaveUp => (Supervised::GaveUp, None, None, false),
    };
    ProfileStatus {
        profile: name.as_str().to_owned(),
        supervised,
        pid: child.map(|c| c.pid),
        start_time: child.and_then(|c| c.start_time),
        last_exit: slot.last_exit.clone(),
        retry_in_ms,
        stopping,
    }
}

/// Writes `startup_failed` / `crash-loop` about the last gateway, but only when no
/// gateway of the profile is alive: the state file has one writer at a time.
fn persist_give_up(name: &ProfileName, slot: &Slot) {
    let path = slot.home.gateway_state();
    if let Ok(Some(Classified::Valid(r))) = store::peek_record::<GatewayStateRecord>(&path) {
        if procfs::identity(r.pid) == Some(r.process())
            && slot.last_child.is_none_or(|c| c.pid != r.pid)
        {
            warn(format!(
                "profile `{name}`: pid {} named by {} is alive; not writing crash-loop over it",
                r.pid,
                path.display()
            ));
            return;
        }
    }
    let process = slot.last_child.map_or(
        ProcessIdentity {
            pid: 0,
            start_time: 0,
        },
        |c| ProcessIdentity {
            pid: c.pid,
            start_time: c.start_time.unwrap_or(0),
        },
    );
    let record = GatewayStateRecord::new(
        name.as_str(),
        process,
        GatewayState::StartupFailed,
        Some(ExitReason::CrashLoop),
        false,
        timefmt::now(),
    );
    if let Err(e) = store::rewrite_record(&path, record) {
        warn(format!(
            "profile `{name}`: cannot persist the crash-loop give-up: {e}"
        ));
    }
}
