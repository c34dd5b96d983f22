//! `gateway run` as a real process with real signals (SPEC §3), and the helper
//! commands `ping`, `kill` and `balloon` (SPEC §5), without init.

mod common_run;

use std::os::unix::fs::symlink;
use std::os::unix::net::UnixListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Duration as ChronoDuration;
use common_run::{bare_command, wait_until, Sandbox, DEADLINE};
use nix::sys::signal::Signal;
use restart_contract::events::EventKind;
use restart_contract::procfs::ProcessIdentity;
use restart_contract::records::{LifecyclePhase, PlannedStopMarker};
use restart_contract::state::{ExitReason, GatewayState};
use restart_contract::teardown::Cause;
use restart_contract::timefmt;
use rstest::rstest;

/// The `signal` event of `pid`: (signal, cause, marker verdict).
fn signal_event(sb: &Sandbox, pid: i32) -> (String, Cause, Option<String>) {
    let signals: Vec<_> = sb
        .gateway_events(pid)
        .into_iter()
        .filter_map(|k| match k {
            EventKind::Signal {
                signal,
                cause,
                marker,
            } => Some((signal, cause, marker)),
            _ => None,
        })
        .collect();
    assert_eq!(signals.len(), 1, "exactly one signal event: {signals:?}");
    signals.into_iter().next().expect("one signal event")
}

/// Checks what every ended life has in common: lifecycle `exited` about this
/// process, `exited` event with the code, socket removed.
fn assert_clean_end(sb: &Sandbox, pid: i32, code: i32) {
    let lifecycle = sb.lifecycle().expect("lifecycle.json");
    assert_eq!(lifecycle.phase, LifecyclePhase::Exited);
    assert_eq!(lifecycle.pid, pid);
    let events = sb.gateway_events(pid);
    assert_eq!(
        events.last(),
        Some(&EventKind::Exited { code }),
        "{events:?}"
    );
    assert!(!sb.socket().exists(), "socket left behind");
}

// ---------------------------------------------------------------------------
// The teardown table, one row per test.

#[test]
fn sigterm_with_a_marker_naming_this_process_is_an_operator_stop() {
    let sb = Sandbox::new();
    let mut gw = sb.spawn_running(&[]);
    sb.write_marker(&PlannedStopMarker::new(
        gw.identity(),
        std::process::id() as i32,
        timefmt::now(),
    ));
    gw.signal(Signal::SIGTERM);
    assert_eq!(gw.exit_code(), 0, "stderr: {}", gw.stderr());

    let st = sb.state().expect("state");
    assert_eq!(st.gateway_state, GatewayState::Stopped);
    assert_eq!(st.exit_reason, Some(ExitReason::OperatorStop));
    assert!(!st.restart_requested);
    assert_eq!(st.pid, gw.pid);
    assert!(!sb.marker_exists(), "marker must be consumed");
    let (signal, cause, marker) = signal_event(&sb, gw.pid);
    assert_eq!(signal, "SIGTERM");
    assert_eq!(cause, Cause::OperatorStop);
    assert_eq!(marker.as_deref(), Some("names-this-process"));
    assert_clean_end(&sb, gw.pid, 0);
}

#[rstest]
#[case::sigint_is_an_interactive_stop(
    Signal::SIGINT,
    GatewayState::Stopped,
    ExitReason::InteractiveStop,
    false,
    0
)]
#[case::sigusr1_is_a_restart(Signal::SIGUSR1, GatewayState::Stopped, ExitReason::Restart, true, 75)]
#[case::bare_sigterm_preserves_running(Signal::SIGTERM, GatewayState::Running, ExitReason::Signal("SIGTERM".into()), false, 1)]
#[case::sighup_preserves_running(Signal::SIGHUP, GatewayState::Running, ExitReason::Signal("SIGHUP".into()), false, 1)]
fn teardown_rows_without_a_marker(
    #[case] sig: Signal,
    #[case] state: GatewayState,
    #[case] reason: ExitReason,
    #[case] restart_requested: bool,
    #[case] code: i32,
) {
    let sb = Sandbox::new();
    let mut gw = sb.spawn_running(&[]);
    gw.signal(sig);
    assert_eq!(gw.exit_code(), code, "stderr: {}", gw.stderr());

    let st = sb.state().expect("state");
    assert_eq!(st.gateway_state, state);
    assert_eq!(st.exit_reason, Some(reason));
    assert_eq!(st.restart_requested, restart_requested);
    assert_eq!(st.pid, gw.pid);
    // The terminal write came after draining: the last persisted state is the
    // terminal one, never `draining`.
    assert_eq!(
        sb.persisted(gw.pid),
        vec![
            GatewayState::Starting,
            GatewayState::Running,
            GatewayState::Draining,
            state
        ]
    );
    let (signal, _, _) = signal_event(&sb, gw.pid);
    assert_eq!(signal, sig.as_str());
    assert_clean_end(&sb, gw.pid, code);
}

