//! The table's TOML form of an operation, both ways: a `[[setup]]` table
//! (`op = "kill"`, ...) or the `[fault]` table (`kind = "bare-sigterm"`, ...)
//! read into an [`Op`], and an [`Op`] written back as explore writes the
//! schedules it found. Every word of both tables is in this file once.
//!
//! Errors carry the byte span they are about; the scenario loader turns it
//! into `file:line`.

use std::fmt::Write as _;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{template, DamageClass, Fault, Op, Phase, Spread, Storm};
use crate::backend::{FsFault, Signal};
use crate::target::Verb;

/// A mistake in an operation's table: what is wrong and what is allowed,
/// and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpSyntaxError {
    /// The bytes it is about.
    pub span: Range<usize>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl OpSyntaxError {
    fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        OpSyntaxError {
            span,
            message: message.into(),
        }
    }
}

/// Checks that a profile named in the table exists in the scenario; the
/// second argument says where it was named (`setup step 2`).
pub type CheckProfile<'a> = dyn Fn(&Spanned<String>, &str) -> Result<String, OpSyntaxError> + 'a;

/// The words of `[[setup]]`'s `op`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SetupWord {
    /// An operator start.
    Start,
    /// An operator stop.
    Stop,
    /// An operator restart.
    Restart,
    /// A file written.
    Write,
    /// A bare signal.
    Kill,
    /// A clean container restart.
    ContainerRestart,
    /// Damaged state file.
    Damage,
    /// The next start fails.
    BreakStart,
    /// SIGKILL to the supervisor, then a boot.
    ContainerKill,
    /// An OOM kill.
    Oom,
    /// A storm on the supervisor.
    KillStormInit,
    /// A read-only home.
    ReadOnlyHome,
    /// A directory where a file belongs.
    DirWhereFile,
    /// A full disk.
    FullDisk,
    /// The home writable again.
    RestoreHome,
    /// SIGKILL to the supervisor alone; it starts again.
    SupervisorCrash,
    /// A clean restart of the supervisor alone.
    SupervisorRestart,
    /// A signal through the supervisor's API.
    ApiKill,
    /// Wait until a profile is in a transition.
    Await,
    /// Let time pass.
    Pause,
}

/// The words of `[fault]`'s `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultWord {
    /// Stop the whole supervisor with SIGTERM and boot it again (`docker restart`).
    ContainerRestart,
    /// SIGTERM to one gateway, no marker.
    BareSigterm,
    /// SIGHUP to one gateway, no marker.
    BareSighup,
    /// SIGKILL to one gateway.
    Sigkill,
    /// The kernel OOM-kills one gateway (Docker only).
    Oom,
    /// SIGKILL to the supervisor and so every gateway, then boot again.
    ContainerKill,
    /// `gateway stop`.
    OperatorStop,
    /// `gateway start`.
    OperatorStart,
    /// `gateway restart`.
    OperatorRestart,
    /// SIGINT to one gateway.
    InteractiveStop,
    /// A container restart whose stop timeout is shorter than the drain.
    StopTimeout,
    /// SIGKILLs of one gateway at seeded instants of its start-ups.
    KillStorm,
    /// SIGKILLs of the supervisor at seeded instants after its boots.
    KillStormInit,
    /// A bare SIGTERM to the supervisor alone, then a boot once it exited.
    SupervisorSigterm,
    /// SIGKILL to the supervisor alone, its services alive; it starts again.
    SupervisorCrash,
    /// A clean restart of the supervisor alone.
    SupervisorRestart,
    /// SIGTERM to one gateway through the supervisor's own API.
    ApiSigterm,
}

impl FaultWord {
    /// Every fault word, in the order `list` shows them.
    pub const ALL: [FaultWord; 17] = [
        FaultWord::ContainerRestart,
        FaultWord::BareSigterm,
        FaultWord::BareSighup,
        FaultWord::Sigkill,
        FaultWord::Oom,
        FaultWord::ContainerKill,
        FaultWord::OperatorStop,
        FaultWord::OperatorStart,
        FaultWord::OperatorRestart,
        FaultWord::InteractiveStop,
        FaultWord::StopTimeout,
        FaultWord::KillStorm,
        FaultWord::KillStormInit,
        FaultWord::SupervisorSigterm,
        FaultWord::SupervisorCrash,
        FaultWord::SupervisorRestart,
        FaultWord::ApiSigterm,
    ];

