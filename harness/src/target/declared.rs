//! A target described by its adapter alone: operator verbs and a bare signal
//! as argv templates run in the sandbox, supervision from a command's output
//! and patterns, the persisted state read from its file with the adapter's
//! field names and words, the boot log read with its pattern, and terminal
//! writes from the versions of the state file a sidecar recorded (the target
//! keeps no event history).
//!
//! What such a target cannot show (a cause, an exit code, the contract's
//! boot-line words, an intent file) is left at "unknown" here; scenarios that
//! read it need claims such a target does not make, so they never run on it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use regex::Regex;
use restart_contract::boot::{BootAction, BootLine, PriorExit, PriorStateLabel};
use restart_contract::status::StatusRow;
use restart_contract::GatewayState;
use serde_json::Value;

use super::adapter::{Adapter, ObserveSection, SupervisionJson, SupervisionWord};
use super::driver::{Driver, OomCommand, SupervisorAct, Verb, API_SIGNAL};
use crate::backend::error::exited;
use crate::backend::{
    BackendError, BackendResult, CmdOutput, Detached, FileVersion, Sandbox, Signal,
};
use crate::history::{EntryKind, History};
use crate::observe::Status;
use crate::observe::{CauseSeen, ExitSeen, FileState, Supervised};
use crate::observe::{Life, RestSeen, TerminalSeen};

/// Drives a target through its adapter's templates.
#[derive(Debug)]
pub struct DeclaredDriver {
    adapter: Arc<Adapter>,
    rules: Vec<(Regex, SupervisionWord)>,
    boot_line: Option<Regex>,
    /// The writer's temp file names (`[observe.state] temp`).
    temp: Option<Regex>,
}

/// What a state file says, read with the adapter's names.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StateRead {
    state: FileState<GatewayState>,
    pid: Option<i32>,
    start_time: Option<u64>,
}

impl DeclaredDriver {
    /// The driver of `adapter` (its patterns were checked when it loaded).
    pub fn new(adapter: Arc<Adapter>) -> DeclaredDriver {
        let rules = adapter
            .observe
            .iter()
            .flat_map(|o| o.supervision.rules.iter())
            .filter_map(|r| Regex::new(&r.pattern).ok().map(|re| (re, r.is)))
            .collect();
        let boot_line = adapter
            .observe
            .as_ref()
            .and_then(|o| o.boot_log.as_ref())
            .and_then(|b| Regex::new(&b.line).ok());
        let temp = adapter
            .observe
            .as_ref()
            .and_then(|o| o.state.temp.as_deref())
            .and_then(|t| Regex::new(t).ok());
        DeclaredDriver {
            adapter,
            rules,
            boot_line,
            temp,
        }
    }

    fn drive(&self) -> BackendResult<&super::adapter::DriveSection> {
        self.adapter
            .drive
            .as_ref()
            .ok_or_else(|| self.missing("[drive]"))
    }

    /// The adapter's command for `verb` on `profile`, filled in.
    fn verb_argv(&self, verb: Verb, profile: &str) -> BackendResult<Vec<String>> {
        let drive = self.drive()?;
        let template = match verb {
            Verb::Start => &drive.start,
            Verb::Stop => &drive.stop,
            Verb::Restart => &drive.restart,
        };
        Ok(self.fill(template, Some(profile), None, None))
    }

    fn missing(&self, section: &'static str) -> BackendError {
        BackendError::AdapterLacks {
            adapter: self.adapter.source.clone(),
            section,
        }
    }

    /// Fills `{profile}`, `{profile_args}` (spliced), `{pid}`, `{signal}`.
    fn fill(
        &self,
        template: &[String],
        profile: Option<&str>,
        pid: Option<i32>,
        signal: Option<&str>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for part in template {
            if part == "{profile_args}" {
                if let (Some(p), Some(profiles)) = (profile, &self.adapter.profiles) {
                    let args = if p == restart_contract::layout::DEFAULT_PROFILE {
                        &profiles.default_args
                    } else {
                        &profiles.args
                    };
                    out.extend(args.iter().map(|a| a.replace("{profile}", p)));
                }
                continue;
            }
            let mut s = part.clone();
            if let Some(p) = profile {
                s = s.replace("{profile}", p);
            }
            if let Some(pid) = pid {
                s = s.replace("{pid}", &pid.to_string());
            }
            if let Some(sig) = signal {
                s = s.replace("{signal}", sig.strip_prefix("SIG").unwrap_or(sig));
            }
            out.push(s);
        }
        out
    }

