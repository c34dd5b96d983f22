//! init's supervision with real processes: revival after a bare SIGTERM or a
//! SIGKILL, the operator stop, restarts (exit 75), the crash-loop give-up, and a
//! marker that names another life of the pid.

mod support;

use gateway::control::Supervised;
use restart_contract::events::{EventKind, Source};
use restart_contract::state::{DesiredState, ExitReason, GatewayState};
use restart_contract::teardown::Cause;
use support::{gateway_kill, wait_gone, Sandbox};

fn spawned_reason(sandbox: &Sandbox, profile: &str, pid: i32) -> String {
    let ev = sandbox.wait_event(
        profile,
        &format!("`spawned` of pid {pid}"),
        |e| matches!(&e.kind, EventKind::Spawned { child, .. } if *child == pid),
    );
    match ev.kind {
        EventKind::Spawned { reason, .. } => reason,
        _ => unreachable!(),
    }
}

#[test]
fn bare_sigterm_persists_running_and_init_revives_with_a_new_pid() {
    let sb = Sandbox::new();
    let _init = sb.init(&["--profiles", "alpha,beta"]);
    let old = sb.wait_running("alpha", None);
    let beta = sb.wait_running("beta", None);

    gateway_kill(old.pid, "SIGTERM");

    // The terminal write of a signal-initiated teardown, from the old life.
    sb.wait_event("alpha", "the old pid persisting running/signal:SIGTERM", |e| {
        e.source == Source::Gateway
            && e.pid == old.pid
            && matches!(
                &e.kind,
                EventKind::Persisted { gateway_state: GatewayState::Running, exit_reason: Some(r) }
                    if r == "signal:SIGTERM"
            )
    });
    let reaped = sb.wait_reaped("alpha", old.pid);
    assert!(
        matches!(reaped.kind, EventKind::Reaped { code: Some(1), .. }),
        "{reaped:?}"
    );
    let new = sb.wait_running("alpha", Some(old));
    assert_ne!(new.pid, old.pid);
    assert_eq!(spawned_reason(&sb, "alpha", new.pid), "revive");
    sb.wait_event("alpha", "a backoff event", |e| {
        matches!(e.kind, EventKind::Backoff { delay_ms: 100 })
    });
    // The other profile was not touched.
    assert_eq!(sb.supervision("beta").unwrap().pid, Some(beta.pid));
}

#[test]
fn operator_stop_is_final_and_leaves_no_marker() {
    let sb = Sandbox::new();
    let _init = sb.init(&["--profiles", "alpha"]);
    let old = sb.wait_running("alpha", None);

    sb.cmd(&["stop", "--profile", "alpha"])
        .assert()
        .success()
        .stdout(predicates::str::contains("stopped"));

    let state = sb.state("alpha").expect("a state file");
    assert_eq!(state.gateway_state, GatewayState::Stopped);
    assert_eq!(state.exit_reason, Some(ExitReason::OperatorStop));
    assert_eq!(state.process(), old);
    assert_eq!(
        sb.intent("alpha").map(|i| i.desired_state),
        Some(DesiredState::Stopped)
    );
    assert!(!sb.home("alpha").planned_stop_marker().exists());
    // init decides at the reap: down (not backoff) means it will not be revived.
    let reaped = sb.wait_reaped("alpha", old.pid);
    assert!(
        matches!(reaped.kind, EventKind::Reaped { code: Some(0), .. }),
        "{reaped:?}"
    );
    let st = sb.wait_supervised("alpha", Supervised::Down);
    assert_eq!(st.pid, None);
    let events = sb.events("alpha");
    for want in ["marker-written", "desired-written", "stop-requested"] {
        assert!(
            events.iter().any(|e| e.source == Source::Cli
                && serde_json::to_value(&e.kind).unwrap()["event"] == want),
            "no cli `{want}` event in {events:?}"
        );
    }
    assert!(
        !events.iter().any(|e| matches!(
            &e.kind,
            EventKind::Spawned { reason, .. } if reason == "revive"
        )),
        "revived after an operator stop"
    );
    // Stopping again: already stopped, exit 0.
    sb.cmd(&["stop", "--profile", "alpha"])
        .assert()
        .success()
        .stdout(predicates::str::contains("already stopped"));
    // A restart of a profile that is down is a start.
    sb.cmd(&["restart", "--profile", "alpha"])
        .assert()
        .success();
    let new = sb.wait_running("alpha", Some(old));
    assert_eq!(spawned_reason(&sb, "alpha", new.pid), "operator-start");
    assert_eq!(
        sb.intent("alpha").map(|i| i.desired_state),
        Some(DesiredState::Running)
    );
}

#[test]
fn sigkill_of_a_gateway_leaves_its_state_and_it_is_revived() {
    let sb = Sandbox::new();
    let _init = sb.init(&[]);
    let old = sb.wait_running("default", None);

    gateway_kill(old.pid, "SIGKILL");
    let reaped = sb.wait_reaped("default", old.pid);
    assert!(
        matches!(&reaped.kind, EventKind::Reaped { signal: Some(s), code: None, .. } if s == "SIGKILL"),
        "{reaped:?}"
    );
    // Nothing ran in the killed process: its last words were `running`, no teardown.
    let old_events: Vec<_> = sb
        .events("default")
        .into_iter()
        .filter(|e| e.source == Source::Gateway && e.pid == old.pid)
        .collect();
    assert!(
        !old_events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Signal { .. } | EventKind::Exited { .. })),
        "{old_events:?}"
    );
    let last_persisted = old_events.iter().rev().find_map(|e| match &e.kind {
        EventKind::Persisted { gateway_state, .. } => Some(*gateway_state),
        _ => None,
    });
    assert_eq!(last_persisted, Some(GatewayState::Running));

    let new = sb.wait_running("default", Some(old));
    assert_eq!(spawned_reason(&sb, "default", new.pid), "revive");
}