    /// The word.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultWord::ContainerRestart => "container-restart",
            FaultWord::BareSigterm => "bare-sigterm",
            FaultWord::BareSighup => "bare-sighup",
            FaultWord::Sigkill => "sigkill",
            FaultWord::Oom => "oom",
            FaultWord::ContainerKill => "container-kill",
            FaultWord::OperatorStop => "operator-stop",
            FaultWord::OperatorStart => "operator-start",
            FaultWord::OperatorRestart => "operator-restart",
            FaultWord::InteractiveStop => "interactive-stop",
            FaultWord::StopTimeout => "stop-timeout",
            FaultWord::KillStorm => "kill-storm",
            FaultWord::KillStormInit => "kill-storm-init",
            FaultWord::SupervisorSigterm => "supervisor-sigterm",
            FaultWord::SupervisorCrash => "supervisor-crash",
            FaultWord::SupervisorRestart => "supervisor-restart",
            FaultWord::ApiSigterm => "api-sigterm",
        }
    }

    /// Whether it names one profile (the others hit the whole supervisor).
    fn targets_profile(self) -> bool {
        match self {
            FaultWord::ContainerRestart
            | FaultWord::ContainerKill
            | FaultWord::StopTimeout
            | FaultWord::KillStormInit
            | FaultWord::SupervisorSigterm
            | FaultWord::SupervisorCrash
            | FaultWord::SupervisorRestart => false,
            FaultWord::ApiSigterm
            | FaultWord::KillStorm
            | FaultWord::BareSigterm
            | FaultWord::BareSighup
            | FaultWord::Sigkill
            | FaultWord::Oom
            | FaultWord::OperatorStop
            | FaultWord::OperatorStart
            | FaultWord::OperatorRestart
            | FaultWord::InteractiveStop => true,
        }
    }

    fn is_storm(self) -> bool {
        matches!(self, FaultWord::KillStorm | FaultWord::KillStormInit)
    }
}

/// The `[fault]` word of an operation, if it can be a scenario's fault.
pub fn fault_word(op: &Op) -> Option<&'static str> {
    let word = match op {
        Op::Operator { verb, .. } => match verb {
            Verb::Stop => FaultWord::OperatorStop,
            Verb::Start => FaultWord::OperatorStart,
            Verb::Restart => FaultWord::OperatorRestart,
        },
        Op::Signal { signal, .. } => match signal {
            Signal::Term => FaultWord::BareSigterm,
            Signal::Hup => FaultWord::BareSighup,
            Signal::Kill => FaultWord::Sigkill,
            Signal::Int => FaultWord::InteractiveStop,
            Signal::Usr1 => return None,
        },
        Op::Oom { .. } => FaultWord::Oom,
        Op::ContainerRestart { stop_timeout: None } => FaultWord::ContainerRestart,
        Op::ContainerRestart {
            stop_timeout: Some(_),
        } => FaultWord::StopTimeout,
        Op::ContainerKill => FaultWord::ContainerKill,
        Op::SupervisorSigterm => FaultWord::SupervisorSigterm,
        Op::SupervisorCrash => FaultWord::SupervisorCrash,
        Op::SupervisorRestart => FaultWord::SupervisorRestart,
        Op::ApiSignal {
            signal: Signal::Term,
            ..
        } => FaultWord::ApiSigterm,
        Op::ApiSignal { .. } => return None,
        Op::KillStorm { .. } => FaultWord::KillStorm,
        Op::KillStormInit { .. } => FaultWord::KillStormInit,
        Op::Write { .. }
        | Op::Damage { .. }
        | Op::BreakStart { .. }
        | Op::FsFault { .. }
        | Op::FsRestore { .. }
        | Op::SignalNoWait { .. }
        | Op::Background { .. }
        | Op::Await { .. }
        | Op::Pause { .. } => return None,
    };
    Some(word.as_str())
}

/// A `[[setup]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// Which operation.
    pub op: Spanned<SetupWord>,
    profile: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    content: Option<Spanned<String>>,
    expect_code: Option<Spanned<i32>>,
    signal: Option<Spanned<String>>,
    class: Option<Spanned<DamageClass>>,
    repeat: Option<Spanned<u32>>,
    seed: Option<Spanned<u64>>,
    window_ms: Option<Spanned<u64>>,
    file: Option<Spanned<String>>,
    wait: Option<Spanned<bool>>,
    phase: Option<Spanned<Phase>>,
    ms: Option<Spanned<u64>>,
}

