//! Helpers for the `gateway init` tests: real processes in short temp dirs, an
//! init that is killed (with its process group) when the test ends, and waits
//! on file contents, event lines and socket answers with deadlines (no fixed
//! sleeps).

#![allow(dead_code)] // each test binary uses a different subset

#[path = "../common/mod.rs"]
mod common;
pub use common::*;

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use gateway::control::{Client, ProfileStatus, Supervised};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use restart_contract::boot::BootLine;
use restart_contract::events::{read_history, Event, EventKind, Source};
use restart_contract::layout::{DataDir, ProfileHome, ProfileName, RunDir};
use restart_contract::procfs::{self, ProcessIdentity};
use restart_contract::records::{DesiredStateRecord, GatewayStateRecord, LifecycleRecord};
use restart_contract::state::GatewayState;
use restart_contract::store::{self, Classified};
use tempfile::TempDir;

/// A sandbox: a short temp dir (unix socket paths stay far below 108 bytes)
/// holding a data dir and a run dir.
pub struct Sandbox {
    /// Keeps the dir alive; removed on drop.
    pub tmp: TempDir,
    /// `--data`.
    pub data: PathBuf,
    /// `--run`.
    pub run: PathBuf,
}

impl Sandbox {
    /// A fresh sandbox under /tmp.
    pub fn new() -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("gi")
            .tempdir_in("/tmp")
            .expect("creating a temp dir in /tmp");
        let data = tmp.path().join("d");
        let run = tmp.path().join("r");
        Sandbox { tmp, data, run }
    }

    /// The data dir.
    pub fn data_dir(&self) -> DataDir {
        DataDir::new(&self.data)
    }

    /// The run dir.
    pub fn run_dir(&self) -> RunDir {
        RunDir::new(&self.run)
    }

    /// A profile's home.
    pub fn home(&self, profile: &str) -> ProfileHome {
        self.data_dir()
            .home(&ProfileName::new(profile).expect("valid profile name"))
    }

    /// Creates a profile home before init runs (an existing profile).
    pub fn make_home(&self, profile: &str) -> ProfileHome {
        let home = self.home(profile);
        fs::create_dir_all(home.dir()).expect("creating a profile home");
        home
    }

    /// `gateway <args> --data D --run R`, for assert_cmd.
    pub fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(gateway_bin());
        for var in LEAKY_VARS {
            cmd.env_remove(var);
        }
        cmd.args(args)
            .arg("--data")
            .arg(&self.data)
            .arg("--run")
            .arg(&self.run)
            .timeout(Duration::from_secs(60));
        cmd
    }

    /// Starts `gateway init --data D --run R <extra>`.
    pub fn init(&self, extra: &[&str]) -> Init {
        let mut cmd = Command::new(gateway_bin());
        for var in LEAKY_VARS {
            cmd.env_remove(var);
        }
        cmd.arg("init")
            .arg("--data")
            .arg(&self.data)
            .arg("--run")
            .arg(&self.run)
            .args(extra);
        Init::spawn(cmd, self.tmp.path())
    }

    /// init's control client.
    pub fn client(&self) -> Client {
        Client::new(self.run_dir().control_socket())
    }

    /// init's view of one profile, or why it could not be had.
    pub fn supervision(&self, profile: &str) -> Result<ProfileStatus, String> {
        let (profiles, _) = self.client().status().map_err(|e| e.message)?;
        profiles
            .into_iter()
            .find(|p| p.profile == profile)
            .ok_or_else(|| format!("init does not list profile `{profile}`"))
    }

    /// The valid `gateway_state.json` of a profile, if any.
    pub fn state(&self, profile: &str) -> Option<GatewayStateRecord> {
        match store::peek_record::<GatewayStateRecord>(&self.home(profile).gateway_state()) {
            Ok(Some(Classified::Valid(r))) => Some(r),
            _ => None,
        }
    }

    /// The valid `desired_state.json` of a profile, if any.
    pub fn intent(&self, profile: &str) -> Option<DesiredStateRecord> {
        match store::peek_record::<DesiredStateRecord>(&self.home(profile).desired_state()) {
            Ok(Some(Classified::Valid(r))) => Some(r),
            _ => None,
        }
    }

    /// The valid `lifecycle.json` of a profile, if any.
    pub fn lifecycle(&self, profile: &str) -> Option<LifecycleRecord> {
        match store::peek_record::<LifecycleRecord>(&self.home(profile).lifecycle()) {
            Ok(Some(Classified::Valid(r))) => Some(r),
            _ => None,
        }
    }

    /// The profile's history.
    pub fn events(&self, profile: &str) -> Vec<Event> {
        read_history(&self.home(profile).events())
            .map(|(events, _)| events)
            .unwrap_or_default()
    }

    /// Every line of `DATA/boot.log`, parsed.
    pub fn boot_lines(&self) -> Vec<BootLine> {
        fs::read_to_string(self.data_dir().boot_log())
            .unwrap_or_default()
            .lines()
            .map(|l| {
                l.parse()
                    .unwrap_or_else(|e| panic!("bad boot line {l:?}: {e}"))
            })
            .collect()
    }

    /// Waits until `DATA/boot.log` holds more than `skip` lines and one of the
    /// lines after `skip` is about `profile`; returns it.
    pub fn wait_boot_line(&self, skip: usize, profile: &str) -> BootLine {
        wait_until(DEADLINE, &format!("a boot line for `{profile}`"), || {
            let lines = self.boot_lines();
            lines
                .iter()
                .skip(skip)
                .find(|l| l.profile == profile)
                .cloned()
                .ok_or_else(|| format!("{} boot lines, none new for `{profile}`", lines.len()))
        })
    }

    /// Waits until init supervises `profile` up with a process other than
    /// `not`, and the state file says `running` about that live process.
    pub fn wait_running(&self, profile: &str, not: Option<ProcessIdentity>) -> ProcessIdentity {
        wait_until(DEADLINE, &format!("`{profile}` running"), || {
            let st = self.supervision(profile)?;
            let (Supervised::Up, Some(pid), Some(start_time)) =
                (st.supervised, st.pid, st.start_time)
            else {
                return Err(format!("supervision {st:?}"));
            };
            let id = ProcessIdentity { pid, start_time };
            if Some(id) == not {
                return Err(format!("still the old process {id}"));
            }
            match self.state(profile) {
                Some(r) if r.process() == id && r.gateway_state == GatewayState::Running => {
                    if procfs::identity(pid) == Some(id) {
                        Ok(id)
                    } else {
                        Err(format!("{id} is not alive"))
                    }
                }
                other => Err(format!("supervised {id}, state file {other:?}")),
            }
        })
    }

    /// Waits until init supervises `profile` as `want`.
    pub fn wait_supervised(&self, profile: &str, want: Supervised) -> ProfileStatus {
        wait_until(DEADLINE, &format!("`{profile}` {}", want.as_str()), || {
            let st = self.supervision(profile)?;
            if st.supervised == want {
                Ok(st)
            } else {
                Err(format!("{st:?}"))
            }
        })
    }

    /// Waits until the profile's history has an event matching `pred`; returns it.
    pub fn wait_event(&self, profile: &str, what: &str, pred: impl Fn(&Event) -> bool) -> Event {
        wait_until(DEADLINE, what, || {
            let events = self.events(profile);
            events.iter().find(|e| pred(e)).cloned().ok_or_else(|| {
                format!(
                    "{} events, last: {:?}",
                    events.len(),
                    events.last().map(|e| &e.kind)
                )
            })
        })
    }

    /// Waits until init has reaped `pid` of `profile`; returns the `reaped` event.
    pub fn wait_reaped(&self, profile: &str, pid: i32) -> Event {
        self.wait_event(profile, &format!("init reaping pid {pid}"), |e| {
            e.source == Source::Init
                && matches!(e.kind, EventKind::Reaped { child, .. } if child == pid)
        })
    }
}

