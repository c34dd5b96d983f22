//! The OOM fault: the kernel OOM-kills one gateway of a memory-limited
//! container (the reference's `gateway balloon`, or a target's own command),
//! shown by the engine's `oom` event, while the container itself lives on.

use std::time::{Duration, Instant};

use super::{exec, DockerSandbox, EXEC_DEADLINE, POLL_MAX, POLL_MIN};
use crate::backend::docker::events::Action;
use crate::backend::error::exited;
use crate::backend::{BackendError, BackendResult, CmdOutput};

/// How long the kernel may take to OOM-kill a ballooning gateway, and init to reap it.
const OOM_DEADLINE: Duration = Duration::from_secs(60);

/// What an OOM fault needs of the sandbox, and it lacks
/// ([`crate::backend::SandboxSpec::memory_limit`]).
fn no_memory_limit() -> BackendError {
    BackendError::SpecLacks {
        fault: "oom",
        needs: "a memory limit on the target",
        field: "memory_limit",
    }
}

impl DockerSandbox {
    /// Balloons `profile`'s gateway past the memory limit, waits for the
    /// `oom` event and for the gateway to be gone, and checks that the
    /// container itself did not die.
    pub(super) async fn oom_gateway(&mut self, profile: &str) -> BackendResult<()> {
        self.thaw();
        let limit = self.spec.memory_limit.ok_or_else(no_memory_limit)?;
        let before = self
            .gateway_pid(profile)
            .await?
            .ok_or_else(|| BackendError::NoGateway {
                profile: profile.to_owned(),
                what: "OOM-kill",
            })?;
        let started_before = self.started_at().await?;
        let from = self.events.len();
        // Twice the limit: far more than the cgroup can hold, whatever init uses.
        let mib = (limit / (1024 * 1024)) * 2 + 16;
        let balloon = [
            "/gateway",
            "balloon",
            "--mib",
            &mib.to_string(),
            "--profile",
            profile,
        ]
        .map(str::to_owned);
        let out = exec(&self.docker, &self.id, &balloon, EXEC_DEADLINE).await?;
        self.await_oom(from, &format!("gateway balloon --mib {mib}"), &out)
            .await?;
        self.await_pid_gone(profile, before).await?;
        self.only_the_gateway(from, started_before).await
    }

    /// Runs `argv`, a target's own way to OOM-kill one of its gateways, and
    /// checks as [`DockerSandbox::oom_gateway`] does.
    pub(super) async fn oom_by(&mut self, argv: &[String]) -> BackendResult<CmdOutput> {
        self.thaw();
        if self.spec.memory_limit.is_none() {
            return Err(no_memory_limit());
        }
        let started_before = self.started_at().await?;
        let from = self.events.len();
        let out = self.exec_as_shape(argv).await?;
        self.await_oom(from, &argv.join(" "), &out).await?;
        self.only_the_gateway(from, started_before).await?;
        Ok(out)
    }

    /// The gateway pid of `profile` from `gateway status --json` (`None`: none running).
    pub async fn gateway_pid(&self, profile: &str) -> BackendResult<Option<i64>> {
        let out = self.status_json().await?;
        Self::pid_in(&out, profile)
    }

    /// `gateway status --json`, run once.
    async fn status_json(&self) -> BackendResult<CmdOutput> {
        let argv = ["/gateway", "status", "--json"].map(str::to_owned);
        exec(&self.docker, &self.id, &argv, EXEC_DEADLINE).await
    }

