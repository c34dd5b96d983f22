//! `restart-harness` end to end on Docker: `image build`, `run --backend docker`
//! with its JUnit and JSON files, `--image NAME`, and that a run leaves no
//! container or volume behind.

use std::sync::atomic::{AtomicU32, Ordering};

use restart_harness::backend::docker::{labels, Leftovers, RUN_ID_ENV};

use crate::support;

/// The objects of one run, found by its label.
fn objects_of(run: &str) -> Leftovers {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let docker = support::docker::connect_or_panic().await;
        labels::leftovers(&docker, Some(run), None).await.unwrap()
    })
}

/// Runs the CLI with `args` under a run id of its own; asserts the run left
/// nothing on the engine (other runs, even concurrent ones, do not matter).
fn cli(args: &[&str]) -> std::process::Output {
    static N: AtomicU32 = AtomicU32::new(0);
    let run = format!(
        "cli-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let out = support::harness()
        .env(RUN_ID_ENV, &run)
        .args(args)
        .output()
        .unwrap();
    let left = objects_of(&run);
    assert!(left.is_empty(), "`{}` left {left}", args.join(" "));
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn run_backend_docker_end_to_end_with_junit_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    let json = dir.path().join("report.json");
    let out = cli(&[
        "run",
        "--backend",
        "docker",
        "--filter",
        "^(oom|operator-stop|two-profiles-one-stopped)$",
        "-j",
        "3",
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.contains("backend docker (image restart-harness/gateway:"),
        "the report's first line names the backend and image: {first}"
    );
    for name in ["oom", "operator-stop", "two-profiles-one-stopped"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(name) && l.contains("passed")),
            "{name} passed:\n{stdout}"
        );
    }

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert_eq!(xml.matches("<testcase").count(), 3, "{xml}");
    assert!(xml.contains("name=\"oom\""), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let text = report.to_string();
    assert!(text.contains("\"docker\""), "{text}");
    assert!(text.contains("\"oom\""), "{text}");
}

#[test]
fn image_build_then_gate_that_image_by_name() {
    let built = cli(&["image", "build"]);
    assert_eq!(built.status.code(), Some(0), "{}", text(&built.stderr));
    let stdout = text(&built.stdout);
    let name = stdout.split_whitespace().next().unwrap().to_owned();
    assert!(name.starts_with("restart-harness/gateway:"), "{stdout}");

    let out = cli(&[
        "run",
        "--backend",
        "docker",
        "--image",
        &name,
        "--filter",
        "^bare-sigterm$",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.lines().next().unwrap_or_default().contains(&name),
        "{stdout}"
    );
}

#[test]
fn a_missing_image_exits_2_naming_it() {
    let out = cli(&[
        "run",
        "--backend",
        "docker",
        "--image",
        "restart-harness/absent:nope",
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("restart-harness/absent:nope") && stderr.contains("does not exist"),
        "{stderr}"
    );
}
