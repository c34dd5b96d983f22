//! The control commands' surface: `status --json` shape and its `--serve` session, and the exit-2 errors
//! (unknown profile, bad profile name, no init).

mod support;

use predicates::prelude::*;
use predicates::str::contains;
use support::Sandbox;

#[test]
fn status_json_has_exactly_the_contract_shape() {
    let sb = Sandbox::new();
    let _init = sb.init(&["--profiles", "alpha"]);
    let alpha = sb.wait_running("alpha", None);
    sb.wait_running("default", None);
    sb.cmd(&["stop", "--profile", "default"]).assert().success();

    let out = sb
        .cmd(&["status", "--json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("status --json is JSON");
    let top: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // A default build has no mutant, so no `mutant` key.
    assert_eq!(top, ["profiles"]);
    let profiles = doc["profiles"].as_array().unwrap();
    let names: Vec<&str> = profiles
        .iter()
        .map(|p| p["profile"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "default"]);
    for p in profiles {
        let keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "profile",
                "supervised",
                "pid",
                "start_time",
                "gateway_state",
                "desired_state",
                "live"
            ]
        );
    }
    assert_eq!(
        profiles[0],
        serde_json::json!({
            "profile": "alpha", "supervised": "up", "pid": alpha.pid,
            "start_time": alpha.start_time, "gateway_state": "running",
            "desired_state": null, "live": true
        })
    );
    assert_eq!(
        profiles[1],
        serde_json::json!({
            "profile": "default", "supervised": "down", "pid": null, "start_time": null,
            "gateway_state": "stopped", "desired_state": "stopped", "live": false
        })
    );

    sb.cmd(&["status"])
        .assert()
        .success()
        .stdout(contains("SUPERVISED"))
        .stdout(contains("alpha"))
        .stdout(contains("MUTANT ACTIVE").not());
}

#[test]
fn an_unknown_profile_is_exit_2_naming_it_and_how_to_create_it() {
    let sb = Sandbox::new();
    let init = sb.init(&[]);
    init.wait_ready(&sb);
    for verb in ["stop", "start", "restart"] {
        sb.cmd(&[verb, "--profile", "nosuch"])
            .assert()
            .code(2)
            .stderr(contains("`nosuch`"))
            .stderr(contains("gateway init --profiles nosuch"));
    }
    // Nothing was written for it.
    assert!(!sb.home("nosuch").dir().exists());
    sb.cmd(&["start", "--profile", "Not/Valid"])
        .assert()
        .code(2)
        .stderr(contains("not a valid profile name"));
}

#[test]
fn no_init_listening_is_exit_2_saying_what_to_do() {
    let sb = Sandbox::new();
    for args in [
        &["status", "--json"][..],
        &["stop"],
        &["start"],
        &["restart"],
    ] {
        sb.cmd(args)
            .assert()
            .code(2)
            .stderr(contains("no init is listening on"))
            .stderr(contains("control.sock"))
            .stderr(contains("start `gateway init` first (or pass --run)"));
    }
}

#[test]
fn init_makes_an_existing_run_dir_private() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let run = sb.run_dir();
    std::fs::create_dir_all(run.root()).unwrap();
    // What Docker leaves after a container restart: the tmpfs at the mountpoint's 0755.
    std::fs::set_permissions(run.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let _init = sb.init(&[]);
    sb.wait_running("default", None);
    let mode = std::fs::metadata(run.root()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}

#[test]
fn status_serve_answers_each_line_with_the_json_document_and_ends_with_stdin() {
    let sb = Sandbox::new();
    // Before init listens, a look is an error line, and the session goes on.
    // Then init starts, and the same session sees it.
    let mut session = sb.cmd(&["status", "--json", "--serve"]);
    session.write_stdin("look\n");
    session
        .assert()
        .success()
        .stdout(contains(r#"{"error":"no init is listening on"#));

    let _init = sb.init(&[]);
    let default = sb.wait_running("default", None);
    let out = sb
        .cmd(&["status", "--json", "--serve"])
        .write_stdin("look\nlook\n")
        .assert()
        .success()
        .get_output()
        .clone();
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each answer is one JSON line"))
        .collect();
    let expected = serde_json::json!({"profiles": [{
        "profile": "default", "supervised": "up", "pid": default.pid,
        "start_time": default.start_time, "gateway_state": "running",
        "desired_state": null, "live": true
    }]});
    assert_eq!(lines, [expected.clone(), expected]);

    sb.cmd(&["status", "--serve"])
        .assert()
        .code(2)
        .stderr(contains("--json"));
}