    /// The gateway pid of `profile` in the output of `gateway status --json`.
    fn pid_in(out: &CmdOutput, profile: &str) -> BackendResult<Option<i64>> {
        if out.code != Some(0) {
            let argv = ["/gateway", "status", "--json"].map(str::to_owned);
            return Err(BackendError::CommandFailed {
                purpose: format!("reading the gateway pid of {profile}"),
                argv: argv.to_vec(),
                status: exited(out.code),
                stderr: out.stderr.clone(),
            });
        }
        let status: serde_json::Value =
            serde_json::from_str(&out.stdout).map_err(|e| BackendError::Protocol {
                detail: format!(
                    "`gateway status --json` printed no JSON ({e}): {:?}",
                    out.stdout
                ),
            })?;
        let entry = status["profiles"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["profile"] == profile))
            .ok_or_else(|| BackendError::Protocol {
                detail: format!(
                    "`gateway status --json` does not list profile {profile}: {}",
                    out.stdout.trim()
                ),
            })?;
        Ok(entry["pid"].as_i64())
    }

    /// Waits for the engine's `oom` event after `what` ran. The event, not
    /// `State.OOMKilled`: that flag is container-wide, only set when PID 1
    /// exits, and stale after a restart.
    async fn await_oom(&self, from: usize, what: &str, ran: &CmdOutput) -> BackendResult<()> {
        self.events
            .wait_for(from, Action::Oom, OOM_DEADLINE)
            .await
            .map(|_| ())
            .map_err(|e| BackendError::NoOomKill {
                command: what.to_owned(),
                status: exited(ran.code),
                stderr: ran.stderr.trim().to_owned(),
                source: Box::new(e),
            })
    }

    /// Waits until init no longer reports `before` as `profile`'s gateway:
    /// the kernel took it. Right after the `oom` event the container's
    /// memory may still be full: the engine may not start the status command
    /// in it (exit 126), the kernel may kill it (137), or it may fail an
    /// allocation and abort or print half an answer. Such a look is not an
    /// answer, and the next one is made; the deadline says what was seen last.
    async fn await_pid_gone(&self, profile: &str, before: i64) -> BackendResult<()> {
        let t0 = Instant::now();
        let mut delay = POLL_MIN;
        loop {
            // The engine may fail to start the command at all (runc needs
            // memory in the cgroup too): as good as a look without an answer.
            let looked = self
                .status_json()
                .await
                .and_then(|out| Self::pid_in(&out, profile));
            let last_seen = match looked {
                Ok(Some(pid)) if pid == before => format!("status still reports pid {before}"),
                Ok(_) => return Ok(()),
                Err(e) => format!("no answer from the status command ({e})"),
            };
            if t0.elapsed() >= OOM_DEADLINE {
                return Err(BackendError::Timeout {
                    awaited: format!(
                        "gateway pid {before} of {profile} to be gone after the oom event"
                    ),
                    waited: t0.elapsed(),
                    last_seen,
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(POLL_MAX);
        }
    }

    /// After an OOM kill: the container itself did not die or restart, so the
    /// kernel took a gateway, not the supervisor.
    async fn only_the_gateway(
        &self,
        from: usize,
        started_before: Option<String>,
    ) -> BackendResult<()> {
        if let Some(die) = self
            .events
            .since(from)
            .into_iter()
            .find(|e| e.action == Action::Die)
        {
            return Err(BackendError::OomTookSupervisor {
                what: format!(
                    "the container itself died ({die}{})",
                    self.death_notes().await
                ),
            });
        }
        let started_after = self.started_at().await?;
        if started_after != started_before {
            return Err(BackendError::OomTookSupervisor {
                what: format!(
                    "the container restarted (StartedAt {started_before:?} → {started_after:?})"
                ),
            });
        }
        Ok(())
    }

    /// What the engine knows of a death the OOM fault did not intend: the
    /// container's OOM flag and the last lines its supervisor wrote, so that
    /// one failed run says which process the kernel took.
    async fn death_notes(&self) -> String {
        let flag = match self.state().await {
            Ok(s) => format!("; State.OOMKilled={:?}", s.oom_killed.unwrap_or(false)),
            Err(e) => format!("; inspect failed: {e}"),
        };
        let logs = match self.logs_text().await {
            Ok(text) => {
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(5)..].join(" | ");
                format!("; last log lines: {tail:?}")
            }
            Err(e) => format!("; logs failed: {e}"),
        };
        flag + &logs
    }

    /// When the container last started (`State.StartedAt`).
    async fn started_at(&self) -> BackendResult<Option<String>> {
        Ok(self.state().await?.started_at)
    }
}
