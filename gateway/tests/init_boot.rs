//! init's boot with real processes: every row of the boot table, boots after a
//! container stop and after init was SIGKILLed, damaged files, a configuration
//! error, and a second init on the same data dir.

mod support;

use std::fs;

use gateway::control::Supervised;
use nix::sys::signal::Signal;
use restart_contract::boot::{BootAction, BootLine, PriorExit, PriorStateLabel};
use restart_contract::events::{EventKind, Source};
use restart_contract::records::LifecyclePhase;
use restart_contract::state::{DesiredState, ExitReason, GatewayState};
use rstest::rstest;
use support::{wait_gone, Sandbox};

const TS: &str = "2026-01-01T00:00:00.000Z";

/// What `gateway_state.json` holds before the boot.
#[derive(Debug, Clone, Copy)]
enum StateFile {
    None,
    Record(&'static str, bool),
    Corrupt,
    Unsupported,
}

/// What `lifecycle.json` holds before the boot.
#[derive(Debug, Clone, Copy)]
enum Lifecycle {
    None,
    Phase(&'static str),
    Corrupt,
}

const CORRUPT: &[u8] = b"{\"schema\":1,\"gateway_state\":\"runn";

fn state_json(state: &str, restart_requested: bool) -> String {
    format!(
        r#"{{"schema":1,"profile":"p","gateway_state":"{state}","exit_reason":null,"pid":999999,"start_time":1,"restart_requested":{restart_requested},"updated_at":"{TS}"}}"#
    )
}

fn write_home(sb: &Sandbox, state: StateFile, intent: Option<&str>, lifecycle: Lifecycle) {
    let home = sb.make_home("p");
    match state {
        StateFile::None => {}
        StateFile::Record(s, rr) => fs::write(home.gateway_state(), state_json(s, rr)).unwrap(),
        StateFile::Corrupt => fs::write(home.gateway_state(), CORRUPT).unwrap(),
        StateFile::Unsupported => fs::write(
            home.gateway_state(),
            state_json("running", false).replace(r#""schema":1"#, r#""schema":2"#),
        )
        .unwrap(),
    }
    if let Some(d) = intent {
        fs::write(
            home.desired_state(),
            format!(r#"{{"schema":1,"desired_state":"{d}","by":"stop","updated_at":"{TS}"}}"#),
        )
        .unwrap();
    }
    match lifecycle {
        Lifecycle::None => {}
        Lifecycle::Phase(p) => fs::write(
            home.lifecycle(),
            format!(r#"{{"phase":"{p}","pid":999999,"start_time":1,"updated_at":"{TS}"}}"#),
        )
        .unwrap(),
        Lifecycle::Corrupt => fs::write(home.lifecycle(), b"nope").unwrap(),
    }
}

fn corrupt_copies(dir: &std::path::Path, name: &str) -> Vec<Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{name}.corrupt-"))
        })
        .map(|e| fs::read(e.path()).unwrap())
        .collect()
}

#[rstest]
#[case::new_profile(
    true,
    StateFile::None,
    None,
    Lifecycle::None,
    "prior_state=missing desired=- action=started prior_exit=unknown"
)]
#[case::startup_failed_whatever_the_intent(
    false,
    StateFile::Record("startup_failed", false),
    Some("running"),
    Lifecycle::Phase("exited"),
    "prior_state=startup_failed desired=running action=registered prior_exit=clean"
)]
#[case::unsupported(
    false,
    StateFile::Unsupported,
    Some("running"),
    Lifecycle::None,
    "prior_state=unsupported desired=running action=registered prior_exit=unknown"
)]
#[case::intent_running(
    false,
    StateFile::Record("stopped", false),
    Some("running"),
    Lifecycle::Phase("exited"),
    "prior_state=stopped desired=running action=started prior_exit=clean"
)]
#[case::intent_stopped(
    false,
    StateFile::Record("running", false),
    Some("stopped"),
    Lifecycle::Phase("running"),
    "prior_state=running desired=stopped action=registered prior_exit=unclean"
)]
#[case::running(
    false,
    StateFile::Record("running", false),
    None,
    Lifecycle::Phase("exited"),
    "prior_state=running desired=- action=started prior_exit=clean"
)]
#[case::draining(
    false,
    StateFile::Record("draining", false),
    None,
    Lifecycle::Phase("running"),
    "prior_state=draining desired=- action=started prior_exit=unclean"
)]
#[case::restart_under_way(
    false,
    StateFile::Record("stopped", true),
    None,
    Lifecycle::Phase("exited"),
    "prior_state=stopped desired=- action=started prior_exit=clean"
)]
#[case::starting(
    false,
    StateFile::Record("starting", false),
    None,
    Lifecycle::Phase("running"),
    "prior_state=starting desired=- action=registered prior_exit=unclean"
)]
#[case::stopped(
    false,
    StateFile::Record("stopped", false),
    None,
    Lifecycle::Phase("exited"),
    "prior_state=stopped desired=- action=registered prior_exit=clean"
)]
#[case::missing(
    false,
    StateFile::None,
    None,
    Lifecycle::None,
    "prior_state=missing desired=- action=registered prior_exit=unknown"
)]
#[case::corrupt(
    false,
    StateFile::Corrupt,
    None,
    Lifecycle::Corrupt,
    "prior_state=corrupt desired=- action=registered prior_exit=unknown"
)]
fn every_row_of_the_boot_table(
    #[case] new_profile: bool,
    #[case] state: StateFile,
    #[case] intent: Option<&str>,
    #[case] lifecycle: Lifecycle,
    #[case] expected: &str,
) {
    let sb = Sandbox::new();
    if !new_profile {
        write_home(&sb, state, intent, lifecycle);
    }
    let init = sb.init(&["--profiles", "p"]);
    let line = sb.wait_boot_line(0, "p");
    let text = line.to_string();
    assert!(text.ends_with(&format!("profile=p {expected}")), "{text}");
    let field = |key: &str| {
        expected
            .split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .unwrap_or_default()
            .to_owned()
    };
    let (prior_state, action) = (field("prior_state="), field("action="));
    // The same line on init's stdout, and as a `boot` event.
    support::wait_until(support::DEADLINE, "the boot line on init's stdout", || {
        let out = init.stdout();
        out.contains(&text).then_some(()).ok_or(out)
    });
    let boot = sb.wait_event("p", "the boot event", |e| {
        e.source == Source::Init && matches!(e.kind, EventKind::Boot { .. })
    });
    assert!(
        matches!(&boot.kind, EventKind::Boot { prior_state: p, action: a, .. } if *p == prior_state && *a == action),
        "{boot:?}"
    );
    if action == "started" {
        sb.wait_running("p", None);
    } else {
        // `default` is new and started; once it runs, every boot start is done.
        sb.wait_running("default", None);
        let st = sb.supervision("p").unwrap();
        assert_eq!(st.supervised, Supervised::Down, "{st:?}");
        assert!(!sb
            .events("p")
            .iter()
            .any(|e| matches!(e.kind, EventKind::Spawned { .. })));
    }
    if matches!(lifecycle, Lifecycle::Corrupt) && !new_profile {
        assert_eq!(
            corrupt_copies(sb.home("p").dir(), "lifecycle.json"),
            vec![b"nope".to_vec()]
        );
    }
}

