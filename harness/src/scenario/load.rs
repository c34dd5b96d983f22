//! Loading the table from TOML. Every mistake names the file, the line and what
//! is allowed; the CLI exits 2 on any of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use restart_contract::layout::ProfileName;
use serde::Deserialize;
use toml::Spanned;

use super::model::{
    AtRestExpect, BootExpect, CommandExpect, ContainerExpect, DamageClass, Expectations, Fault,
    FaultKind, LiveExpect, Scenario, Step, Storm, TerminalExpect,
};
use super::template;
use crate::backend::BackendKind;
use crate::target::Claim;

/// Why the table could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A scenario file is wrong.
    #[error("{file}:{line}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A directory holds no scenario.
    #[error("{0}: no scenario files (*.toml) there")]
    Empty(PathBuf),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum StepOp {
    Start,
    Stop,
    Restart,
    Write,
    Kill,
    ContainerRestart,
    Damage,
    BreakStart,
    ContainerKill,
    Oom,
    KillStormInit,
    ReadOnlyHome,
    DirWhereFile,
    FullDisk,
    RestoreHome,
}

/// Signals a `kill` step may send.
const KILL_SIGNALS: [&str; 5] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL", "SIGUSR1"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    op: Spanned<StepOp>,
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    kind: Spanned<FaultKind>,
    profile: Option<Spanned<String>>,
    repeat: Option<Spanned<u32>>,
    stop_timeout_ms: Option<Spanned<u64>>,
    seed: Option<Spanned<u64>>,
    window_ms: Option<Spanned<u64>>,
}

type PerProfile<T> = BTreeMap<Spanned<String>, T>;

/// Checks that a profile named in the table exists in the scenario.
type CheckProfile<'a> = dyn Fn(&Spanned<String>, &str) -> Result<String, LoadError> + 'a;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    command: Option<Spanned<CommandExpect>>,
    #[serde(default)]
    first_boot: PerProfile<BootExpect>,
    #[serde(default)]
    terminal: PerProfile<TerminalExpect>,
    #[serde(default)]
    at_rest: PerProfile<AtRestExpect>,
    #[serde(default)]
    boot: PerProfile<BootExpect>,
    #[serde(default)]
    after_boot: PerProfile<LiveExpect>,
    container: Option<ContainerExpect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Spanned<String>,
    why: String,
    profiles: Vec<Spanned<String>>,
    backends: Spanned<Vec<BackendKind>>,
    claims: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    init_args: Vec<String>,
    #[serde(default)]
    config: PerProfile<String>,
    #[serde(default)]
    setup: Vec<RawStep>,
    fault: Spanned<RawFault>,
    expect: Spanned<RawExpect>,
}

/// 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> LoadError {
        LoadError::Invalid {
            file: self.file.to_owned(),
            line: line_of(self.text, span.start),
            message: message.into(),
        }
    }
}