    fn home(&self, profile: &str) -> PathBuf {
        match &self.adapter.profiles {
            Some(p) if profile == restart_contract::layout::DEFAULT_PROFILE => {
                PathBuf::from(&p.default_home)
            }
            Some(p) => Path::new(&p.dir).join(profile),
            None => PathBuf::from(profile),
        }
    }

    /// Reads a state file's bytes with the adapter's field paths and words.
    fn read_state(&self, bytes: Option<&[u8]>) -> StateRead {
        let none = StateRead {
            state: FileState::Missing,
            pid: None,
            start_time: None,
        };
        let Some(section) = self.adapter.observe.as_ref().map(|o| &o.state) else {
            return none;
        };
        let Some(bytes) = bytes else { return none };
        let corrupt = StateRead {
            state: FileState::Corrupt,
            ..none
        };
        let Ok(doc @ Value::Object(_)) = serde_json::from_slice::<Value>(bytes) else {
            return corrupt;
        };
        let word = at(&doc, &section.field).and_then(scalar_text);
        let state = match word.and_then(|w| section.words.get(&w)) {
            Some(contract_word) => contract_word
                .parse::<GatewayState>()
                .map_or(FileState::Unsupported, FileState::Value),
            None => FileState::Unsupported,
        };
        let pid = at(&doc, &section.pid_field)
            .and_then(Value::as_i64)
            .and_then(|p| i32::try_from(p).ok());
        let start_time = section
            .start_time_field
            .as_ref()
            .and_then(|f| at(&doc, f))
            .and_then(Value::as_u64);
        StateRead {
            state,
            pid,
            start_time,
        }
    }

    /// Whether a version's text names `profile` as its owner (a target whose
    /// state files are found by name: `observe.state.owner`).
    fn owned_by(&self, text: &str, profile: &str) -> bool {
        let Some(owner) = self
            .adapter
            .observe
            .as_ref()
            .and_then(|o| o.state.owner.as_ref())
        else {
            return false;
        };
        let Ok(doc) = serde_json::from_str::<Value>(text) else {
            return false;
        };
        at(&doc, &owner.field).and_then(scalar_text) == Some(owner.is.replace("{profile}", profile))
    }

    /// The recorded versions of `profile`'s state file, in order: those at
    /// its path, or (with an owner field) every version of a file of that
    /// name once one of its versions named the profile as owner.
    fn versions_of(&self, profile: &str, all: &[FileVersion]) -> Vec<FileVersion> {
        if !self.owner_field() {
            let want = self.version_path(profile);
            return all
                .iter()
                .filter(|v| v.path.trim_start_matches("./") == want)
                .cloned()
                .collect();
        }
        let name = self.state_name();
        let mut owned: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for v in all {
            if Path::new(&v.path).file_name().and_then(|n| n.to_str()) != Some(name) {
                continue;
            }
            let path = v.path.trim_start_matches("./");
            if v.text.as_deref().is_some_and(|t| self.owned_by(t, profile))
                && !owned.contains(&path)
            {
                owned.push(path);
            }
            if owned.contains(&path) {
                out.push(v.clone());
            }
        }
        out
    }

    /// The state file's name.
    fn state_name(&self) -> &str {
        self.adapter
            .observe
            .as_ref()
            .map_or("gateway_state.json", |o| o.state.file.as_str())
    }

    /// The profile's state file now, relative to the data dir: its path, or
    /// (with an owner field) the path of the last recorded version it owns.
    async fn state_file_now(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
    ) -> BackendResult<Option<PathBuf>> {
        if !self.owner_field() {
            return Ok(Some(self.state_path(profile)));
        }
        let all = sb.file_versions().await?;
        Ok(self
            .versions_of(profile, &all)
            .last()
            .map(|v| PathBuf::from(v.path.trim_start_matches("./"))))
    }

    fn state_path(&self, profile: &str) -> PathBuf {
        self.home(profile).join(self.state_name())
    }