impl RawStep {
    /// The data-dir path a `write` step names, if it is one.
    pub fn write_path(&self) -> Option<&str> {
        match self.op.get_ref() {
            SetupWord::Write => self.path.as_ref().map(|p| p.get_ref().as_str()),
            _ => None,
        }
    }
}

/// The `[fault]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    /// Which fault.
    pub kind: Spanned<FaultWord>,
    profile: Option<Spanned<String>>,
    repeat: Option<Spanned<u32>>,
    stop_timeout_ms: Option<Spanned<u64>>,
    seed: Option<Spanned<u64>>,
    window_ms: Option<Spanned<u64>>,
    teardown_window_ms: Option<Spanned<u64>>,
    spread: Option<Spanned<Spread>>,
}

/// Which keys each setup word takes, so that a stray key is named with what
/// is allowed, and the word as written.
fn setup_keys(word: SetupWord) -> (&'static [&'static str], &'static str) {
    match word {
        SetupWord::Start => (&["op", "profile", "expect_code", "wait"], "start"),
        SetupWord::Stop => (&["op", "profile", "expect_code", "wait"], "stop"),
        SetupWord::Restart => (&["op", "profile", "expect_code", "wait"], "restart"),
        SetupWord::Write => (&["op", "path", "content"], "write"),
        SetupWord::Kill => (&["op", "profile", "signal", "wait"], "kill"),
        SetupWord::ContainerRestart => (&["op"], "container-restart"),
        SetupWord::Damage => (&["op", "profile", "class"], "damage"),
        SetupWord::BreakStart => (&["op", "profile"], "break-start"),
        SetupWord::ContainerKill => (&["op"], "container-kill"),
        SetupWord::Oom => (&["op", "profile"], "oom"),
        SetupWord::KillStormInit => (&["op", "repeat", "seed", "window_ms"], "kill-storm-init"),
        SetupWord::ReadOnlyHome => (&["op", "profile"], "read-only-home"),
        SetupWord::DirWhereFile => (&["op", "profile", "file"], "dir-where-file"),
        SetupWord::FullDisk => (&["op", "profile"], "full-disk"),
        SetupWord::RestoreHome => (&["op", "profile"], "restore-home"),
        SetupWord::SupervisorCrash => (&["op"], "supervisor-crash"),
        SetupWord::SupervisorRestart => (&["op"], "supervisor-restart"),
        SetupWord::ApiKill => (&["op", "profile", "signal"], "api-kill"),
        SetupWord::Await => (&["op", "profile", "phase"], "await"),
        SetupWord::Pause => (&["op", "ms"], "pause"),
    }
}

/// The `signal` of a setup step that sends one.
fn step_signal(
    s: &RawStep,
    what: &str,
    need: &dyn Fn(&str) -> OpSyntaxError,
) -> Result<Signal, OpSyntaxError> {
    let sig = s.signal.as_ref().ok_or_else(|| need("signal"))?;
    sig.get_ref()
        .parse::<Signal>()
        .map_err(|e| OpSyntaxError::new(sig.span(), format!("{what}: {e}")))
}