/// Sends `sig` to `pid` with `gateway kill` (a bare kill(2), no marker).
pub fn gateway_kill(pid: i32, sig: &str) {
    let out = Command::new(gateway_bin())
        .arg("kill")
        .arg(pid.to_string())
        .arg(sig)
        .output()
        .expect("running gateway kill");
    assert!(out.status.success(), "gateway kill {pid} {sig}: {out:?}");
}

/// Waits until `id` is no longer a live process.
pub fn wait_gone(id: ProcessIdentity) {
    wait_until(DEADLINE, &format!("{id} to be gone"), || {
        if procfs::identity(id.pid) == Some(id) {
            Err(format!("{id} alive"))
        } else {
            Ok(())
        }
    });
}

/// A running `gateway init` (or a wrapper around it, e.g. `unshare`), in its own
/// process group: dropping it SIGKILLs the whole group, so a failing test leaves
/// no init and no gateway behind.
pub struct Init {
    child: Option<Child>,
    /// The pid of the spawned process (init, or the wrapper).
    pub pid: i32,
    /// init's stdout, captured.
    pub stdout_path: PathBuf,
    /// init's stderr, captured.
    pub stderr_path: PathBuf,
}

static INIT_SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

impl Init {
    /// Spawns `cmd` in a new process group with stdout and stderr captured in `dir`.
    pub fn spawn(mut cmd: Command, dir: &Path) -> Init {
        use std::os::unix::process::CommandExt;
        let n = INIT_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stdout_path = dir.join(format!("init{n}.out"));
        let stderr_path = dir.join(format!("init{n}.err"));
        let stdout = File::create(&stdout_path).expect("creating init's stdout file");
        let stderr = File::create(&stderr_path).expect("creating init's stderr file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .expect("spawning gateway init");
        Init {
            pid: child.id() as i32,
            child: Some(child),
            stdout_path,
            stderr_path,
        }
    }

    /// Sends `sig` to the spawned process only.
    pub fn signal(&self, sig: Signal) {
        kill(Pid::from_raw(self.pid), sig).expect("signalling init");
    }

    /// init's stdout so far.
    pub fn stdout(&self) -> String {
        read_lossy(&self.stdout_path)
    }

    /// init's stderr so far.
    pub fn stderr(&self) -> String {
        read_lossy(&self.stderr_path)
    }

    /// Waits (with the deadline) for the spawned process to exit.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let child = self.child.as_mut().expect("init already waited for");
        let status = wait_until(DEADLINE, "init to exit", || {
            child
                .try_wait()
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "still running".to_owned())
        });
        self.child = None;
        status
    }

    /// Waits until init answers on its control socket.
    pub fn wait_ready(&self, sandbox: &Sandbox) {
        wait_until(DEADLINE, "init answering on control.sock", || {
            sandbox
                .client()
                .status()
                .map(|_| ())
                .map_err(|e| format!("{} (stderr: {})", e.message, self.stderr()))
        });
    }
}

fn read_lossy(path: &Path) -> String {
    let mut bytes = Vec::new();
    let _ = File::open(path).and_then(|mut f| f.read_to_end(&mut bytes));
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Drop for Init {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if std::thread::panicking() {
                eprintln!(
                    "--- init stdout ---\n{}--- init stderr ---\n{}",
                    self.stdout(),
                    self.stderr()
                );
            }
            // The whole group: init and the gateways it spawned.
            let _ = killpg(Pid::from_raw(self.pid), Signal::SIGKILL);
            let _ = child.wait();
        }
        // Also any gateway left in the group after init itself exited.
        let _ = killpg(Pid::from_raw(self.pid), Signal::SIGKILL);
    }
}