    /// One profile's row, or `None` when the supervisor does not know it.
    async fn row(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
        versions: &[FileVersion],
    ) -> BackendResult<Option<StatusRow>> {
        let observe = self
            .adapter
            .observe
            .as_ref()
            .ok_or_else(|| self.missing("[observe]"))?;
        let Some((word, pid)) = self.supervision(sb, observe, profile).await? else {
            return Ok(None);
        };
        // The kernel tells one life of a reused pid from the next (PIDs
        // repeat from one container boot to the next), whatever the state
        // file says: a record of the last boot's life with this pid must not
        // make this one live.
        let started = match (word, pid) {
            (SupervisionWord::Up, Some(pid)) => process_start_time(sb, pid).await?,
            _ => None,
        };
        let mut row = self.row_of(observe, profile, (word, pid, started), versions);
        if started.is_some() {
            row.start_time = started;
        }
        Ok(Some(row))
    }

    /// What the supervisor says of `profile` (the word of the first rule that
    /// matches, and the pid it captured), or `None` when it does not know it.
    async fn supervision(
        &self,
        sb: &mut dyn Sandbox,
        observe: &ObserveSection,
        profile: &str,
    ) -> BackendResult<Option<(SupervisionWord, Option<i32>)>> {
        let argv = self.fill(&observe.supervision.argv, Some(profile), None, None);
        let out = sb.exec(&argv).await?;
        match out.code {
            Some(0) => {}
            // 126/127: the shell or runtime could not run it; no code: killed.
            // A command that did not run says nothing about supervision.
            Some(126 | 127) | None => {
                return Err(BackendError::Supervision {
                    adapter: self.adapter.source.clone(),
                    problem: format!(
                        "the supervision command `{}` could not run ({}): {}",
                        argv.join(" "),
                        out.code.map_or_else(
                            || "killed by a signal".to_owned(),
                            |c| format!("exit {c}")
                        ),
                        out.stderr.trim(),
                    ),
                })
            }
            // The supervisor does not know the profile.
            Some(_) => return Ok(None),
        }
        let text = out.stdout.trim();
        if let Some(json) = &observe.supervision.json {
            return self.supervision_json(json, &argv, text).map(Some);
        }
        let matched = self.rules.iter().find_map(|(re, word)| {
            re.captures(text).map(|c| {
                let pid = c.name("pid").and_then(|m| m.as_str().parse::<i32>().ok());
                (*word, pid)
            })
        });
        match matched {
            Some(m) => Ok(Some(m)),
            None => Err(BackendError::Supervision {
                adapter: self.adapter.source.clone(),
                problem: format!(
                    "`{}` printed {text:?}, which no rule of observe.supervision matches",
                    argv.join(" ")
                ),
            }),
        }
    }

    /// The supervisor's JSON answer read by the adapter's field paths.
    fn supervision_json(
        &self,
        json: &SupervisionJson,
        argv: &[String],
        text: &str,
    ) -> BackendResult<(SupervisionWord, Option<i32>)> {
        let problem = |what: String| BackendError::Supervision {
            adapter: self.adapter.source.clone(),
            problem: format!("`{}` printed {what}", argv.join(" ")),
        };
        let doc: Value =
            serde_json::from_str(text).map_err(|e| problem(format!("no JSON document ({e})")))?;
        let status = at(&doc, &json.status)
            .and_then(scalar_text)
            .ok_or_else(|| problem(format!("nothing at {}", json.status)))?;
        let word = *json.words.get(&status).ok_or_else(|| {
            problem(format!(
                "the status {status:?}, which observe.supervision.json.words does not name"
            ))
        })?;
        let pid = at(&doc, &json.pid)
            .and_then(Value::as_i64)
            .and_then(|p| i32::try_from(p).ok())
            .filter(|p| *p > 0);
        Ok((word, pid))
    }