#[test]
fn after_a_container_stop_the_running_profile_starts_and_the_stopped_one_is_registered() {
    let sb = Sandbox::new();
    let mut init = sb.init(&["--profiles", "a,b"]);
    let a = sb.wait_running("a", None);
    let b = sb.wait_running("b", None);
    sb.cmd(&["stop", "--profile", "b"]).assert().success();

    init.signal(Signal::SIGTERM);
    assert!(init.wait_exit().success(), "init's exit after SIGTERM");
    wait_gone(a);
    wait_gone(b);
    let state = sb.state("a").unwrap();
    assert_eq!(
        (state.gateway_state, state.exit_reason),
        (
            GatewayState::Running,
            Some(ExitReason::Signal("SIGTERM".into()))
        )
    );
    assert_eq!(sb.lifecycle("a").unwrap().phase, LifecyclePhase::Exited);
    assert!(
        !sb.run_dir().control_socket().exists(),
        "control.sock left behind"
    );

    let before = sb.boot_lines().len();
    let _init2 = sb.init(&[]);
    let la = sb.wait_boot_line(before, "a");
    let lb = sb.wait_boot_line(before, "b");
    assert_eq!(
        (la.prior_state, la.desired, la.action, la.prior_exit),
        (
            PriorStateLabel::State(GatewayState::Running),
            None,
            BootAction::Start,
            PriorExit::Clean
        )
    );
    assert_eq!(
        (lb.prior_state, lb.desired, lb.action, lb.prior_exit),
        (
            PriorStateLabel::State(GatewayState::Stopped),
            Some(DesiredState::Stopped),
            BootAction::RegisterDown,
            PriorExit::Clean
        )
    );
    sb.wait_running("a", Some(a));
    assert_eq!(sb.supervision("b").unwrap().supervised, Supervised::Down);
}

#[test]
fn sigkill_of_init_takes_its_gateways_and_the_next_boot_says_unclean() {
    let sb = Sandbox::new();
    let mut init = sb.init(&["--profiles", "a"]);
    let a = sb.wait_running("a", None);
    let d = sb.wait_running("default", None);

    init.signal(Signal::SIGKILL);
    init.wait_exit();
    // The parent-death signal: no teardown ran in them.
    wait_gone(a);
    wait_gone(d);
    assert_eq!(sb.lifecycle("a").unwrap().phase, LifecyclePhase::Running);
    assert_eq!(sb.state("a").unwrap().gateway_state, GatewayState::Running);

    let before = sb.boot_lines().len();
    let _init2 = sb.init(&[]);
    let line: BootLine = sb.wait_boot_line(before, "a");
    assert_eq!(
        (line.prior_state, line.action, line.prior_exit),
        (
            PriorStateLabel::State(GatewayState::Running),
            BootAction::Start,
            PriorExit::Unclean
        )
    );
    sb.wait_running("a", Some(a));
}