// ---------------------------------------------------------------------------
// Markers that must not name this process: treated as no marker, and removed.

/// Which marker to plant before SIGTERM.
#[derive(Debug, Clone, Copy)]
enum BadMarker {
    OtherStartTime,
    OtherPid,
    NoStartTime,
    Expired,
    Future,
    Malformed,
}

#[rstest]
#[case::right_pid_other_start_time(BadMarker::OtherStartTime, "other-start-time")]
#[case::other_pid(BadMarker::OtherPid, "other-pid")]
#[case::no_start_time(BadMarker::NoStartTime, "no-start-time")]
#[case::expired_two_minutes_ago(BadMarker::Expired, "expired")]
#[case::one_minute_in_the_future(BadMarker::Future, "from-the-future")]
#[case::malformed(BadMarker::Malformed, "malformed")]
fn a_marker_not_naming_this_process_is_no_marker(#[case] bad: BadMarker, #[case] verdict: &str) {
    let sb = Sandbox::new();
    let mut gw = sb.spawn_running(&[]);
    let me = gw.identity();
    let now = timefmt::now();
    let stopper = std::process::id() as i32;
    let marker = |target: ProcessIdentity, at| PlannedStopMarker::new(target, stopper, at);
    match bad {
        BadMarker::OtherStartTime => sb.write_marker(&marker(
            ProcessIdentity {
                pid: me.pid,
                start_time: me.start_time + 1,
            },
            now,
        )),
        BadMarker::OtherPid => sb.write_marker(&marker(
            ProcessIdentity {
                pid: me.pid + 1,
                start_time: me.start_time,
            },
            now,
        )),
        BadMarker::NoStartTime => {
            let mut m = marker(me, now);
            m.target_start_time = None;
            sb.write_marker(&m);
        }
        BadMarker::Expired => sb.write_marker(&marker(me, now - ChronoDuration::minutes(2))),
        BadMarker::Future => sb.write_marker(&marker(me, now + ChronoDuration::minutes(1))),
        BadMarker::Malformed => sb.write_marker_bytes(b"{\"target_pid\": \"seven\""),
    }
    gw.signal(Signal::SIGTERM);
    assert_eq!(gw.exit_code(), 1, "stderr: {}", gw.stderr());

    let st = sb.state().expect("state");
    assert_eq!(st.gateway_state, GatewayState::Running);
    assert_eq!(st.exit_reason, Some(ExitReason::Signal("SIGTERM".into())));
    assert!(
        !sb.marker_exists(),
        "a marker is consumed whether it matched or not"
    );
    let (_, cause, marker) = signal_event(&sb, gw.pid);
    assert_eq!(cause, Cause::SignalInitiated);
    assert_eq!(marker.as_deref(), Some(verdict));
}

#[test]
fn sighup_consumes_even_a_matching_marker_and_stays_signal_initiated() {
    let sb = Sandbox::new();
    let mut gw = sb.spawn_running(&[]);
    sb.write_marker(&PlannedStopMarker::new(gw.identity(), 1, timefmt::now()));
    gw.signal(Signal::SIGHUP);
    assert_eq!(gw.exit_code(), 1);
    let st = sb.state().expect("state");
    assert_eq!(st.exit_reason, Some(ExitReason::Signal("SIGHUP".into())));
    assert!(!sb.marker_exists());
}