    /// The row of `profile` the supervisor reports as `word` (with `pid`).
    ///
    /// Live means the supervised process itself last wrote a live state: the
    /// newest recorded version of the state file that names its pid says so
    /// (a file the harness damaged on purpose names no pid of a life, so it
    /// neither makes a gateway live nor hides that it is).
    fn row_of(
        &self,
        observe: &ObserveSection,
        profile: &str,
        (word, pid, started): (SupervisionWord, Option<i32>, Option<u64>),
        versions: &[FileVersion],
    ) -> StatusRow {
        let mine: Vec<StateRead> = self
            .versions_of(profile, versions)
            .iter()
            .filter_map(|v| v.text.as_deref())
            .map(|t| self.read_state(Some(t.as_bytes())))
            .collect();
        let value = |r: &StateRead| match r.state {
            FileState::Value(s) => Some(s),
            _ => None,
        };
        let gateway_state = mine.last().and_then(value);
        let by_it = match (word, pid) {
            // Its pid, and its start time where both the file and the
            // kernel say one.
            (SupervisionWord::Up, Some(pid)) => mine.iter().rev().find(|r| {
                r.pid == Some(pid)
                    && match (r.start_time, started) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    }
            }),
            _ => None,
        };
        let live = by_it
            .and_then(value)
            .is_some_and(|s| observe.state.live.iter().any(|w| w == s.as_str()));
        StatusRow {
            profile: profile.to_owned(),
            supervised: match word {
                SupervisionWord::Up => Supervised::Up,
                SupervisionWord::Down => Supervised::Down,
                // A start or a stop under way: not settled, like a backoff.
                SupervisionWord::Pending => Supervised::Backoff,
            },
            pid: if word == SupervisionWord::Up {
                pid
            } else {
                None
            },
            start_time: by_it.and_then(|r| r.start_time),
            gateway_state,
            desired_state: None,
            live,
        }
    }

    /// Whether state files are found by name and owner field.
    fn owner_field(&self) -> bool {
        self.adapter
            .observe
            .as_ref()
            .is_some_and(|o| o.state.owner.is_some())
    }

    /// The state file's path as the recorder names it.
    fn version_path(&self, profile: &str) -> String {
        self.state_path(profile)
            .to_string_lossy()
            .trim_start_matches("./")
            .to_owned()
    }

    /// The versions of the profile's state file the recorder has seen.
    async fn versions(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
    ) -> BackendResult<Vec<FileVersion>> {
        let all = sb.file_versions().await?;
        Ok(self.versions_of(profile, &all))
    }
}

#[async_trait]
impl Driver for DeclaredDriver {
    async fn status(&self, sb: &mut dyn Sandbox, profiles: &[String]) -> BackendResult<Status> {
        let versions = sb.file_versions().await?;
        let mut rows = Vec::new();
        for p in profiles {
            if let Some(row) = self.row(sb, p, &versions).await? {
                rows.push(row);
            }
        }
        Ok(Status { profiles: rows })
    }

    async fn operator(
        &self,
        sb: &mut dyn Sandbox,
        verb: Verb,
        profile: &str,
    ) -> BackendResult<(Vec<String>, CmdOutput)> {
        let argv = self.verb_argv(verb, profile)?;
        let out = sb.exec(&argv).await?;
        Ok((argv, out))
    }

    async fn operator_detached(
        &self,
        sb: &mut dyn Sandbox,
        verb: Verb,
        profile: &str,
    ) -> BackendResult<(Vec<String>, Detached)> {
        let argv = self.verb_argv(verb, profile)?;
        let running = sb.exec_detached(&argv).await?;
        Ok((argv, running))
    }

    async fn signal(
        &self,
        sb: &mut dyn Sandbox,
        pid: i32,
        signal: Signal,
    ) -> BackendResult<(Vec<String>, CmdOutput)> {
        let drive = self.drive()?;
        let argv = self.fill(&drive.signal, None, Some(pid), Some(signal.name()));
        let out = sb.exec(&argv).await?;
        Ok((argv, out))
    }

    async fn supervisor(
        &self,
        sb: &mut dyn Sandbox,
        act: SupervisorAct,
    ) -> BackendResult<(Vec<String>, CmdOutput)> {
        let drive = self.drive()?;
        let template = match act {
            SupervisorAct::Crash => &drive.supervisor_crash,
            SupervisorAct::Restart => &drive.supervisor_restart,
        };
        let template = template
            .as_ref()
            .ok_or(BackendError::TargetCannot { what: act.what() })?;
        let argv = self.fill(template, None, None, None);
        let out = sb.exec(&argv).await?;
        Ok((argv, out))
    }

