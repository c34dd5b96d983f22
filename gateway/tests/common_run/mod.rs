//! Helpers for the tests that run real `gateway run` processes: a sandbox of
//! short temp dirs, a child that is killed when the test ends, and condition
//! waits with deadlines (no fixed sleeps).

#![allow(dead_code)] // each test binary uses a different subset

#[path = "../common/mod.rs"]
mod common;
pub use common::*;

use std::fmt::Debug;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use restart_contract::events::{read_history, Event, EventKind, Source};
use restart_contract::layout::{DataDir, ProfileHome, ProfileName, RunDir};
use restart_contract::procfs::{self, ProcessIdentity};
use restart_contract::records::{GatewayStateRecord, LifecycleRecord, PlannedStopMarker};
use restart_contract::state::GatewayState;
use restart_contract::store::{self, Classified};
use tempfile::TempDir;

/// A data dir with a `default` home and a short run dir, both under /tmp so that
/// socket paths stay far below 108 bytes.
pub struct Sandbox {
    pub data: TempDir,
    pub run: TempDir,
    pub home: ProfileHome,
    pub profile: ProfileName,
}

impl Sandbox {
    /// A fresh sandbox with the `default` profile's home created.
    pub fn new() -> Self {
        let data = tempfile::Builder::new()
            .prefix("rhd")
            .tempdir_in("/tmp")
            .expect("creating data dir");
        let run = tempfile::Builder::new()
            .prefix("rhr")
            .tempdir_in("/tmp")
            .expect("creating run dir");
        let profile = ProfileName::default_profile();
        let home = DataDir::new(data.path()).home(&profile);
        std::fs::create_dir_all(home.dir()).expect("creating home");
        Sandbox {
            data,
            run,
            home,
            profile,
        }
    }

    /// Writes `config.toml`.
    pub fn config(&self, text: &str) -> &Self {
        std::fs::write(self.home.config(), text).expect("writing config.toml");
        self
    }

    /// The gateway's channel.
    pub fn socket(&self) -> PathBuf {
        RunDir::new(self.run.path()).gateway_socket(&self.profile)
    }

    /// `gateway <sub> --data D --run R` followed by `args`.
    pub fn command(&self, sub: &str, args: &[&str]) -> Command {
        let mut cmd = bare_command();
        cmd.arg(sub)
            .arg("--data")
            .arg(self.data.path())
            .arg("--run")
            .arg(self.run.path())
            .args(args);
        cmd
    }

    /// Spawns `gateway run --profile default` with `env` added.
    pub fn spawn(&self, env: &[(&str, &str)]) -> Gateway {
        let out = self.data.path().join("gateway.stdout");
        let err = self.data.path().join("gateway.stderr");
        let mut cmd = self.command("run", &["--profile", self.profile.as_str()]);
        cmd.envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(File::create(&out).expect("stdout file"))
            .stderr(File::create(&err).expect("stderr file"));
        let child = cmd.spawn().expect("spawning gateway run");
        let pid = child.id() as i32;
        Gateway {
            child,
            pid,
            stdout: out,
            stderr: err,
        }
    }

    /// Spawns a gateway and waits until it has persisted `running`.
    pub fn spawn_running(&self, env: &[(&str, &str)]) -> Gateway {
        let gw = self.spawn(env);
        self.wait_state(&gw, GatewayState::Running);
        gw
    }

    /// The current `gateway_state.json`, if it is a valid record.
    pub fn state(&self) -> Result<GatewayStateRecord, String> {
        match store::peek_record::<GatewayStateRecord>(&self.home.gateway_state()) {
            Ok(Some(Classified::Valid(r))) => Ok(r),
            other => Err(format!("{other:?}")),
        }
    }

    /// The raw JSON of `gateway_state.json`.
    pub fn state_json(&self) -> serde_json::Value {
        let bytes = std::fs::read(self.home.gateway_state()).expect("reading gateway_state.json");
        serde_json::from_slice(&bytes).expect("gateway_state.json is JSON")
    }

