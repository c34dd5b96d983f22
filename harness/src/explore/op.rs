//! The operations of an explored schedule: what each does to the model, the
//! scenario step that performs it on a target, and the fault it becomes when
//! it ends a written-out schedule.

use std::fmt;
use std::time::Duration;

use crate::backend::BackendKind;
use crate::scenario::model::{DamageClass, Fault, FaultKind, Step, Storm};
use crate::target::Claim;

use super::model::{BootView, Model, Recorded, Signal, Supervision};

/// How many SIGKILLs of init one storm operation makes, and their window.
pub const STORM_HITS: u32 = 12;
/// The longest delay before a storm's hit.
pub const STORM_WINDOW: Duration = Duration::from_millis(10);

/// Which stale marker a schedule leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaleMarker {
    /// Names the running pid with another life's start time.
    OtherLife,
    /// Names the running life but was written 120 s ago.
    Expired,
}

/// How a home refuses every write for one operator stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unwritable {
    /// Read-only (EROFS as root, EACCES as another user).
    ReadOnly,
    /// On a full filesystem (ENOSPC).
    Full,
}

impl Unwritable {
    fn fault(self) -> crate::backend::FsFault {
        match self {
            Unwritable::ReadOnly => crate::backend::FsFault::ReadOnlyHome,
            Unwritable::Full => crate::backend::FsFault::FullDisk,
        }
    }
}

/// One operation of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Op {
    /// `gateway stop --profile P`.
    Stop(String),
    /// `gateway start --profile P`.
    Start(String),
    /// `gateway restart --profile P`.
    Restart(String),
    /// A bare signal to P's gateway.
    Signal(String, Signal),
    /// The kernel OOM-kills P's gateway (Docker).
    Oom(String),
    /// A clean container restart.
    ContainerRestart,
    /// SIGKILL to init, then a boot.
    ContainerKill,
    /// SIGKILLs of init at seeded instants of its boots.
    KillStormInit(u64),
    /// Damaged bytes in P's state file.
    Damage(String, DamageClass),
    /// The container is killed while P's gateway is in one state: a valid
    /// record of that state in P's state file, then SIGKILL to init and a boot.
    KilledWhile(String, Recorded),
    /// A marker that cannot match P's gateway.
    StaleMarker(String, StaleMarker),
    /// A directory where P's `desired_state.json` belongs: every intent write
    /// fails from then on (EISDIR).
    BlockIntent(String),
    /// A stale marker, then the bare SIGTERM that reads it: the pair a marker
    /// rule bug needs, drawn as one operation so that it is not rare.
    SigtermOverStaleMarker(String, StaleMarker),
    /// `gateway stop --profile P` while P's home takes no writes, then the
    /// home is writable again: a stop whose intent cannot be persisted.
    StopUnwritable(String, Unwritable),
}

/// The kinds a generator draws from, before a profile is picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Stop,
    Start,
    Restart,
    Term,
    Hup,
    Int,
    Kill,
    Oom,
    ContainerRestart,
    ContainerKill,
    Storm,
    Damage,
    KilledWhile,
    StaleMarker,
    SigtermOverStaleMarker,
    BlockIntent,
    StopUnwritable,
}

const KINDS: [Kind; 17] = [
    Kind::Stop,
    Kind::Start,
    Kind::Restart,
    Kind::Term,
    Kind::Hup,
    Kind::Int,
    Kind::Kill,
    Kind::Oom,
    Kind::ContainerRestart,
    Kind::ContainerKill,
    Kind::Storm,
    Kind::Damage,
    Kind::KilledWhile,
    Kind::StaleMarker,
    Kind::SigtermOverStaleMarker,
    Kind::BlockIntent,
    Kind::StopUnwritable,
];

/// The states a forged record may hold.
const FORGED: [Recorded; 4] = [
    Recorded::Starting,
    Recorded::Running,
    Recorded::Draining,
    Recorded::Stopped,
];

/// What an operation did to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The exit code of its command, for `gateway` commands.
    pub code: Option<i32>,
    /// The boot lines of the boot it caused, if it booted the supervisor; the
    /// prior states are `None` where the model cannot know them (a storm's
    /// last hit may land before or after a gateway persisted `running`).
    pub boot: Option<Vec<(String, BootView, bool)>>,
}

