//! The moves of an explored schedule: one operation, or a few drawn together
//! (a stale marker and the SIGTERM that reads it), what each does to the
//! model, and the [`Op`]s that perform it on a target. A move is the unit the
//! generator draws and the shrinker cuts; its operations are the table's own.

use std::fmt;
use std::time::Duration;

use crate::backend::{BackendKind, FsFault};
use crate::op::{DamageClass, Fault, Op, SplitMix64, Storm};
use crate::target::{Claim, Verb};

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
    fn fault(self) -> FsFault {
        match self {
            Unwritable::ReadOnly => FsFault::ReadOnlyHome,
            Unwritable::Full => FsFault::FullDisk,
        }
    }
}

/// One move of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Move {
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
    /// SIGKILL to the supervisor alone; its own init starts it again.
    SupervisorCrash,
    /// A clean restart of the supervisor alone.
    SupervisorRestart,
    /// SIGTERM to P's gateway through the supervisor's own API.
    ApiSigterm(String),
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
    /// SIGKILL to P's gateway, and `gateway stop --profile P` as soon as
    /// init backs off before reviving it: a stop that lands mid-transition.
    StopInBackoff(String),
    /// SIGKILL to P's gateway, and `gateway start --profile P` as soon as
    /// init backs off before reviving it.
    StartInBackoff(String),
    /// Two operator commands (stop, start or restart) started together: the
    /// first in the background, the second at once; on two profiles, or
    /// both on one.
    Together(Box<Move>, Box<Move>),
    /// SIGKILL to the command's profile's gateway, not waiting, and the
    /// operator command (stop, start or restart) a seeded delay (ms) later:
    /// it lands in init's backoff or after the revival, as the delay and the
    /// machine decide.
    AfterKill(u64, Box<Move>),
    /// No exit for longer than init's crash window: every exit so far slides
    /// out of it.
    WindowPasses,
}

/// How long [`Move::WindowPasses`] lets pass: the window and a second more,
/// so that the next exit is past it whatever the clocks' steps.
pub const WINDOW_PASS: Duration = Duration::from_secs(super::model::CRASH_WINDOW_S as u64 + 1);

/// The longest seeded delay of [`Move::AfterKill`] on `backend`: twice the
/// first backoff explore gives init there, so that about half the draws land
/// in it and half after it.
pub fn after_kill_max_ms(backend: BackendKind) -> u64 {
    2 * u64::from(super::execute::backoff_ms(backend))
}

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
    /// The exit code of the command it started in the background.
    pub background: Option<i32>,
    /// The boot lines of the boot it caused, if it booted the supervisor; the
    /// prior states are `None` where the model cannot know them (a storm's
    /// last hit may land before or after a gateway persisted `running`).
    pub boot: Option<Vec<(String, BootView, bool)>>,
    /// The model after the other order, for operations started together
    /// whose two orders end differently (both are what the contract allows).
    pub or_else: Option<Model>,
    /// The model had its command missed the backoff it was aimed at and
    /// landed after the revival, where that ends otherwise, even in what no
    /// look shows (a crash count). Not an outcome the move allows: a machine
    /// slower than the backoff, which explore calls inconclusive when the
    /// move took longer than the backoff could have lasted.
    pub missed: Option<Model>,
}

impl Applied {
    /// The exit codes its operations must end with (none where the target
    /// does not claim the contract's CLI).
    pub fn codes(&self, cli: bool) -> Codes {
        Codes {
            command: self.code.filter(|_| cli),
            background: self.background.filter(|_| cli),
        }
    }
}

/// The exit codes the model gives a move's commands (`None`: the default, 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Codes {
    /// The command run in the foreground.
    pub command: Option<i32>,
    /// The command started in the background.
    pub background: Option<i32>,
}

impl Move {
    /// The profile it acts on, if one.
    pub fn profile(&self) -> Option<&str> {
        match self {
            Move::Stop(p)
            | Move::Start(p)
            | Move::Restart(p)
            | Move::Signal(p, _)
            | Move::Oom(p)
            | Move::Damage(p, _)
            | Move::KilledWhile(p, _)
            | Move::StaleMarker(p, _)
            | Move::SigtermOverStaleMarker(p, _)
            | Move::BlockIntent(p)
            | Move::ApiSigterm(p)
            | Move::StopUnwritable(p, _)
            | Move::StopInBackoff(p)
            | Move::StartInBackoff(p) => Some(p),
            Move::Together(a, _) | Move::AfterKill(_, a) => a.profile(),
            Move::ContainerRestart
            | Move::WindowPasses
            | Move::ContainerKill
            | Move::KillStormInit(_)
            | Move::SupervisorCrash
            | Move::SupervisorRestart => None,
        }
    }