    async fn api_signal(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
        signal: Signal,
    ) -> BackendResult<(Vec<String>, CmdOutput)> {
        let template = self
            .drive()?
            .api_signal
            .as_ref()
            .ok_or(BackendError::TargetCannot { what: API_SIGNAL })?;
        let argv = self.fill(template, Some(profile), None, Some(signal.name()));
        let out = sb.exec(&argv).await?;
        Ok((argv, out))
    }

    async fn provision(
        &self,
        sb: &mut dyn Sandbox,
        profiles: &[String],
        history: &mut History,
    ) -> BackendResult<()> {
        let create = self
            .adapter
            .profiles
            .as_ref()
            .map(|p| p.create.clone())
            .ok_or_else(|| self.missing("[profiles]"))?;
        history.record(
            EntryKind::Phase,
            "provision: create the named profiles, start every profile that is down",
        );
        for p in profiles {
            if p == restart_contract::layout::DEFAULT_PROFILE {
                continue;
            }
            let argv = self.fill(&create, Some(p), None, None);
            let out = sb.exec(&argv).await?;
            history.command(&argv.join(" "), &out);
            if out.code != Some(0) {
                return Err(BackendError::CommandFailed {
                    purpose: format!("creating profile {p}"),
                    argv,
                    status: exited(out.code),
                    stderr: out.stderr,
                });
            }
        }
        let versions = sb.file_versions().await?;
        for p in profiles {
            let up = self
                .row(sb, p, &versions)
                .await?
                .is_some_and(|r| r.supervised == Supervised::Up);
            if up {
                continue;
            }
            let (argv, out) = self.operator(sb, Verb::Start, p).await?;
            history.command(&argv.join(" "), &out);
            if out.code != Some(0) {
                return Err(BackendError::CommandFailed {
                    purpose: format!("starting profile {p}"),
                    argv,
                    status: exited(out.code),
                    stderr: out.stderr,
                });
            }
        }
        Ok(())
    }

    async fn history_mark(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
        _history: &mut History,
    ) -> BackendResult<usize> {
        Ok(self.versions(sb, profile).await?.len())
    }

    async fn terminal(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
        life: Life,
        history: &mut History,
    ) -> BackendResult<TerminalSeen> {
        let versions = self.versions(sb, profile).await?;
        let since = life.events_before.saturating_sub(1);
        let shown: Vec<String> = versions
            .iter()
            .skip(since)
            .map(|v| {
                format!(
                    "{} {}",
                    v.ts,
                    v.text.as_deref().map_or("(removed)", str::trim_end)
                )
            })
            .collect();
        history.record(
            EntryKind::Event,
            format!(
                "{profile}/{} versions from the faulted life on (recorded):\n{}",
                self.state_name(),
                shown.join("\n")
            ),
        );
        // Its last write: the last version naming its pid (and start time,
        // where the file has one: PIDs repeat from one container boot to the next).
        let last = versions[since.min(versions.len())..]
            .iter()
            .rev()
            .filter_map(|v| v.text.as_deref())
            .map(|t| self.read_state(Some(t.as_bytes())))
            .find(|r| {
                r.pid == Some(life.pid) && r.start_time.is_none_or(|st| st == life.start_time)
            });
        Ok(TerminalSeen {
            pid: life.pid,
            cause: CauseSeen::None,
            signal: None,
            gateway_state: last.and_then(|r| match r.state {
                FileState::Value(s) => Some(s),
                _ => None,
            }),
            exit_reason: None,
            exit: ExitSeen::NotReaped,
        })
    }

