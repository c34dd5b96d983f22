//! The harness image (`ci/harness-image.sh`): restart-harness FROM scratch,
//! run against the host's engine through its socket, compiles nothing and
//! gates the reference image (and its mutants) as the installed binary does.

use std::path::Path;
use std::process::Command;

/// The workspace root.
fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds the harness")
}

/// Builds the image (or finds it unchanged); its tag.
fn harness_image() -> String {
    let out = Command::new("bash")
        .arg("ci/harness-image.sh")
        .current_dir(workspace())
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "ci/harness-image.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .expect("it prints the tag")
        .to_owned()
}

/// The host path of the engine's socket, which the container is given.
fn socket() -> String {
    match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.is_empty() => h
            .strip_prefix("unix://")
            .unwrap_or_else(|| panic!("DOCKER_HOST={h}: the image test needs a unix socket"))
            .to_owned(),
        _ => "/var/run/docker.sock".to_owned(),
    }
}

/// `docker run` of the image with `args`, the socket and `out` mounted, no
/// network (the harness needs none: the socket is a file).
fn run_image(image: &str, out: &Path, args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .args(["run", "--rm", "--network", "none", "-v"])
        .arg(format!("{}:/var/run/docker.sock", socket()))
        .arg("-v")
        .arg(format!("{}:/out", out.display()))
        .arg(image)
        .args(args)
        .output()
        .expect("the docker CLI")
}

#[test]
fn the_harness_image_gates_the_reference_image_through_the_hosts_socket() {
    let image = harness_image();
    let out = tempfile::tempdir().expect("a temp dir");
    let run = run_image(
        &image,
        out.path(),
        &[
            "run",
            "--backend",
            "docker",
            "--filter",
            "^core-container-restart$",
            "--json",
            "/out/run.json",
        ],
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed, 0 failed, 0 errors"), "{stdout}");
    // Nothing compiled in the container: no cargo there.
    assert!(!stderr.contains("compiling the static gateway"), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("run.json")).expect("the JSON report"),
    )
    .expect("JSON");
    assert_eq!(report["results"][0]["outcome"], "passed");

    // Its mutants build too: a deliberate bug is caught (exit 1).
    let mutant = run_image(
        &image,
        out.path(),
        &[
            "run",
            "--backend",
            "docker",
            "--filter",
            "^container-restart$",
            "--mutant",
            "teardown-always-stopped",
        ],
    );
    let stdout = String::from_utf8_lossy(&mutant.stdout);
    assert_eq!(
        mutant.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&mutant.stderr)
    );
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
}