impl Op {
    /// The profile it acts on, if one.
    pub fn profile(&self) -> Option<&str> {
        match self {
            Op::Stop(p)
            | Op::Start(p)
            | Op::Restart(p)
            | Op::Signal(p, _)
            | Op::Oom(p)
            | Op::Damage(p, _)
            | Op::KilledWhile(p, _)
            | Op::StaleMarker(p, _)
            | Op::SigtermOverStaleMarker(p, _)
            | Op::BlockIntent(p)
            | Op::StopUnwritable(p, _) => Some(p),
            Op::ContainerRestart | Op::ContainerKill | Op::KillStormInit(_) => None,
        }
    }

    /// The claims a target must make for this operation to be performed and
    /// judged on it.
    pub fn claims(&self) -> Vec<Claim> {
        match self {
            Op::Stop(_) => vec![Claim::OperatorStopStaysDown, Claim::OperatorStopIsRecorded],
            Op::Start(_) => vec![Claim::OperatorStartBringsItBack],
            Op::Restart(_) => vec![Claim::RestartExits75],
            Op::Signal(_, Signal::Term) => vec![Claim::BareSigtermIsNotAStop],
            Op::Signal(_, Signal::Hup) => vec![Claim::SighupIsABareSignal],
            Op::Signal(_, Signal::Int) => vec![Claim::InteractiveStop],
            Op::Signal(_, Signal::Kill) => vec![Claim::SigkillIsNotAStop],
            Op::Oom(_) => vec![Claim::OomIsNotAStop],
            Op::ContainerRestart => vec![Claim::ContainerRestartIsNotAStop],
            Op::ContainerKill => vec![Claim::ContainerKillIsNotAStop],
            Op::KillStormInit(_) => vec![Claim::ContainerKillIsNotAStop, Claim::ContractFiles],
            Op::Damage(..) => vec![Claim::DamageStaysWithItsProfile],
            Op::KilledWhile(..) => vec![
                Claim::ContainerKillIsNotAStop,
                Claim::BootTable,
                Claim::ContractFiles,
            ],
            Op::BlockIntent(_) => vec![Claim::IntentFile, Claim::ContractFiles, Claim::ContractCli],
            Op::StopUnwritable(..) => vec![
                Claim::OperatorStopStaysDown,
                Claim::ContractCli,
                Claim::ContractFiles,
            ],
            Op::StaleMarker(..) | Op::SigtermOverStaleMarker(..) => {
                vec![Claim::MarkerRule, Claim::ContractFiles]
            }
        }
    }

    /// Whether the model's init gives up on a profile because of it (a crash
    /// past the limit): drawn only for a target that claims
    /// `crash-loop-gives-up`; a supervisor that restarts forever (s6) never does.
    pub fn makes_init_give_up(&self, m: &Model) -> bool {
        let mut after = m.clone();
        self.apply(&mut after);
        after.views().iter().any(|(p, v)| {
            v.supervision == Supervision::GaveUp
                && m.view(p).map(|b| b.supervision) != Some(Supervision::GaveUp)
        })
    }

    /// Whether it can be performed on a target the model says is `m`, on `backend`.
    pub fn allowed(&self, m: &Model, backend: BackendKind) -> bool {
        let up = |p: &str| m.view(p).map(|v| v.supervision) == Some(Supervision::Up);
        match self {
            Op::Signal(p, Signal::Term | Signal::Hup | Signal::Kill)
            | Op::SigtermOverStaleMarker(p, _) => up(p) && m.crashes_left(p) > 0,
            Op::Signal(p, Signal::Int) | Op::StaleMarker(p, _) => up(p),
            // The directory takes the file's place: there must be no file yet.
            Op::BlockIntent(p) => m.view(p).map(|v| v.intent) == Some(super::model::Intent::Absent),
            Op::Oom(p) => backend == BackendKind::Docker && up(p),
            // With no write possible, a stale marker could not be replaced nor
            // (read-only) removed, and a damaged state file not kept aside:
            // each would make the outcome depend on the kind of fault.
            Op::StopUnwritable(p, how) => {
                m.view(p)
                    .is_some_and(|v| !v.marker && v.recorded != super::model::Recorded::Corrupt)
                    && (*how == Unwritable::ReadOnly || can_fill_a_disk(backend))
            }
            // A storm's last hit may land before a gateway without an intent
            // persisted `running`, and the boot after it then registers it down
            // or starts it: only an intent makes the outcome one. That holds
            // for the gateways up now and for those the storm's first boot
            // starts (a profile stopped without an intent, its state still
            // `running`, comes up at that boot).
            Op::KillStormInit(_) => {
                let mut booted = m.clone();
                booted.container_kill();
                only_intended_are_up(m) && only_intended_are_up(&booted)
            }
            Op::Stop(_)
            | Op::Start(_)
            | Op::Restart(_)
            | Op::ContainerRestart
            | Op::ContainerKill
            | Op::KilledWhile(..)
            | Op::Damage(..) => true,
        }
    }