    /// The claims a target must make for this operation to be performed and
    /// judged on it.
    pub fn claims(&self) -> Vec<Claim> {
        match self {
            Move::Stop(_) => vec![Claim::OperatorStopStaysDown, Claim::OperatorStopIsRecorded],
            Move::Start(_) => vec![Claim::OperatorStartBringsItBack],
            Move::Restart(_) => vec![Claim::RestartExits75],
            Move::Signal(_, Signal::Term) => vec![Claim::BareSigtermIsNotAStop],
            Move::Signal(_, Signal::Hup) => vec![Claim::SighupIsABareSignal],
            Move::Signal(_, Signal::Int) => vec![Claim::InteractiveStop],
            Move::Signal(_, Signal::Kill) => vec![Claim::SigkillIsNotAStop],
            Move::Oom(_) => vec![Claim::OomIsNotAStop],
            Move::ContainerRestart => vec![Claim::ContainerRestartIsNotAStop],
            Move::ContainerKill => vec![Claim::ContainerKillIsNotAStop],
            Move::SupervisorCrash => vec![Claim::SupervisorCrashIsNotAStop],
            Move::SupervisorRestart => vec![Claim::SupervisorRestartIsNotAStop],
            Move::ApiSigterm(_) => vec![Claim::ApiSignalIsAStop],
            Move::KillStormInit(_) => vec![Claim::ContainerKillIsNotAStop, Claim::ContractFiles],
            Move::Damage(..) => vec![Claim::DamageStaysWithItsProfile],
            Move::KilledWhile(..) => vec![
                Claim::ContainerKillIsNotAStop,
                Claim::BootTable,
                Claim::ContractFiles,
            ],
            Move::BlockIntent(_) => {
                vec![Claim::IntentFile, Claim::ContractFiles, Claim::ContractCli]
            }
            Move::StopUnwritable(..) => vec![
                Claim::OperatorStopStaysDown,
                Claim::ContractCli,
                Claim::ContractFiles,
            ],
            Move::StaleMarker(..) | Move::SigtermOverStaleMarker(..) => {
                vec![Claim::MarkerRule, Claim::ContractFiles]
            }
            Move::StopInBackoff(_) => vec![
                Claim::SigkillIsNotAStop,
                Claim::OperatorStopStaysDown,
                Claim::ContractConfiguration,
            ],
            Move::StartInBackoff(_) => vec![
                Claim::SigkillIsNotAStop,
                Claim::OperatorStartBringsItBack,
                Claim::CrashLoopGivesUp,
                Claim::ContractConfiguration,
            ],
            Move::Together(a, b) => {
                let mut all = a.claims();
                all.extend(b.claims());
                all.sort();
                all.dedup();
                all
            }
            Move::AfterKill(_, then) => {
                let mut all = then.claims();
                all.push(Claim::SigkillIsNotAStop);
                all.sort();
                all.dedup();
                all
            }
            // A window only a target that takes init's flags and gives up
            // can show passing.
            Move::WindowPasses => vec![Claim::CrashLoopGivesUp, Claim::ContractConfiguration],
        }
    }

    /// Whether the two orders of operations started together can end
    /// differently: explore draws such a move only last in a schedule, so
    /// that no later move depends on which order the target took.
    pub fn splits(&self, m: &Model) -> bool {
        let mut after = m.clone();
        self.apply(&mut after).or_else.is_some()
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
            Move::Signal(p, Signal::Term | Signal::Hup | Signal::Kill)
            | Move::SigtermOverStaleMarker(p, _) => up(p) && m.crashes_left(p) > 0,
            Move::Signal(p, Signal::Int) | Move::StaleMarker(p, _) | Move::ApiSigterm(p) => up(p),
            // The kill must leave init backing off, not giving up.
            Move::StopInBackoff(p) | Move::StartInBackoff(p) => up(p) && m.crashes_left(p) > 1,
            // The same, and each command with one exit code whether it lands
            // in the backoff or after the revival.
            Move::AfterKill(_, then) => {
                then.is_command()
                    && then
                        .profile()
                        .is_some_and(|p| up(p) && m.crashes_left(p) > 1)
                    && {
                        let (mut early, mut late) = (m.clone(), m.clone());
                        let (a, b) = after_kill(then, &mut early, &mut late);
                        a == b
                    }
            }
            // Only where an exit would still count.
            Move::WindowPasses => m.names().iter().any(|p| m.crashes(p) > 0),
            // Commands only, each allowed, and each with one exit code
            // whichever order the target takes.
            Move::Together(a, b) => {
                a.is_command()
                    && b.is_command()
                    && a.allowed(m, backend)
                    && b.allowed(m, backend)
                    && {
                        let (mut ab, mut ba) = (m.clone(), m.clone());
                        let (a1, b1) = (a.apply(&mut ab).code, b.apply(&mut ab).code);
                        let (b2, a2) = (b.apply(&mut ba).code, a.apply(&mut ba).code);
                        a1 == a2 && b1 == b2
                    }
            }
            // The directory takes the file's place: there must be no file yet.
            Move::BlockIntent(p) => {
                m.view(p).map(|v| v.intent) == Some(super::model::Intent::Absent)
            }
            Move::Oom(p) => backend == BackendKind::Docker && up(p),
            // With no write possible, a stale marker could not be replaced nor
            // (read-only) removed, and a damaged state file not kept aside:
            // each would make the outcome depend on the kind of fault.
            Move::StopUnwritable(p, how) => {
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
            Move::KillStormInit(_) => {
                let mut booted = m.clone();
                booted.container_kill();
                only_intended_are_up(m) && only_intended_are_up(&booted)
            }
            Move::Stop(_)
            | Move::Start(_)
            | Move::Restart(_)
            | Move::ContainerRestart
            | Move::ContainerKill
            | Move::SupervisorCrash
            | Move::SupervisorRestart
            | Move::KilledWhile(..)
            | Move::Damage(..) => true,
        }
    }

