//! Starting the container, and the container faults: a restart (`docker
//! restart -t`), a kill (SIGKILL, then a start), and a bare SIGTERM to PID 1
//! (no start). Each waits for the engine's events, and then for the new boot.

use std::time::Duration;

use bollard::query_parameters::{
    KillContainerOptionsBuilder, RestartContainerOptionsBuilder, StartContainerOptions,
};

use super::DockerSandbox;
use crate::backend::docker::client::api_error;
use crate::backend::docker::events::Action;
use crate::backend::BackendResult;

/// How long an engine event may take to show up after the call that causes it.
const EVENT_DEADLINE: Duration = Duration::from_secs(30);
/// Docker's own default stop timeout.
const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

impl DockerSandbox {
    /// Starts init for the first time and waits for its boot.
    pub(super) async fn first_boot(&mut self) -> BackendResult<()> {
        self.thaw();
        // The replayed `create` event proves the event stream is live before we act.
        self.events
            .wait_for(0, Action::Create, EVENT_DEADLINE)
            .await?;
        let (baseline, expected) = self.before_boot().await?;
        let from = self.events.len();
        let start = self.start_and_wait(from).await?;
        self.wait_boot_lines(baseline, expected, start).await
    }

    /// Starts the (stopped) container and waits for its `start` event; returns
    /// the event's index.
    async fn start_and_wait(&self, from: usize) -> BackendResult<usize> {
        self.docker
            .start_container(&self.id, None::<StartContainerOptions>)
            .await
            .map_err(|e| api_error(format!("start {}", self.name), e))?;
        let (idx, _) = self
            .events
            .wait_for(from, Action::Start, EVENT_DEADLINE)
            .await?;
        Ok(idx)
    }

    /// `docker restart -t`, then the wait for the new boot.
    pub(super) async fn restart(&mut self, stop_timeout: Option<Duration>) -> BackendResult<()> {
        // The engine takes whole seconds; round up so a sub-second timeout does
        // not become 0 (an immediate SIGKILL, which is `container-kill`).
        let t = stop_timeout.unwrap_or(DEFAULT_STOP_TIMEOUT);
        let secs = i32::try_from(t.as_millis().div_ceil(1000)).unwrap_or(i32::MAX);
        let (baseline, expected) = self.before_boot().await?;
        self.thaw();
        // The stop ends every exec'd command, the kept session too.
        self.sessions.close();
        let from = self.events.len();
        self.docker
            .restart_container(
                &self.id,
                Some(RestartContainerOptionsBuilder::new().t(secs).build()),
            )
            .await
            .map_err(|e| api_error(format!("restart {} (t={secs})", self.name), e))?;
        let (start, _) = self
            .events
            .wait_for(from, Action::Start, EVENT_DEADLINE)
            .await?;
        self.wait_boot_lines(baseline, expected, start).await
    }

    /// SIGKILL to the container, a start once it died, then the wait for the
    /// new boot.
    pub(super) async fn kill_and_start(&mut self) -> BackendResult<()> {
        let (baseline, expected) = self.before_boot().await?;
        self.thaw();
        self.sessions.close();
        let die = self.signal_until_death("SIGKILL").await?;
        let start = self.start_and_wait(die + 1).await?;
        self.wait_boot_lines(baseline, expected, start).await
    }

    /// SIGTERM to PID 1, SIGKILL `after` later unless it exited by then (the
    /// engine's `docker restart -t` takes whole seconds), a start once it
    /// died, then the wait for the new boot.
    pub(super) async fn stop_cut(&mut self, after: Duration) -> BackendResult<()> {
        let (baseline, expected) = self.before_boot().await?;
        self.thaw();
        self.sessions.close();
        let from = self.events.len();
        self.send_signal("SIGTERM").await?;
        // Not a wait for a condition: the instant of the cut is the fault.
        tokio::time::sleep(after).await;
        let died = |evs: Vec<crate::backend::docker::events::ContainerEvent>| {
            evs.iter().any(|e| e.action == Action::Die)
        };
        if !died(self.events.since(from)) {
            if let Err(e) = self.send_signal("SIGKILL").await {
                // It died between the look and the kill: the engine says it
                // is not running, and its die event follows.
                if self
                    .events
                    .wait_for(from, Action::Die, Duration::from_secs(5))
                    .await
                    .is_err()
                {
                    return Err(e);
                }
            }
        }
        let (die, _) = self
            .events
            .wait_for(from, Action::Die, EVENT_DEADLINE)
            .await?;
        let start = self.start_and_wait(die + 1).await?;
        self.wait_boot_lines(baseline, expected, start).await
    }

    /// `docker kill -s SIGNAL` (to PID 1), not waiting.
    async fn send_signal(&self, signal: &str) -> BackendResult<()> {
        self.docker
            .kill_container(
                &self.id,
                Some(KillContainerOptionsBuilder::new().signal(signal).build()),
            )
            .await
            .map_err(|e| api_error(format!("kill -s {signal} {}", self.name), e))
    }

    /// A bare SIGTERM to PID 1 through the engine (`docker kill -s
    /// SIGTERM`, no stop timeout), then the wait for its `die` event: the
    /// container stays stopped until [`DockerSandbox::first_boot`] starts it.
    pub(super) async fn sigterm_supervisor(&mut self) -> BackendResult<()> {
        self.thaw();
        self.sessions.close();
        self.signal_until_death("SIGTERM").await?;
        Ok(())
    }

    /// `docker kill -s SIGNAL` (to PID 1), then the wait for its `die`
    /// event; returns the event's index.
    async fn signal_until_death(&self, signal: &str) -> BackendResult<usize> {
        let from = self.events.len();
        self.send_signal(signal).await?;
        let (die, _) = self
            .events
            .wait_for(from, Action::Die, EVENT_DEADLINE)
            .await?;
        Ok(die)
    }
}
