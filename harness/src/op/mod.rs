//! Every operation the harness performs on a target, as one type.
//!
//! A scenario is its setup operations and its fault (an [`Op`] and how many
//! times); explore composes its moves from the same [`Op`]s. One codec reads
//! and writes them as the table's TOML ([`toml`]), and one interpreter
//! performs them through the target's driver and the sandbox ([`perform`]).
//! Adding an operation is one variant here, its words in [`toml`], its claims
//! in [`Op::claims`], and one arm in [`perform`].

mod perform;
mod storm;
pub mod template;
pub mod toml;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use perform::{
    join_background, kill_gateway, perform, wait_life_ended, OpError, Performed, Role,
};
pub use storm::{SplitMix64, StormCount};

use crate::backend::{FsFault, Signal};
use crate::target::{Claim, Verb};

/// One operation on a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// An operator command (`gateway start|stop|restart --profile P` for the
    /// contract, the adapter's verbs otherwise). As a setup step it must exit
    /// with `expect_code`; as the fault, `[expect.command]` judges it.
    Operator {
        /// Start, stop or restart.
        verb: Verb,
        /// The profile.
        profile: String,
        /// The exit code a setup step must have.
        expect_code: i32,
    },
    /// A bare signal to the profile's gateway (no marker); then the life has
    /// ended and every profile settled.
    Signal {
        /// The profile.
        profile: String,
        /// Which signal.
        signal: Signal,
    },
    /// The kernel OOM-kills the profile's gateway (Docker only).
    Oom {
        /// The profile.
        profile: String,
    },
    /// A clean container restart: SIGTERM to the supervisor, a wait, a boot;
    /// with a stop timeout, SIGKILL once it has passed (`docker restart -t`).
    ContainerRestart {
        /// The stop timeout (`None`: the backend's default).
        stop_timeout: Option<Duration>,
    },
    /// SIGKILL to the supervisor and so every gateway, then a boot
    /// (`docker kill` + `docker start`).
    ContainerKill,
    /// A bare SIGTERM to the supervisor alone, as `docker stop` sends first
    /// (or `kill 1` by hand): the supervisor tears its gateways down and
    /// exits; once it has, it is booted again.
    SupervisorSigterm,
    /// SIGKILL to the supervisor alone, its services' processes left alive;
    /// the target's own init starts it again (the adapter's
    /// `supervisor_crash`, which returns once it answers again).
    SupervisorCrash,
    /// A clean restart of the supervisor alone (its services may outlive it
    /// or not, as it documents); the adapter's `supervisor_restart`.
    SupervisorRestart,
    /// A signal to the profile's gateway through the supervisor's own API
    /// (`docker kill -s SIG`), not a bare kill(2).
    ApiSignal {
        /// The profile.
        profile: String,
        /// Which signal.
        signal: Signal,
    },
    /// SIGKILLs of the profile's gateway, each at a seeded random instant of
    /// its start-up, each life revived by the supervisor.
    KillStorm {
        /// The profile.
        profile: String,
        /// How many hits.
        hits: u32,
        /// The hits' seed and longest delay.
        storm: Storm,
    },
    /// SIGKILLs of the supervisor, each at a seeded random instant after a
    /// boot (`docker kill` + `docker start`).
    KillStormInit {
        /// How many hits.
        hits: u32,
        /// The hits' seed and longest delay.
        storm: Storm,
    },
    /// Writes a file of the data dir; placeholders in `content` are filled in
    /// ([`template`]).
    Write {
        /// Path relative to the data dir.
        path: String,
        /// Content, with `{pid:P}`, `{start_time:P}`, `{now}`, `{now-Ns}`, `{now+Ns}`.
        content: String,
    },
    /// Overwrites the profile's state file with damaged bytes of one class.
    Damage {
        /// The profile.
        profile: String,
        /// What kind of damage.
        class: DamageClass,
    },
    /// Writes the target's "this start must fail" file into the profile's
    /// home (its adapter's `[drive] break_start`; the contract's: a bad config.toml).
    BreakStart {
        /// The profile.
        profile: String,
    },
    /// Makes writes in the profile's home fail until the end of the run or an
    /// [`Op::FsRestore`].
    FsFault {
        /// The profile.
        profile: String,
        /// Which fault.
        fault: FsFault,
    },
    /// Makes the profile's home writable again and frees a full disk's filler
    /// (a directory where a file belongs stays).
    FsRestore {
        /// The profile.
        profile: String,
    },
    /// A bare signal to the profile's gateway, and on at once: no wait for
    /// that life to end nor for anything to settle, so that the next
    /// operation lands in what the signal set going.
    SignalNoWait {
        /// The profile.
        profile: String,
        /// Which signal.
        signal: Signal,
    },
    /// An operator command started in the background: the next operation
    /// starts while it runs (the two start together). Its exit code must be
    /// `expect_code` once it ends; a run joins it after the fault (explore:
    /// after the move).
    Background {
        /// Start, stop or restart.
        verb: Verb,
        /// The profile.
        profile: String,
        /// The exit code it must end with.
        expect_code: i32,
    },
    /// Waits until the profile is in `phase`, a transition its status shows,
    /// and for nothing else: the next operation lands inside it.
    Await {
        /// The profile.
        profile: String,
        /// The transition.
        phase: Phase,
    },
    /// Lets `duration` pass. A rule of time (the crash window) needs the
    /// clock to move, and there is no event to wait for instead.
    Pause {
        /// How long.
        duration: Duration,
    },
}