fn valid_scenario_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn safe_rel_path(p: &str) -> bool {
    let path = Path::new(p);
    !p.is_empty()
        && path.is_relative()
        && path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// Parses one scenario file. `file` is the name used in messages.
pub fn parse_scenario(file: &str, text: &str) -> Result<Scenario, LoadError> {
    let cx = Ctx { file, text };
    let raw: RawScenario = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(text, s.start));
        LoadError::Invalid {
            file: file.to_owned(),
            line,
            message: e.message().to_owned(),
        }
    })?;

    if !valid_scenario_name(raw.name.get_ref()) {
        return Err(cx.err(
            raw.name.span(),
            format!(
                "scenario name `{}` is not allowed: use a-z, 0-9 and -, at most 64",
                raw.name.get_ref()
            ),
        ));
    }

    let mut profiles = Vec::new();
    for p in &raw.profiles {
        ProfileName::new(p.get_ref()).map_err(|e| cx.err(p.span(), e.to_string()))?;
        profiles.push(p.get_ref().clone());
    }
    let mut known: Vec<String> = profiles.clone();
    if !known.iter().any(|p| p == "default") {
        known.push("default".to_owned());
    }
    // A home that a `write` step creates (`profiles/<name>/...`) is a profile too:
    // it exists at the next boot without having been given to init.
    for s in &raw.setup {
        if let (StepOp::Write, Some(path)) = (*s.op.get_ref(), &s.path) {
            let mut parts = Path::new(path.get_ref()).components();
            if let (Some(first), Some(name)) = (parts.next(), parts.next()) {
                let name = name.as_os_str().to_string_lossy().into_owned();
                if first.as_os_str() == "profiles"
                    && parts.next().is_some()
                    && ProfileName::new(&name).is_ok()
                    && !known.contains(&name)
                {
                    known.push(name);
                }
            }
        }
    }
    let check_profile = |p: &Spanned<String>, what: &str| -> Result<String, LoadError> {
        if known.contains(p.get_ref()) {
            Ok(p.get_ref().clone())
        } else {
            Err(cx.err(
                p.span(),
                format!(
                    "{what}: unknown profile `{}`; the scenario's profiles are {}",
                    p.get_ref(),
                    known.join(", ")
                ),
            ))
        }
    };

    if raw.backends.get_ref().is_empty() {
        return Err(cx.err(
            raw.backends.span(),
            "backends is empty: use [\"process\", \"docker\"] or one of them",
        ));
    }

    let mut claims = Vec::new();
    for c in raw.claims.get_ref() {
        claims.push(
            c.get_ref()
                .parse::<Claim>()
                .map_err(|e| cx.err(c.span(), e.to_string()))?,
        );
    }
    if claims.is_empty() {
        return Err(cx.err(
            raw.claims.span(),
            "claims is empty: name the promises the scenario checks (`restart-harness list --claims`)",
        ));
    }

    let mut config = BTreeMap::new();
    for (p, text) in &raw.config {
        config.insert(check_profile(p, "config")?, text.clone());
    }

    let mut setup = Vec::new();
    for (i, s) in raw.setup.iter().enumerate() {
        let st = step(&cx, i + 1, s, &check_profile)?;
        if matches!(st, Step::Oom { .. }) && raw.backends.get_ref().contains(&BackendKind::Process)
        {
            return Err(cx.err(
                raw.backends.span(),
                format!(
                    "setup step {}: op = \"oom\" needs a memory-limited container: set backends = [\"docker\"]",
                    i + 1
                ),
            ));
        }
        setup.push(st);
    }

    let fault = fault(&cx, &raw, &check_profile)?;
    let expect = expectations(&cx, &raw, &fault, &check_profile)?;

    Ok(Scenario {
        name: raw.name.into_inner(),
        why: raw.why,
        profiles,
        backends: raw.backends.into_inner(),
        claims,
        init_args: raw.init_args,
        config,
        setup,
        fault,
        expect,
        source: file.to_owned(),
    })
}