// ---------------------------------------------------------------------------
// Timing: signals during `starting`, a second signal during draining.

#[rstest]
#[case::sigterm(Signal::SIGTERM, GatewayState::Running, 1)]
#[case::sigint(Signal::SIGINT, GatewayState::Stopped, 0)]
fn a_signal_during_starting_is_handled_the_same_way(
    #[case] sig: Signal,
    #[case] state: GatewayState,
    #[case] code: i32,
) {
    let sb = Sandbox::new();
    sb.config("ready_delay_ms = 600000\n");
    let mut gw = sb.spawn(&[]);
    sb.wait_state(&gw, GatewayState::Starting);
    // The ready delay is ten minutes: exiting at all within the test's deadline
    // proves that the signal cut it short.
    gw.signal(sig);
    assert_eq!(gw.exit_code(), code, "stderr: {}", gw.stderr());
    assert_eq!(sb.state().expect("state").gateway_state, state);
    assert_eq!(
        sb.persisted(gw.pid),
        vec![GatewayState::Starting, GatewayState::Draining, state]
    );
    assert!(!sb.gateway_events(gw.pid).contains(&EventKind::Running));
    assert_clean_end(&sb, gw.pid, code);
}

#[test]
fn later_signals_are_ignored_the_first_decides() {
    let sb = Sandbox::new();
    sb.config("drain_ms = 1500\n");
    let mut gw = sb.spawn_running(&[]);
    gw.signal(Signal::SIGTERM);
    sb.wait_state(&gw, GatewayState::Draining);
    // Each of these alone would decide another cause; none may, and none may kill.
    gw.signal(Signal::SIGTERM);
    gw.signal(Signal::SIGINT);
    gw.signal(Signal::SIGUSR1);
    gw.signal(Signal::SIGHUP);
    assert_eq!(gw.exit_code(), 1, "stderr: {}", gw.stderr());
    let st = sb.state().expect("state");
    assert_eq!(st.gateway_state, GatewayState::Running);
    assert_eq!(st.exit_reason, Some(ExitReason::Signal("SIGTERM".into())));
    let (signal, cause, _) = signal_event(&sb, gw.pid);
    assert_eq!(
        (signal.as_str(), cause),
        ("SIGTERM", Cause::SignalInitiated)
    );
}

#[test]
fn the_channel_answers_while_draining() {
    let sb = Sandbox::new();
    sb.config("drain_ms = 1500\n");
    let mut gw = sb.spawn_running(&[]);
    gw.signal(Signal::SIGUSR1);
    sb.wait_state(&gw, GatewayState::Draining);
    let out = sb
        .command("ping", &[])
        .output()
        .expect("running gateway ping");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("pong {}", gw.pid)
    );
    assert_eq!(gw.exit_code(), 75);
}

// ---------------------------------------------------------------------------
// Start-up: configuration, files, bad input.

#[rstest]
#[case::unknown_key("drain_msec = 5\n")]
#[case::wrong_type("drain_ms = \"fast\"\n")]
#[case::negative("ready_delay_ms = -1\n")]
#[case::invalid_toml("drain_ms = \n")]
fn a_configuration_error_persists_startup_failed_and_exits_78(#[case] text: &str) {
    let sb = Sandbox::new();
    sb.config(text);
    let mut gw = sb.spawn(&[]);
    assert_eq!(gw.exit_code(), 78, "stderr: {}", gw.stderr());
    let st = sb.state().expect("state");
    assert_eq!(st.gateway_state, GatewayState::StartupFailed);
    assert_eq!(st.pid, gw.pid);
    let reason = st.exit_reason.expect("an exit reason").to_wire();
    assert!(reason.starts_with("config: "), "{reason}");
    assert!(!reason.contains('\n'), "{reason}");
    assert_eq!(sb.persisted(gw.pid), vec![GatewayState::StartupFailed]);
    assert!(!sb.gateway_events(gw.pid).contains(&EventKind::Starting));
    assert_clean_end(&sb, gw.pid, 78);
}

