//! Loading the table from TOML. Every mistake names the file, the line and what
//! is allowed; the CLI exits 2 on any of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use restart_contract::layout::ProfileName;
use serde::Deserialize;
use toml::Spanned;

use super::model::{
    AtRestExpect, BootExpect, CommandExpect, ContainerExpect, Expectations, LiveExpect, Scenario,
    TerminalExpect,
};
use crate::backend::BackendKind;
use crate::op::toml::{decode_fault, decode_step, OpSyntaxError, RawFault, RawStep};
use crate::op::{Fault, Op};
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

type PerProfile<T> = BTreeMap<Spanned<String>, T>;

/// Checks that a profile named in the table exists in the scenario.
type CheckProfile<'a> = dyn Fn(&Spanned<String>, &str) -> Result<String, LoadError> + 'a;

/// The same check, as the operation codec takes it.
type OpCheckProfile<'a> = crate::op::toml::CheckProfile<'a>;

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
    fn op_err(&self, e: OpSyntaxError) -> LoadError {
        self.err(e.span, e.message)
    }

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
    let (profiles, known) = profiles_of(&cx, &raw)?;
    let check_profile = |p: &Spanned<String>, what: &str| -> Result<String, OpSyntaxError> {
        if known.contains(p.get_ref()) {
            return Ok(p.get_ref().clone());
        }
        Err(OpSyntaxError {
            span: p.span(),
            message: format!(
                "{what}: unknown profile `{}`; the scenario's profiles are {}",
                p.get_ref(),
                known.join(", ")
            ),
        })
    };
    let check: &CheckProfile<'_> = &|p, what| check_profile(p, what).map_err(|e| cx.op_err(e));
    if raw.backends.get_ref().is_empty() {
        return Err(cx.err(
            raw.backends.span(),
            "backends is empty: use [\"process\", \"docker\"] or one of them",
        ));
    }
    let claims = claims_of(&cx, &raw)?;
    let mut config = BTreeMap::new();
    for (p, text) in &raw.config {
        config.insert(check(p, "config")?, text.clone());
    }
    let setup = setup_of(&cx, &raw, &check_profile)?;
    let fault = fault_of(&cx, &raw, &check_profile)?;
    let expect = expectations(&cx, &raw, &fault, check)?;
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

/// The profiles given to init, and every profile the scenario may name:
/// those, `default`, and a home a `write` step creates (`profiles/<name>/...`),
/// which exists at the next boot without having been given to init.
fn profiles_of(cx: &Ctx<'_>, raw: &RawScenario) -> Result<(Vec<String>, Vec<String>), LoadError> {
    let mut profiles = Vec::new();
    for p in &raw.profiles {
        ProfileName::new(p.get_ref()).map_err(|e| cx.err(p.span(), e.to_string()))?;
        profiles.push(p.get_ref().clone());
    }
    let mut known: Vec<String> = profiles.clone();
    if !known.iter().any(|p| p == "default") {
        known.push("default".to_owned());
    }
    for path in raw.setup.iter().filter_map(RawStep::write_path) {
        let mut parts = Path::new(path).components();
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
    Ok((profiles, known))
}

/// The claims it names; at least one.
fn claims_of(cx: &Ctx<'_>, raw: &RawScenario) -> Result<Vec<Claim>, LoadError> {
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
    Ok(claims)
}

/// The setup operations; an OOM needs a memory-limited container.
fn setup_of(
    cx: &Ctx<'_>,
    raw: &RawScenario,
    check_profile: &OpCheckProfile<'_>,
) -> Result<Vec<Op>, LoadError> {
    let mut setup = Vec::new();
    for (i, s) in raw.setup.iter().enumerate() {
        let op = decode_step(i + 1, s, check_profile).map_err(|e| cx.op_err(e))?;
        if op.ooms() && raw.backends.get_ref().contains(&BackendKind::Process) {
            return Err(cx.err(
                raw.backends.span(),
                format!(
                    "setup step {}: op = \"oom\" needs a memory-limited container: set backends = [\"docker\"]",
                    i + 1
                ),
            ));
        }
        setup.push(op);
    }
    Ok(setup)
}

/// The fault; an OOM needs a memory-limited container.
fn fault_of(
    cx: &Ctx<'_>,
    raw: &RawScenario,
    check_profile: &OpCheckProfile<'_>,
) -> Result<Fault, LoadError> {
    let fault = decode_fault(raw.fault.get_ref(), check_profile).map_err(|e| cx.op_err(e))?;
    if fault.op.ooms() && raw.backends.get_ref().contains(&BackendKind::Process) {
        return Err(cx.err(
            raw.backends.span(),
            "fault `oom` needs a memory-limited container: set backends = [\"docker\"]",
        ));
    }
    Ok(fault)
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
        if !fault.op.is_command() {
            return Err(cx.err(
                c.span(),
                format!(
                    "[expect.command] goes only with the operator faults (operator-stop, operator-start, operator-restart), not `{}`",
                    crate::op::toml::fault_word(&fault.op).unwrap_or_default()
                ),
            ));
        }
    }
    for p in e.terminal.keys() {
        if let Some(target) = fault.op.profile() {
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
        assert_eq!(
            s.fault.op,
            Op::Signal {
                profile: "default".into(),
                signal: crate::backend::Signal::Term
            }
        );
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
        assert_eq!(s.fault.times(), 100);
        assert_eq!(
            s.fault.op,
            Op::KillStorm {
                profile: "default".into(),
                hits: 100,
                storm: crate::op::Storm::even(7, std::time::Duration::from_millis(30))
            }
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
        assert_eq!(parse_scenario("t.toml", &init).unwrap().fault.times(), 3);
        let (_, msg) = err(&init
            .replace("kill-storm-init", "container-kill")
            .replace("seed = 1\nwindow_ms = 5\n", ""));
        assert!(msg.contains("cannot repeat"), "{msg}");
        let torn = init.replace(
            "window_ms = 5",
            "window_ms = 5\nteardown_window_ms = 900\nspread = \"octaves\"",
        );
        match parse_scenario("t.toml", &torn).unwrap().fault.op {
            Op::KillStormInit { storm, .. } => {
                assert_eq!(storm.teardown, Some(std::time::Duration::from_millis(900)));
                assert_eq!(storm.spread, crate::op::Spread::Octaves);
            }
            other => panic!("{other:?}"),
        }
        let (_, msg) =
            err(&storm.replace("window_ms = 30", "window_ms = 30\nteardown_window_ms = 9"));
        assert!(
            msg.contains("`teardown_window_ms` goes only with kind = \"kill-storm-init\""),
            "{msg}"
        );
        let (_, msg) = err(&GOOD.replace(
            "kind = \"bare-sigterm\"",
            "kind = \"bare-sigterm\"\nspread = \"octaves\"",
        ));
        assert!(msg.contains("go only with kind"), "{msg}");
    }

    #[test]
    fn duplicate_names_are_refused() {
        let e = load_sources([("a.toml", GOOD), ("b.toml", GOOD)]).unwrap_err();
        assert!(e.to_string().contains("already used by a.toml"), "{e}");
    }
}