    /// Applies it to the model.
    pub fn apply(&self, m: &mut Model) -> Applied {
        let lines = |map: std::collections::BTreeMap<String, BootView>, prior_known: bool| {
            Some(
                map.into_iter()
                    .map(|(p, v)| (p, v, prior_known))
                    .collect::<Vec<_>>(),
            )
        };
        let none = Applied {
            code: None,
            boot: None,
        };
        match self {
            Op::Stop(p) => Applied {
                code: Some(m.stop(p)),
                boot: None,
            },
            Op::Start(p) => Applied {
                code: Some(m.start(p)),
                boot: None,
            },
            Op::Restart(p) => Applied {
                code: Some(m.restart(p)),
                boot: None,
            },
            Op::Signal(p, s) => {
                m.signal(p, *s);
                none
            }
            Op::Oom(p) => {
                m.oom(p);
                none
            }
            Op::ContainerRestart => Applied {
                code: None,
                boot: lines(m.container_restart(), true),
            },
            Op::ContainerKill => Applied {
                code: None,
                boot: lines(m.container_kill(), true),
            },
            Op::KillStormInit(_) => {
                let mut last = m.container_kill();
                for _ in 1..STORM_HITS {
                    last = m.container_kill();
                }
                Applied {
                    code: None,
                    boot: lines(last, false),
                }
            }
            Op::Damage(p, class) => {
                m.damage(p, !parses_as_object(*class));
                none
            }
            Op::KilledWhile(p, s) => {
                m.forge(p, *s);
                Applied {
                    code: None,
                    boot: lines(m.container_kill(), true),
                }
            }
            Op::StaleMarker(p, _) => {
                m.stale_marker(p);
                none
            }
            Op::SigtermOverStaleMarker(p, _) => {
                m.stale_marker(p);
                m.signal(p, Signal::Term);
                none
            }
            Op::BlockIntent(p) => {
                m.block_intent(p);
                none
            }
            Op::StopUnwritable(p, _) => Applied {
                code: Some(m.stop_unwritable(p)),
                boot: None,
            },
        }
    }

    /// The scenario steps that perform it (`expect_code`: the model's).
    pub fn steps(&self, expect_code: Option<i32>) -> Vec<Step> {
        match self {
            Op::KilledWhile(p, s) => vec![forged_record(p, *s), Step::ContainerKill],
            Op::SigtermOverStaleMarker(p, kind) => vec![
                Op::StaleMarker(p.clone(), *kind).step(None),
                Op::Signal(p.clone(), Signal::Term).step(None),
            ],
            Op::StopUnwritable(p, how) => vec![
                Step::FsFault {
                    profile: p.clone(),
                    fault: how.fault(),
                },
                Op::Stop(p.clone()).step(expect_code),
                Step::FsRestore { profile: p.clone() },
            ],
            other => vec![other.step(expect_code)],
        }
    }

