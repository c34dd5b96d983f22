//! The adapter file: what a target is, how the harness drives and observes it,
//! what its container looks like, and which promises it makes.
//!
//! A target that honours the contract's own command line and files says
//! `protocol = "contract"` and needs nothing else (the reference gateway, or
//! any image built to the contract). Any other target says
//! `protocol = "declared"` and describes itself with argv templates and
//! patterns (`adapters/hermes.toml`). The format is in `docs/targets.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::claim::Claim;
use crate::backend::BackendKind;

/// How the harness talks to a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// The contract's CLI (`gateway status --json`, `gateway stop`, ...), its
    /// event history and its boot log.
    Contract,
    /// The argv templates and patterns of the adapter's `[drive]` and `[observe]`.
    Declared,
}

impl Protocol {
    /// The word in the adapter file.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Contract => "contract",
            Protocol::Declared => "declared",
        }
    }
}

/// One adapter file, parsed and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Adapter {
    /// The target's name (`hermes`).
    pub name: String,
    /// One sentence.
    pub about: String,
    /// How it is driven.
    pub protocol: Protocol,
    /// The backends it runs on.
    pub backends: Vec<BackendKind>,
    /// Its image (a declared target's container), if any.
    pub image: Option<ImageSection>,
    /// Its profiles (declared targets).
    pub profiles: Option<ProfilesSection>,
    /// How to drive it (declared targets).
    pub drive: Option<DriveSection>,
    /// How to observe it (declared targets).
    pub observe: Option<ObserveSection>,
    /// The promises it makes.
    pub made: Vec<Claim>,
    /// The promises it does not make, each with the reason.
    pub not_made: BTreeMap<Claim, String>,
    /// The file it came from (for messages).
    pub source: PathBuf,
}

/// `[image]`: how a release's image is built and what its container is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageSection {
    /// The build script, relative to the adapter file: run as `SCRIPT VERSION TAG`.
    pub recipe: String,
    /// The image repository; a release's tag is `REPOSITORY:VERSION-<recipe hash>`.
    pub repository: String,
    /// The data dir (a named volume).
    pub data_dir: String,
    /// The uid (and gid) that owns the data dir's files.
    pub uid: u64,
    /// The user commands run as (`uid:gid`).
    pub exec_user: Option<String>,
    /// Environment for commands (`KEY=VALUE`).
    #[serde(default)]
    pub exec_env: Vec<String>,
    /// A tmpfs for the run dir, with its mount options.
    pub run_tmpfs: Option<String>,
    /// The tmpfs's mount options.
    #[serde(default)]
    pub run_tmpfs_options: String,
    /// Whether the root filesystem is read-only.
    #[serde(default)]
    pub read_only_root: bool,
    /// A line the container prints once per boot when its services have been
    /// handed to the supervisor (readiness; a substring of a log line).
    pub ready_log: String,
    /// How long the supervisor gives its services at a container stop before
    /// SIGKILL, in milliseconds.
    pub stop_grace_ms: u64,
    /// The container's memory limit for an OOM scenario, in MiB: more than
    /// the target needs at rest (default 64, the reference's).
    pub oom_memory_mib: Option<i64>,
    /// The container needs what `--privileged` gives (a supervisor that
    /// runs containers itself): `--privileged` where the engine allows it,
    /// else the equivalent set of capabilities, seccomp, system paths and
    /// device rules (docs/backends.md).
    #[serde(default)]
    pub privileged: bool,
    /// The engine's init as PID 1, in front of the image's entrypoint (it
    /// reaps orphans and forwards signals).
    #[serde(default)]
    pub init: bool,
    /// More directories on named volumes of their own, beside the data dir
    /// (kept across restarts and kills of the container, like it).
    #[serde(default)]
    pub volumes: Vec<String>,
}

/// `[profiles]`: where profiles live and how one is made.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilesSection {
    /// The default profile's home, relative to the data dir (`.`: the data dir).
    pub default_home: String,
    /// The directory of named profiles' homes.
    pub dir: String,
    /// A file a directory needs to count as a profile.
    pub marker: Option<String>,
    /// argv that creates a named profile (`{profile}`).
    pub create: Vec<String>,
    /// What `{profile_args}` becomes for a named profile.
    pub args: Vec<String>,
    /// What `{profile_args}` becomes for the default profile.
    #[serde(default)]
    pub default_args: Vec<String>,
}

