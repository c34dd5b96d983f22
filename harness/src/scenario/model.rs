//! What a scenario is: who runs, what is set up, the one fault, and the literal
//! expectations. These are the typed, validated forms; `load.rs` turns the TOML
//! into them and reports every mistake with its file and line.
//!
//! Every expectation value is a literal written in the table. Nothing here is
//! computed from the code under test.

use std::collections::BTreeMap;

use restart_contract::boot::{BootAction, PriorExit, PriorStateLabel};
use restart_contract::GatewayState;
use serde::{Deserialize, Deserializer, Serialize};

use crate::backend::BackendKind;
use crate::observe::{CauseSeen, ExitSeen, FileState, Supervised};
use crate::op::{Fault, Op};
use crate::target::Claim;

/// One scenario of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Unique name (`[a-z0-9-]`), also the test name.
    pub name: String,
    /// One sentence: why this matters.
    pub why: String,
    /// Profiles given to init with `--profiles` (`default` always exists too).
    pub profiles: Vec<String>,
    /// Backends that run it.
    pub backends: Vec<BackendKind>,
    /// The promises it checks (the table's `claims`).
    pub claims: Vec<Claim>,
    /// Extra `gateway init` flags.
    pub init_args: Vec<String>,
    /// `config.toml` content per profile, written after the first boot; one clean
    /// container restart then makes every gateway read it.
    pub config: BTreeMap<String, String>,
    /// Setup operations, in order.
    pub setup: Vec<Op>,
    /// The fault.
    pub fault: Fault,
    /// The literal expectations.
    pub expect: Expectations,
    /// Where it was loaded from (for messages).
    pub source: String,
}

impl Scenario {
    /// Whether it runs on `kind`.
    pub fn runs_on(&self, kind: BackendKind) -> bool {
        self.backends.contains(&kind)
    }

    /// The claims a target must make for this scenario to run on it: the ones
    /// it names, and the ones its setup, fault and expectations need to be
    /// performed or observed at all (reading `terminal.cause` needs
    /// `teardown-history`; a `write` step needs `contract-files`; ...).
    pub fn claims_needed(&self) -> Vec<Claim> {
        let mut all: Vec<Claim> = self.claims.clone();
        all.extend(implied_claims(self));
        all.sort();
        all.dedup();
        all
    }

    /// Every profile that exists in its data dir: `default` and the named ones.
    pub fn all_profiles(&self) -> Vec<String> {
        self.profiles_with_default()
    }

    /// Whether the fault or a step OOM-kills a gateway (the sandbox then needs
    /// a memory limit).
    pub fn ooms(&self) -> bool {
        self.ops().any(Op::ooms)
    }

    /// Whether a setup step fills a disk (the sandbox then needs a
    /// size-limited filesystem for its homes).
    pub fn fills_disk(&self) -> bool {
        self.ops().any(Op::fills_disk)
    }

    /// Its operations: the setup's, then the fault's.
    pub fn ops(&self) -> impl Iterator<Item = &Op> {
        self.setup.iter().chain(std::iter::once(&self.fault.op))
    }

    fn profiles_with_default(&self) -> Vec<String> {
        let mut all = vec![restart_contract::layout::DEFAULT_PROFILE.to_owned()];
        for p in &self.profiles {
            if !all.contains(p) {
                all.push(p.clone());
            }
        }
        all.sort();
        all
    }
}