/// A transition of one profile that its status shows, for [`Op::Await`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The gateway ended unexpectedly and its revival is pending
    /// (`supervised: backoff`).
    Backoff,
    /// The gateway runs and has persisted `starting`: not yet `running`.
    Starting,
    /// The gateway runs and has persisted `draining`: its teardown is under way.
    Draining,
}

impl Phase {
    /// The word in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Backoff => "backoff",
            Phase::Starting => "starting",
            Phase::Draining => "draining",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Op {
    /// The profile it acts on; `None` for the whole supervisor or the data dir.
    pub fn profile(&self) -> Option<&str> {
        match self {
            Op::Operator { profile, .. }
            | Op::Signal { profile, .. }
            | Op::ApiSignal { profile, .. }
            | Op::Oom { profile }
            | Op::KillStorm { profile, .. }
            | Op::Damage { profile, .. }
            | Op::BreakStart { profile }
            | Op::FsFault { profile, .. }
            | Op::FsRestore { profile }
            | Op::SignalNoWait { profile, .. }
            | Op::Background { profile, .. }
            | Op::Await { profile, .. } => Some(profile),
            Op::ContainerRestart { .. }
            | Op::ContainerKill
            | Op::SupervisorSigterm
            | Op::SupervisorCrash
            | Op::SupervisorRestart
            | Op::KillStormInit { .. }
            | Op::Write { .. }
            | Op::Pause { .. } => None,
        }
    }

    /// The claims a target must make for this operation to be performed and
    /// observed at all, whatever the scenario names itself: a `write` needs
    /// the contract's files, a SIGINT the interactive stop, ...
    pub fn claims(&self) -> Vec<Claim> {
        match self {
            Op::Operator {
                verb: Verb::Restart,
                ..
            }
            | Op::Background {
                verb: Verb::Restart,
                ..
            } => vec![Claim::RestartExits75],
            Op::Signal { signal, .. } | Op::SignalNoWait { signal, .. } => match signal {
                Signal::Int => vec![Claim::InteractiveStop],
                Signal::Hup => vec![Claim::SighupIsABareSignal],
                Signal::Usr1 => vec![Claim::RestartExits75],
                Signal::Term | Signal::Kill => Vec::new(),
            },
            Op::Oom { .. } => vec![Claim::OomIsNotAStop],
            Op::SupervisorCrash => vec![Claim::SupervisorCrashIsNotAStop],
            Op::SupervisorRestart => vec![Claim::SupervisorRestartIsNotAStop],
            Op::ApiSignal { .. } => vec![Claim::ApiSignalIsAStop],
            Op::BreakStart { .. } => vec![Claim::NoRestartForever],
            Op::Write { .. } | Op::FsFault { .. } | Op::FsRestore { .. } => {
                vec![Claim::ContractFiles]
            }
            Op::Operator { .. }
            | Op::Background { .. }
            | Op::ContainerRestart { .. }
            | Op::ContainerKill
            | Op::SupervisorSigterm
            | Op::KillStorm { .. }
            | Op::KillStormInit { .. }
            | Op::Damage { .. } => Vec::new(),
            // Any status shows a transition, and time passes on every target.
            Op::Await { .. } | Op::Pause { .. } => Vec::new(),
        }
    }

    /// Whether it boots the supervisor again itself; after the others, a
    /// run performs a clean container restart to see the next boot.
    pub fn reboots(&self) -> bool {
        match self {
            Op::ContainerRestart { .. }
            | Op::ContainerKill
            | Op::SupervisorSigterm
            | Op::KillStormInit { .. } => true,
            Op::Operator { .. }
            | Op::Signal { .. }
            | Op::ApiSignal { .. }
            | Op::SupervisorCrash
            | Op::SupervisorRestart
            | Op::Oom { .. }
            | Op::KillStorm { .. }
            | Op::Write { .. }
            | Op::Damage { .. }
            | Op::BreakStart { .. }
            | Op::FsFault { .. }
            | Op::FsRestore { .. }
            | Op::SignalNoWait { .. }
            | Op::Background { .. }
            | Op::Await { .. }
            | Op::Pause { .. } => false,
        }
    }

    /// Whether a run waits for every profile to settle after it as a setup
    /// step: not after one that sets a transition going or waits for one,
    /// so that the next operation lands inside it.
    pub fn settles(&self) -> bool {
        !matches!(
            self,
            Op::SignalNoWait { .. } | Op::Background { .. } | Op::Await { .. } | Op::Pause { .. }
        )
    }

    /// Whether it is an operator command (its output can be expected).
    pub fn is_command(&self) -> bool {
        matches!(self, Op::Operator { .. })
    }

    /// Whether it OOM-kills a gateway (the sandbox then needs a memory limit).
    pub fn ooms(&self) -> bool {
        matches!(self, Op::Oom { .. })
    }

    /// Whether it fills a disk (the sandbox then needs a size-limited
    /// filesystem for its homes).
    pub fn fills_disk(&self) -> bool {
        matches!(
            self,
            Op::FsFault {
                fault: FsFault::FullDisk,
                ..
            }
        )
    }
}

/// What a run's history says a setup step does.
impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Operator {
                verb,
                profile,
                expect_code,
            } => write!(
                f,
                "gateway {} --profile {profile} (exit {expect_code})",
                verb.as_str()
            ),
            Op::Write { path, .. } => write!(f, "write {path}"),
            Op::Signal { profile, signal } => write!(f, "gateway kill <pid of {profile}> {signal}"),
            Op::ContainerRestart { stop_timeout: None } => f.write_str("clean container restart"),
            Op::ContainerRestart {
                stop_timeout: Some(t),
            } => write!(
                f,
                "container restart, SIGKILL after a stop timeout of {} ms",
                t.as_millis()
            ),
            Op::ContainerKill => f.write_str("container kill (SIGKILL to init), then a boot"),
            Op::SupervisorSigterm => {
                f.write_str("SIGTERM to the supervisor alone, then a boot once it exited")
            }
            Op::Oom { profile } => write!(f, "OOM of {profile}'s gateway"),
            Op::SupervisorCrash => {
                f.write_str("SIGKILL to the supervisor alone, then it starts again")
            }
            Op::SupervisorRestart => f.write_str("a clean restart of the supervisor alone"),
            Op::ApiSignal { profile, signal } => {
                write!(
                    f,
                    "{signal} to {profile}'s gateway through the supervisor's API"
                )
            }
            Op::FsFault { profile, fault } => write!(f, "{fault} for {profile}"),
            Op::FsRestore { profile } => write!(f, "{profile}'s home writable again"),
            Op::KillStorm {
                profile,
                hits,
                storm,
            } => write!(
                f,
                "kill storm on {profile}'s gateway: {hits} hits, seed {}, window {} ms",
                storm.seed,
                storm.window.as_millis()
            ),
            Op::KillStormInit { hits, storm } => {
                write!(
                    f,
                    "kill storm on init: {hits} hits, seed {}, window {} ms",
                    storm.seed,
                    storm.window.as_millis()
                )?;
                if let Some(t) = storm.teardown {
                    write!(f, ", teardown window {} ms", t.as_millis())?;
                }
                if storm.spread == Spread::Octaves {
                    write!(f, ", spread over octaves")?;
                }
                Ok(())
            }
            Op::Damage { profile, class } => {
                write!(f, "damage {profile}'s state file ({class})")
            }
            Op::BreakStart { profile } => write!(f, "make {profile}'s next start fail"),
            Op::SignalNoWait { profile, signal } => {
                write!(f, "gateway kill <pid of {profile}> {signal}, not waiting")
            }
            Op::Background {
                verb,
                profile,
                expect_code,
            } => write!(
                f,
                "gateway {} --profile {profile} in the background (exit {expect_code})",
                verb.as_str()
            ),
            Op::Await { profile, phase } => write!(f, "wait until {profile} is in {phase}"),
            Op::Pause { duration } => write!(f, "let {} ms pass", duration.as_millis()),
        }
    }
}