    /// Applies it to the model.
    pub fn apply(&self, m: &mut Model) -> Applied {
        let code = |code| Applied {
            code: Some(code),
            background: None,
            boot: None,
            or_else: None,
            missed: None,
        };
        let booted = |map, prior_known| Applied {
            code: None,
            background: None,
            boot: Some(boot_lines(map, prior_known)),
            or_else: None,
            missed: None,
        };
        let none = Applied {
            code: None,
            background: None,
            boot: None,
            or_else: None,
            missed: None,
        };
        match self {
            // Either may reach the supervisor first (SPEC §5: commands on one
            // profile run one after the other): the model takes the order
            // written, and keeps the other's outcome when it differs.
            Move::Together(a, b) => {
                let mut other = m.clone();
                let background = a.apply(m).code;
                let command = b.apply(m).code;
                b.apply(&mut other);
                a.apply(&mut other);
                Applied {
                    code: command,
                    background,
                    boot: None,
                    or_else: (other != *m).then_some(other),
                    missed: None,
                }
            }
            // The command may land in the backoff or after the revival (SPEC
            // §4, §5): the model takes the first, and keeps the other's
            // outcome when it differs.
            Move::AfterKill(_, then) => {
                let mut late = m.clone();
                let (command, _) = after_kill(then, m, &mut late);
                Applied {
                    code: command,
                    background: None,
                    boot: None,
                    or_else: (late != *m).then_some(late),
                    missed: None,
                }
            }
            Move::WindowPasses => {
                m.window_passes();
                none
            }
            Move::Stop(p) => code(m.stop(p)),
            Move::Start(p) => code(m.start(p)),
            Move::Restart(p) => code(m.restart(p)),
            Move::StopUnwritable(p, _) => code(m.stop_unwritable(p)),
            // Aimed at the backoff (SPEC §4, §5); the model keeps what a
            // command that missed it would have done.
            Move::StopInBackoff(p) | Move::StartInBackoff(p) => {
                let then = if matches!(self, Move::StopInBackoff(_)) {
                    Move::Stop(p.clone())
                } else {
                    Move::Start(p.clone())
                };
                let mut late = m.clone();
                let (command, _) = after_kill(&then, m, &mut late);
                Applied {
                    code: command,
                    background: None,
                    boot: None,
                    or_else: None,
                    missed: (late != *m).then_some(late),
                }
            }
            Move::ContainerRestart => booted(m.container_restart(), true),
            Move::ContainerKill => booted(m.container_kill(), true),
            // The supervisor alone: every profile keeps its fate as across
            // a clean restart, and no boot line is logged for it.
            Move::SupervisorCrash | Move::SupervisorRestart => {
                m.container_restart();
                none
            }
            // Through the supervisor's API: an operator stop, by the claim.
            Move::ApiSigterm(p) => {
                m.stop(p);
                none
            }
            Move::KillStormInit(_) => {
                let mut last = m.container_kill();
                for _ in 1..STORM_HITS {
                    last = m.container_kill();
                }
                booted(last, false)
            }
            Move::KilledWhile(p, s) => {
                m.forge(p, *s);
                booted(m.container_kill(), true)
            }
            Move::Signal(p, s) => {
                m.signal(p, *s);
                none
            }
            Move::Oom(p) => {
                m.oom(p);
                none
            }
            Move::Damage(p, class) => {
                m.damage(p, !parses_as_object(*class));
                none
            }
            Move::StaleMarker(p, _) => {
                m.stale_marker(p);
                none
            }
            Move::SigtermOverStaleMarker(p, _) => {
                m.stale_marker(p);
                m.signal(p, Signal::Term);
                none
            }
            Move::BlockIntent(p) => {
                m.block_intent(p);
                none
            }
        }
    }

