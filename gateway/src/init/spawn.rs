//! Spawning one gateway process: `<current_exe> run --profile P --data DATA --run RUN`.
//!
//! Deliberately `std::process::Command`, not `tokio::process`: tokio reaps its own
//! children, and init must be the only reaper (`waitpid(-1)`), orphans included.

use std::io;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use restart_contract::layout::ProfileName;
use restart_contract::procfs;

/// What init needs to spawn gateways.
#[derive(Debug, Clone)]
pub struct Spawner {
    /// This executable (the gateway binary).
    pub exe: PathBuf,
    /// `--data`.
    pub data: PathBuf,
    /// `--run`.
    pub run: PathBuf,
}

/// A freshly spawned gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spawned {
    /// Its pid.
    pub pid: i32,
    /// Its start time, read right after the spawn (`None` if `/proc` could not tell).
    pub start_time: Option<u64>,
}

impl Spawner {
    /// Spawns the gateway of `profile`, with init's stdout, stderr and environment.
    ///
    /// Must be called from the one long-lived thread that spawns every gateway:
    /// the parent-death signal fires when the *spawning thread* exits.
    pub fn spawn(&self, profile: &ProfileName) -> io::Result<Spawned> {
        let mut cmd = Command::new(&self.exe);
        cmd.arg("run")
            .arg("--profile")
            .arg(profile.as_str())
            .arg("--data")
            .arg(&self.data)
            .arg("--run")
            .arg(&self.run)
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: the closure runs in the forked child before exec and calls only
        // async-signal-safe functions (prctl, getppid), allocating nothing.
        unsafe {
            cmd.pre_exec(move || {
                // Gateways die with init, as in a container where PID 1's death
                // kills the namespace.
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(io::Error::last_os_error());
                }
                // init died between fork and prctl: the signal was never armed.
                if libc::getppid() != parent {
                    return Err(io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
        // std's spawn returns only once the child has exec'd (or failed to), and
        // resets the signal mask and SIGPIPE in the child.
        let child = cmd.spawn()?;
        let pid = child.id() as i32;
        // The `Child` is dropped without waiting: init reaps with waitpid(-1).
        drop(child);
        // A child that already died is a zombie until reaped: its stat is still there.
        let start_time = procfs::start_time(pid).ok();
        Ok(Spawned { pid, start_time })
    }
}
