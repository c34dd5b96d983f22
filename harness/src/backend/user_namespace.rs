//! A user and mount namespace for one process sandbox, so that a harness that
//! is not root can still mount what a filesystem fault needs (a size-limited
//! tmpfs for a full disk, a read-only bind for a read-only home).
//!
//! A holder process (`unshare --user --map-root-user --mount sleep`) keeps the
//! namespace; init, its gateways and every command the harness runs beside
//! them enter it (`nsenter --user --mount --preserve-credentials`), and the
//! harness reads and writes their files through `/proc/HOLDER/root`, which
//! resolves paths in the holder's mounts. Signals and `/proc/PID/stat` need
//! nothing: the pid namespace is the harness's own.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::error::exited_status;
use super::{BackendError, BackendResult};

/// How long the holder may take to have its namespace.
const READY_DEADLINE: Duration = Duration::from_secs(10);

/// Why this machine gives an unprivileged user no user and mount namespace,
/// or `None` when it does (asked once: `unshare -Urm true`).
pub fn unavailable() -> Option<&'static str> {
    static ANSWER: OnceLock<Option<String>> = OnceLock::new();
    ANSWER
        .get_or_init(|| {
            match Command::new("unshare")
                .args(["--user", "--map-root-user", "--mount", "true"])
                .stdin(Stdio::null())
                .output()
            {
                Ok(out) if out.status.success() => None,
                Ok(out) => Some(format!(
                    "`unshare --user --map-root-user --mount true` failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )),
                Err(e) => Some(format!("cannot run unshare (util-linux): {e}")),
            }
        })
        .as_deref()
}

/// Why this harness cannot mount what a filesystem fault needs, or `None`
/// when it can: as root, or else in a user and mount namespace.
pub fn cannot_mount() -> Option<&'static str> {
    if nix::unistd::geteuid().is_root() {
        return None;
    }
    unavailable()
}

/// The process that holds a sandbox's user and mount namespace.
#[derive(Debug)]
pub struct Holder {
    child: Child,
    pid: u32,
}

impl Holder {
    /// Starts a holder and waits until its namespace exists.
    pub fn start() -> BackendResult<Holder> {
        let child = Command::new("unshare")
            .args([
                "--user",
                "--map-root-user",
                "--mount",
                "--propagation",
                "private",
                "sleep",
                "infinity",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| BackendError::Spawn {
                program: "unshare".to_owned(),
                hint: " (it is part of util-linux: install it)",
                source,
            })?;
        let pid = child.id();
        let mut holder = Holder { child, pid };
        holder.wait_ready()?;
        Ok(holder)
    }

    /// Waits until the holder's mount namespace is not the harness's (unshare
    /// has made it and exec'd `sleep`).
    fn wait_ready(&mut self) -> BackendResult<()> {
        let start = Instant::now();
        let mine = std::fs::read_link("/proc/self/ns/mnt").ok();
        loop {
            let theirs = std::fs::read_link(format!("/proc/{}/ns/mnt", self.pid)).ok();
            let exe = std::fs::read_link(format!("/proc/{}/exe", self.pid)).ok();
            let execd = exe.is_some_and(|e| !e.ends_with("unshare"));
            if theirs.is_some() && theirs != mine && execd {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                return Err(BackendError::CommandFailed {
                    purpose: "making the sandbox's user and mount namespace".to_owned(),
                    argv: ["unshare", "--user", "--map-root-user", "--mount"]
                        .map(str::to_owned)
                        .to_vec(),
                    status: exited_status(status),
                    stderr: err,
                });
            }
            if start.elapsed() > READY_DEADLINE {
                return Err(BackendError::Timeout {
                    awaited: "a user and mount namespace of its own (unshare)".to_owned(),
                    waited: start.elapsed(),
                    last_seen: format!("its mount namespace {theirs:?}, the harness's {mine:?}"),
                });
            }
            // The namespace appears in /proc with no event to wait on.
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// `path` (absolute) as the namespace's processes see it.
    pub fn view(&self, path: &Path) -> PathBuf {
        let mut p = PathBuf::from(format!("/proc/{}/root", self.pid));
        p.push(path.strip_prefix("/").unwrap_or(path));
        p
    }

    /// The argv prefix that runs a program inside the namespace.
    pub fn enter(&self) -> Vec<String> {
        vec![
            "nsenter".to_owned(),
            format!("--target={}", self.pid),
            "--user".to_owned(),
            "--mount".to_owned(),
            "--preserve-credentials".to_owned(),
            "--".to_owned(),
        ]
    }

    /// Runs `argv` inside the namespace (as its root) and fails with what it
    /// said unless it exits 0.
    pub fn run(&self, argv: &[&str]) -> BackendResult<()> {
        let mut all = self.enter();
        all.extend(argv.iter().map(|s| (*s).to_owned()));
        let out = Command::new(&all[0])
            .args(&all[1..])
            .stdin(Stdio::null())
            .output()
            .map_err(|source| BackendError::Spawn {
                program: "nsenter".to_owned(),
                hint: " (it is part of util-linux: install it)",
                source,
            })?;
        if out.status.success() {
            return Ok(());
        }
        Err(BackendError::CommandFailed {
            purpose: "in the sandbox's namespace".to_owned(),
            argv: argv.iter().map(|a| (*a).to_owned()).collect(),
            status: exited_status(out.status),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Ends the holder; the namespace and its mounts go with the last of its
    /// processes.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tmpfs_mounted_in_the_namespace_is_seen_through_the_view_only() {
        if let Some(why) = unavailable() {
            panic!("this test needs user namespaces or root: {why}");
        }
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir(&home).unwrap();
        std::fs::write(home.join("before"), b"x").unwrap();
        let mut h = Holder::start().unwrap();
        let home_str = home.to_str().unwrap();
        h.run(&[
            "mount",
            "-t",
            "tmpfs",
            "-o",
            "size=65536",
            "tmpfs",
            home_str,
        ])
        .unwrap();
        let inside = h.view(&home);
        assert!(!inside.join("before").exists(), "the tmpfs covers the home");
        std::fs::write(inside.join("after"), b"y").unwrap();
        assert!(home.join("before").exists() && !home.join("after").exists());
        let full = std::fs::write(inside.join("big"), vec![0u8; 128 * 1024]).unwrap_err();
        assert_eq!(full.raw_os_error(), Some(nix::libc::ENOSPC));
        h.stop();
    }
}