/// The one fault of a scenario: an operation, and how many times it hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// What it does.
    pub op: Op,
    /// How many times (each waits for the revival of the previous one); a
    /// storm counts its hits in its operation instead.
    pub repeat: u32,
}

impl Fault {
    /// How many times it hits: its repeats, or a storm's hits.
    pub fn times(&self) -> u32 {
        match &self.op {
            Op::KillStorm { hits, .. } | Op::KillStormInit { hits, .. } => *hits,
            _ => self.repeat,
        }
    }
}

/// The fault as the table names it: `bare-sigterm default x3`.
impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match toml::fault_word(&self.op) {
            Some(word) => f.write_str(word)?,
            None => write!(f, "{}", self.op)?,
        }
        if let Some(p) = self.op.profile() {
            write!(f, " {p}")?;
        }
        if self.times() > 1 {
            write!(f, " x{}", self.times())?;
        }
        Ok(())
    }
}

/// How a storm draws its instants: a random delay in `0..=window` after each
/// new gateway is seen, drawn from a PRNG seeded with `seed` (reproducible).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Storm {
    /// The PRNG's seed.
    pub seed: u64,
    /// The longest delay before a hit.
    pub window: Duration,
    /// Teardown hits too (storms on the supervisor): each hit is drawn as a
    /// start-up hit or as a container stop cut this long at most after its
    /// SIGTERM, once every gateway is live.
    pub teardown: Option<Duration>,
    /// How delays spread over their window.
    pub spread: Spread,
}

