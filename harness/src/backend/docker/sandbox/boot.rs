//! What shows a boot, how many boot lines the next boot writes, and the wait
//! for them.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{DockerSandbox, POLL_MAX, POLL_MIN};
use crate::backend::docker::events::Action;
use crate::backend::error::last_lines;
use crate::backend::{BackendError, BackendResult};

/// How long init may take from (re)start to its last boot line.
const BOOT_DEADLINE: Duration = Duration::from_secs(60);

impl DockerSandbox {
    /// The lines of the boot log (`DATA/boot.log` for the reference).
    pub async fn boot_lines(&self) -> BackendResult<Vec<String>> {
        let log = self.spec.shape.boot_log.clone();
        let bytes = self.read(Path::new(&log)).await?.unwrap_or_default();
        Ok(String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// How many boot lines the next boot writes: one per profile home (SPEC §4),
    /// i.e. every validly named directory under `DATA/profiles`, plus `default`
    /// and the `--profiles`, which init creates if missing.
    ///
    /// For another shape: `default` and every directory of its profiles dir
    /// that holds its profile marker file.
    async fn expected_boot_lines(&self) -> BackendResult<usize> {
        let shape = &self.spec.shape;
        let mut names: Vec<String> = Vec::new();
        for c in self.children(Path::new(&shape.profiles_dir)).await? {
            if !c.is_dir || !valid_profile_name(&c.name) {
                continue;
            }
            if let Some(marker) = &shape.profile_marker {
                let home = Path::new(&shape.profiles_dir).join(&c.name);
                let files = self.children(&home).await?;
                if !files.iter().any(|f| &f.name == marker) {
                    continue;
                }
            }
            names.push(c.name);
        }
        names.push(restart_contract::layout::DEFAULT_PROFILE.to_owned());
        if shape.contract_init {
            names.extend(self.spec.profiles.iter().cloned());
        }
        names.sort();
        names.dedup();
        Ok(names.len())
    }

    /// Waits until there are `expected` boot marks ([`DockerSandbox::boot_marks`])
    /// more than `baseline`, failing early if the container dies after the
    /// `start` event at `start_idx`.
    pub(super) async fn wait_boot_lines(
        &self,
        baseline: usize,
        expected: usize,
        start_idx: usize,
    ) -> BackendResult<()> {
        let t0 = Instant::now();
        let mut delay = POLL_MIN;
        loop {
            let lines = self.boot_marks().await?;
            let new = lines.len().saturating_sub(baseline);
            if new >= expected {
                return Ok(());
            }
            if let Some(die) = self
                .events
                .since(start_idx + 1)
                .into_iter()
                .find(|e| e.action == Action::Die)
            {
                let logs = self.logs_text().await.unwrap_or_default();
                return Err(BackendError::BootFailed {
                    how: format!("{die} after {new} of {expected} boot line(s)"),
                    output: last_lines(&logs, 10),
                });
            }
            if t0.elapsed() >= BOOT_DEADLINE {
                return Err(BackendError::Timeout {
                    awaited: self.awaited_boot(baseline, expected).await,
                    waited: t0.elapsed(),
                    last_seen: format!(
                        "{new} new line(s), last {:?}; events: {}",
                        lines.last().map(String::as_str).unwrap_or("(none)"),
                        self.events.tail()
                    ),
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(POLL_MAX);
        }
    }

    /// What [`DockerSandbox::wait_boot_lines`] waits for, in words.
    async fn awaited_boot(&self, baseline: usize, expected: usize) -> String {
        let shape = &self.spec.shape;
        match &shape.ready_log {
            None if shape.contract_init => format!(
                "{expected} new boot line(s) in the container log after its first \
                 {baseline} (init prints each line it appends to DATA/{}; that file \
                 has {} line(s) in all)",
                shape.boot_log,
                self.boot_lines().await.map_or(0, |l| l.len())
            ),
            None => format!(
                "{expected} new boot line(s) in DATA/{} after its first {baseline}",
                shape.boot_log
            ),
            Some(ready) => {
                format!("{expected} new log line(s) with {ready:?} after the first {baseline}")
            }
        }
    }

    /// What shows a boot, in the container log (one request of a few
    /// milliseconds, where an archive of the boot log costs tens):
    /// - a shape with a readiness line: its lines;
    /// - the contract's init: its boot lines, which it prints to stdout as it
    ///   appends them to `DATA/boot.log` (SPEC §4). They only end a wait: every
    ///   boot line checked is read from `boot.log` itself;
    /// - any other shape: the boot log's lines.
    async fn boot_marks(&self) -> BackendResult<Vec<String>> {
        let shape = &self.spec.shape;
        if shape.ready_log.is_none() && !shape.contract_init {
            return self.boot_lines().await;
        }
        let text = self.logs_text().await?;
        let marks = text.lines().filter(|l| match &shape.ready_log {
            Some(ready) => l.contains(ready.as_str()),
            None => l.parse::<restart_contract::boot::BootLine>().is_ok(),
        });
        Ok(marks.map(str::to_owned).collect())
    }

    /// What the next boot is measured against: (marks so far, marks to expect).
    pub(super) async fn before_boot(&self) -> BackendResult<(usize, usize)> {
        let expected = match self.spec.shape.ready_log {
            None => self.expected_boot_lines().await?,
            Some(_) => 1,
        };
        Ok((self.boot_marks().await?.len(), expected))
    }
}

/// Profile names per SPEC §1: `^[a-z0-9][a-z0-9_-]{0,31}$`.
fn valid_profile_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names() {
        assert!(valid_profile_name("default"));
        assert!(valid_profile_name("a_b-9"));
        assert!(!valid_profile_name("-a"));
        assert!(!valid_profile_name("A"));
        assert!(!valid_profile_name(&"a".repeat(33)));
    }
}