fn step(
    cx: &Ctx<'_>,
    n: usize,
    s: &RawStep,
    check_profile: &CheckProfile<'_>,
) -> Result<Step, LoadError> {
    let op = *s.op.get_ref();
    let what = format!("setup step {n}");
    // Which keys each op takes, so that a stray key is named with what is allowed.
    let (allowed, name): (&[&str], &str) = match op {
        StepOp::Start => (&["op", "profile", "expect_code"], "start"),
        StepOp::Stop => (&["op", "profile", "expect_code"], "stop"),
        StepOp::Restart => (&["op", "profile", "expect_code"], "restart"),
        StepOp::Write => (&["op", "path", "content"], "write"),
        StepOp::Kill => (&["op", "profile", "signal"], "kill"),
        StepOp::ContainerRestart => (&["op"], "container-restart"),
        StepOp::Damage => (&["op", "profile", "class"], "damage"),
        StepOp::BreakStart => (&["op", "profile"], "break-start"),
        StepOp::ContainerKill => (&["op"], "container-kill"),
        StepOp::Oom => (&["op", "profile"], "oom"),
        StepOp::KillStormInit => (&["op", "repeat", "seed", "window_ms"], "kill-storm-init"),
        StepOp::ReadOnlyHome => (&["op", "profile"], "read-only-home"),
        StepOp::DirWhereFile => (&["op", "profile", "file"], "dir-where-file"),
        StepOp::FullDisk => (&["op", "profile"], "full-disk"),
        StepOp::RestoreHome => (&["op", "profile"], "restore-home"),
    };
    let present: [(&str, Option<std::ops::Range<usize>>); 10] = [
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
    ];
    for (key, span) in present {
        if let Some(span) = span {
            if !allowed.contains(&key) {
                return Err(cx.err(
                    span,
                    format!(
                        "{what}: `{key}` does not go with op = \"{name}\"; it takes {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
    }
    let need = |key: &str| {
        cx.err(
            s.op.span(),
            format!("{what}: op = \"{name}\" needs `{key}`"),
        )
    };
    let profile = || -> Result<String, LoadError> {
        let p = s.profile.as_ref().ok_or_else(|| need("profile"))?;
        check_profile(p, &what)
    };
    let path = || -> Result<String, LoadError> {
        let p = s.path.as_ref().ok_or_else(|| need("path"))?;
        if safe_rel_path(p.get_ref()) {
            Ok(p.get_ref().clone())
        } else {
            Err(cx.err(
                p.span(),
                format!(
                    "{what}: path `{}` must be relative to the data dir, without `..`",
                    p.get_ref()
                ),
            ))
        }
    };
    let expect_code = s.expect_code.as_ref().map_or(0, |c| *c.get_ref());
    Ok(match op {
        StepOp::Start => Step::Start {
            profile: profile()?,
            expect_code,
        },
        StepOp::Stop => Step::Stop {
            profile: profile()?,
            expect_code,
        },
        StepOp::Restart => Step::Restart {
            profile: profile()?,
            expect_code,
        },
        StepOp::Write => {
            let content = s.content.as_ref().ok_or_else(|| need("content"))?;
            for hole in template::placeholders(content.get_ref())
                .map_err(|e| cx.err(content.span(), format!("{what}: {e}")))?
            {
                if let template::Placeholder::Pid(p) | template::Placeholder::StartTime(p) = hole {
                    check_profile(&Spanned::new(content.span(), p), &what)?;
                }
            }
            Step::Write {
                path: path()?,
                content: content.get_ref().clone(),
            }
        }
        StepOp::Damage => Step::Damage {
            profile: profile()?,
            class: *s.class.as_ref().ok_or_else(|| need("class"))?.get_ref(),
        },
        StepOp::BreakStart => Step::BreakStart {
            profile: profile()?,
        },
        StepOp::Kill => {
            let sig = s.signal.as_ref().ok_or_else(|| need("signal"))?;
            if !KILL_SIGNALS.contains(&sig.get_ref().as_str()) {
                return Err(cx.err(
                    sig.span(),
                    format!(
                        "{what}: signal `{}` is not allowed: use {}",
                        sig.get_ref(),
                        KILL_SIGNALS.join(", ")
                    ),
                ));
            }
            Step::Kill {
                profile: profile()?,
                signal: sig.get_ref().clone(),
            }
        }
        StepOp::ContainerRestart => Step::ContainerRestart,
        StepOp::ContainerKill => Step::ContainerKill,
        StepOp::ReadOnlyHome => Step::FsFault {
            profile: profile()?,
            fault: crate::backend::FsFault::ReadOnlyHome,
        },
        StepOp::FullDisk => Step::FsFault {
            profile: profile()?,
            fault: crate::backend::FsFault::FullDisk,
        },
        StepOp::RestoreHome => Step::FsRestore {
            profile: profile()?,
        },
        StepOp::DirWhereFile => {
            let file = s.file.as_ref().ok_or_else(|| need("file"))?;
            let name = file.get_ref();
            if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                return Err(cx.err(
                    file.span(),
                    format!("{what}: file `{name}` must be a file name of the home, without `/`"),
                ));
            }
            Step::FsFault {
                profile: profile()?,
                fault: crate::backend::FsFault::DirWhereFile(name.clone()),
            }
        }
        StepOp::Oom => Step::Oom {
            profile: profile()?,
        },
        StepOp::KillStormInit => {
            let repeat = *s.repeat.as_ref().ok_or_else(|| need("repeat"))?.get_ref();
            if repeat == 0 {
                return Err(cx.err(s.op.span(), format!("{what}: repeat must be at least 1")));
            }
            Step::KillStormInit {
                repeat,
                storm: Storm {
                    seed: *s.seed.as_ref().ok_or_else(|| need("seed"))?.get_ref(),
                    window: Duration::from_millis(
                        *s.window_ms
                            .as_ref()
                            .ok_or_else(|| need("window_ms"))?
                            .get_ref(),
                    ),
                },
            }
        }
    })
}

fn fault(
    cx: &Ctx<'_>,
    raw: &RawScenario,
    check_profile: &CheckProfile<'_>,
) -> Result<Fault, LoadError> {
    let f = raw.fault.get_ref();
    let kind = *f.kind.get_ref();
    let profile = match (&f.profile, kind.targets_profile()) {
        (Some(p), true) => Some(check_profile(p, "fault")?),
        (None, true) => {
            return Err(cx.err(
                f.kind.span(),
                format!("fault `{kind}` hits one gateway: name it with `profile`"),
            ))
        }
        (Some(p), false) => {
            return Err(cx.err(
                p.span(),
                format!("fault `{kind}` hits the whole supervisor: remove `profile`"),
            ))
        }
        (None, false) => None,
    };
    let repeat = f.repeat.as_ref().map_or(1, |r| *r.get_ref());
    if repeat == 0 {
        let span = f.repeat.as_ref().map_or(f.kind.span(), Spanned::span);
        return Err(cx.err(span, "repeat must be at least 1"));
    }
    if repeat > 1 && kind.reboots() && !kind.is_storm() {
        let span = f.repeat.as_ref().map_or(f.kind.span(), Spanned::span);
        return Err(cx.err(
            span,
            format!("fault `{kind}` boots the supervisor again itself: it cannot repeat"),
        ));
    }
    let stop_timeout =
        match (&f.stop_timeout_ms, kind) {
            (Some(ms), FaultKind::StopTimeout) => Some(Duration::from_millis(*ms.get_ref())),
            (None, FaultKind::StopTimeout) => return Err(cx.err(
                f.kind.span(),
                "fault `stop-timeout` needs `stop_timeout_ms`, shorter than the profile's drain_ms",
            )),
            (Some(ms), _) => {
                return Err(cx.err(
                    ms.span(),
                    "`stop_timeout_ms` goes only with kind = \"stop-timeout\"",
                ))
            }
            (None, _) => None,
        };
    let storm =
        match (&f.seed, &f.window_ms, kind.is_storm()) {
            (Some(seed), Some(window), true) => Some(Storm {
                seed: *seed.get_ref(),
                window: Duration::from_millis(*window.get_ref()),
            }),
            (_, _, true) => {
                return Err(cx.err(
                    f.kind.span(),
                    format!(
                        "fault `{kind}` needs `seed` (its random instants are drawn from it) and \
                     `window_ms` (the longest delay before a hit)"
                    ),
                ))
            }
            (Some(v), _, false) | (None, Some(v), false) => return Err(cx.err(
                v.span(),
                "`seed` and `window_ms` go only with kind = \"kill-storm\" or \"kill-storm-init\"",
            )),
            (None, None, false) => None,
        };
    if kind == FaultKind::Oom && raw.backends.get_ref().contains(&BackendKind::Process) {
        return Err(cx.err(
            raw.backends.span(),
            "fault `oom` needs a memory-limited container: set backends = [\"docker\"]",
        ));
    }
    Ok(Fault {
        kind,
        profile,
        repeat,
        stop_timeout,
        storm,
    })
}

fn expectations(
    cx: &Ctx<'_>,
    raw: &RawScenario,
    fault: &Fault,
    check_profile: &CheckProfile<'_>,
) -> Result<Expectations, LoadError> {
    let e = raw.expect.get_ref();
    fn per<T: Clone>(
        m: &PerProfile<T>,
        what: &str,
        check_profile: &CheckProfile<'_>,
    ) -> Result<BTreeMap<String, T>, LoadError> {
        let mut out = BTreeMap::new();
        for (p, v) in m {
            out.insert(check_profile(p, what)?, v.clone());
        }
        Ok(out)
    }
    if let Some(c) = &e.command {
        if !fault.kind.is_command() {
            return Err(cx.err(
                c.span(),
                format!(
                    "[expect.command] goes only with the operator faults (operator-stop, operator-start, operator-restart), not `{}`",
                    fault.kind
                ),
            ));
        }
    }
    for p in e.terminal.keys() {
        if let Some(target) = &fault.profile {
            if p.get_ref() != target {
                return Err(cx.err(
                    p.span(),
                    format!(
                        "expect.terminal.{}: the fault hits only `{target}`; a terminal write is expected of a faulted life",
                        p.get_ref()
                    ),
                ));
            }
        }
    }
    let out = Expectations {
        command: e.command.as_ref().map(|c| c.get_ref().clone()),
        first_boot: per(&e.first_boot, "expect.first_boot", check_profile)?,
        terminal: per(&e.terminal, "expect.terminal", check_profile)?,
        at_rest: per(&e.at_rest, "expect.at_rest", check_profile)?,
        boot: per(&e.boot, "expect.boot", check_profile)?,
        after_boot: per(&e.after_boot, "expect.after_boot", check_profile)?,
        container: e.container.clone(),
    };
    if out.count() == 0 {
        return Err(cx.err(
            raw.expect.span(),
            "[expect] has no expectation: a scenario must check something",
        ));
    }
    Ok(out)
}

/// Loads a scenario file, or every `*.toml` of a directory (sorted by name).
pub fn load_path(path: &Path) -> Result<Vec<Scenario>, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    let files: Vec<PathBuf> = if meta.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        v.sort();
        if v.is_empty() {
            return Err(LoadError::Empty(path.to_owned()));
        }
        v
    } else {
        vec![path.to_owned()]
    };
    let mut sources = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|source| LoadError::Io {
            path: f.clone(),
            source,
        })?;
        sources.push((f.display().to_string(), text));
    }
    load_sources(sources.iter().map(|(f, t)| (f.as_str(), t.as_str())))
}