    /// The operations that perform it, in order (`expect_code`: the model's
    /// exit code of its command).
    pub fn ops(&self, codes: Codes) -> Vec<Op> {
        let expect_code = codes.command;
        match self {
            Move::Together(a, b) => {
                let mut ops = Vec::new();
                if let Some((verb, p)) = a.command() {
                    ops.push(Op::Background {
                        verb,
                        profile: p.to_owned(),
                        expect_code: codes.background.unwrap_or(0),
                    });
                }
                ops.extend(b.ops(Codes {
                    command: expect_code,
                    background: None,
                }));
                ops
            }
            Move::KilledWhile(p, s) => vec![forged_record(p, *s), Op::ContainerKill],
            Move::SigtermOverStaleMarker(p, kind) => vec![
                stale_marker(p, *kind),
                Op::Signal {
                    profile: p.clone(),
                    signal: crate::backend::Signal::Term,
                },
            ],
            Move::StopUnwritable(p, how) => vec![
                Op::FsFault {
                    profile: p.clone(),
                    fault: how.fault(),
                },
                operator(Verb::Stop, p, expect_code),
                Op::FsRestore { profile: p.clone() },
            ],
            Move::AfterKill(delay, then) => {
                let mut ops = Vec::new();
                if let Some((verb, p)) = then.command() {
                    ops.push(Op::SignalNoWait {
                        profile: p.to_owned(),
                        signal: crate::backend::Signal::Kill,
                    });
                    ops.push(Op::Pause {
                        duration: Duration::from_millis(*delay),
                    });
                    ops.push(operator(verb, p, expect_code));
                }
                ops
            }
            Move::WindowPasses => vec![Op::Pause {
                duration: WINDOW_PASS,
            }],
            Move::StopInBackoff(p) => in_backoff(p, operator(Verb::Stop, p, expect_code)),
            Move::StartInBackoff(p) => in_backoff(p, operator(Verb::Start, p, expect_code)),
            Move::Stop(p) => vec![operator(Verb::Stop, p, expect_code)],
            Move::Start(p) => vec![operator(Verb::Start, p, expect_code)],
            Move::Restart(p) => vec![operator(Verb::Restart, p, expect_code)],
            Move::Signal(p, s) => vec![Op::Signal {
                profile: p.clone(),
                signal: sent(*s),
            }],
            Move::Oom(p) => vec![Op::Oom { profile: p.clone() }],
            Move::ContainerRestart => vec![Op::ContainerRestart { stop_timeout: None }],
            Move::ContainerKill => vec![Op::ContainerKill],
            Move::SupervisorCrash => vec![Op::SupervisorCrash],
            Move::SupervisorRestart => vec![Op::SupervisorRestart],
            Move::ApiSigterm(p) => vec![Op::ApiSignal {
                profile: p.clone(),
                signal: crate::backend::Signal::Term,
            }],
            Move::KillStormInit(seed) => vec![Op::KillStormInit {
                hits: STORM_HITS,
                storm: Storm::even(*seed, STORM_WINDOW),
            }],
            Move::Damage(p, class) => vec![Op::Damage {
                profile: p.clone(),
                class: *class,
            }],
            Move::BlockIntent(p) => vec![Op::FsFault {
                profile: p.clone(),
                fault: FsFault::DirWhereFile("desired_state.json".to_owned()),
            }],
            Move::StaleMarker(p, kind) => vec![stale_marker(p, *kind)],
        }
    }

    /// How it ends a schedule written as a scenario: the setup operations
    /// just before the fault, and the fault; `None` when its last operation
    /// only changes files (a clean container restart after it is the fault)
    /// or leaves the home writable again.
    pub fn ending(&self) -> Option<(Vec<Op>, Fault)> {
        if let Move::StopUnwritable(..) = self {
            return None;
        }
        let mut ops = self.ops(Codes::default());
        let last = ops.pop()?;
        crate::op::toml::fault_word(&last)?;
        Some((
            ops,
            Fault {
                op: last,
                repeat: 1,
            },
        ))
    }

    /// A simpler operation of the same effect class, for shrinking: the one a
    /// reader understands fastest.
    pub fn simpler(&self) -> Vec<Move> {
        match self {
            Move::Signal(p, Signal::Hup) => vec![Move::Signal(p.clone(), Signal::Term)],
            Move::Oom(p) => vec![Move::Signal(p.clone(), Signal::Kill)],
            Move::KillStormInit(_) => vec![Move::ContainerKill],
            Move::KilledWhile(p, s) if *s != Recorded::Running => {
                vec![Move::KilledWhile(p.clone(), Recorded::Running)]
            }
            Move::ContainerKill => vec![Move::ContainerRestart],
            Move::SupervisorCrash => vec![Move::SupervisorRestart],
            Move::ApiSigterm(p) => vec![Move::Stop(p.clone())],
            Move::Restart(p) => vec![Move::Start(p.clone())],
            Move::Damage(p, c) if *c != DamageClass::Empty => {
                vec![Move::Damage(p.clone(), DamageClass::Empty)]
            }
            Move::StaleMarker(p, StaleMarker::Expired) => {
                vec![Move::StaleMarker(p.clone(), StaleMarker::OtherLife)]
            }
            Move::StopUnwritable(p, Unwritable::Full) => {
                vec![Move::StopUnwritable(p.clone(), Unwritable::ReadOnly)]
            }
            _ => Vec::new(),
        }
    }