/// `[drive]`: the operator verbs and a bare signal, as argv templates.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriveSection {
    /// Operator start (`{profile_args}`, `{profile}`).
    pub start: Vec<String>,
    /// Operator stop.
    pub stop: Vec<String>,
    /// Operator restart.
    pub restart: Vec<String>,
    /// A bare signal to a pid (`{pid}`, `{signal}` as `TERM`).
    pub signal: Vec<String>,
    /// argv that makes the kernel OOM-kill the gateway `{pid}` (of
    /// `{profile}`) in a memory-limited container (for `oom-is-not-a-stop`).
    pub oom: Option<Vec<String>>,
    /// Who shows that the kernel OOM-killed it.
    #[serde(default)]
    pub oom_witness: OomWitness,
    /// argv that SIGKILLs the supervisor alone, its services left alive,
    /// and returns once its own init started it again and it answers
    /// (`supervisor-crash-is-not-a-stop`).
    pub supervisor_crash: Option<Vec<String>>,
    /// argv that restarts the supervisor alone cleanly and returns once it
    /// answers again (`supervisor-restart-is-not-a-stop`).
    pub supervisor_restart: Option<Vec<String>>,
    /// argv that sends `{signal}` (as `TERM`) to `{profile}`'s gateway
    /// through the supervisor's own API (`api-signal-is-a-stop`).
    pub api_signal: Option<Vec<String>>,
    /// A file whose content makes a profile's gateway fail at its next start
    /// (`no-restart-forever`), relative to the profile's home.
    pub break_start: Option<BreakStart>,
}

/// Who shows that an `oom` command made the kernel OOM-kill a gateway.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OomWitness {
    /// The engine's `oom` event of the target's container, which lives on:
    /// the container has the memory limit.
    #[default]
    Engine,
    /// The command itself, by its exit 0: for a supervisor that gives each
    /// service a memory limit of its own (the target's container has none).
    Command,
}

/// A file that makes a gateway fail at start.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakStart {
    /// Relative to the profile's home.
    pub file: String,
    /// Its content.
    pub content: String,
}

/// `[observe]`: supervision, state, boot log.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObserveSection {
    /// The supervisor's view of one profile.
    pub supervision: SupervisionSection,
    /// The persisted state.
    pub state: StateSection,
    /// The boot log, if the target keeps one (`boot-log`).
    pub boot_log: Option<BootLogSection>,
    /// The planned-stop marker's file name in a home.
    pub marker: Option<String>,
}

/// How to ask the supervisor about one profile: its answer read with
/// patterns (`rules`) or, when it prints JSON, with field paths (`json`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionSection {
    /// argv (`{profile}`); a non-zero exit means the profile is not supervised.
    pub argv: Vec<String>,
    /// Rules on its stdout, first match wins; `(?P<pid>...)` captures the pid.
    #[serde(default)]
    pub rules: Vec<SupervisionRule>,
    /// Its stdout as a JSON document, read by field paths.
    pub json: Option<SupervisionJson>,
}

/// A supervisor's answer in JSON (`docker inspect NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionJson {
    /// The path of its status word (`0.State.Status`: a number is an index
    /// into an array).
    pub status: String,
    /// The path of the service's pid (0 or absent: none).
    pub pid: String,
    /// Each status word and what it means.
    pub words: BTreeMap<String, SupervisionWord>,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisionRule {
    /// A regular expression.
    #[serde(rename = "match")]
    pub pattern: String,
    /// What it means.
    pub is: SupervisionWord,
}

/// What a supervision rule means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SupervisionWord {
    /// A gateway process runs.
    Up,
    /// None runs and none is wanted.
    Down,
    /// A start or a stop is under way (not settled).
    Pending,
}