impl Storm {
    /// Start-up hits only, spread evenly: the table's first storms.
    pub fn even(seed: u64, window: Duration) -> Storm {
        Storm {
            seed,
            window,
            teardown: None,
            spread: Spread::Even,
        }
    }
}

/// How a storm's delays spread over their window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Spread {
    /// Evenly over `0..=window`.
    #[default]
    Even,
    /// An equal share in every octave from window/1024 to window, so that
    /// hits land in the first milliseconds of a fast writer and across the
    /// seconds of a slow one alike (a black-box storm does not know which).
    Octaves,
}

/// Classes of damage to a state file, each a literal byte string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DamageClass {
    /// Zero bytes.
    Empty,
    /// JSON cut in the middle.
    Truncated,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// Valid JSON that is not an object.
    NotAnObject,
    /// An object whose fields have the wrong types.
    WrongTypes,
    /// An object whose state word no version knows.
    UnknownState,
}

impl DamageClass {
    /// Every class.
    pub const ALL: [DamageClass; 6] = [
        DamageClass::Empty,
        DamageClass::Truncated,
        DamageClass::InvalidUtf8,
        DamageClass::NotAnObject,
        DamageClass::WrongTypes,
        DamageClass::UnknownState,
    ];

    /// The name in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            DamageClass::Empty => "empty",
            DamageClass::Truncated => "truncated",
            DamageClass::InvalidUtf8 => "invalid-utf8",
            DamageClass::NotAnObject => "not-an-object",
            DamageClass::WrongTypes => "wrong-types",
            DamageClass::UnknownState => "unknown-state",
        }
    }

    /// The bytes written.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            DamageClass::Empty => b"",
            DamageClass::Truncated => br#"{"schema":1,"gateway_state":"runn"#,
            DamageClass::InvalidUtf8 => b"{\"schema\":1,\"gateway_state\":\"running\xff\xfe\"}",
            DamageClass::NotAnObject => br#"["running"]"#,
            DamageClass::WrongTypes => br#"{"schema":1,"gateway_state":["running"],"pid":"7"}"#,
            DamageClass::UnknownState => br#"{"schema":1,"gateway_state":"hibernating","pid":7}"#,
        }
    }
}

impl fmt::Display for DamageClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