/// Reads setup step `n`.
pub fn decode_step(
    n: usize,
    s: &RawStep,
    check_profile: &CheckProfile<'_>,
) -> Result<Op, OpSyntaxError> {
    let word = *s.op.get_ref();
    let what = format!("setup step {n}");
    let (allowed, name) = setup_keys(word);
    refuse_stray_keys(s, &what, allowed, name)?;
    let need = |key: &str| {
        OpSyntaxError::new(
            s.op.span(),
            format!("{what}: op = \"{name}\" needs `{key}`"),
        )
    };
    let profile = || -> Result<String, OpSyntaxError> {
        let p = s.profile.as_ref().ok_or_else(|| need("profile"))?;
        check_profile(p, &what)
    };
    let waits = s.wait.as_ref().is_none_or(|w| *w.get_ref());
    let operator = |verb| -> Result<Op, OpSyntaxError> {
        let (profile, expect_code) = (
            profile()?,
            s.expect_code.as_ref().map_or(0, |c| *c.get_ref()),
        );
        Ok(if waits {
            Op::Operator {
                verb,
                profile,
                expect_code,
            }
        } else {
            Op::Background {
                verb,
                profile,
                expect_code,
            }
        })
    };
    let fs_fault = |fault| -> Result<Op, OpSyntaxError> {
        Ok(Op::FsFault {
            profile: profile()?,
            fault,
        })
    };
    Ok(match word {
        SetupWord::Start => operator(Verb::Start)?,
        SetupWord::Stop => operator(Verb::Stop)?,
        SetupWord::Restart => operator(Verb::Restart)?,
        SetupWord::Write => decode_write(s, &what, &need, check_profile)?,
        SetupWord::Damage => Op::Damage {
            profile: profile()?,
            class: *s.class.as_ref().ok_or_else(|| need("class"))?.get_ref(),
        },
        SetupWord::BreakStart => Op::BreakStart {
            profile: profile()?,
        },
        SetupWord::Kill if !waits => Op::SignalNoWait {
            profile: profile()?,
            signal: step_signal(s, &what, &need)?,
        },
        SetupWord::Kill => Op::Signal {
            profile: profile()?,
            signal: step_signal(s, &what, &need)?,
        },
        SetupWord::Await => Op::Await {
            profile: profile()?,
            phase: *s.phase.as_ref().ok_or_else(|| need("phase"))?.get_ref(),
        },
        SetupWord::Pause => Op::Pause {
            duration: Duration::from_millis(*s.ms.as_ref().ok_or_else(|| need("ms"))?.get_ref()),
        },
        SetupWord::ApiKill => Op::ApiSignal {
            profile: profile()?,
            signal: step_signal(s, &what, &need)?,
        },
        SetupWord::SupervisorCrash => Op::SupervisorCrash,
        SetupWord::SupervisorRestart => Op::SupervisorRestart,
        SetupWord::ContainerRestart => Op::ContainerRestart { stop_timeout: None },
        SetupWord::ContainerKill => Op::ContainerKill,
        SetupWord::ReadOnlyHome => fs_fault(FsFault::ReadOnlyHome)?,
        SetupWord::FullDisk => fs_fault(FsFault::FullDisk)?,
        SetupWord::RestoreHome => Op::FsRestore {
            profile: profile()?,
        },
        SetupWord::DirWhereFile => {
            let file = s.file.as_ref().ok_or_else(|| need("file"))?;
            fs_fault(FsFault::DirWhereFile(home_file_name(file, &what)?))?
        }
        SetupWord::Oom => Op::Oom {
            profile: profile()?,
        },
        SetupWord::KillStormInit => storm_init_step(s, &what, &need)?,
    })
}

/// A file name of the home, as `dir-where-file` takes it.
fn home_file_name(file: &Spanned<String>, what: &str) -> Result<String, OpSyntaxError> {
    let name = file.get_ref();
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(OpSyntaxError::new(
            file.span(),
            format!("{what}: file `{name}` must be a file name of the home, without `/`"),
        ));
    }
    Ok(name.clone())
}

/// A `kill-storm-init` step: its hits, seed and window.
fn storm_init_step(
    s: &RawStep,
    what: &str,
    need: &dyn Fn(&str) -> OpSyntaxError,
) -> Result<Op, OpSyntaxError> {
    let hits = *s.repeat.as_ref().ok_or_else(|| need("repeat"))?.get_ref();
    if hits == 0 {
        return Err(OpSyntaxError::new(
            s.op.span(),
            format!("{what}: repeat must be at least 1"),
        ));
    }
    let seed = *s.seed.as_ref().ok_or_else(|| need("seed"))?.get_ref();
    let window = *s
        .window_ms
        .as_ref()
        .ok_or_else(|| need("window_ms"))?
        .get_ref();
    Ok(Op::KillStormInit {
        hits,
        storm: Storm::even(seed, Duration::from_millis(window)),
    })
}