    /// The one step of an operation that is one step.
    fn step(&self, expect_code: Option<i32>) -> Step {
        let code = expect_code.unwrap_or(0);
        match self {
            Op::Stop(p) => Step::Stop {
                profile: p.clone(),
                expect_code: code,
            },
            Op::Start(p) => Step::Start {
                profile: p.clone(),
                expect_code: code,
            },
            Op::Restart(p) => Step::Restart {
                profile: p.clone(),
                expect_code: code,
            },
            Op::Signal(p, s) => Step::Kill {
                profile: p.clone(),
                signal: signal_name(*s).to_owned(),
            },
            Op::Oom(p) => Step::Oom { profile: p.clone() },
            Op::ContainerRestart => Step::ContainerRestart,
            Op::ContainerKill => Step::ContainerKill,
            Op::KillStormInit(seed) => Step::KillStormInit {
                repeat: STORM_HITS,
                storm: Storm {
                    seed: *seed,
                    window: STORM_WINDOW,
                },
            },
            Op::Damage(p, class) => Step::Damage {
                profile: p.clone(),
                class: *class,
            },
            Op::KilledWhile(p, s) => forged_record(p, *s),
            Op::BlockIntent(p) => Step::FsFault {
                profile: p.clone(),
                fault: crate::backend::FsFault::DirWhereFile("desired_state.json".to_owned()),
            },
            Op::SigtermOverStaleMarker(p, kind) => Op::StaleMarker(p.clone(), *kind).step(None),
            Op::StopUnwritable(p, _) => Op::Stop(p.clone()).step(expect_code),
            Op::StaleMarker(p, kind) => Step::Write {
                path: format!("profiles/{p}/.gateway-planned-stop.json"),
                content: match kind {
                    StaleMarker::OtherLife => format!(
                        r#"{{"target_pid":{{pid:{p}}},"target_start_time":1,"stopper_pid":1,"written_at":"{{now}}"}}"#
                    ),
                    StaleMarker::Expired => format!(
                        r#"{{"target_pid":{{pid:{p}}},"target_start_time":{{start_time:{p}}},"stopper_pid":1,"written_at":"{{now-120s}}"}}"#
                    ),
                },
            },
        }
    }

    /// The fault it becomes when it ends a schedule written as a scenario, and
    /// the setup steps that come just before it; `None` for operations that
    /// only write a file.
    pub fn fault(&self) -> Option<(Vec<Step>, Fault)> {
        match self {
            Op::KilledWhile(p, s) => {
                Some((vec![forged_record(p, *s)], Op::ContainerKill.fault()?.1))
            }
            Op::SigtermOverStaleMarker(p, kind) => Some((
                vec![Op::StaleMarker(p.clone(), *kind).step(None)],
                Op::Signal(p.clone(), Signal::Term).single_fault()?,
            )),
            other => other.single_fault().map(|f| (Vec::new(), f)),
        }
    }

    fn single_fault(&self) -> Option<Fault> {
        let (kind, profile) = match self {
            Op::Stop(p) => (FaultKind::OperatorStop, Some(p)),
            Op::Start(p) => (FaultKind::OperatorStart, Some(p)),
            Op::Restart(p) => (FaultKind::OperatorRestart, Some(p)),
            Op::Signal(p, Signal::Term) => (FaultKind::BareSigterm, Some(p)),
            Op::Signal(p, Signal::Hup) => (FaultKind::BareSighup, Some(p)),
            Op::Signal(p, Signal::Int) => (FaultKind::InteractiveStop, Some(p)),
            Op::Signal(p, Signal::Kill) => (FaultKind::Sigkill, Some(p)),
            Op::Oom(p) => (FaultKind::Oom, Some(p)),
            Op::ContainerRestart => (FaultKind::ContainerRestart, None),
            Op::ContainerKill => (FaultKind::ContainerKill, None),
            Op::KillStormInit(seed) => {
                return Some(Fault {
                    kind: FaultKind::KillStormInit,
                    profile: None,
                    repeat: STORM_HITS,
                    stop_timeout: None,
                    storm: Some(Storm {
                        seed: *seed,
                        window: STORM_WINDOW,
                    }),
                })
            }
            Op::Damage(..)
            | Op::KilledWhile(..)
            | Op::StaleMarker(..)
            | Op::BlockIntent(..)
            | Op::SigtermOverStaleMarker(..)
            // Written out, it ends with the home writable again: a clean
            // container restart after it is the fault.
            | Op::StopUnwritable(..) => return None,
        };
        Some(Fault {
            kind,
            profile: profile.cloned(),
            repeat: 1,
            stop_timeout: None,
            storm: None,
        })
    }

    /// A simpler operation of the same effect class, for shrinking: the one a
    /// reader understands fastest.
    pub fn simpler(&self) -> Vec<Op> {
        match self {
            Op::Signal(p, Signal::Hup) => vec![Op::Signal(p.clone(), Signal::Term)],
            Op::Oom(p) => vec![Op::Signal(p.clone(), Signal::Kill)],
            Op::KillStormInit(_) => vec![Op::ContainerKill],
            Op::KilledWhile(p, s) if *s != Recorded::Running => {
                vec![Op::KilledWhile(p.clone(), Recorded::Running)]
            }
            Op::ContainerKill => vec![Op::ContainerRestart],
            Op::Restart(p) => vec![Op::Start(p.clone())],
            Op::Damage(p, c) if *c != DamageClass::Empty => {
                vec![Op::Damage(p.clone(), DamageClass::Empty)]
            }
            Op::StaleMarker(p, StaleMarker::Expired) => {
                vec![Op::StaleMarker(p.clone(), StaleMarker::OtherLife)]
            }
            Op::StopUnwritable(p, Unwritable::Full) => {
                vec![Op::StopUnwritable(p.clone(), Unwritable::ReadOnly)]
            }
            _ => Vec::new(),
        }
    }

