//! init as a real PID 1, without Docker: a new user and pid namespace
//! (`unshare --user --map-root-user --pid --fork --mount-proc`). As PID 1 a signal
//! without a handler is ignored, so this proves init's handlers: a SIGTERM stops
//! the gateways cleanly and init exits 0.

mod support;

use std::process::Command;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use restart_contract::events::{EventKind, Source};
use restart_contract::records::LifecyclePhase;
use restart_contract::state::{ExitReason, GatewayState};
use support::{wait_until, Init, Sandbox, DEADLINE};

/// Why user namespaces cannot be used here, if they cannot.
fn user_namespaces_unavailable() -> Option<String> {
    match Command::new("unshare")
        .args(["--user", "--map-root-user", "true"])
        .output()
    {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "`unshare --user --map-root-user true` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!("cannot run unshare: {e}")),
    }
}

/// The pid (in our namespace) of the only child of `parent`, found by scanning
/// `/proc/*/stat` for its parent pid (field 4).
fn only_child(parent: i32) -> Result<i32, String> {
    let pids: Vec<i32> = std::fs::read_dir("/proc")
        .map_err(|e| e.to_string())?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                stat.rfind(')')
                    .and_then(|i| stat[i + 1..].split_whitespace().nth(1)?.parse::<i32>().ok())
                    == Some(parent)
            })
        })
        .collect();
    match pids.as_slice() {
        [pid] => Ok(*pid),
        other => Err(format!("children of {parent}: {other:?}")),
    }
}

#[test]
fn as_pid_1_a_sigterm_stops_the_gateways_cleanly_and_init_exits_0() {
    // Never a silent pass: without user namespaces this proves nothing.
    if let Some(why) = user_namespaces_unavailable() {
        panic!(
            "init as PID 1 needs user namespaces, which this machine refuses ({why}); \
             allow them (sysctl kernel.unprivileged_userns_clone=1) or run as root"
        );
    }
    let sb = Sandbox::new();
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--user",
        "--map-root-user",
        "--pid",
        "--fork",
        "--mount-proc",
    ])
    .arg(support::gateway_bin())
    .arg("init")
    .arg("--data")
    .arg(&sb.data)
    .arg("--run")
    .arg(&sb.run)
    .args(["--profiles", "a", "--grace-ms", "8000"])
    .env_remove("GATEWAY_MUTANT")
    .env_remove("GATEWAY_PROFILES");
    let mut init = Init::spawn(cmd, sb.tmp.path());

    // Pids inside the namespace mean nothing out here: wait on the files.
    for p in ["a", "default"] {
        wait_until(DEADLINE, &format!("`{p}` running"), || match sb.state(p) {
            Some(r) if r.gateway_state == GatewayState::Running => Ok(()),
            other => Err(format!("{other:?} (init stderr: {})", init.stderr())),
        });
    }
    // init really is PID 1 in there: its events carry its own pid.
    let boot = sb.wait_event("a", "the boot event", |e| {
        e.source == Source::Init && matches!(e.kind, EventKind::Boot { .. })
    });
    assert_eq!(boot.pid, 1, "{boot:?}");

    let ns_init = wait_until(DEADLINE, "unshare's child (the namespace's PID 1)", || {
        only_child(init.pid)
    });
    kill(Pid::from_raw(ns_init), Signal::SIGTERM).expect("signalling the namespace's init");
    let status = init.wait_exit();
    assert!(
        status.success(),
        "init (through unshare) exited {status:?}: {}",
        init.stderr()
    );

    for p in ["a", "default"] {
        let state = sb.state(p).expect("a state file");
        assert_eq!(
            (state.gateway_state, state.exit_reason),
            (
                GatewayState::Running,
                Some(ExitReason::Signal("SIGTERM".into()))
            ),
            "profile {p}"
        );
        assert_eq!(
            sb.lifecycle(p).expect("lifecycle.json").phase,
            LifecyclePhase::Exited,
            "profile {p}"
        );
    }
}