/// The state file: a JSON document. Fields are paths into it, dotted for
/// nested objects (`State.Pid`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateSection {
    /// Its name in a profile's home (or, with `owner`, anywhere under the
    /// data dir).
    pub file: String,
    /// Which profile a file belongs to, when its path does not say: the
    /// supervisor keeps it where it likes (`containers/<id>/config.v2.json`).
    pub owner: Option<StateOwner>,
    /// The field holding the state word.
    pub field: String,
    /// The field holding the writer's pid.
    pub pid_field: String,
    /// The field holding the writer's start time (`/proc/PID/stat` field 22).
    pub start_time_field: Option<String>,
    /// The target's state words and the contract's word for each (a value
    /// that is no string is matched by its JSON text: `true`, `7`).
    pub words: BTreeMap<String, String>,
    /// A profile is live when its supervised gateway wrote one of these
    /// (contract words).
    pub live: Vec<String>,
    /// A regular expression for the names of its writer's temp files (in
    /// the state file's directory): an interrupted write's leftover. Needed
    /// by `kills-leave-whole-files`.
    pub temp: Option<String>,
}

/// The profile a state file found by name belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateOwner {
    /// The field (a path) naming the owner.
    pub field: String,
    /// Its value for `{profile}` (`/{profile}`).
    pub is: String,
}

/// The boot log.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootLogSection {
    /// Relative to the data dir.
    pub file: String,
    /// A regular expression with `(?P<profile>)`, `(?P<prior_state>)` and
    /// `(?P<action>)`.
    pub line: String,
    /// The target's prior_state words and the contract's word for each.
    #[serde(default)]
    pub prior_state_words: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClaims {
    made: Vec<String>,
    #[serde(default)]
    not_made: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdapter {
    name: String,
    about: String,
    protocol: Protocol,
    backends: Vec<BackendKind>,
    image: Option<ImageSection>,
    profiles: Option<ProfilesSection>,
    drive: Option<DriveSection>,
    observe: Option<ObserveSection>,
    claims: RawClaims,
}

/// [`AdapterError::Invalid`]: what is wrong with the adapter at `path`, and
/// what to do.
fn invalid_at(path: &Path, message: String) -> AdapterError {
    AdapterError::Invalid {
        path: path.to_owned(),
        message,
    }
}

impl RawClaims {
    /// The claims made, and those not made with their reasons; every claim
    /// must be one or the other.
    fn decided(&self, path: &Path) -> Result<(Vec<Claim>, BTreeMap<Claim, String>), AdapterError> {
        let invalid = |message: String| invalid_at(path, message);
        let mut made = Vec::new();
        for name in &self.made {
            made.push(
                name.parse::<Claim>()
                    .map_err(|e| invalid(format!("claims.made: {e}")))?,
            );
        }
        let mut not_made = BTreeMap::new();
        for (name, why) in &self.not_made {
            let c = name
                .parse::<Claim>()
                .map_err(|e| invalid(format!("claims.not_made: {e}")))?;
            if made.contains(&c) {
                return Err(invalid(format!(
                    "claim `{c}` is both made and not made: keep one"
                )));
            }
            if why.trim().is_empty() {
                return Err(invalid(format!(
                    "claims.not_made.{c}: say why the target does not make this promise"
                )));
            }
            not_made.insert(c, why.trim().to_owned());
        }
        let undecided: Vec<&str> = Claim::ALL
            .iter()
            .filter(|c| !made.contains(c) && !not_made.contains_key(c))
            .map(|c| c.as_str())
            .collect();
        if !undecided.is_empty() {
            return Err(invalid(format!(
                "every claim is made or not made with a reason; undecided: {}",
                undecided.join(", ")
            )));
        }
        Ok((made, not_made))
    }
}

impl RawAdapter {
    /// A declared target needs every section: the harness knows nothing of it
    /// but what they say.
    fn check_sections(&self, path: &Path) -> Result<(), AdapterError> {
        if self.protocol != Protocol::Declared {
            return Ok(());
        }
        let missing: Vec<&str> = [
            ("[image]", self.image.is_none()),
            ("[profiles]", self.profiles.is_none()),
            ("[drive]", self.drive.is_none()),
            ("[observe]", self.observe.is_none()),
        ]
        .into_iter()
        .filter_map(|(s, m)| m.then_some(s))
        .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(invalid_at(
            path,
            format!("protocol = \"declared\" needs {}", missing.join(", ")),
        ))
    }
}

impl RawAdapter {
    /// A declared target that makes a claim whose operation only its
    /// adapter can perform names the command.
    fn check_drive_claims(&self, path: &Path, made: &[Claim]) -> Result<(), AdapterError> {
        let Some(drive) = &self.drive else {
            return Ok(());
        };
        let needs = [
            (
                Claim::SupervisorCrashIsNotAStop,
                drive.supervisor_crash.is_some(),
                "supervisor_crash",
            ),
            (
                Claim::SupervisorRestartIsNotAStop,
                drive.supervisor_restart.is_some(),
                "supervisor_restart",
            ),
            (
                Claim::ApiSignalIsAStop,
                drive.api_signal.is_some(),
                "api_signal",
            ),
        ];
        for (claim, given, key) in needs {
            if made.contains(&claim) && !given {
                return Err(invalid_at(
                    path,
                    format!("claims {claim} but [drive] has no {key}: add it, or move the claim to claims.not_made with the reason"),
                ));
            }
        }
        Ok(())
    }
}

impl ObserveSection {
    /// Every pattern compiles, and the boot line's names the groups read.
    fn check_patterns(&self, path: &Path) -> Result<(), AdapterError> {
        let invalid = |message: String| invalid_at(path, message);
        if self.supervision.rules.is_empty() == self.supervision.json.is_none() {
            return Err(invalid(
                "observe.supervision reads the answer one way: give either `rules` (patterns) or `json` (field paths)"
                    .to_owned(),
            ));
        }
        for r in &self.supervision.rules {
            regex::Regex::new(&r.pattern)
                .map_err(|e| invalid(format!("observe.supervision.rules: `{}`: {e}", r.pattern)))?;
        }
        if let Some(temp) = &self.state.temp {
            regex::Regex::new(temp)
                .map_err(|e| invalid(format!("observe.state.temp: `{temp}`: {e}")))?;
        }
        let Some(boot_log) = &self.boot_log else {
            return Ok(());
        };
        let re = regex::Regex::new(&boot_log.line)
            .map_err(|e| invalid(format!("observe.boot_log.line: {e}")))?;
        for group in ["profile", "prior_state", "action"] {
            if !re.capture_names().flatten().any(|n| n == group) {
                return Err(invalid(format!(
                    "observe.boot_log.line needs a group (?P<{group}>...)"
                )));
            }
        }
        Ok(())
    }
}

/// Why an adapter could not be loaded. The CLI exits 2.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    /// Not readable.
    #[error(
        "reading adapter {path}: {source}; give an adapter name from adapters/ or a path to one"
    )]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Not valid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
}

