//! The contract's own protocol: `gateway status --json`, `gateway
//! stop|start|restart --profile P`, `gateway kill PID SIG`, `events.jsonl` and
//! `DATA/boot.log` (docs/contract.md). The reference gateway speaks it, and so
//! does any image built to the contract.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use restart_contract::boot::BootLine;
use restart_contract::layout::files;

use super::driver::{Driver, Verb};
use crate::backend::error::exited;
use crate::backend::{
    profile_file, BackendError, BackendResult, CmdOutput, Detached, Sandbox, Signal,
};
use crate::history::History;
use crate::observe::Status;
use crate::observe::{self, Life, RestSeen, TerminalSeen};

/// Drives a target through the contract's CLI and reads the contract's files.
#[derive(Debug, Clone, Copy, Default)]
pub struct ContractDriver;

/// `[verb, "--profile", profile]`.
fn control_args(verb: Verb, profile: &str) -> Vec<String> {
    vec![
        verb.as_str().to_owned(),
        "--profile".to_owned(),
        profile.to_owned(),
    ]
}

#[async_trait]
impl Driver for ContractDriver {
    async fn status(&self, sb: &mut dyn Sandbox, _profiles: &[String]) -> BackendResult<Status> {
        // One look through the kept `--serve` session where the sandbox keeps
        // one (the same document, without a process per look).
        let serve = [
            "status".to_owned(),
            "--json".to_owned(),
            "--serve".to_owned(),
        ];
        if let Some(answer) = sb.ask_gateway(&serve).await? {
            return Status::parse(&answer).map_err(|detail| BackendError::Protocol { detail });
        }
        let args = ["status".to_owned(), "--json".to_owned()];
        let out = sb.gateway(&args).await?;
        if out.code != Some(0) {
            return Err(BackendError::CommandFailed {
                purpose: "looking at the target's status".to_owned(),
                argv: std::iter::once("gateway".to_owned()).chain(args).collect(),
                status: exited(out.code),
                stderr: out.stderr,
            });
        }
        Status::parse(&out.stdout).map_err(|detail| BackendError::Protocol { detail })
    }

    async fn operator(
        &self,
        sb: &mut dyn Sandbox,
        verb: Verb,
        profile: &str,
    ) -> BackendResult<(Vec<String>, CmdOutput)> {
        let args = control_args(verb, profile);
        let out = sb.gateway(&args).await?;
        Ok((args, out))
    }

    async fn operator_detached(
        &self,
        sb: &mut dyn Sandbox,
        verb: Verb,
        profile: &str,
    ) -> BackendResult<(Vec<String>, Detached)> {
        let args = control_args(verb, profile);
        let running = sb.gateway_detached(&args).await?;
        Ok((args, running))
    }

    async fn signal(
        &self,
        sb: &mut dyn Sandbox,
        pid: i32,
        signal: Signal,
    ) -> BackendResult<(Vec<String>, CmdOutput)> {
        let args = vec!["kill".to_owned(), pid.to_string(), signal.name().to_owned()];
        let out = sb.gateway(&args).await?;
        Ok((args, out))
    }

    async fn provision(
        &self,
        _sb: &mut dyn Sandbox,
        _profiles: &[String],
        _history: &mut History,
    ) -> BackendResult<()> {
        // `gateway init --profiles` created every home and a new home starts.
        Ok(())
    }

    async fn history_mark(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
        history: &mut History,
    ) -> BackendResult<usize> {
        Ok(super::read::read_events(sb, profile, history).await?.len())
    }

    async fn terminal(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
        life: Life,
        history: &mut History,
    ) -> BackendResult<TerminalSeen> {
        let events = super::read::read_events(sb, profile, history).await?;
        observe::record_events_tail(profile, &events, life, history);
        Ok(observe::terminal_of(&events, life))
    }

    async fn at_rest(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
        status: &Status,
        history: &mut History,
    ) -> BackendResult<RestSeen> {
        super::read::at_rest(sb, profile, status, history).await
    }

    async fn startups_since(
        &self,
        sb: &mut dyn Sandbox,
        profile: &str,
        mark: usize,
        survivor: Option<i32>,
    ) -> BackendResult<Option<(usize, usize)>> {
        let events = super::read::read_events(sb, profile, &mut History::new()).await?;
        Ok(Some(observe::startups_since(&events, mark, survivor)))
    }

    async fn boot_log(&self, sb: &mut dyn Sandbox) -> BackendResult<Vec<String>> {
        super::read::boot_log(sb).await
    }

    fn boot_line(&self, line: &str) -> Result<BootLine, String> {
        line.parse::<BootLine>().map_err(|e| e.to_string())
    }

    async fn state_file(&self, _sb: &mut dyn Sandbox, profile: &str) -> BackendResult<PathBuf> {
        Ok(profile_file(profile, files::GATEWAY_STATE))
    }

    fn shown(&self, argv: &[String]) -> String {
        format!("gateway {}", argv.join(" "))
    }

    fn break_start(&self, profile: &str) -> Option<(PathBuf, String)> {
        // A value of the wrong type: the gateway persists startup_failed, exits 78.
        Some((
            Path::new("profiles").join(profile).join("config.toml"),
            "drain_ms = \"fast\"\n".to_owned(),
        ))
    }
}