/// The claims a scenario needs for its setup, fault and expectations to be
/// performed and observed at all, whatever it names itself.
fn implied_claims(s: &Scenario) -> Vec<Claim> {
    let mut out = Vec::new();
    if !s.init_args.is_empty() || !s.config.is_empty() {
        out.push(Claim::ContractConfiguration);
    }
    out.extend(s.ops().flat_map(Op::claims));
    let e = &s.expect;
    if e.command.is_some() || e.container.as_ref().is_some_and(|c| c.exit_code.is_some()) {
        out.push(Claim::ContractCli);
    }
    let words =
        |b: &BootExpect| b.prior_state.is_some() || b.desired.is_some() || b.prior_exit.is_some();
    if !e.first_boot.is_empty() || !e.boot.is_empty() {
        // No core scenario reads a boot line: a supervisor without a boot
        // log is still gated on the core.
        out.push(Claim::BootLog);
    }
    if !e.first_boot.is_empty() || e.boot.values().any(words) {
        out.push(Claim::BootLineWords);
    }
    if e.terminal.values().any(|t| {
        t.cause.is_some() || t.signal.is_some() || t.exit_reason.is_some() || t.exit.is_some()
    }) {
        out.push(Claim::TeardownHistory);
    }
    for r in e.at_rest.values() {
        let odd_state =
            matches!(r.gateway_state, Some(StateFile(ref f)) if !matches!(f, FileState::Value(_)));
        if odd_state
            || r.exit_reason.is_some()
            || r.restart_requested.is_some()
            || r.state_keeps_keys.is_some()
            || r.marker.is_some()
            || r.torn_files.is_some()
        {
            out.push(Claim::ContractFiles);
        }
        // Any adapter can tell these: its state file's versions, and its
        // writer's temp files by the pattern it names.
        if r.temp_files.is_some() || r.unparsable_versions.is_some() {
            out.push(Claim::KillsLeaveWholeFiles);
        }
        if r.desired_state.is_some() {
            out.push(Claim::IntentFile);
        }
        if r.kept_aside.is_some() {
            out.push(Claim::DamagedFilesKeptAside);
        }
    }
    out
}

/// An `exit_reason` expectation: the exact wire string, `"null"`, or a prefix
/// ending in `*` (`"config: *"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(transparent)]
pub struct ReasonPattern(pub String);

impl ReasonPattern {
    /// Whether `seen` (`None`: null) matches.
    pub fn matches(&self, seen: Option<&str>) -> bool {
        match (self.0.as_str(), seen) {
            ("null", None) => true,
            (_, None) => false,
            (pat, Some(s)) => match pat.strip_suffix('*') {
                Some(prefix) => s.starts_with(prefix),
                None => pat == s,
            },
        }
    }
}

fn file_state<'de, D, T>(d: D, what: &str, allowed: &str) -> Result<FileState<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
{
    let raw = String::deserialize(d)?;
    match raw.as_str() {
        "missing" | "absent" => Ok(FileState::Missing),
        "corrupt" => Ok(FileState::Corrupt),
        "unsupported" => Ok(FileState::Unsupported),
        other => other.parse().map(FileState::Value).map_err(|_| {
            serde::de::Error::custom(format!(
                "`{other}` is not a {what}: use {allowed}, missing, corrupt or unsupported"
            ))
        }),
    }
}

/// `gateway_state.json` at rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateFile(pub FileState<GatewayState>);

impl<'de> Deserialize<'de> for StateFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        file_state(
            d,
            "gateway_state",
            "starting, running, draining, stopped, startup_failed",
        )
        .map(StateFile)
    }
}

/// `desired_state.json` at rest (`absent` when no operator said anything).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DesiredFile(pub FileState<restart_contract::DesiredState>);

impl<'de> Deserialize<'de> for DesiredFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        file_state(d, "desired_state", "running, stopped, absent").map(DesiredFile)
    }
}

/// Present or absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Presence {
    /// The file exists.
    Present,
    /// It does not.
    Absent,
}

/// A boot line field: the contract's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Word<T>(pub T);

macro_rules! word_from_str {
    ($t:ty, $what:literal, $allowed:literal) => {
        impl<'de> Deserialize<'de> for Word<$t> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                raw.parse::<$t>().map(Word).map_err(|_| {
                    serde::de::Error::custom(format!(
                        concat!("`{}` is not a ", $what, ": use ", $allowed),
                        raw
                    ))
                })
            }
        }
    };
}