#[test]
fn a_symlinked_state_file_is_refused_and_its_target_untouched() {
    let sb = Sandbox::new();
    let target = sb.data.path().join("precious.json");
    std::fs::write(&target, b"precious").expect("writing target");
    symlink(&target, sb.home.gateway_state()).expect("planting symlink");
    let mut gw = sb.spawn(&[]);
    let code = gw.exit_code();
    assert_ne!(code, 0);
    assert_eq!(std::fs::read(&target).expect("target"), b"precious");
    let meta = std::fs::symlink_metadata(sb.home.gateway_state()).expect("link");
    assert!(meta.file_type().is_symlink(), "the symlink was replaced");
    let stderr = gw.stderr();
    assert!(stderr.contains("symlink"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!sb.socket().exists());
}

#[test]
fn unknown_keys_in_the_state_file_survive_every_write() {
    let sb = Sandbox::new();
    std::fs::write(
        sb.home.gateway_state(),
        br#"{"schema":1,"profile":"default","gateway_state":"stopped","exit_reason":"operator-stop","pid":1,"start_time":1,"restart_requested":false,"updated_at":"2026-11-26T06:00:00.123Z","future_key":{"kept":true}}"#,
    )
    .expect("seeding state");
    let mut gw = sb.spawn_running(&[]);
    assert_eq!(sb.state_json()["future_key"]["kept"], true);
    gw.signal(Signal::SIGTERM);
    assert_eq!(gw.exit_code(), 1);
    let json = sb.state_json();
    assert_eq!(json["future_key"]["kept"], true, "{json}");
    assert_eq!(json["gateway_state"], "running");
    assert_eq!(json["exit_reason"], "signal:SIGTERM");
}

#[test]
fn a_corrupt_state_file_is_kept_aside_not_lost() {
    let sb = Sandbox::new();
    std::fs::write(sb.home.gateway_state(), b"{not json").expect("seeding state");
    let mut gw = sb.spawn_running(&[]);
    gw.signal(Signal::SIGINT);
    assert_eq!(gw.exit_code(), 0);
    let kept: Vec<_> = std::fs::read_dir(sb.home.dir())
        .expect("home")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("gateway_state.json.corrupt-")
        })
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read(kept[0].path()).expect("kept"), b"{not json");
}

#[test]
fn running_writes_lifecycle_running_and_says_so_on_stdout() {
    let sb = Sandbox::new();
    let mut gw = sb.spawn_running(&[]);
    let lc = sb.lifecycle().expect("lifecycle.json");
    assert_eq!((lc.phase, lc.pid), (LifecyclePhase::Running, gw.pid));
    assert_eq!(lc.start_time, gw.identity().start_time);
    let want = format!("gateway[default] running pid={}", gw.pid);
    wait_until(DEADLINE, "the running line on stdout", || {
        let out = gw.stdout();
        out.lines().any(|l| l == want).then_some(()).ok_or(out)
    });
    gw.signal(Signal::SIGINT);
    assert_eq!(gw.exit_code(), 0);
}

#[test]
fn a_stale_socket_file_is_replaced() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.socket().parent().expect("gateways dir")).expect("mkdir");
    drop(UnixListener::bind(sb.socket()).expect("stale socket"));
    let mut gw = sb.spawn_running(&[]);
    let out = sb.command("ping", &[]).output().expect("gateway ping");
    assert!(out.status.success(), "{out:?}");
    gw.signal(Signal::SIGINT);
    assert_eq!(gw.exit_code(), 0);
}