#[test]
fn gateway_restart_exits_75_and_comes_back_with_a_new_pid() {
    let sb = Sandbox::new();
    let _init = sb.init(&[]);
    let old = sb.wait_running("default", None);

    sb.cmd(&["restart"])
        .assert()
        .success()
        .stdout(predicates::str::contains("restarted"));
    let reaped = sb.wait_reaped("default", old.pid);
    assert!(
        matches!(reaped.kind, EventKind::Reaped { code: Some(75), .. }),
        "{reaped:?}"
    );
    let new = sb.wait_running("default", Some(old));
    assert_eq!(spawned_reason(&sb, "default", new.pid), "restart");
    assert_eq!(
        sb.intent("default").map(|i| i.desired_state),
        Some(DesiredState::Running)
    );

    // A bare SIGUSR1 is the same restart request.
    gateway_kill(new.pid, "SIGUSR1");
    let reaped = sb.wait_reaped("default", new.pid);
    assert!(
        matches!(reaped.kind, EventKind::Reaped { code: Some(75), .. }),
        "{reaped:?}"
    );
    let third = sb.wait_running("default", Some(new));
    assert_eq!(spawned_reason(&sb, "default", third.pid), "restart");
    // Not counted as crashes: no backoff at all.
    assert!(!sb
        .events("default")
        .iter()
        .any(|e| matches!(e.kind, EventKind::Backoff { .. })));
}

#[test]
fn a_crash_loop_ends_in_startup_failed_crash_loop_and_gave_up() {
    let sb = Sandbox::new();
    let _init = sb.init(&["--crash-limit", "2", "--crash-window-s", "60"]);
    let mut previous = None;
    let mut last = None;
    // limit 2: the third unexpected exit within the window gives up.
    for _ in 0..3 {
        let st = support::wait_until(support::DEADLINE, "a new gateway process", || {
            let st = sb.supervision("default")?;
            match (st.supervised, st.pid) {
                (Supervised::Up, Some(pid)) if Some(pid) != previous => Ok(st),
                _ => Err(format!("{st:?}")),
            }
        });
        let pid = st.pid.unwrap();
        gateway_kill(pid, "SIGKILL");
        sb.wait_reaped("default", pid);
        previous = Some(pid);
        last = Some((pid, st.start_time.unwrap()));
    }
    sb.wait_supervised("default", Supervised::GaveUp);
    let gave_up = sb.wait_event("default", "a gave-up event", |e| {
        e.source == Source::Init && matches!(e.kind, EventKind::GaveUp { .. })
    });
    assert!(
        matches!(gave_up.kind, EventKind::GaveUp { exits: 3 }),
        "{gave_up:?}"
    );
    let state = sb.state("default").expect("a state file");
    assert_eq!(state.gateway_state, GatewayState::StartupFailed);
    assert_eq!(state.exit_reason, Some(ExitReason::CrashLoop));
    let (pid, start_time) = last.unwrap();
    assert_eq!((state.pid, state.start_time), (pid, start_time));
    // Two backoffs (100 ms, then doubled), then the give-up instead of a third.
    let delays: Vec<u64> = sb
        .events("default")
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Backoff { delay_ms } => Some(delay_ms),
            _ => None,
        })
        .collect();
    assert_eq!(delays, vec![100, 200]);

    // Stopping a given-up profile: intent stopped, nothing pending, "already stopped".
    sb.cmd(&["stop"])
        .assert()
        .success()
        .stdout(predicates::str::contains("already stopped"));
    sb.wait_supervised("default", Supervised::Down);
    assert_eq!(
        sb.intent("default").map(|i| i.desired_state),
        Some(DesiredState::Stopped)
    );
    // An operator start takes responsibility: it runs again.
    sb.cmd(&["start"]).assert().success();
    sb.wait_running("default", None);
}

#[test]
fn a_marker_naming_the_pid_with_another_start_time_is_no_marker() {
    let sb = Sandbox::new();
    let _init = sb.init(&[]);
    let old = sb.wait_running("default", None);
    let marker = sb.home("default").planned_stop_marker();
    let written_at = restart_contract::timefmt::format(&restart_contract::timefmt::now());
    std::fs::write(
        &marker,
        format!(
            r#"{{"target_pid":{},"target_start_time":{},"stopper_pid":1,"written_at":"{written_at}"}}"#,
            old.pid,
            old.start_time + 1
        ),
    )
    .unwrap();

    gateway_kill(old.pid, "SIGTERM");
    let signal = sb.wait_event("default", "the gateway's signal event", |e| {
        e.pid == old.pid && matches!(e.kind, EventKind::Signal { .. })
    });
    assert!(
        matches!(
            signal.kind,
            EventKind::Signal {
                cause: Cause::SignalInitiated,
                ..
            }
        ),
        "{signal:?}"
    );
    sb.wait_event("default", "running/signal:SIGTERM from the old pid", |e| {
        e.pid == old.pid
            && matches!(
                &e.kind,
                EventKind::Persisted { gateway_state: GatewayState::Running, exit_reason: Some(r) }
                    if r == "signal:SIGTERM"
            )
    });
    sb.wait_running("default", Some(old));
    // Read and removed whether it matched or not.
    assert!(!marker.exists());
    wait_gone(old);
}