/// Names the first key a setup step has that its word does not take.
fn refuse_stray_keys(
    s: &RawStep,
    what: &str,
    allowed: &[&str],
    name: &str,
) -> Result<(), OpSyntaxError> {
    let present: [(&str, Option<Range<usize>>); 13] = [
        ("profile", s.profile.as_ref().map(Spanned::span)),
        ("path", s.path.as_ref().map(Spanned::span)),
        ("content", s.content.as_ref().map(Spanned::span)),
        ("expect_code", s.expect_code.as_ref().map(Spanned::span)),
        ("signal", s.signal.as_ref().map(Spanned::span)),
        ("class", s.class.as_ref().map(Spanned::span)),
        ("repeat", s.repeat.as_ref().map(Spanned::span)),
        ("seed", s.seed.as_ref().map(Spanned::span)),
        ("window_ms", s.window_ms.as_ref().map(Spanned::span)),
        ("file", s.file.as_ref().map(Spanned::span)),
        ("wait", s.wait.as_ref().map(Spanned::span)),
        ("phase", s.phase.as_ref().map(Spanned::span)),
        ("ms", s.ms.as_ref().map(Spanned::span)),
    ];
    for (key, span) in present {
        if let Some(span) = span {
            if !allowed.contains(&key) {
                return Err(OpSyntaxError::new(
                    span,
                    format!(
                        "{what}: `{key}` does not go with op = \"{name}\"; it takes {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A `write` step: a safe relative path, and placeholders that name known
/// profiles.
fn decode_write(
    s: &RawStep,
    what: &str,
    need: &dyn Fn(&str) -> OpSyntaxError,
    check_profile: &CheckProfile<'_>,
) -> Result<Op, OpSyntaxError> {
    let content = s.content.as_ref().ok_or_else(|| need("content"))?;
    for hole in template::placeholders(content.get_ref())
        .map_err(|e| OpSyntaxError::new(content.span(), format!("{what}: {e}")))?
    {
        if let template::Placeholder::Pid(p) | template::Placeholder::StartTime(p) = hole {
            check_profile(&Spanned::new(content.span(), p), what)?;
        }
    }
    let p = s.path.as_ref().ok_or_else(|| need("path"))?;
    if !safe_rel_path(p.get_ref()) {
        return Err(OpSyntaxError::new(
            p.span(),
            format!(
                "{what}: path `{}` must be relative to the data dir, without `..`",
                p.get_ref()
            ),
        ));
    }
    Ok(Op::Write {
        path: p.get_ref().clone(),
        content: content.get_ref().clone(),
    })
}

fn safe_rel_path(p: &str) -> bool {
    let path = std::path::Path::new(p);
    !p.is_empty()
        && path.is_relative()
        && path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// Reads the `[fault]` table.
pub fn decode_fault(
    f: &RawFault,
    check_profile: &CheckProfile<'_>,
) -> Result<Fault, OpSyntaxError> {
    let word = *f.kind.get_ref();
    let kind = word.as_str();
    let err = OpSyntaxError::new;
    let profile = match (&f.profile, word.targets_profile()) {
        (Some(p), true) => Some(check_profile(p, "fault")?),
        (None, true) => {
            return Err(err(
                f.kind.span(),
                format!("fault `{kind}` hits one gateway: name it with `profile`"),
            ))
        }
        (Some(p), false) => {
            return Err(err(
                p.span(),
                format!("fault `{kind}` hits the whole supervisor: remove `profile`"),
            ))
        }
        (None, false) => None,
    };
    let repeat = fault_repeat(f, word)?;
    let stop_timeout = stop_timeout(f, word)?;
    refuse_storm_keys(f, word)?;
    let p = || profile.clone().unwrap_or_default();
    let signal = |signal| Op::Signal {
        profile: p(),
        signal,
    };
    let operator = |verb| Op::Operator {
        verb,
        profile: p(),
        expect_code: 0,
    };
    let op = match word {
        FaultWord::ContainerRestart | FaultWord::StopTimeout => {
            Op::ContainerRestart { stop_timeout }
        }
        FaultWord::BareSigterm => signal(Signal::Term),
        FaultWord::BareSighup => signal(Signal::Hup),
        FaultWord::Sigkill => signal(Signal::Kill),
        FaultWord::InteractiveStop => signal(Signal::Int),
        FaultWord::Oom => Op::Oom { profile: p() },
        FaultWord::ContainerKill => Op::ContainerKill,
        FaultWord::SupervisorSigterm => Op::SupervisorSigterm,
        FaultWord::SupervisorCrash => Op::SupervisorCrash,
        FaultWord::SupervisorRestart => Op::SupervisorRestart,
        FaultWord::ApiSigterm => Op::ApiSignal {
            profile: p(),
            signal: Signal::Term,
        },
        FaultWord::OperatorStop => operator(Verb::Stop),
        FaultWord::OperatorStart => operator(Verb::Start),
        FaultWord::OperatorRestart => operator(Verb::Restart),
        FaultWord::KillStorm => Op::KillStorm {
            profile: p(),
            hits: repeat,
            storm: storm_of(f, word)?,
        },
        FaultWord::KillStormInit => Op::KillStormInit {
            hits: repeat,
            storm: storm_of(f, word)?,
        },
    };
    let repeat = if word.is_storm() { 1 } else { repeat };
    Ok(Fault { op, repeat })
}

fn fault_repeat(f: &RawFault, word: FaultWord) -> Result<u32, OpSyntaxError> {
    let repeat = f.repeat.as_ref().map_or(1, |r| *r.get_ref());
    let span = f.repeat.as_ref().map_or(f.kind.span(), Spanned::span);
    if repeat == 0 {
        return Err(OpSyntaxError::new(span, "repeat must be at least 1"));
    }
    if repeat > 1 && !word.targets_profile() && !word.is_storm() {
        return Err(OpSyntaxError::new(
            span,
            format!(
                "fault `{}` boots the supervisor again itself: it cannot repeat",
                word.as_str()
            ),
        ));
    }
    Ok(repeat)
}

fn stop_timeout(f: &RawFault, word: FaultWord) -> Result<Option<Duration>, OpSyntaxError> {
    match (&f.stop_timeout_ms, word) {
        (Some(ms), FaultWord::StopTimeout) => Ok(Some(Duration::from_millis(*ms.get_ref()))),
        (None, FaultWord::StopTimeout) => Err(OpSyntaxError::new(
            f.kind.span(),
            "fault `stop-timeout` needs `stop_timeout_ms`, shorter than the profile's drain_ms",
        )),
        (Some(ms), _) => Err(OpSyntaxError::new(
            ms.span(),
            "`stop_timeout_ms` goes only with kind = \"stop-timeout\"",
        )),
        (None, _) => Ok(None),
    }
}

/// A storm's seed and window, which it needs.
fn storm_of(f: &RawFault, word: FaultWord) -> Result<Storm, OpSyntaxError> {
    if let (Some(t), FaultWord::KillStorm) = (&f.teardown_window_ms, word) {
        return Err(OpSyntaxError::new(
            t.span(),
            "`teardown_window_ms` goes only with kind = \"kill-storm-init\": a teardown hit cuts a container stop",
        ));
    }
    match (&f.seed, &f.window_ms) {
        (Some(seed), Some(window)) => Ok(Storm {
            seed: *seed.get_ref(),
            window: Duration::from_millis(*window.get_ref()),
            teardown: f
                .teardown_window_ms
                .as_ref()
                .map(|t| Duration::from_millis(*t.get_ref())),
            spread: f.spread.as_ref().map_or(Spread::Even, |s| *s.get_ref()),
        }),
        _ => Err(OpSyntaxError::new(
            f.kind.span(),
            format!(
                "fault `{}` needs `seed` (its random instants are drawn from it) and \
                 `window_ms` (the longest delay before a hit)",
                word.as_str()
            ),
        )),
    }
}

/// `seed` and `window_ms` on a fault that is no storm.
fn refuse_storm_keys(f: &RawFault, word: FaultWord) -> Result<(), OpSyntaxError> {
    if word.is_storm() {
        return Ok(());
    }
    let spans = [
        f.seed.as_ref().map(Spanned::span),
        f.window_ms.as_ref().map(Spanned::span),
        f.teardown_window_ms.as_ref().map(Spanned::span),
        f.spread.as_ref().map(Spanned::span),
    ];
    match spans.into_iter().flatten().next() {
        Some(span) => Err(OpSyntaxError::new(
            span,
            "`seed`, `window_ms`, `teardown_window_ms` and `spread` go only with kind = \"kill-storm\" or \"kill-storm-init\"",
        )),
        None => Ok(()),
    }
}

/// One `[[setup]]` table of `op`; `None` for an operation that has no setup
/// form (a stop timeout, a storm on one gateway, a SIGTERM to the supervisor).
pub fn encode_step(op: &Op) -> Option<String> {
    let mut t = String::from("[[setup]]\n");
    let mut kv = |k: &str, v: String| {
        let _ = writeln!(t, "{k} = {v}");
    };
    match op {
        Op::Operator {
            verb,
            profile,
            expect_code,
        }
        | Op::Background {
            verb,
            profile,
            expect_code,
        } => {
            kv("op", quoted(verb.as_str()));
            kv("profile", quoted(profile));
            if *expect_code != 0 {
                kv("expect_code", expect_code.to_string());
            }
        }
        Op::Write { path, content } => {
            kv("op", quoted("write"));
            kv("path", quoted(path));
            kv("content", format!("'{content}'"));
        }
        Op::Signal { profile, signal } | Op::SignalNoWait { profile, signal } => {
            kv("op", quoted("kill"));
            kv("profile", quoted(profile));
            kv("signal", quoted(signal.name()));
        }
        Op::ContainerRestart { stop_timeout: None } => kv("op", quoted("container-restart")),
        Op::ContainerKill => kv("op", quoted("container-kill")),
        Op::SupervisorCrash => kv("op", quoted("supervisor-crash")),
        Op::SupervisorRestart => kv("op", quoted("supervisor-restart")),
        Op::ApiSignal { profile, signal } => {
            kv("op", quoted("api-kill"));
            kv("profile", quoted(profile));
            kv("signal", quoted(signal.name()));
        }
        Op::Oom { profile } => {
            kv("op", quoted("oom"));
            kv("profile", quoted(profile));
        }
        Op::KillStormInit { hits, storm } => {
            kv("op", quoted("kill-storm-init"));
            kv("repeat", hits.to_string());
            kv("seed", storm.seed.to_string());
            kv("window_ms", storm.window.as_millis().to_string());
        }
        Op::Damage { profile, class } => {
            kv("op", quoted("damage"));
            kv("profile", quoted(profile));
            kv("class", quoted(class.as_str()));
        }
        Op::BreakStart { profile } => {
            kv("op", quoted("break-start"));
            kv("profile", quoted(profile));
        }
        Op::FsFault { profile, fault } => {
            let word = match fault {
                FsFault::ReadOnlyHome => "read-only-home",
                FsFault::DirWhereFile(_) => "dir-where-file",
                FsFault::FullDisk => "full-disk",
            };
            kv("op", quoted(word));
            kv("profile", quoted(profile));
            if let FsFault::DirWhereFile(file) = fault {
                kv("file", quoted(file));
            }
        }
        Op::FsRestore { profile } => {
            kv("op", quoted("restore-home"));
            kv("profile", quoted(profile));
        }
        Op::Await { profile, phase } => {
            kv("op", quoted("await"));
            kv("profile", quoted(profile));
            kv("phase", quoted(phase.as_str()));
        }
        Op::Pause { duration } => {
            kv("op", quoted("pause"));
            kv("ms", duration.as_millis().to_string());
        }
        Op::ContainerRestart {
            stop_timeout: Some(_),
        }
        | Op::SupervisorSigterm
        | Op::KillStorm { .. } => return None,
    }
    if matches!(op, Op::Background { .. } | Op::SignalNoWait { .. }) {
        let _ = writeln!(t, "wait = false");
    }
    Some(t)
}

/// The `[fault]` table of `fault`, from its header line on; `None` for an
/// operation that cannot be a fault (a write: a clean container restart
/// after it is the fault).
pub fn encode_fault(fault: &Fault) -> Option<String> {
    let word = fault_word(&fault.op)?;
    let mut t = String::from("[fault]\n");
    let _ = writeln!(t, "kind = {}", quoted(word));
    if let Some(p) = fault.op.profile() {
        let _ = writeln!(t, "profile = {}", quoted(p));
    }
    match &fault.op {
        Op::KillStorm { hits, storm, .. } | Op::KillStormInit { hits, storm } => {
            let _ = writeln!(t, "repeat = {hits}");
            let _ = writeln!(t, "seed = {}", storm.seed);
            let _ = writeln!(t, "window_ms = {}", storm.window.as_millis());
            if let Some(td) = storm.teardown {
                let _ = writeln!(t, "teardown_window_ms = {}", td.as_millis());
            }
            if storm.spread == Spread::Octaves {
                let _ = writeln!(t, "spread = \"octaves\"");
            }
        }
        Op::ContainerRestart {
            stop_timeout: Some(timeout),
        } => {
            let _ = writeln!(t, "stop_timeout_ms = {}", timeout.as_millis());
        }
        _ if fault.repeat > 1 => {
            let _ = writeln!(t, "repeat = {}", fault.repeat);
        }
        _ => {}
    }
    Some(t)
}

/// A TOML string literal.
pub fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(p: &Spanned<String>, _: &str) -> Result<String, OpSyntaxError> {
        Ok(p.get_ref().clone())
    }

    fn step(text: &str) -> Op {
        let raw: RawStep = toml::from_str(text).unwrap();
        decode_step(1, &raw, &check).unwrap()
    }

    fn fault(text: &str) -> Fault {
        let raw: RawFault = toml::from_str(text).unwrap();
        decode_fault(&raw, &check).unwrap()
    }

    #[test]
    fn every_setup_form_reads_back_what_it_writes() {
        let ops = [
            Op::Operator {
                verb: Verb::Stop,
                profile: "a".into(),
                expect_code: 3,
            },
            Op::Signal {
                profile: "a".into(),
                signal: Signal::Usr1,
            },
            Op::Write {
                path: "profiles/a/x.json".into(),
                content: r#"{"pid":{pid:a}}"#.into(),
            },
            Op::ContainerRestart { stop_timeout: None },
            Op::ContainerKill,
            Op::SupervisorCrash,
            Op::SupervisorRestart,
            Op::ApiSignal {
                profile: "a".into(),
                signal: Signal::Kill,
            },
            Op::Oom {
                profile: "a".into(),
            },
            Op::KillStormInit {
                hits: 12,
                storm: Storm::even(7, Duration::from_millis(10)),
            },
            Op::Damage {
                profile: "a".into(),
                class: DamageClass::WrongTypes,
            },
            Op::BreakStart {
                profile: "a".into(),
            },
            Op::FsFault {
                profile: "a".into(),
                fault: FsFault::DirWhereFile("desired_state.json".into()),
            },
            Op::FsFault {
                profile: "a".into(),
                fault: FsFault::FullDisk,
            },
            Op::FsRestore {
                profile: "a".into(),
            },
            Op::SignalNoWait {
                profile: "a".into(),
                signal: Signal::Kill,
            },
            Op::Background {
                verb: Verb::Start,
                profile: "a".into(),
                expect_code: 1,
            },
            Op::Await {
                profile: "a".into(),
                phase: Phase::Draining,
            },
            Op::Pause {
                duration: Duration::from_millis(1500),
            },
        ];
        for op in ops {
            let text = encode_step(&op).unwrap();
            let body = text.strip_prefix("[[setup]]\n").unwrap();
            assert_eq!(step(body), op, "{text}");
        }
    }

    #[test]
    fn every_fault_word_reads_back_what_it_writes() {
        for word in FaultWord::ALL {
            let mut text = format!("kind = {}\n", quoted(word.as_str()));
            if word.targets_profile() {
                text.push_str("profile = \"a\"\n");
            }
            match word {
                FaultWord::StopTimeout => text.push_str("stop_timeout_ms = 250\n"),
                FaultWord::KillStorm | FaultWord::KillStormInit => {
                    text.push_str("repeat = 5\nseed = 3\nwindow_ms = 20\n");
                }
                _ => {}
            }
            let read = fault(&text);
            assert_eq!(fault_word(&read.op), Some(word.as_str()));
            let written = encode_fault(&read).unwrap();
            assert_eq!(written, format!("[fault]\n{text}"), "{word:?}");
        }
    }

    #[test]
    fn a_signal_the_harness_does_not_send_is_named_with_the_allowed_ones() {
        let raw: RawStep =
            toml::from_str("op = \"kill\"\nprofile = \"a\"\nsignal = \"SIGSEGV\"").unwrap();
        let e = decode_step(2, &raw, &check).unwrap_err();
        assert_eq!(
            e.message,
            "setup step 2: signal `SIGSEGV` is not allowed: use SIGINT, SIGTERM, SIGHUP, SIGKILL, SIGUSR1"
        );
    }
}
