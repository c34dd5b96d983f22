//! The Docker backend's primitives against real containers of the real image:
//! boot, exec, restart, kill, OOM, the archive API, events, cleanup.

use std::path::Path;
use std::time::Instant;

use bollard::query_parameters::KillContainerOptionsBuilder;
use restart_harness::backend::docker::{labels, DockerBackend, DockerSandbox};
use restart_harness::backend::{profile_file, BackendError, Sandbox, SandboxSpec};

use crate::support::docker::{connect_or_panic, reference_backend};

fn spec(name: &str) -> SandboxSpec {
    SandboxSpec {
        name: name.to_owned(),
        profiles: vec![],
        init_args: vec![],
        env: vec![],
        memory_limit: None,
        disk_limit: None,
        shape: restart_harness::backend::Shape::reference(),
    }
}

async fn target(backend: &DockerBackend, spec: &SandboxSpec) -> DockerSandbox {
    backend
        .create_target(spec)
        .await
        .unwrap_or_else(|e| panic!("create {}: {e}", spec.name))
}

/// Destroys the target and checks by label that nothing of it is left.
async fn destroy(backend: &DockerBackend, mut t: DockerSandbox, scenario: &str) {
    t.destroy().await.expect("destroy");
    let left = labels::leftovers(backend.docker(), Some(backend.run_id()), Some(scenario))
        .await
        .unwrap();
    assert!(left.is_empty(), "left after destroy: {left}");
}

fn status_json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("status --json: {e}: {out:?}"))
}

/// The mode of the run dir as the container sees it, read through
/// `/proc/<init pid>/root` (the archive API does not see a tmpfs mount).
async fn run_dir_mode(t: &DockerSandbox) -> u32 {
    use std::os::unix::fs::MetadataExt;
    let pid = t.state().await.unwrap().pid.expect("init pid");
    let path = format!("/proc/{pid}/root/run/gateway");
    let meta = std::fs::metadata(&path).unwrap_or_else(|e| {
        panic!("stat {path}: {e} (the test reads the run dir through /proc: it needs a local engine and root)")
    });
    assert_eq!(meta.uid(), 10001, "run dir owner");
    meta.mode() & 0o7777
}