    /// Draws one operation allowed on `m`, from the kinds `usable` keeps.
    pub fn draw(
        rng: &mut crate::fault::SplitMix64,
        m: &Model,
        backend: BackendKind,
        usable: &dyn Fn(&Op) -> bool,
    ) -> Option<Op> {
        let profiles = m.names();
        let mut candidates = Vec::new();
        for kind in KINDS {
            for p in &profiles {
                let p = p.clone();
                let op = match kind {
                    Kind::Stop => Op::Stop(p),
                    Kind::Start => Op::Start(p),
                    Kind::Restart => Op::Restart(p),
                    Kind::Term => Op::Signal(p, Signal::Term),
                    Kind::Hup => Op::Signal(p, Signal::Hup),
                    Kind::Int => Op::Signal(p, Signal::Int),
                    Kind::Kill => Op::Signal(p, Signal::Kill),
                    Kind::Oom => Op::Oom(p),
                    Kind::ContainerRestart => Op::ContainerRestart,
                    Kind::ContainerKill => Op::ContainerKill,
                    Kind::Storm => Op::KillStormInit(0),
                    Kind::Damage => Op::Damage(p, DamageClass::Empty),
                    Kind::KilledWhile => Op::KilledWhile(p, Recorded::Running),
                    Kind::StaleMarker => Op::StaleMarker(p, StaleMarker::OtherLife),
                    Kind::BlockIntent => Op::BlockIntent(p),
                    Kind::StopUnwritable => Op::StopUnwritable(p, Unwritable::ReadOnly),
                    Kind::SigtermOverStaleMarker => {
                        Op::SigtermOverStaleMarker(p, StaleMarker::OtherLife)
                    }
                };
                if op.allowed(m, backend) && usable(&op) && !candidates.contains(&op) {
                    candidates.push(op);
                }
            }
        }
        if candidates.is_empty() {
            return None;
        }
        let pick = |rng: &mut crate::fault::SplitMix64, n: usize| {
            usize::try_from(rng.next_u64() % n as u64).unwrap_or(0)
        };
        let op = candidates[pick(rng, candidates.len())].clone();
        // The variant's own parameters.
        Some(match op {
            Op::KillStormInit(_) => Op::KillStormInit(rng.next_u64() % 1000),
            Op::Damage(p, _) => Op::Damage(p, DamageClass::ALL[pick(rng, DamageClass::ALL.len())]),
            Op::KilledWhile(p, _) => Op::KilledWhile(p, FORGED[pick(rng, FORGED.len())]),
            Op::StaleMarker(p, _) => Op::StaleMarker(p, stale_kind(rng)),
            Op::SigtermOverStaleMarker(p, _) => Op::SigtermOverStaleMarker(p, stale_kind(rng)),
            Op::StopUnwritable(p, _) => {
                let full = rng.next_u64().is_multiple_of(2) && can_fill_a_disk(backend);
                Op::StopUnwritable(
                    p,
                    if full {
                        Unwritable::Full
                    } else {
                        Unwritable::ReadOnly
                    },
                )
            }
            other => other,
        })
    }
}

/// Whether every gateway the model says is up has the intent `running`.
fn only_intended_are_up(m: &Model) -> bool {
    m.names().iter().all(|p| {
        m.view(p).is_none_or(|v| {
            v.supervision != Supervision::Up || v.intent == super::model::Intent::Running
        })
    })
}

/// Whether `backend` can fill a home's disk: Docker always (a size-limited
/// tmpfs volume), local processes only as root (they mount a tmpfs).
fn can_fill_a_disk(backend: BackendKind) -> bool {
    backend == BackendKind::Docker || crate::backend::user_namespace::cannot_mount().is_none()
}

fn stale_kind(rng: &mut crate::fault::SplitMix64) -> StaleMarker {
    if rng.next_u64().is_multiple_of(2) {
        StaleMarker::OtherLife
    } else {
        StaleMarker::Expired
    }
}