#[rstest]
#[case::bad_profile_name(&["--profile", "Bad/Name"])]
#[case::unknown_profile(&["--profile", "nohome"])]
fn bad_input_exits_2_with_one_line(#[case] args: &[&str]) {
    let sb = Sandbox::new();
    let out = sb.command("run", args).output().expect("gateway run");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn a_run_dir_too_long_for_a_socket_is_a_usage_error() {
    let sb = Sandbox::new();
    let long = sb.run.path().join("r".repeat(120));
    let out = bare_command()
        .args(["run", "--profile", "default", "--data"])
        .arg(sb.data.path())
        .arg("--run")
        .arg(&long)
        .output()
        .expect("gateway run");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--run"));
}

// ---------------------------------------------------------------------------
// gateway ping

#[test]
fn ping_answers_pong_with_the_pid() {
    let sb = Sandbox::new();
    let mut gw = sb.spawn_running(&[]);
    let out = sb
        .command("ping", &["--profile", "default"])
        .output()
        .expect("ping");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("pong {}", gw.pid)
    );
    gw.signal(Signal::SIGINT);
    assert_eq!(gw.exit_code(), 0);
}

#[test]
fn ping_without_a_gateway_exits_1() {
    let sb = Sandbox::new();
    let out = sb.command("ping", &[]).output().expect("ping");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim().lines().count(),
        1
    );
}

#[test]
fn ping_of_a_silent_channel_gives_up_after_a_second() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.socket().parent().expect("gateways dir")).expect("mkdir");
    let listener = UnixListener::bind(sb.socket()).expect("binding");
    // Accepts and never answers; held until the ping is over.
    let holder = std::thread::spawn(move || listener.accept().map(|(s, _)| s));
    let started = Instant::now();
    let out = sb.command("ping", &[]).output().expect("ping");
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        took >= Duration::from_millis(900),
        "gave up too early: {took:?}"
    );
    assert!(took < Duration::from_secs(10), "waited too long: {took:?}");
    drop(holder.join());
}

#[test]
fn ping_of_an_unknown_profile_exits_2() {
    let sb = Sandbox::new();
    let out = sb
        .command("ping", &["--profile", "nohome"])
        .output()
        .expect("ping");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

// ---------------------------------------------------------------------------
// gateway kill

#[rstest]
#[case::full_name("SIGTERM")]
#[case::short_name("TERM")]
#[case::number("15")]
fn kill_sends_a_bare_signal(#[case] sig: &str) {
    let mut victim = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("spawning sleep");
    let out = bare_command()
        .args(["kill", &victim.id().to_string(), sig])
        .output()
        .expect("gateway kill");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let status = wait_until(DEADLINE, "the victim to die", || {
        victim
            .try_wait()
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "alive".to_owned())
    });
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(15));
}

#[rstest]
#[case::unknown_name(&["1", "SIGFOO"])]
#[case::bad_number(&["1", "999"])]
#[case::zero_pid(&["0", "TERM"])]
#[case::not_a_pid(&["abc", "TERM"])]
fn kill_with_bad_arguments_exits_2(#[case] args: &[&str]) {
    let out = bare_command()
        .arg("kill")
        .args(args)
        .output()
        .expect("gateway kill");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn kill_of_no_such_process_exits_1() {
    let out = bare_command()
        .args(["kill", &i32::MAX.to_string(), "TERM"])
        .output()
        .expect("gateway kill");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such process"));
}

#[test]
fn kill_term_on_a_gateway_is_a_signal_initiated_teardown() {
    let sb = Sandbox::new();
    let mut gw = sb.spawn_running(&[]);
    let out = bare_command()
        .args(["kill", &gw.pid.to_string(), "TERM"])
        .output()
        .expect("gateway kill");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(gw.exit_code(), 1);
    assert_eq!(
        sb.state().expect("state").exit_reason,
        Some(ExitReason::Signal("SIGTERM".into()))
    );
}

// ---------------------------------------------------------------------------
// gateway balloon

#[test]
fn balloon_with_test_hooks_allocates_and_volunteers_for_the_oom_killer() {
    let sb = Sandbox::new();
    let mut gw = sb.spawn_running(&[("GATEWAY_TEST_HOOKS", "1")]);
    let out = sb
        .command("balloon", &["--mib", "8"])
        .output()
        .expect("balloon");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ballooned 8");
    let adj = std::fs::read_to_string(format!("/proc/{}/oom_score_adj", gw.pid)).expect("adj");
    assert_eq!(adj.trim(), "1000");
    gw.signal(Signal::SIGINT);
    assert_eq!(gw.exit_code(), 0);
}

#[test]
fn balloon_without_test_hooks_is_refused() {
    let sb = Sandbox::new();
    let mut gw = sb.spawn_running(&[]);
    let out = sb
        .command("balloon", &["--mib", "8"])
        .output()
        .expect("balloon");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("GATEWAY_TEST_HOOKS=1"));
    let adj = std::fs::read_to_string(format!("/proc/{}/oom_score_adj", gw.pid)).expect("adj");
    assert_ne!(adj.trim(), "1000");
    gw.signal(Signal::SIGINT);
    assert_eq!(gw.exit_code(), 0);
}

