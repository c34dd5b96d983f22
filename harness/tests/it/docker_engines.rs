//! One run across two engines: the host's, and a second Docker Engine this
//! test starts on the host with its own socket, data root and containerd.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use predicates::prelude::*;

use crate::support::harness;

/// How long a fresh engine may take to answer.
const ENGINE_DEADLINE: Duration = Duration::from_secs(60);

/// A `dockerd` of its own: a child process, its files in a temp dir.
struct SecondEngine {
    child: Child,
    dir: tempfile::TempDir,
}

impl SecondEngine {
    /// Starts `dockerd` with its own socket, data root, exec root and
    /// pidfile (the vfs driver: no overlay on overlay), no bridge and no
    /// iptables (the harness's containers have no network), and an empty
    /// config file (the host's may name another data root). Waits until it
    /// answers.
    fn start() -> SecondEngine {
        assert!(
            nix::unistd::geteuid().is_root(),
            "run this one as root: it starts a second dockerd"
        );
        let dir = tempfile::Builder::new()
            .prefix("rh-e2-")
            .tempdir_in("/tmp")
            .expect("a temp dir for the second engine");
        let p = |name: &str| dir.path().join(name);
        std::fs::write(p("daemon.json"), "{}").expect("its config file");
        let log = std::fs::File::create(p("dockerd.log")).expect("its log file");
        let child = Command::new("dockerd")
            .arg("--config-file")
            .arg(p("daemon.json"))
            .arg("-H")
            .arg(format!("unix://{}", p("docker.sock").display()))
            .arg("--data-root")
            .arg(p("data"))
            .arg("--exec-root")
            .arg(p("x"))
            .arg("--pidfile")
            .arg(p("docker.pid"))
            .args(["--storage-driver", "vfs", "--bridge=none"])
            .args(["--iptables=false", "--ip6tables=false"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log twice"))
            .stderr(log)
            .spawn()
            .expect("dockerd is installed (Docker Engine)");
        let engine = SecondEngine { child, dir };
        engine.wait_answering();
        engine
    }

    fn host(&self) -> String {
        format!("unix://{}", self.dir.path().join("docker.sock").display())
    }

    /// Until `docker version` on its socket prints the server's version.
    fn wait_answering(&self) {
        let t0 = Instant::now();
        let mut last = String::new();
        while t0.elapsed() < ENGINE_DEADLINE {
            let out = Command::new("docker")
                .args([
                    "-H",
                    &self.host(),
                    "version",
                    "--format",
                    "{{.Server.Version}}",
                ])
                .output()
                .expect("the docker CLI");
            if out.status.success() {
                return;
            }
            last = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "the second engine at {} did not answer within {ENGINE_DEADLINE:?}; last: {last}; log:\n{}",
            self.host(),
            std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
        );
    }
}

impl Drop for SecondEngine {
    /// SIGTERM, and waits for it: dockerd stops its containerd.
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

fn results_by_engine(json: &Path) -> BTreeMap<String, Vec<String>> {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).expect("the JSON report"))
            .expect("JSON");
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in report["results"].as_array().expect("results") {
        assert_eq!(r["outcome"], "passed", "{r}");
        by.entry(
            r["engine"]
                .as_str()
                .expect("each names its engine")
                .to_owned(),
        )
        .or_default()
        .push(r["name"].as_str().expect("a name").to_owned());
    }
    by
}

#[test]
#[ignore = "needs root: starts a second dockerd on this host (CI runs it as root)"]
fn a_table_dealt_to_two_engines_runs_each_scenario_once_and_names_its_engine() {
    let second = SecondEngine::start();
    let first = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned());
    let out = tempfile::tempdir().expect("a temp dir");
    let json: PathBuf = out.path().join("run.json");
    let junit = out.path().join("run.xml");
    harness()
        .args(["run", "--backend", "docker", "--filter", "core-", "-j", "2"])
        .args(["--docker-host", &first, "--docker-host", &second.host()])
        .arg("--json")
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(format!("at {}", second.host())))
        .stdout(predicate::str::contains(format!(
            "  engine {}: ",
            second.host()
        )))
        .stdout(predicate::str::contains(" 0 failed, 0 errors"));
    let by = results_by_engine(&json);
    assert_eq!(
        by.keys().cloned().collect::<Vec<_>>(),
        {
            let mut both = vec![first.clone(), second.host()];
            both.sort();
            both
        },
        "both engines ran scenarios"
    );
    // Each scenario of the filtered table once, whichever engine took it.
    let mut ran: Vec<String> = by.into_values().flatten().collect();
    ran.sort();
    let listed = harness()
        .args(["list", "--filter", "core-"])
        .output()
        .expect("list");
    let mut table: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "SCENARIO")
        .map(str::to_owned)
        .collect();
    table.sort();
    assert_eq!(ran, table);
    let xml = std::fs::read_to_string(&junit).expect("the JUnit report");
    assert!(
        xml.contains(&format!("name=\"engine\" value=\"{}\"", second.host())),
        "{xml}"
    );
    // Nothing of the run is left on the second engine.
    let left = Command::new("docker")
        .args([
            "-H",
            &second.host(),
            "ps",
            "-aq",
            "--filter",
            "label=restart-harness.run",
        ])
        .output()
        .expect("docker ps");
    assert_eq!(String::from_utf8_lossy(&left.stdout).trim(), "");
}