#[tokio::test(flavor = "multi_thread")]
async fn boot_exec_and_restart() {
    let backend = reference_backend().await;
    let spec = spec("prim-restart");
    let mut t = target(&backend, &spec).await;

    let t0 = Instant::now();
    t.boot().await.expect("boot");
    eprintln!("boot took {:?}", t0.elapsed());
    let boot = t.boot_lines().await.unwrap();
    assert_eq!(boot.len(), 1, "{boot:?}");
    assert!(boot[0].contains("profile=default"), "{boot:?}");

    let out = t
        .gateway(&["status".into(), "--json".into()])
        .await
        .unwrap();
    assert_eq!(out.code, Some(0), "{out:?}");
    let status = status_json(&out.stdout);
    assert_eq!(status["profiles"][0]["profile"], "default");
    let pid_before = status["profiles"][0]["pid"].clone();
    let facts_before = t.facts().await.unwrap();
    assert!(facts_before.started_at.is_some());
    assert_eq!(run_dir_mode(&t).await, 0o700, "run dir mode at first boot");

    let t1 = Instant::now();
    t.container_restart(None).await.expect("restart");
    eprintln!("container_restart took {:?}", t1.elapsed());
    let boot = t.boot_lines().await.unwrap();
    assert_eq!(boot.len(), 2, "{boot:?}");
    let facts = t.facts().await.unwrap();
    assert_ne!(
        facts.started_at, facts_before.started_at,
        "StartedAt moves on a restart"
    );
    assert_eq!(
        facts.last_exit_code,
        Some(0),
        "init exits 0 on a container stop"
    );
    assert!(!facts.oom_seen);
    let actions: Vec<&str> = t.events().into_iter().map(|e| e.action.as_str()).collect();
    let tail = actions.join(",");
    assert!(
        tail.contains("kill,die,stop,start,restart"),
        "docker restart's event order: {tail}"
    );
    // The tmpfs comes back 0755 after a restart; init must make it 0700 again.
    assert_eq!(
        run_dir_mode(&t).await,
        0o700,
        "run dir mode after a restart"
    );
    let out = t
        .gateway(&["status".into(), "--json".into()])
        .await
        .unwrap();
    assert_ne!(
        status_json(&out.stdout)["profiles"][0]["pid"],
        serde_json::Value::Null
    );
    let _ = pid_before;

    let logs = t.logs().await.unwrap();
    assert_eq!(
        logs.lines()
            .filter(|l| l.contains("profile=default prior_state="))
            .count(),
        2,
        "init prints each boot line to stdout too: {logs}"
    );
    destroy(&backend, t, &spec.name).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn files_through_the_archive_api_running_and_stopped() {
    let backend = reference_backend().await;
    let spec = spec("prim-files");
    let mut t = target(&backend, &spec).await;
    t.boot().await.expect("boot");

    // A file in an existing profile home, and one in a home that does not exist yet.
    let marker = profile_file("default", ".gateway-planned-stop.json");
    t.write_file(&marker, b"{\"target_pid\":1}").await.unwrap();
    assert_eq!(
        t.read_file(&marker).await.unwrap().as_deref(),
        Some(&b"{\"target_pid\":1}"[..])
    );
    let cfg = profile_file("newp", "config.toml");
    t.write_file(&cfg, b"drain_ms = 1\n").await.unwrap();
    assert_eq!(
        t.read_file(&cfg).await.unwrap().as_deref(),
        Some(&b"drain_ms = 1\n"[..])
    );
    let names = t.list_dir(Path::new("profiles")).await.unwrap();
    assert_eq!(names, vec!["default".to_owned(), "newp".to_owned()]);
    let home = t.list_dir(Path::new("profiles/default")).await.unwrap();
    assert!(
        home.contains(&".gateway-planned-stop.json".to_owned()),
        "{home:?}"
    );
    assert!(home.contains(&"gateway_state.json".to_owned()), "{home:?}");
    assert_eq!(t.read_file(Path::new("nope.json")).await.unwrap(), None);
    assert!(t.list_dir(Path::new("nope")).await.unwrap().is_empty());
    assert!(t.read_file(Path::new("../etc/passwd")).await.is_err());

    // Owner and mode as the gateway would write them: 10001, 0600; new dirs 0700.
    let docker = connect_or_panic().await;
    let tar = restart_harness::backend::docker::archive::download(
        &docker,
        t.container_id(),
        "/data/profiles/newp",
    )
    .await
    .unwrap()
    .unwrap();
    let mut archive = tar::Archive::new(&tar[..]);
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let h = entry.header();
        let path = entry.path().unwrap().display().to_string();
        assert_eq!(h.uid().unwrap(), 10001, "{path}");
        let want = if h.entry_type().is_dir() {
            0o700
        } else {
            0o600
        };
        assert_eq!(h.mode().unwrap() & 0o7777, want, "{path}");
    }

    // The gateway can read and replace what we wrote (it runs as 10001).
    let out = t.gateway(&["status".into()]).await.unwrap();
    assert_eq!(out.code, Some(0), "{out:?}");

    // A stopped container still answers the archive API; exec is refused clearly.
    docker
        .kill_container(
            t.container_id(),
            Some(KillContainerOptionsBuilder::new().signal("SIGKILL").build()),
        )
        .await
        .unwrap();
    let mut state = t.state().await.unwrap();
    while state.running == Some(true) {
        tokio::task::yield_now().await;
        state = t.state().await.unwrap();
    }
    assert!(t.read_file(Path::new("boot.log")).await.unwrap().is_some());
    assert!(t.list_dir(Path::new("profiles")).await.unwrap().len() == 2);
    t.write_file(Path::new("written-while-stopped"), b"x")
        .await
        .unwrap();
    assert_eq!(
        t.read_file(Path::new("written-while-stopped"))
            .await
            .unwrap()
            .as_deref(),
        Some(&b"x"[..])
    );
    let err = t.gateway(&["status".into()]).await.unwrap_err();
    assert!(err.to_string().contains("not running"), "{err}");
    destroy(&backend, t, &spec.name).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn container_kill_then_boot_again() {
    let backend = reference_backend().await;
    let spec = SandboxSpec {
        profiles: vec!["alpha".into()],
        ..spec("prim-kill")
    };
    let mut t = target(&backend, &spec).await;
    t.boot().await.expect("boot");
    assert_eq!(t.boot_lines().await.unwrap().len(), 2, "default and alpha");
    let before = t.facts().await.unwrap();
    t.container_kill().await.expect("container_kill");
    let facts = t.facts().await.unwrap();
    assert_eq!(facts.last_exit_code, Some(137), "SIGKILL to PID 1");
    assert_ne!(facts.started_at, before.started_at);
    let boot = t.boot_lines().await.unwrap();
    assert_eq!(boot.len(), 4, "{boot:?}");
    assert!(
        boot[2..].iter().all(|l| l.contains("prior_exit=unclean")),
        "{boot:?}"
    );
    destroy(&backend, t, &spec.name).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn oom_kills_the_gateway_not_the_container() {
    let backend = reference_backend().await;
    let spec = SandboxSpec {
        memory_limit: Some(64 * 1024 * 1024),
        ..spec("prim-oom")
    };
    let mut t = target(&backend, &spec).await;
    t.boot().await.expect("boot");
    let pid_before = t.gateway_pid("default").await.unwrap();
    assert!(pid_before.is_some());
    let before = t.facts().await.unwrap();
    let t0 = Instant::now();
    t.oom("default").await.expect("oom");
    eprintln!("oom took {:?}", t0.elapsed());
    let facts = t.facts().await.unwrap();
    assert!(facts.oom_seen, "{:?}", t.events());
    assert_eq!(facts.started_at, before.started_at);
    assert_ne!(t.gateway_pid("default").await.unwrap(), pid_before);
    destroy(&backend, t, &spec.name).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn oom_without_a_memory_limit_is_an_error() {
    let backend = reference_backend().await;
    let spec = spec("prim-oom-nolimit");
    let mut t = target(&backend, &spec).await;
    t.boot().await.expect("boot");
    let err = t.oom("default").await.unwrap_err();
    assert!(err.to_string().contains("memory limit"), "{err}");
    destroy(&backend, t, &spec.name).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_target_leaves_nothing() {
    let backend = reference_backend().await;
    let spec = spec("prim-drop");
    let mut t = target(&backend, &spec).await;
    t.boot().await.expect("boot");
    // As if a step failed or panicked: no destroy.
    drop(t);
    let left = labels::leftovers(backend.docker(), Some(backend.run_id()), Some(&spec.name))
        .await
        .unwrap();
    assert!(left.is_empty(), "left after drop: {left}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_image_is_named_never_pulled() {
    let docker = connect_or_panic().await;
    let err = DockerBackend::with_images(docker, "restart-harness/absent:nope".into(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::NoImage { .. }), "{err:?}");
    assert!(
        err.to_string().contains("restart-harness/absent:nope"),
        "{err}"
    );
    assert!(err.to_string().contains("image build"), "{err}");
}