/// Loads scenarios from `(file name, text)` pairs, refusing duplicate names.
pub fn load_sources<'a>(
    sources: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<Scenario>, LoadError> {
    let mut out: Vec<Scenario> = Vec::new();
    for (file, text) in sources {
        let s = parse_scenario(file, text)?;
        if let Some(prev) = out.iter().find(|p| p.name == s.name) {
            let line = text.find("name").map_or(1, |o| line_of(text, o));
            return Err(LoadError::Invalid {
                file: file.to_owned(),
                line,
                message: format!(
                    "scenario name `{}` is already used by {}: names must be unique",
                    s.name, prev.source
                ),
            });
        }
        out.push(s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "x"
why = "Because."
profiles = ["default", "b"]
backends = ["process", "docker"]
claims = ["marker-rule"]
[[setup]]
op = "stop"
profile = "b"

[[setup]]
op = "write"
path = "profiles/default/.gateway-planned-stop.json"
content = '{"target_pid":{pid:default}}'

[fault]
kind = "bare-sigterm"
profile = "default"

[expect.terminal.default]
cause = "signal-initiated"
exit = 1

[expect.at_rest.default]
gateway_state = "running"
desired_state = "absent"
marker = "absent"

[expect.boot.b]
prior_state = "stopped"
desired = "stopped"
action = "registered"
prior_exit = "clean"
"#;

    fn err(text: &str) -> (usize, String) {
        match parse_scenario("t.toml", text) {
            Err(LoadError::Invalid { line, message, .. }) => (line, message),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn a_good_scenario_loads() {
        let s = parse_scenario("t.toml", GOOD).unwrap();
        assert_eq!(s.fault.kind, FaultKind::BareSigterm);
        assert_eq!(s.setup.len(), 2);
        assert_eq!(s.expect.count(), 9);
        assert_eq!(s.all_profiles(), vec!["b", "default"]);
    }

    #[test]
    fn a_home_written_by_setup_is_a_known_profile() {
        let text = GOOD
            .replace("[expect.boot.b]", "[expect.boot.orphan]")
            .replace(
                "profiles/default/.gateway-planned-stop.json",
                "profiles/orphan/config.toml",
            );
        let s = parse_scenario("t.toml", &text).unwrap();
        assert!(s.expect.boot.contains_key("orphan"));
    }

    #[test]
    fn an_unknown_fault_names_the_line_and_the_allowed_faults() {
        let (line, msg) = err(&GOOD.replace("bare-sigterm", "bare-sigkill"));
        assert_eq!(line, 17);
        assert!(msg.contains("unknown variant `bare-sigkill`"), "{msg}");
        assert!(msg.contains("container-restart"), "{msg}");
    }

    #[test]
    fn an_unknown_profile_names_the_line() {
        let (line, msg) = err(&GOOD.replace("profile = \"b\"", "profile = \"c\""));
        assert_eq!(line, 9);
        assert!(msg.contains("unknown profile `c`"), "{msg}");
    }

    #[test]
    fn an_unknown_key_names_the_allowed_ones() {
        let (line, msg) = err(&GOOD.replace("marker = \"absent\"", "markr = \"absent\""));
        assert_eq!(line, 27);
        assert!(msg.contains("unknown field `markr`"), "{msg}");
        assert!(msg.contains("marker"), "{msg}");
    }

    #[test]
    fn a_stray_step_key_is_named() {
        let (line, msg) = err(&GOOD.replace(
            "op = \"stop\"\nprofile = \"b\"",
            "op = \"stop\"\nprofile = \"b\"\npath = \"x\"",
        ));
        assert_eq!(line, 10);
        assert!(
            msg.contains("`path` does not go with op = \"stop\""),
            "{msg}"
        );
    }

    #[test]
    fn bad_placeholders_and_paths_are_refused() {
        let (_, msg) = err(&GOOD.replace("{pid:default}", "{pid:zzz}"));
        assert!(msg.contains("unknown profile `zzz`"), "{msg}");
        let (_, msg) = err(&GOOD.replace("{pid:default}", "{then}"));
        assert!(msg.contains("unknown placeholder"), "{msg}");
        let (_, msg) = err(&GOOD.replace("profiles/default/.gateway", "../x/.gateway"));
        assert!(msg.contains("relative to the data dir"), "{msg}");
    }

    #[test]
    fn terminal_of_an_unfaulted_profile_is_refused() {
        let (_, msg) = err(&GOOD.replace("[expect.terminal.default]", "[expect.terminal.b]"));
        assert!(msg.contains("the fault hits only `default`"), "{msg}");
    }

    #[test]
    fn bad_expectation_words_name_what_is_allowed() {
        let (line, msg) = err(&GOOD.replace("action = \"registered\"", "action = \"down\""));
        assert_eq!(line, 32);
        assert!(msg.contains("started, registered"), "{msg}");
    }

    #[test]
    fn a_storm_needs_its_seed_and_window_and_nothing_else_takes_them() {
        let storm = GOOD.replace(
            "kind = \"bare-sigterm\"",
            "kind = \"kill-storm\"\nrepeat = 100\nseed = 7\nwindow_ms = 30",
        );
        let s = parse_scenario("t.toml", &storm).unwrap();
        assert_eq!(s.fault.repeat, 100);
        assert_eq!(
            s.fault.storm,
            Some(Storm {
                seed: 7,
                window: Duration::from_millis(30)
            })
        );
        let (_, msg) = err(&storm.replace("seed = 7\n", ""));
        assert!(msg.contains("needs `seed`"), "{msg}");
        let (_, msg) = err(&GOOD.replace(
            "kind = \"bare-sigterm\"",
            "kind = \"bare-sigterm\"\nseed = 7",
        ));
        assert!(msg.contains("go only with"), "{msg}");
        // The init storm reboots and still repeats; other reboots do not.
        let init = GOOD
            .replace(
                "kind = \"bare-sigterm\"\nprofile = \"default\"",
                "kind = \"kill-storm-init\"\nrepeat = 3\nseed = 1\nwindow_ms = 5",
            )
            .replace(
                "[expect.terminal.default]\ncause = \"signal-initiated\"\nexit = 1\n",
                "",
            );
        assert_eq!(parse_scenario("t.toml", &init).unwrap().fault.repeat, 3);
        let (_, msg) = err(&init
            .replace("kill-storm-init", "container-kill")
            .replace("seed = 1\nwindow_ms = 5\n", ""));
        assert!(msg.contains("cannot repeat"), "{msg}");
    }

    #[test]
    fn duplicate_names_are_refused() {
        let e = load_sources([("a.toml", GOOD), ("b.toml", GOOD)]).unwrap_err();
        assert!(e.to_string().contains("already used by a.toml"), "{e}");
    }
}