word_from_str!(
    PriorStateLabel,
    "prior_state",
    "starting, running, draining, stopped, startup_failed, missing, corrupt, unsupported"
);
word_from_str!(BootAction, "action", "started, registered");
word_from_str!(PriorExit, "prior_exit", "clean, unclean, unknown");

/// `desired=` of a boot line: `-`, `running` or `stopped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DesiredWord(pub Option<restart_contract::DesiredState>);

impl<'de> Deserialize<'de> for DesiredWord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        match raw.as_str() {
            "-" => Ok(DesiredWord(None)),
            other => other.parse().map(|s| DesiredWord(Some(s))).map_err(|_| {
                serde::de::Error::custom(format!(
                    "`{other}` is not a boot line desired: use -, running, stopped"
                ))
            }),
        }
    }
}

/// The terminal write of the faulted life (from `events.jsonl`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminalExpect {
    /// The cause in its `signal` event, or `none`.
    pub cause: Option<CauseSeen>,
    /// The signal in its `signal` event.
    pub signal: Option<String>,
    /// Its last `persisted` state.
    pub gateway_state: Option<GatewayState>,
    /// Its last `persisted` exit reason.
    pub exit_reason: Option<ReasonPattern>,
    /// How it ended (init's `reaped`).
    pub exit: Option<ExitSeen>,
}

/// The files at rest and the supervision after the fault.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtRestExpect {
    /// `gateway_state.json`'s state, or missing/corrupt/unsupported.
    pub gateway_state: Option<StateFile>,
    /// Its `exit_reason`.
    pub exit_reason: Option<ReasonPattern>,
    /// Its `restart_requested`.
    pub restart_requested: Option<bool>,
    /// Keys it must still hold (a rewrite keeps keys it does not know).
    pub state_keeps_keys: Option<Vec<String>>,
    /// `desired_state.json`'s intent, or absent/corrupt/unsupported.
    pub desired_state: Option<DesiredFile>,
    /// The planned-stop marker.
    pub marker: Option<Presence>,
    /// Files that must have a `<name>.corrupt-*` copy kept aside.
    pub kept_aside: Option<Vec<String>>,
    /// How many files of the home are torn: `*.json` files that do not parse
    /// as a JSON object, `*.json.corrupt-*` copies (a damaged file the
    /// contract kept aside), and `events.jsonl` lines that do not parse.
    pub torn_files: Option<u32>,
    /// How many temp files of an interrupted atomic write are left beside
    /// the state file (the contract's `.<name>.tmp-*`, or the adapter's
    /// `temp` pattern).
    pub temp_files: Option<u32>,
    /// How many versions of the state file do not parse as JSON: every
    /// version the backend recorded, and the file now.
    pub unparsable_versions: Option<u32>,
    /// `supervised` in `gateway status --json`.
    pub supervised: Option<Supervised>,
    /// `live` in `gateway status --json`.
    pub live: Option<bool>,
    /// Whether it runs another gateway life than the faulted one (pid or start
    /// time differ: in a container PIDs repeat from one boot to the next).
    pub new_life: Option<bool>,
}

/// One boot line.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootExpect {
    /// `prior_state=`.
    pub prior_state: Option<Word<PriorStateLabel>>,
    /// `desired=`.
    pub desired: Option<DesiredWord>,
    /// `action=`.
    pub action: Option<Word<BootAction>>,
    /// `prior_exit=`.
    pub prior_exit: Option<Word<PriorExit>>,
}

/// Liveness after the next boot.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveExpect {
    /// `supervised`.
    pub supervised: Option<Supervised>,
    /// `live`.
    pub live: Option<bool>,
}

/// The output of the fault's command (operator faults).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandExpect {
    /// Its exit code.
    pub exit_code: Option<i32>,
    /// A literal its stdout or stderr contains.
    pub output_contains: Option<String>,
}