impl Adapter {
    /// Reads and checks an adapter file.
    pub fn load(path: &Path) -> Result<Adapter, AdapterError> {
        let text = std::fs::read_to_string(path).map_err(|source| AdapterError::Io {
            path: path.to_owned(),
            source,
        })?;
        Adapter::parse(path, &text)
    }

    /// Parses and checks an adapter's text (`path` only names it).
    pub fn parse(path: &Path, text: &str) -> Result<Adapter, AdapterError> {
        let raw: RawAdapter = toml::from_str(text).map_err(|e| {
            invalid_at(
                path,
                e.to_string()
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })?;
        let (made, not_made) = raw.claims.decided(path)?;
        raw.check_sections(path)?;
        raw.check_drive_claims(path, &made)?;
        if let Some(o) = &raw.observe {
            o.check_patterns(path)?;
            if o.boot_log.is_none() && made.contains(&Claim::BootLog) {
                return Err(invalid_at(
                    path,
                    "claims boot-log but has no [observe.boot_log]: add the section, or move the claim to claims.not_made with the reason".to_owned(),
                ));
            }
            if o.state.temp.is_none() && made.contains(&Claim::KillsLeaveWholeFiles) {
                return Err(invalid_at(
                    path,
                    "claims kills-leave-whole-files but [observe.state] has no `temp` (a pattern for its writer's temp file names): add it, or move the claim to claims.not_made with the reason".to_owned(),
                ));
            }
        }
        Ok(Adapter {
            name: raw.name,
            about: raw.about,
            protocol: raw.protocol,
            backends: raw.backends,
            image: raw.image,
            profiles: raw.profiles,
            drive: raw.drive,
            observe: raw.observe,
            made,
            not_made,
            source: path.to_owned(),
        })
    }

    /// Why the target does not make `claim` (`None`: it makes it).
    pub fn not_made(&self, claim: Claim) -> Option<&str> {
        self.not_made.get(&claim).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_made() -> String {
        let names: Vec<String> = Claim::ALL.iter().map(|c| format!("\"{c}\"")).collect();
        format!("[claims]\nmade = [{}]\n", names.join(", "))
    }

    fn parse(text: &str) -> Result<Adapter, AdapterError> {
        Adapter::parse(Path::new("adapters/x.toml"), text)
    }

    const HEAD: &str =
        "name = \"x\"\nabout = \"x.\"\nprotocol = \"contract\"\nbackends = [\"process\"]\n";

    #[test]
    fn a_contract_adapter_needs_only_its_claims() {
        let a = parse(&format!("{HEAD}{}", all_made())).unwrap();
        assert_eq!(a.protocol, Protocol::Contract);
        assert_eq!(a.made.len(), Claim::ALL.len());
    }

    #[test]
    fn every_claim_must_be_decided() {
        let e = parse(&format!(
            "{HEAD}[claims]\nmade = [\"container-restart-is-not-a-stop\"]\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("adapters/x.toml: every claim is made or not made"),
            "{e}"
        );
        assert!(e.contains("oom-is-not-a-stop"), "{e}");
    }

    #[test]
    fn an_unknown_claim_is_named() {
        let e = parse(&format!("{HEAD}[claims]\nmade = [\"never-fails\"]\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`never-fails` is not a claim"), "{e}");
    }

    #[test]
    fn a_declared_adapter_needs_its_sections() {
        let text = format!("{}{}", HEAD.replace("contract", "declared"), all_made());
        let e = parse(&text).unwrap_err().to_string();
        assert!(
            e.contains("needs [image], [profiles], [drive], [observe]"),
            "{e}"
        );
    }

    #[test]
    fn whole_files_need_the_writers_temp_pattern_and_a_good_one() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters");
        let hermes = std::fs::read_to_string(dir.join("hermes.toml")).unwrap();
        let a = parse(&hermes).unwrap();
        assert!(a.made.contains(&Claim::KillsLeaveWholeFiles));
        let line = hermes
            .lines()
            .find(|l| l.starts_with("temp = "))
            .unwrap()
            .to_owned();
        let e = parse(&hermes.replace(&line, "")).unwrap_err().to_string();
        assert!(
            e.contains("claims kills-leave-whole-files but [observe.state] has no `temp`"),
            "{e}"
        );
        let e = parse(&hermes.replace(&line, "temp = '(unclosed'"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("observe.state.temp: `(unclosed`"), "{e}");
    }

    #[test]
    fn supervision_is_read_one_way_and_a_claim_of_the_supervisor_alone_needs_its_command() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters");
        let dockerd = std::fs::read_to_string(dir.join("dockerd.toml")).unwrap();
        let both = dockerd.replace(
            "[observe.supervision.json]",
            "rules = [{ match = 'x', is = \"up\" }]\n\n[observe.supervision.json]",
        );
        let e = parse(&both).unwrap_err().to_string();
        assert!(
            e.contains("give either `rules` (patterns) or `json`"),
            "{e}"
        );
        let no_crash = dockerd.replace("supervisor_crash = [\"supervisor-crash\"]\n", "");
        let e = parse(&no_crash).unwrap_err().to_string();
        assert!(
            e.contains("claims supervisor-crash-is-not-a-stop but [drive] has no supervisor_crash"),
            "{e}"
        );
    }

    #[test]
    fn the_repositorys_adapters_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters");
        for name in ["reference", "hermes", "dockerd"] {
            let a = Adapter::load(&dir.join(format!("{name}.toml"))).unwrap();
            assert_eq!(a.name, name);
        }
    }
}