/// A valid state record of `state` for `profile`, as a life killed there
/// leaves it.
fn forged_record(profile: &str, state: Recorded) -> Step {
    Step::Write {
        path: format!("profiles/{profile}/gateway_state.json"),
        content: format!(
            r#"{{"schema":1,"profile":"{profile}","gateway_state":"{}","exit_reason":null,"pid":1,"start_time":1,"restart_requested":false,"updated_at":"{{now}}"}}"#,
            recorded_word(state)
        ),
    }
}

/// Whether a damage class's bytes still parse as a JSON object (corrupt by
/// the schema, but not torn).
fn parses_as_object(class: DamageClass) -> bool {
    match class {
        DamageClass::WrongTypes | DamageClass::UnknownState => true,
        DamageClass::Empty
        | DamageClass::Truncated
        | DamageClass::InvalidUtf8
        | DamageClass::NotAnObject => false,
    }
}

/// The signal's name as `gateway kill` takes it.
pub fn signal_name(s: Signal) -> &'static str {
    match s {
        Signal::Term => "SIGTERM",
        Signal::Hup => "SIGHUP",
        Signal::Int => "SIGINT",
        Signal::Kill => "SIGKILL",
    }
}

/// The contract's word for a recorded state (`missing` and `corrupt` for the
/// file's condition).
pub fn recorded_word(r: Recorded) -> &'static str {
    match r {
        Recorded::Starting => "starting",
        Recorded::Running => "running",
        Recorded::Draining => "draining",
        Recorded::Stopped => "stopped",
        Recorded::StartupFailed => "startup_failed",
        Recorded::Missing => "missing",
        Recorded::Corrupt => "corrupt",
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Stop(p) => write!(f, "stop {p}"),
            Op::Start(p) => write!(f, "start {p}"),
            Op::Restart(p) => write!(f, "restart {p}"),
            Op::Signal(p, s) => write!(f, "{} {p}", signal_name(*s)),
            Op::Oom(p) => write!(f, "oom {p}"),
            Op::ContainerRestart => f.write_str("container-restart"),
            Op::ContainerKill => f.write_str("container-kill"),
            Op::KillStormInit(seed) => write!(f, "kill-storm-init x{STORM_HITS} seed {seed}"),
            Op::Damage(p, c) => write!(f, "damage {p} {c}"),
            Op::KilledWhile(p, s) => {
                write!(f, "container-kill while {p} is {}", recorded_word(*s))
            }
            Op::StaleMarker(p, StaleMarker::OtherLife) => {
                write!(f, "stale-marker {p} (another life)")
            }
            Op::StaleMarker(p, StaleMarker::Expired) => write!(f, "stale-marker {p} (expired)"),
            Op::BlockIntent(p) => write!(f, "a directory where {p}'s desired_state.json belongs"),
            Op::StopUnwritable(p, Unwritable::ReadOnly) => {
                write!(f, "stop {p} into a read-only home")
            }
            Op::StopUnwritable(p, Unwritable::Full) => write!(f, "stop {p} on a full disk"),
            Op::SigtermOverStaleMarker(p, StaleMarker::OtherLife) => {
                write!(f, "SIGTERM {p} over a stale marker (another life)")
            }
            Op::SigtermOverStaleMarker(p, StaleMarker::Expired) => {
                write!(f, "SIGTERM {p} over a stale marker (expired)")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schedule CI's explore shrank to: `a` stopped while its home took
    /// no writes (down, no intent, its state still `running`), then a storm.
    fn stopped_without_an_intent() -> Model {
        let (mut m, _) = Model::booted(&["a".to_owned()]);
        Op::Signal("default".to_owned(), Signal::Int).apply(&mut m);
        Op::StopUnwritable("a".to_owned(), Unwritable::ReadOnly).apply(&mut m);
        m
    }

    #[test]
    fn no_storm_over_a_profile_its_first_boot_starts_without_an_intent() {
        let m = stopped_without_an_intent();
        assert_eq!(m.view("a").map(|v| v.supervision), Some(Supervision::Down));
        assert!(!Op::KillStormInit(728).allowed(&m, BackendKind::Process));
    }

    #[test]
    fn a_storm_once_the_intent_says_running() {
        let mut m = stopped_without_an_intent();
        Op::Start("a".to_owned()).apply(&mut m);
        assert!(Op::KillStormInit(728).allowed(&m, BackendKind::Process));
    }
}