#[test]
fn balloon_without_a_gateway_exits_1() {
    let sb = Sandbox::new();
    let out = sb
        .command("balloon", &["--mib", "1"])
        .stdin(Stdio::null())
        .output()
        .expect("balloon");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

// ---------------------------------------------------------------------------
// The mutants of `gateway run` change what they claim to (feature `mutants`).

#[cfg(feature = "mutants")]
mod mutants {
    use super::*;

    fn mutant(name: &str) -> [(&'static str, String); 1] {
        [("GATEWAY_MUTANT", name.to_owned())]
    }

    fn spawn_mutant(sb: &Sandbox, name: &str) -> common_run::Gateway {
        let env = mutant(name);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        sb.spawn_running(&env)
    }

    #[test]
    fn teardown_always_stopped() {
        let sb = Sandbox::new();
        let mut gw = spawn_mutant(&sb, "teardown-always-stopped");
        gw.signal(Signal::SIGTERM);
        assert_eq!(gw.exit_code(), 1);
        let st = sb.state().expect("state");
        assert_eq!(st.gateway_state, GatewayState::Stopped);
        assert_eq!(st.exit_reason, Some(ExitReason::Signal("SIGTERM".into())));
    }

    #[test]
    fn teardown_skips_terminal_write() {
        let sb = Sandbox::new();
        let mut gw = spawn_mutant(&sb, "teardown-skips-terminal-write");
        gw.signal(Signal::SIGTERM);
        assert_eq!(gw.exit_code(), 1);
        assert_eq!(
            sb.state().expect("state").gateway_state,
            GatewayState::Draining
        );
    }

    #[test]
    fn signal_means_crash() {
        let sb = Sandbox::new();
        let mut gw = spawn_mutant(&sb, "signal-means-crash");
        sb.write_marker(&PlannedStopMarker::new(gw.identity(), 1, timefmt::now()));
        gw.signal(Signal::SIGTERM);
        assert_eq!(gw.exit_code(), 1);
        assert!(!sb.marker_exists());
        assert_eq!(
            sb.state().expect("state").gateway_state,
            GatewayState::Running
        );
    }

    #[test]
    fn marker_pid_only() {
        let sb = Sandbox::new();
        let mut gw = spawn_mutant(&sb, "marker-pid-only");
        let me = gw.identity();
        sb.write_marker(&PlannedStopMarker::new(
            ProcessIdentity {
                pid: me.pid,
                start_time: me.start_time + 1,
            },
            1,
            timefmt::now(),
        ));
        gw.signal(Signal::SIGTERM);
        assert_eq!(gw.exit_code(), 0);
        assert_eq!(
            sb.state().expect("state").exit_reason,
            Some(ExitReason::OperatorStop)
        );
    }

    #[test]
    fn marker_never_expires() {
        let sb = Sandbox::new();
        let mut gw = spawn_mutant(&sb, "marker-never-expires");
        sb.write_marker(&PlannedStopMarker::new(
            gw.identity(),
            1,
            timefmt::now() - ChronoDuration::minutes(2),
        ));
        gw.signal(Signal::SIGTERM);
        assert_eq!(gw.exit_code(), 0);
    }

    #[test]
    fn signal_exits_zero() {
        let sb = Sandbox::new();
        let mut gw = spawn_mutant(&sb, "signal-exits-zero");
        gw.signal(Signal::SIGHUP);
        assert_eq!(gw.exit_code(), 0);
        assert_eq!(
            sb.state().expect("state").gateway_state,
            GatewayState::Running
        );
    }
}