    /// `lifecycle.json`.
    pub fn lifecycle(&self) -> Result<LifecycleRecord, String> {
        match store::peek_record::<LifecycleRecord>(&self.home.lifecycle()) {
            Ok(Some(Classified::Valid(r))) => Ok(r),
            other => Err(format!("{other:?}")),
        }
    }

    /// Waits until `gw` has persisted `state`.
    pub fn wait_state(&self, gw: &Gateway, state: GatewayState) -> GatewayStateRecord {
        wait_until(
            DEADLINE,
            &format!("gateway pid {} to persist {state}", gw.pid),
            || match self.state() {
                Ok(r) if r.pid == gw.pid && r.gateway_state == state => Ok(r),
                Ok(r) => Err(format!(
                    "{} {:?} pid {}",
                    r.gateway_state, r.exit_reason, r.pid
                )),
                Err(e) => Err(e),
            },
        )
    }

    /// Every event of the profile, oldest first.
    pub fn events(&self) -> Vec<Event> {
        let (events, bad) = read_history(&self.home.events()).expect("reading events.jsonl");
        assert!(bad.is_empty(), "unreadable event lines: {bad:?}");
        events
    }

    /// The gateway events of process `pid`.
    pub fn gateway_events(&self, pid: i32) -> Vec<EventKind> {
        self.events()
            .into_iter()
            .filter(|e| e.source == Source::Gateway && e.pid == pid)
            .map(|e| e.kind)
            .collect()
    }

    /// The states in the `persisted` events of `pid`, in order.
    pub fn persisted(&self, pid: i32) -> Vec<GatewayState> {
        self.gateway_events(pid)
            .into_iter()
            .filter_map(|k| match k {
                EventKind::Persisted { gateway_state, .. } => Some(gateway_state),
                _ => None,
            })
            .collect()
    }

    /// Writes the planned-stop marker with raw bytes.
    pub fn write_marker_bytes(&self, bytes: &[u8]) {
        std::fs::write(self.home.planned_stop_marker(), bytes).expect("writing marker");
    }

    /// Writes the planned-stop marker.
    pub fn write_marker(&self, marker: &PlannedStopMarker) {
        store::write_record(&self.home.planned_stop_marker(), marker).expect("writing marker");
    }

    /// Whether the marker file exists.
    pub fn marker_exists(&self) -> bool {
        self.home.planned_stop_marker().exists()
    }
}

/// A running `gateway run` child, SIGKILLed and reaped if the test ends early.
pub struct Gateway {
    pub child: Child,
    pub pid: i32,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

impl Gateway {
    /// Its identity (pid and start time) while it lives.
    pub fn identity(&self) -> ProcessIdentity {
        procfs::identity(self.pid).expect("gateway is alive")
    }

    /// Sends `sig`.
    pub fn signal(&self, sig: Signal) {
        kill(Pid::from_raw(self.pid), sig).expect("signalling gateway");
    }

    /// Waits for it to exit and returns its status.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let pid = self.pid;
        let status = wait_until(
            DEADLINE,
            &format!("gateway pid {pid} to exit"),
            || match self.child.try_wait() {
                Ok(Some(st)) => Ok(st),
                Ok(None) => Err("still running".to_owned()),
                Err(e) => Err(e.to_string()),
            },
        );
        status
    }

    /// Waits for it to exit and returns its exit code (panics if it died by a signal).
    pub fn exit_code(&mut self) -> i32 {
        let status = self.wait_exit();
        status.code().unwrap_or_else(|| {
            panic!(
                "gateway died by a signal: {status:?}; stderr: {}",
                read(&self.stderr)
            )
        })
    }

    /// Its stdout so far.
    pub fn stdout(&self) -> String {
        read(&self.stdout)
    }

    /// Its stderr so far.
    pub fn stderr(&self) -> String {
        read(&self.stderr)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A file's text, empty if unreadable.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Debug-formats anything, for messages.
pub fn dbg_str(v: &impl Debug) -> String {
    format!("{v:?}")
}