/// Container facts (where the backend observes them).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerExpect {
    /// Exit code of the supervisor's last run.
    pub exit_code: Option<i64>,
    /// An OOM kill was seen.
    pub oom: Option<bool>,
    /// The container (supervisor) was started again by the fault.
    pub restarted: Option<bool>,
}

/// Every literal expectation of a scenario, per profile where it applies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expectations {
    /// The fault command's output.
    pub command: Option<CommandExpect>,
    /// The boot lines of the first boot.
    pub first_boot: BTreeMap<String, BootExpect>,
    /// The terminal write of each faulted life.
    pub terminal: BTreeMap<String, TerminalExpect>,
    /// Files and supervision at rest after the fault.
    pub at_rest: BTreeMap<String, AtRestExpect>,
    /// The boot lines of the next boot.
    pub boot: BTreeMap<String, BootExpect>,
    /// Liveness after the next boot.
    pub after_boot: BTreeMap<String, LiveExpect>,
    /// Container facts.
    pub container: Option<ContainerExpect>,
}

impl Expectations {
    /// How many single expectations there are.
    pub fn count(&self) -> usize {
        fn n<T>(o: &Option<T>) -> usize {
            usize::from(o.is_some())
        }
        let cmd = self
            .command
            .as_ref()
            .map_or(0, |c| n(&c.exit_code) + n(&c.output_contains));
        let boot = |m: &BTreeMap<String, BootExpect>| -> usize {
            m.values()
                .map(|b| n(&b.prior_state) + n(&b.desired) + n(&b.action) + n(&b.prior_exit))
                .sum()
        };
        let term: usize = self
            .terminal
            .values()
            .map(|t| {
                n(&t.cause) + n(&t.signal) + n(&t.gateway_state) + n(&t.exit_reason) + n(&t.exit)
            })
            .sum();
        let rest: usize = self
            .at_rest
            .values()
            .map(|r| {
                n(&r.gateway_state)
                    + n(&r.exit_reason)
                    + n(&r.restart_requested)
                    + r.state_keeps_keys.as_ref().map_or(0, Vec::len)
                    + n(&r.desired_state)
                    + n(&r.marker)
                    + r.kept_aside.as_ref().map_or(0, Vec::len)
                    + n(&r.torn_files)
                    + n(&r.temp_files)
                    + n(&r.unparsable_versions)
                    + n(&r.supervised)
                    + n(&r.live)
                    + n(&r.new_life)
            })
            .sum();
        let live: usize = self
            .after_boot
            .values()
            .map(|l| n(&l.supervised) + n(&l.live))
            .sum();
        let cont = self
            .container
            .as_ref()
            .map_or(0, |c| n(&c.exit_code) + n(&c.oom) + n(&c.restarted));
        cmd + boot(&self.first_boot) + term + rest + boot(&self.boot) + live + cont
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_and_whole_versions_need_only_the_core_claim() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/72-core-kill-storm.toml"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let s = crate::scenario::load::parse_scenario("72.toml", &text).unwrap();
        assert!(s.claims_needed().iter().all(|c| c.is_core()));
        assert!(s.claims_needed().contains(&Claim::KillsLeaveWholeFiles));
        let torn = text.replace("temp_files = 0", "temp_files = 0\ntorn_files = 0");
        let s = crate::scenario::load::parse_scenario("72.toml", &torn).unwrap();
        assert!(s.claims_needed().contains(&Claim::ContractFiles));
    }

    #[test]
    fn reason_patterns() {
        let p = |s: &str| ReasonPattern(s.to_owned());
        assert!(p("null").matches(None));
        assert!(!p("null").matches(Some("restart")));
        assert!(p("signal:SIGTERM").matches(Some("signal:SIGTERM")));
        assert!(!p("signal:SIGTERM").matches(Some("signal:SIGHUP")));
        assert!(p("config: *").matches(Some("config: unknown field")));
        assert!(!p("config: *").matches(Some("crash-loop")));
        assert!(!p("restart").matches(None));
    }
}