#[test]
fn damaged_files_are_registered_down_corrupt_kept_aside_unsupported_untouched() {
    let sb = Sandbox::new();
    let corrupt_home = sb.make_home("c");
    fs::write(corrupt_home.gateway_state(), CORRUPT).unwrap();
    let unsupported_home = sb.make_home("u");
    let unsupported = state_json("running", false).replace(r#""schema":1"#, r#""schema":7"#);
    fs::write(unsupported_home.gateway_state(), &unsupported).unwrap();
    fs::create_dir_all(sb.data_dir().profiles_dir().join("Not.Valid")).unwrap();

    let init = sb.init(&[]);
    let c = sb.wait_boot_line(0, "c");
    let u = sb.wait_boot_line(0, "u");
    assert_eq!(
        (c.prior_state, c.action),
        (PriorStateLabel::Corrupt, BootAction::RegisterDown)
    );
    assert_eq!(
        (u.prior_state, u.action),
        (PriorStateLabel::Unsupported, BootAction::RegisterDown)
    );
    // Nothing is lost: the same bytes, aside; the unsupported file untouched.
    assert!(!corrupt_home.gateway_state().exists());
    assert_eq!(
        corrupt_copies(corrupt_home.dir(), "gateway_state.json"),
        vec![CORRUPT.to_vec()]
    );
    assert_eq!(
        fs::read_to_string(unsupported_home.gateway_state()).unwrap(),
        unsupported
    );
    sb.wait_running("default", None);
    let stderr = init.stderr();
    assert!(stderr.contains("corrupt"), "{stderr}");
    assert!(stderr.contains("Not.Valid"), "{stderr}");
    assert!(sb.boot_lines().iter().all(|l| l.profile != "Not.Valid"));
    for p in ["c", "u"] {
        assert_eq!(sb.supervision(p).unwrap().supervised, Supervised::Down);
    }
}

#[test]
fn a_configuration_error_is_startup_failed_78_not_restarted_and_registered_down() {
    let sb = Sandbox::new();
    let home = sb.make_home("bad");
    fs::write(home.config(), "drain_ms = \"soon\"\n").unwrap();
    fs::write(
        home.desired_state(),
        format!(r#"{{"schema":1,"desired_state":"running","by":"start","updated_at":"{TS}"}}"#),
    )
    .unwrap();

    let mut init = sb.init(&[]);
    let line = sb.wait_boot_line(0, "bad");
    assert_eq!(line.action, BootAction::Start);
    let spawned = sb.wait_event("bad", "the spawn", |e| {
        matches!(e.kind, EventKind::Spawned { .. })
    });
    let EventKind::Spawned { child, .. } = spawned.kind else {
        unreachable!()
    };
    let reaped = sb.wait_reaped("bad", child);
    assert!(
        matches!(reaped.kind, EventKind::Reaped { code: Some(78), .. }),
        "{reaped:?}"
    );
    sb.wait_supervised("bad", Supervised::Down);
    let state = sb.state("bad").unwrap();
    assert_eq!(state.gateway_state, GatewayState::StartupFailed);
    assert!(
        matches!(&state.exit_reason, Some(ExitReason::Config(_))),
        "{state:?}"
    );

    let out = sb
        .cmd(&["start", "--profile", "bad", "--timeout-s", "20"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("config: "), "{stderr}");
    assert!(stderr.contains("startup_failed"), "{stderr}");
    assert!(!sb
        .events("bad")
        .iter()
        .any(|e| matches!(e.kind, EventKind::Backoff { .. })));

    init.signal(Signal::SIGTERM);
    assert!(init.wait_exit().success());
    let before = sb.boot_lines().len();
    let _init2 = sb.init(&[]);
    let line = sb.wait_boot_line(before, "bad");
    assert_eq!(
        (line.prior_state, line.desired, line.action),
        (
            PriorStateLabel::State(GatewayState::StartupFailed),
            Some(DesiredState::Running),
            BootAction::RegisterDown
        )
    );
}

#[test]
fn a_second_init_on_the_same_data_dir_exits_2_naming_the_holder() {
    let sb = Sandbox::new();
    let init = sb.init(&[]);
    init.wait_ready(&sb);
    let other_run = sb.tmp.path().join("r2");
    let out = assert_cmd::Command::new(support::gateway_bin())
        .arg("init")
        .arg("--data")
        .arg(&sb.data)
        .arg("--run")
        .arg(&other_run)
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("init.lock"), "{stderr}");
    assert!(stderr.contains(&format!("pid {}", init.pid)), "{stderr}");
    // The first init is unharmed.
    sb.wait_running("default", None);
}