    async fn at_rest(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
        status: &Status,
        history: &mut History,
    ) -> BackendResult<RestSeen> {
        let path = self.state_file_now(sb, profile).await?;
        let bytes = match &path {
            Some(p) => sb.read_file(p).await?,
            None => None,
        };
        let shown = path
            .as_ref()
            .map_or_else(|| self.state_name().to_owned(), |p| p.display().to_string());
        history.record(
            EntryKind::File,
            format!(
                "{profile}/{shown}: {}",
                bytes.as_ref().map_or_else(
                    || "absent".to_owned(),
                    |b| String::from_utf8_lossy(b).trim_end().to_owned()
                )
            ),
        );
        // The state file's own directory, where the target keeps it.
        let home = match (&path, self.owner_field()) {
            (Some(p), true) => p.parent().map(Path::to_owned).unwrap_or_default(),
            _ => self.home(profile),
        };
        let home_files = sb.list_dir(&home).await?;
        let marker = match self
            .adapter
            .observe
            .as_ref()
            .and_then(|o| o.marker.as_ref())
        {
            Some(name) => home_files.iter().any(|f| f == name),
            None => false,
        };
        let read = self.read_state(bytes.as_deref());
        let st = status.get(profile);
        // Without a pattern no temp file can be told (the claim
        // `kills-leave-whole-files` needs one).
        let temps: Vec<&String> = self
            .temp
            .as_ref()
            .map(|re| home_files.iter().filter(|n| re.is_match(n)).collect())
            .unwrap_or_default();
        if !temps.is_empty() {
            history.record(
                EntryKind::File,
                format!(
                    "{}: the writer's temp files left: {}",
                    home.display(),
                    temps
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            );
        }
        let temp_files = temps.len();
        let versions = self.versions(sb, profile).await?;
        let unparsable_versions = match &path {
            Some(p) => super::read::unparsable_versions(p, &versions, bytes.as_deref(), history),
            None => 0,
        };
        Ok(RestSeen {
            gateway_state: read.state,
            exit_reason: None,
            restart_requested: None,
            state_keys: Vec::new(),
            desired_state: FileState::Missing,
            marker,
            home_files,
            // Never read: the contract's torn files need `contract-files`.
            torn_files: 0,
            temp_files,
            unparsable_versions,
            supervised: st.map(|s| s.supervised),
            live: st.map(|s| s.live),
            pid: st.and_then(|s| s.pid),
            start_time: st.and_then(|s| s.start_time),
        })
    }

    async fn boot_log(&self, sb: &mut dyn Sandbox) -> BackendResult<Vec<String>> {
        let observe = self
            .adapter
            .observe
            .as_ref()
            .ok_or_else(|| self.missing("[observe]"))?;
        // No boot log: what a boot did is read from supervision after it
        // (scenarios that read boot lines need the claim `boot-log`).
        let Some(log) = &observe.boot_log else {
            return Ok(Vec::new());
        };
        super::read::read_lines(sb, Path::new(&log.file)).await
    }

    fn boot_line(&self, line: &str) -> Result<BootLine, String> {
        let re = self
            .boot_line
            .as_ref()
            .ok_or_else(|| "the adapter has no boot line pattern".to_owned())?;
        let c = re
            .captures(line)
            .ok_or_else(|| format!("does not match observe.boot_log.line `{}`", re.as_str()))?;
        let field = |n: &str| c.name(n).map_or("", |m| m.as_str());
        let words = self
            .adapter
            .observe
            .as_ref()
            .and_then(|o| o.boot_log.as_ref())
            .map(|b| &b.prior_state_words);
        let prior = field("prior_state");
        let prior = words
            .and_then(|w| w.get(prior))
            .map_or(prior, String::as_str);
        // A word outside the contract's (a damaged file's): not comparable, and
        // never compared, since prior_state needs the claim boot-line-words.
        let prior_state = prior
            .parse::<PriorStateLabel>()
            .unwrap_or(PriorStateLabel::Unsupported);
        let action = field("action")
            .parse::<BootAction>()
            .map_err(|e| e.to_string())?;
        let ts = c
            .name("ts")
            .and_then(|m| chrono::DateTime::parse_from_str(m.as_str(), "%Y-%m-%dT%H:%M:%S%z").ok())
            .map_or_else(chrono::Utc::now, |t| t.with_timezone(&chrono::Utc));
        Ok(BootLine {
            ts,
            profile: field("profile").to_owned(),
            prior_state,
            // Not written by this target: scenarios that read them need
            // the claim `boot-line-words`.
            desired: None,
            action,
            prior_exit: PriorExit::Unknown,
        })
    }

    async fn state_file(&self, sb: &mut dyn Sandbox, profile: &str) -> BackendResult<PathBuf> {
        self.state_file_now(sb, profile)
            .await?
            .ok_or_else(|| BackendError::NoStateFile {
                adapter: self.adapter.source.clone(),
                profile: profile.to_owned(),
                file: self.state_name().to_owned(),
            })
    }

    fn oom_command(&self, profile: &str, pid: i32) -> Option<OomCommand> {
        let drive = self.adapter.drive.as_ref()?;
        let template = drive.oom.as_ref()?;
        Some(OomCommand {
            argv: self.fill(template, Some(profile), Some(pid), None),
            witness: drive.oom_witness,
        })
    }

    fn break_start(&self, profile: &str) -> Option<(PathBuf, String)> {
        let b = self.adapter.drive.as_ref()?.break_start.as_ref()?;
        Some((self.home(profile).join(&b.file), b.content.clone()))
    }
}

/// When `pid` started (`/proc/PID/stat` field 22, read in the sandbox), or
/// `None` when it is gone.
async fn process_start_time(sb: &mut dyn Sandbox, pid: i32) -> BackendResult<Option<u64>> {
    let argv = ["cat".to_owned(), format!("/proc/{pid}/stat")];
    let out = sb.exec(&argv).await?;
    if out.code != Some(0) {
        return Ok(None);
    }
    Ok(restart_contract::procfs::parse_start_time(&out.stdout))
}

/// The value at a dotted path into nested objects (`State.Pid`); a number
/// is an index into an array (`0.State.Status`).
fn at<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(doc, |v, key| match v {
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => v.get(key),
    })
}

