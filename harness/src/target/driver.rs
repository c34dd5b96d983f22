//! The one interface through which faults, waits and observation reach a
//! target (Jepsen's `db`/`client`): operator verbs, a bare signal, supervision
//! status, the persisted files, the boot log and the terminal write of a life.

use std::path::PathBuf;

use async_trait::async_trait;
use restart_contract::boot::BootLine;

use super::adapter::OomWitness;
use crate::backend::{BackendError, BackendResult, CmdOutput, Detached, Sandbox, Signal};
use crate::history::History;
use crate::observe::Status;
use crate::observe::{Life, RestSeen, TerminalSeen};

/// An operator verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Record intent running and start.
    Start,
    /// Record the marker and intent stopped, and stop.
    Stop,
    /// Restart.
    Restart,
}

impl Verb {
    /// `start`, `stop`, `restart`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Start => "start",
            Verb::Stop => "stop",
            Verb::Restart => "restart",
        }
    }
}

/// How the harness drives and observes one kind of target.
#[async_trait]
pub trait Driver: Send + Sync + std::fmt::Debug {
    /// Supervision and liveness of `profiles` (a contract target lists its own).
    async fn status(&self, sb: &mut dyn Sandbox, profiles: &[String]) -> BackendResult<Status>;

    /// Runs an operator verb on a profile; returns the argv run and its output.
    async fn operator(
        &self,
        sb: &mut dyn Sandbox,
        verb: Verb,
        profile: &str,
    ) -> BackendResult<(Vec<String>, CmdOutput)>;

    /// Starts an operator verb on a profile in the background (it runs on
    /// while the harness acts); returns the argv and the running command.
    async fn operator_detached(
        &self,
        sb: &mut dyn Sandbox,
        verb: Verb,
        profile: &str,
    ) -> BackendResult<(Vec<String>, Detached)>;

    /// Sends a bare signal (`SIGTERM`), no marker; returns the argv and output.
    async fn signal(
        &self,
        sb: &mut dyn Sandbox,
        pid: i32,
        signal: Signal,
    ) -> BackendResult<(Vec<String>, CmdOutput)>;

    /// After the first boot: makes the named profiles exist and every profile
    /// run (a contract supervisor does both itself).
    async fn provision(
        &self,
        sb: &mut dyn Sandbox,
        profiles: &[String],
        history: &mut History,
    ) -> BackendResult<()>;

    /// How much history the profile has now: the mark a later terminal write
    /// is looked for after.
    async fn history_mark(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
        history: &mut History,
    ) -> BackendResult<usize>;

    /// The terminal write of `life`.
    async fn terminal(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
        life: Life,
        history: &mut History,
    ) -> BackendResult<TerminalSeen>;

    /// The profile's files at rest (changing nothing) and its status.
    async fn at_rest(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
        status: &Status,
        history: &mut History,
    ) -> BackendResult<RestSeen>;

    /// How many gateway lives of `profile` were started since `mark` (a
    /// [`Driver::history_mark`]) and how many of them ended before their
    /// start-up writes were done, leaving out `survivor`, the life running
    /// now (`None`: the target's history cannot tell).
    async fn startups_since(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
        mark: usize,
        survivor: Option<i32>,
    ) -> BackendResult<Option<(usize, usize)>> {
        let _ = (sb, profile, mark, survivor);
        Ok(None)
    }

    /// The lines of the boot log.
    async fn boot_log(&self, sb: &mut dyn Sandbox) -> BackendResult<Vec<String>>;

    /// One boot line, read in the contract's words (fields the target does not
    /// write are left at their "unknown" value: scenarios that read them need
    /// the claim `boot-line-words`).
    fn boot_line(&self, line: &str) -> Result<BootLine, String>;

    /// The profile's state file, relative to the data dir.
    async fn state_file(&self, sb: &mut dyn Sandbox, profile: &str) -> BackendResult<PathBuf>;

    /// A file and content that make the profile's gateway fail at its next
    /// start, if the target has one.
    fn break_start(&self, profile: &str) -> Option<(PathBuf, String)>;

    /// The target's own command that makes the kernel OOM-kill the gateway
    /// `pid` of `profile` (`None`: the sandbox's own way, the reference's
    /// `gateway balloon` test hook).
    fn oom_command(&self, profile: &str, pid: i32) -> Option<OomCommand> {
        let _ = (profile, pid);
        None
    }

    /// Crashes or restarts the supervisor alone, and returns once it answers
    /// again; returns the argv run and its output.
    async fn supervisor(
        &self,
        sb: &mut dyn Sandbox,
        act: SupervisorAct,
    ) -> BackendResult<(Vec<String>, CmdOutput)> {
        let _ = sb;
        Err(BackendError::TargetCannot { what: act.what() })
    }

    /// Sends `signal` to the profile's gateway through the supervisor's own
    /// API (not a bare kill(2)); returns the argv run and its output.
    async fn api_signal(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
        signal: Signal,
    ) -> BackendResult<(Vec<String>, CmdOutput)> {
        let _ = (sb, profile, signal);
        Err(BackendError::TargetCannot { what: API_SIGNAL })
    }

    /// How a command this driver ran reads in a report.
    fn shown(&self, argv: &[String]) -> String {
        argv.join(" ")
    }
}

/// What a target without a way to signal through its supervisor's API
/// cannot do, for messages.
pub const API_SIGNAL: &str = "send a signal through its supervisor's API";

/// What happens to the supervisor alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupervisorAct {
    /// SIGKILL, its services left alive; its own init starts it again.
    Crash,
    /// A clean restart.
    Restart,
}

impl SupervisorAct {
    /// What it does, for messages.
    pub fn what(self) -> &'static str {
        match self {
            SupervisorAct::Crash => "crash its supervisor alone",
            SupervisorAct::Restart => "restart its supervisor alone",
        }
    }
}

/// A target's own way to OOM-kill one gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OomCommand {
    /// What to run in the sandbox.
    pub argv: Vec<String>,
    /// Who shows the kill: the engine's `oom` event, or the command's exit 0.
    pub witness: OomWitness,
}

/// A system under test: a sandbox, the driver that reaches the target in it,
/// and the profiles of the scenario.
pub struct Sut<'a> {
    /// Where it runs.
    pub sandbox: &'a mut dyn Sandbox,
    /// How it is reached.
    pub driver: &'a dyn Driver,
    /// Every profile of the scenario (`default` first).
    pub profiles: Vec<String>,
    /// Operator commands started in the background and not yet joined.
    pub background: Vec<Background>,
}

/// An operator command started in the background: it runs while the next
/// operations do, and its exit code is checked once it is joined.
#[derive(Debug)]
pub struct Background {
    /// The setup step that started it (1-based; 0: an explored move).
    pub step: usize,
    /// The command, as shown.
    pub shown: String,
    /// The exit code it must end with.
    pub expect_code: i32,
    /// The running command.
    pub command: Detached,
}

impl Sut<'_> {
    /// [`Driver::status`] of every profile.
    pub async fn status(&mut self) -> BackendResult<Status> {
        self.driver.status(&mut *self.sandbox, &self.profiles).await
    }
}