    /// The same operations with a settle after each, for shrinking: an
    /// operation that lands mid-transition is harder to read than the two
    /// it is made of, done one after the other.
    pub fn settled(&self) -> Option<Vec<Move>> {
        match self {
            Move::StopInBackoff(p) => Some(vec![
                Move::Signal(p.clone(), Signal::Kill),
                Move::Stop(p.clone()),
            ]),
            Move::StartInBackoff(p) => Some(vec![
                Move::Signal(p.clone(), Signal::Kill),
                Move::Start(p.clone()),
            ]),
            Move::Together(a, b) => Some(vec![(**a).clone(), (**b).clone()]),
            Move::AfterKill(_, then) => Some(vec![
                Move::Signal(then.profile()?.to_owned(), Signal::Kill),
                (**then).clone(),
            ]),
            _ => None,
        }
    }

    /// The operator verb and profile of a command move.
    fn command(&self) -> Option<(Verb, &str)> {
        match self {
            Move::Stop(p) => Some((Verb::Stop, p)),
            Move::Start(p) => Some((Verb::Start, p)),
            Move::Restart(p) => Some((Verb::Restart, p)),
            _ => None,
        }
    }

    /// Whether it is one operator command.
    fn is_command(&self) -> bool {
        self.command().is_some()
    }