/// A scalar as the adapter's words name it: a string as it is, a bool or a
/// number as its JSON text.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hermes() -> DeclaredDriver {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters/hermes.toml");
        DeclaredDriver::new(Arc::new(Adapter::load(&path).unwrap()))
    }

    #[test]
    fn templates_splice_profile_args_and_fill_pid_and_signal() {
        let d = hermes();
        let drive = d.adapter.drive.clone().unwrap();
        assert_eq!(
            d.fill(&drive.stop, Some("default"), None, None),
            ["hermes", "gateway", "stop"]
        );
        assert_eq!(
            d.fill(&drive.stop, Some("b"), None, None),
            ["hermes", "-p", "b", "gateway", "stop"]
        );
        assert_eq!(
            d.fill(&drive.signal, None, Some(42), Some("SIGTERM")),
            ["sh", "-c", "kill -s TERM 42"]
        );
    }

    #[test]
    fn homes_and_state_files_follow_the_adapter() {
        let d = hermes();
        assert_eq!(d.state_path("default"), Path::new("./gateway_state.json"));
        assert_eq!(d.version_path("default"), "gateway_state.json");
        assert_eq!(
            d.state_path("b"),
            Path::new("profiles/b/gateway_state.json")
        );
    }

    fn dockerd() -> DeclaredDriver {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters/dockerd.toml");
        DeclaredDriver::new(Arc::new(Adapter::load(&path).unwrap()))
    }

    fn version(path: &str, text: Option<&str>) -> FileVersion {
        FileVersion {
            ts: "2026-12-05T12:00:00.000Z".to_owned(),
            path: path.to_owned(),
            text: text.map(str::to_owned),
        }
    }

    #[test]
    fn fields_are_paths_into_nested_json_and_words_match_any_scalar() {
        let d = dockerd();
        let r = d.read_state(Some(
            br#"{"Name":"/b","State":{"Running":true,"Pid":4242},"HasBeenManuallyStopped":false}"#,
        ));
        assert_eq!(r.state, FileState::Value(GatewayState::Running));
        assert_eq!(r.pid, Some(4242));
        let r = d.read_state(Some(
            br#"{"Name":"/b","State":{"Pid":0},"HasBeenManuallyStopped":true}"#,
        ));
        assert_eq!(r.state, FileState::Value(GatewayState::Stopped));
        assert_eq!(r.pid, Some(0));
        assert_eq!(
            d.read_state(Some(br#"{"HasBeenManuallyStopped":"maybe"}"#))
                .state,
            FileState::Unsupported
        );
    }

    #[test]
    fn supervision_can_be_read_from_json_by_field_paths() {
        let d = dockerd();
        let json = d
            .adapter
            .observe
            .as_ref()
            .and_then(|o| o.supervision.json.clone())
            .unwrap();
        let argv = ["docker".to_owned(), "inspect".to_owned()];
        let read = |text: &str| d.supervision_json(&json, &argv, text);
        assert_eq!(
            read(r#"[{"State":{"Status":"running","Pid":4242}}]"#).unwrap(),
            (SupervisionWord::Up, Some(4242))
        );
        assert_eq!(
            read(r#"[{"State":{"Status":"exited","Pid":0}}]"#).unwrap(),
            (SupervisionWord::Down, None)
        );
        assert_eq!(
            read(r#"[{"State":{"Status":"restarting","Pid":0}}]"#).unwrap(),
            (SupervisionWord::Pending, None)
        );
        let e = read(r#"[{"State":{"Status":"hibernating"}}]"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"hibernating\", which observe.supervision.json.words does not name"),
            "{e}"
        );
        assert!(read("not json").is_err());
    }

    #[test]
    fn a_state_file_found_by_name_belongs_to_the_profile_its_owner_field_names() {
        let d = dockerd();
        let all = [
            version(
                "containers/aaa/config.v2.json",
                Some(r#"{"Name":"/gw-default"}"#),
            ),
            version("containers/bbb/config.v2.json", Some(r#"{"Name":"/gw-b"}"#)),
            version(
                "containers/bbb/hostconfig.json",
                Some(r#"{"Name":"/gw-b"}"#),
            ),
            // Damage names no owner, but its path is b's already.
            version("containers/bbb/config.v2.json", Some("")),
            version("containers/aaa/config.v2.json", None),
        ];
        let b = d.versions_of("b", &all);
        assert_eq!(b.len(), 2);
        assert_eq!(b[1].text.as_deref(), Some(""));
        let default = d.versions_of("default", &all);
        assert_eq!(default.len(), 2);
        assert_eq!(default[1].text, None);
        assert!(d.versions_of("c", &all).is_empty());
    }

    #[test]
    fn state_words_map_onto_the_contract_and_damage_is_classified() {
        let d = hermes();
        let r = d.read_state(Some(
            br#"{"pid":7,"start_time":99,"gateway_state":"degraded","desired_state":"running"}"#,
        ));
        assert_eq!(r.state, FileState::Value(GatewayState::Running));
        assert_eq!((r.pid, r.start_time), (Some(7), Some(99)));
        assert_eq!(d.read_state(None).state, FileState::Missing);
        assert_eq!(d.read_state(Some(b"")).state, FileState::Corrupt);
        assert_eq!(
            d.read_state(Some(br#"["running"]"#)).state,
            FileState::Corrupt
        );
        assert_eq!(
            d.read_state(Some(br#"{"gateway_state":"hibernating"}"#))
                .state,
            FileState::Unsupported
        );
    }

    #[test]
    fn supervision_rules_read_s6_svstat() {
        let d = hermes();
        let word = |text: &str| {
            d.rules.iter().find_map(|(re, w)| {
                re.captures(text)
                    .map(|c| (*w, c.name("pid").map(|m| m.as_str().to_owned())))
            })
        };
        assert_eq!(
            word("up (pid 123) 4 seconds"),
            Some((SupervisionWord::Up, Some("123".into())))
        );
        assert_eq!(
            word("up (pid 123 pgid 123) 4 seconds, normally down"),
            Some((SupervisionWord::Up, Some("123".into())))
        );
        assert_eq!(
            word("up (pid 123) 0 seconds, want down").map(|w| w.0),
            Some(SupervisionWord::Pending)
        );
        assert_eq!(
            word("down (exitcode 1) 0 seconds, normally up, want up, ready 0 seconds").map(|w| w.0),
            Some(SupervisionWord::Pending)
        );
        assert_eq!(
            word("down (signal SIGTERM) 5 seconds, normally up").map(|w| w.0),
            Some(SupervisionWord::Down)
        );
    }

    #[test]
    fn boot_lines_are_read_with_the_adapters_pattern() {
        let d = hermes();
        let b = d
            .boot_line("2026-06-10T04:01:00+0000 profile=b prior_state=None action=registered")
            .unwrap();
        assert_eq!(b.profile, "b");
        assert_eq!(b.prior_state, PriorStateLabel::Missing);
        assert_eq!(b.action, BootAction::RegisterDown);
        let b = d
            .boot_line("2026-06-10T04:01:00+0000 profile=default prior_state=running action=started prior_exit=clean")
            .unwrap();
        assert_eq!(b.action, BootAction::Start);
        assert!(d.boot_line("reconcile: nonsense").is_err());
    }
}
