//! With the `docker` feature on and no daemon reachable, the Docker tests fail
//! (never skip) with a message that names the endpoint and the fix, and
//! `restart-harness run --backend docker` exits 2 with it.
//!
//! `DOCKER_HOST` points at a socket that does not exist only in child
//! processes: it must not leak into the tests that need the real engine.

use assert_cmd::Command;

use crate::support;

const NOWHERE: &str = "unix:///nonexistent.sock";

#[test]
fn run_backend_docker_without_a_daemon_exits_2_naming_it() {
    let out = support::harness()
        .env("DOCKER_HOST", NOWHERE)
        .args(["run", "--backend", "docker"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no Docker daemon answers at unix:///nonexistent.sock (from DOCKER_HOST)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("start Docker or set DOCKER_HOST"),
        "{stderr}"
    );
}

#[test]
fn the_test_helper_fails_loudly_without_a_daemon() {
    // This binary holds every test: `--exact` with the whole name runs the child alone.
    let child = support::test_name(module_path!(), "connect_or_panic_child");
    let out = Command::new(std::env::current_exe().unwrap())
        .env("DOCKER_HOST", NOWHERE)
        .args(["--exact", child.as_str(), "--ignored", "--nocapture"])
        .output()
        .unwrap();
    let all = support::all_output(&out);
    assert!(
        !out.status.success(),
        "the helper must fail, not skip:\n{all}"
    );
    assert!(
        all.contains("the docker tests need a Docker Engine: no Docker daemon answers at unix:///nonexistent.sock"),
        "{all}"
    );
    // It ran, and failed: not filtered out, not ignored.
    assert!(all.contains("1 failed"), "{all}");
}

/// Run by the test above in a child process, where DOCKER_HOST points nowhere.
#[tokio::test]
#[ignore = "a child of the_test_helper_fails_loudly_without_a_daemon, which runs it with DOCKER_HOST pointing nowhere"]
async fn connect_or_panic_child() {
    support::docker::connect_or_panic().await;
}