    /// Draws one operation allowed on `m`, from the kinds `usable` keeps.
    pub fn draw(
        rng: &mut SplitMix64,
        m: &Model,
        backend: BackendKind,
        usable: &dyn Fn(&Move) -> bool,
    ) -> Option<Move> {
        let profiles = m.names();
        let mut candidates = Vec::new();
        for k in 0..DRAWN {
            for p in &profiles {
                let mv = drawn(p)[k].clone();
                if mv.allowed(m, backend) && usable(&mv) && !candidates.contains(&mv) {
                    candidates.push(mv);
                }
            }
        }
        if candidates.is_empty() {
            return None;
        }
        let pick = |rng: &mut SplitMix64, n: usize| {
            usize::try_from(rng.next_u64() % n as u64).unwrap_or(0)
        };
        let op = candidates[pick(rng, candidates.len())].clone();
        // The variant's own parameters.
        Some(match op {
            Move::KillStormInit(_) => Move::KillStormInit(rng.next_u64() % 1000),
            Move::Damage(p, _) => {
                Move::Damage(p, DamageClass::ALL[pick(rng, DamageClass::ALL.len())])
            }
            Move::KilledWhile(p, _) => Move::KilledWhile(p, FORGED[pick(rng, FORGED.len())]),
            Move::StaleMarker(p, _) => Move::StaleMarker(p, stale_kind(rng)),
            Move::Together(a, _) => {
                let p = a.profile().unwrap_or("default").to_owned();
                together(rng, &p, m, backend, &profiles, usable)
            }
            Move::AfterKill(_, then) => {
                let delay = rng.next_u64() % (after_kill_max_ms(backend) + 1);
                let p = then.profile().unwrap_or("default").to_owned();
                let verbs = [
                    Move::Stop(p.clone()),
                    Move::Start(p.clone()),
                    Move::Restart(p),
                ];
                let ok: Vec<Move> = verbs
                    .into_iter()
                    .filter(|v| {
                        let mv = Move::AfterKill(delay, Box::new(v.clone()));
                        mv.allowed(m, backend) && usable(&mv)
                    })
                    .collect();
                let pick = usize::try_from(rng.next_u64() % ok.len().max(1) as u64).unwrap_or(0);
                Move::AfterKill(delay, Box::new(ok.get(pick).cloned().unwrap_or(*then)))
            }
            Move::SigtermOverStaleMarker(p, _) => Move::SigtermOverStaleMarker(p, stale_kind(rng)),
            Move::StopUnwritable(p, _) => {
                let full = rng.next_u64().is_multiple_of(2) && can_fill_a_disk(backend);
                Move::StopUnwritable(
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

/// How many moves [`drawn`] lists for a profile.
const DRAWN: usize = 25;

/// The moves a generator draws from for profile `p`, with their parameters
/// still at rest (a drawn move then draws its own), in the order the draw
/// sees them.
fn drawn(p: &str) -> [Move; DRAWN] {
    let p = || p.to_owned();
    [
        Move::Stop(p()),
        Move::Start(p()),
        Move::Restart(p()),
        Move::Signal(p(), Signal::Term),
        Move::Signal(p(), Signal::Hup),
        Move::Signal(p(), Signal::Int),
        Move::Signal(p(), Signal::Kill),
        Move::Oom(p()),
        Move::ContainerRestart,
        Move::ContainerKill,
        Move::KillStormInit(0),
        Move::Damage(p(), DamageClass::Empty),
        Move::KilledWhile(p(), Recorded::Running),
        Move::StaleMarker(p(), StaleMarker::OtherLife),
        Move::SigtermOverStaleMarker(p(), StaleMarker::OtherLife),
        Move::BlockIntent(p()),
        Move::StopUnwritable(p(), Unwritable::ReadOnly),
        Move::SupervisorCrash,
        Move::SupervisorRestart,
        Move::ApiSigterm(p()),
        Move::StopInBackoff(p()),
        Move::StartInBackoff(p()),
        Move::Together(Box::new(Move::Stop(p())), Box::new(Move::Start(p()))),
        Move::AfterKill(0, Box::new(Move::Stop(p()))),
        Move::WindowPasses,
    ]
}

/// The command `then` landing in the backoff after a SIGKILL of its
/// profile's gateway (`early`), and after the revival (`late`); returns
/// each one's exit code.
fn after_kill(then: &Move, early: &mut Model, late: &mut Model) -> (Option<i32>, Option<i32>) {
    let p = then.profile().unwrap_or("default").to_owned();
    let a = match then {
        Move::Stop(_) => Some(early.stop_in_backoff(&p)),
        Move::Start(_) => Some(early.start_in_backoff(&p)),
        // A restart of a gateway that is not up is a start (SPEC §5).
        Move::Restart(_) => Some(early.restart_in_backoff(&p)),
        _ => None,
    };
    late.signal(&p, Signal::Kill);
    let b = then.apply(late).code;
    (a, b)
}

/// SIGKILL to `p`'s gateway, not waiting, then `command` as soon as init
/// backs off.
fn in_backoff(p: &str, command: Op) -> Vec<Op> {
    vec![
        Op::SignalNoWait {
            profile: p.to_owned(),
            signal: crate::backend::Signal::Kill,
        },
        Op::Await {
            profile: p.to_owned(),
            phase: crate::op::Phase::Backoff,
        },
        command,
    ]
}

/// An operator command on `p` (exit code 0 unless the model says otherwise).
fn operator(verb: Verb, p: &str, expect_code: Option<i32>) -> Op {
    Op::Operator {
        verb,
        profile: p.to_owned(),
        expect_code: expect_code.unwrap_or(0),
    }
}

/// A marker that cannot match `p`'s gateway.
fn stale_marker(p: &str, kind: StaleMarker) -> Op {
    Op::Write {
        path: format!("profiles/{p}/.gateway-planned-stop.json"),
        content: match kind {
            StaleMarker::OtherLife => format!(
                r#"{{"target_pid":{{pid:{p}}},"target_start_time":1,"stopper_pid":1,"written_at":"{{now}}"}}"#
            ),
            StaleMarker::Expired => format!(
                r#"{{"target_pid":{{pid:{p}}},"target_start_time":{{start_time:{p}}},"stopper_pid":1,"written_at":"{{now-120s}}"}}"#
            ),
        },
    }
}

/// A boot's lines as the model predicts them, each with whether its prior
/// state is known.
fn boot_lines(
    map: std::collections::BTreeMap<String, BootView>,
    prior_known: bool,
) -> Vec<(String, BootView, bool)> {
    map.into_iter().map(|(p, v)| (p, v, prior_known)).collect()
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

/// Two commands started together: both verbs drawn, and the second one's
/// profile (`p` half the time); the first command alone when the pair is not
/// allowed or not usable.
fn together(
    rng: &mut SplitMix64,
    p: &str,
    m: &Model,
    backend: BackendKind,
    profiles: &[String],
    usable: &dyn Fn(&Move) -> bool,
) -> Move {
    let verb = |rng: &mut SplitMix64| -> fn(String) -> Move {
        match rng.next_u64() % 3 {
            0 => Move::Stop,
            1 => Move::Start,
            _ => Move::Restart,
        }
    };
    let first = verb(rng)(p.to_owned());
    let q = if profiles.len() < 2 || rng.next_u64().is_multiple_of(2) {
        p.to_owned()
    } else {
        let i = usize::try_from(rng.next_u64() % profiles.len() as u64).unwrap_or(0);
        profiles[i].clone()
    };
    let second = verb(rng)(q);
    let pair = Move::Together(Box::new(first.clone()), Box::new(second));
    if pair.allowed(m, backend) && usable(&pair) {
        pair
    } else if usable(&first) {
        first
    } else {
        Move::Stop(p.to_owned())
    }
}

fn stale_kind(rng: &mut SplitMix64) -> StaleMarker {
    if rng.next_u64().is_multiple_of(2) {
        StaleMarker::OtherLife
    } else {
        StaleMarker::Expired
    }
}

/// A valid state record of `state` for `profile`, as a life killed there
/// leaves it.
fn forged_record(profile: &str, state: Recorded) -> Op {
    Op::Write {
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

/// The signal the harness sends for the model's.
pub fn sent(s: Signal) -> crate::backend::Signal {
    match s {
        Signal::Term => crate::backend::Signal::Term,
        Signal::Hup => crate::backend::Signal::Hup,
        Signal::Int => crate::backend::Signal::Int,
        Signal::Kill => crate::backend::Signal::Kill,
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

impl fmt::Display for Move {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Move::Stop(p) => write!(f, "stop {p}"),
            Move::Start(p) => write!(f, "start {p}"),
            Move::Restart(p) => write!(f, "restart {p}"),
            Move::Signal(p, s) => write!(f, "{} {p}", sent(*s)),
            Move::Oom(p) => write!(f, "oom {p}"),
            Move::ContainerRestart => f.write_str("container-restart"),
            Move::ContainerKill => f.write_str("container-kill"),
            Move::KillStormInit(seed) => write!(f, "kill-storm-init x{STORM_HITS} seed {seed}"),
            Move::SupervisorCrash => f.write_str("supervisor-crash"),
            Move::SupervisorRestart => f.write_str("supervisor-restart"),
            Move::ApiSigterm(p) => write!(f, "api-sigterm {p}"),
            Move::Damage(p, c) => write!(f, "damage {p} {c}"),
            Move::KilledWhile(p, s) => {
                write!(f, "container-kill while {p} is {}", recorded_word(*s))
            }
            Move::StaleMarker(p, StaleMarker::OtherLife) => {
                write!(f, "stale-marker {p} (another life)")
            }
            Move::StaleMarker(p, StaleMarker::Expired) => write!(f, "stale-marker {p} (expired)"),
            Move::BlockIntent(p) => write!(f, "a directory where {p}'s desired_state.json belongs"),
            Move::StopUnwritable(p, Unwritable::ReadOnly) => {
                write!(f, "stop {p} into a read-only home")
            }
            Move::StopUnwritable(p, Unwritable::Full) => write!(f, "stop {p} on a full disk"),
            Move::SigtermOverStaleMarker(p, StaleMarker::OtherLife) => {
                write!(f, "SIGTERM {p} over a stale marker (another life)")
            }
            Move::SigtermOverStaleMarker(p, StaleMarker::Expired) => {
                write!(f, "SIGTERM {p} over a stale marker (expired)")
            }
            Move::StopInBackoff(p) => write!(f, "SIGKILL {p}, stop {p} in its backoff"),
            Move::Together(a, b) => write!(f, "{a} and {b}, started together"),
            Move::StartInBackoff(p) => write!(f, "SIGKILL {p}, start {p} in its backoff"),
            Move::AfterKill(delay, then) => {
                let p = then.profile().unwrap_or("default");
                write!(f, "SIGKILL {p}, {then} {delay} ms later")
            }
            Move::WindowPasses => {
                write!(f, "let the crash window pass ({} s)", WINDOW_PASS.as_secs())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::Intent;
    use super::*;

    /// The schedule CI's explore shrank to: `a` stopped while its home took
    /// no writes (down, no intent, its state still `running`), then a storm.
    fn stopped_without_an_intent() -> Model {
        let (mut m, _) = Model::booted(&["a".to_owned()]);
        Move::Signal("default".to_owned(), Signal::Int).apply(&mut m);
        Move::StopUnwritable("a".to_owned(), Unwritable::ReadOnly).apply(&mut m);
        m
    }

    #[test]
    fn a_stop_after_a_kill_ends_as_either_landing_and_a_window_pass_forgets_exits() {
        let (mut m, _) = Model::booted_with(&["a".to_owned()], 2);
        assert!(!Move::WindowPasses.allowed(&m, BackendKind::Process));
        let stop = Move::AfterKill(120, Box::new(Move::Stop("a".to_owned())));
        assert!(stop.allowed(&m, BackendKind::Process));
        assert!(stop.splits(&m));
        let applied = stop.clone().apply(&mut m.clone());
        assert_eq!(applied.code, Some(0));
        // In the backoff: the killed life's `running` stays; after the
        // revival: the new life's own stop writes `stopped`.
        let early = {
            let mut e = m.clone();
            stop.apply(&mut e);
            e
        };
        let late = applied.or_else.unwrap();
        assert_eq!(early.view("a").unwrap().recorded, Recorded::Running);
        assert_eq!(late.view("a").unwrap().recorded, Recorded::Stopped);
        for v in [early.view("a").unwrap(), late.view("a").unwrap()] {
            assert_eq!(v.supervision, Supervision::Down);
        }
        // Two kills leave a crash limit of 2 one exit from giving up; a pass
        // of the window gives it all back.
        Move::Signal("a".to_owned(), Signal::Kill).apply(&mut m);
        Move::Signal("a".to_owned(), Signal::Kill).apply(&mut m);
        assert_eq!(m.crashes_left("a"), 1);
        assert!(!stop.allowed(&m, BackendKind::Process));
        assert!(Move::WindowPasses.allowed(&m, BackendKind::Process));
        Move::WindowPasses.apply(&mut m);
        assert_eq!(m.crashes_left("a"), 3);
    }

    #[test]
    fn no_storm_over_a_profile_its_first_boot_starts_without_an_intent() {
        let m = stopped_without_an_intent();
        assert_eq!(m.view("a").map(|v| v.supervision), Some(Supervision::Down));
        assert!(!Move::KillStormInit(728).allowed(&m, BackendKind::Process));
    }

    #[test]
    fn a_storm_once_the_intent_says_running() {
        let mut m = stopped_without_an_intent();
        Move::Start("a".to_owned()).apply(&mut m);
        assert!(Move::KillStormInit(728).allowed(&m, BackendKind::Process));
    }

    fn together(a: Move, b: Move) -> Move {
        Move::Together(Box::new(a), Box::new(b))
    }

    #[test]
    fn a_stop_and_a_start_of_one_profile_together_end_as_either_order() {
        let (mut m, _) = Model::booted(&["a".to_owned()]);
        let mv = together(Move::Stop("a".to_owned()), Move::Start("a".to_owned()));
        assert!(mv.allowed(&m, BackendKind::Process));
        assert!(mv.splits(&m));
        let applied = mv.apply(&mut m);
        assert_eq!((applied.background, applied.code), (Some(0), Some(0)));
        // The order written: stop, then start.
        let v = m.view("a").unwrap();
        assert_eq!(
            (v.supervision, v.intent),
            (Supervision::Up, Intent::Running)
        );
        // The other order: start (a no-op on a running gateway), then stop.
        let other = applied.or_else.expect("the other order");
        let o = other.view("a").unwrap();
        assert_eq!(
            (o.supervision, o.intent),
            (Supervision::Down, Intent::Stopped)
        );
    }

    #[test]
    fn commands_on_two_profiles_together_do_not_depend_on_the_order() {
        let (m, _) = Model::booted(&["a".to_owned()]);
        let mv = together(
            Move::Stop("a".to_owned()),
            Move::Start("default".to_owned()),
        );
        assert!(mv.allowed(&m, BackendKind::Process));
        assert!(!mv.splits(&m));
        let ops = mv.ops(Codes {
            command: Some(0),
            background: Some(0),
        });
        assert!(matches!(
            ops[0],
            Op::Background {
                verb: Verb::Stop,
                ..
            }
        ));
        assert!(matches!(
            ops[1],
            Op::Operator {
                verb: Verb::Start,
                ..
            }
        ));
    }

    #[test]
    fn a_stop_in_a_backoff_leaves_the_killed_record_and_cancels_the_revival() {
        let (mut m, _) = Model::booted(&["a".to_owned()]);
        let mv = Move::StopInBackoff("a".to_owned());
        assert!(mv.allowed(&m, BackendKind::Process));
        assert_eq!(mv.apply(&mut m).code, Some(0));
        let v = m.view("a").unwrap();
        assert_eq!(v.supervision, Supervision::Down);
        assert_eq!(v.recorded, Recorded::Running);
        assert_eq!(v.intent, Intent::Stopped);
        assert_eq!(
            mv.settled(),
            Some(vec![
                Move::Signal("a".to_owned(), Signal::Kill),
                Move::Stop("a".to_owned())
            ])
        );
    }

    #[test]
    fn a_command_aimed_at_a_backoff_keeps_what_missing_it_would_have_done() {
        let (m0, _) = Model::booted(&["a".to_owned()]);
        // A stop that missed stops the revived gateway: its record says so.
        let mut m = m0.clone();
        let late = Move::StopInBackoff("a".to_owned())
            .apply(&mut m)
            .missed
            .expect("a stop after the revival ends otherwise");
        assert_eq!(m.view("a").unwrap().recorded, Recorded::Running);
        assert_eq!(late.view("a").unwrap().recorded, Recorded::Stopped);
        // A start that missed finds the revived gateway up: nothing a look
        // shows differs, but the crash stays counted.
        let mut m = m0.clone();
        let late = Move::StartInBackoff("a".to_owned())
            .apply(&mut m)
            .missed
            .expect("a start after the revival keeps the crash");
        assert_eq!(m.view("a"), late.view("a"));
        assert_eq!((m.crashes("a"), late.crashes("a")), (0, 1));
    }

    #[test]
    fn an_after_kill_delay_spans_twice_the_backoff_of_its_backend() {
        for backend in [BackendKind::Process, BackendKind::Docker] {
            assert_eq!(
                after_kill_max_ms(backend),
                2 * u64::from(crate::explore::execute::backoff_ms(backend))
            );
        }
    }
}
