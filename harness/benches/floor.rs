//! The engine's floor beside the harness, in one run (issue: "close to the
//! engine's floor").
//!
//! For each measured scenario, the bare Engine API calls it needs, with no
//! check at all (create, start, wait until the gateway answers, the fault,
//! wait again, a container restart, wait, read `boot.log`, remove), and the
//! harness's own run of that scenario from the table on the same image, five
//! times each, alternated so that the machine's drift hits both. Prints the
//! medians and their ratio as a Markdown table.
//!
//! Then the whole Docker table at `-j 2` and `-j 8` beside its parallel
//! floor: every scenario's bare calls (its fault's calls, `repeat` times; its
//! setup steps are left out, so the floor is a lower bound) run at the same
//! parallelism.
//!
//! `cargo bench -p restart-harness --features docker --bench floor`
//! (`RH_FLOOR_RUNS` runs per side, default 5; `RH_FLOOR_TABLE` = `all`, the
//! default, `no-storms` to leave out the two kill storms, or `none`;
//! `RH_FLOOR_JOBS`, default `2,8`). No daemon: it fails, loudly.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType, VolumeCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, KillContainerOptionsBuilder, RemoveContainerOptionsBuilder,
    RestartContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use restart_harness::backend::docker::{archive, exec};
use restart_harness::backend::Signal;
use restart_harness::backend::{Backend, BackendKind, Shape};
use restart_harness::op::Op;
use restart_harness::runner::{self, Outcome, RunOptions};
use restart_harness::scenario::model::Scenario;
use restart_harness::status::Waits;

// The integration tests' helpers (images built once, a client that fails
// without a daemon): one copy, theirs. The bench uses a few of them.
#[allow(dead_code)]
#[path = "../tests/it/support/mod.rs"]
mod support;

use support::docker as docker_testing;

/// What the floor does between the first answer and the restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Nothing: the restart is the fault.
    ContainerRestart,
    /// `gateway kill <pid> SIGTERM`, then a wait for the revived life.
    BareSigterm,
    /// `gateway stop`.
    OperatorStop,
    /// `gateway balloon`, then a wait for the revived life.
    Oom,
    /// SIGKILL to the container, start it, wait for the new life.
    ContainerKill,
}

impl Fault {
    /// The floor of a scenario of the table: its fault's bare calls, and how
    /// many times.
    fn of(s: &Scenario) -> (Fault, u32) {
        let fault = match &s.fault.op {
            Op::ContainerRestart { .. } | Op::SupervisorSigterm => Fault::ContainerRestart,
            Op::Signal {
                signal: Signal::Term | Signal::Hup | Signal::Kill | Signal::Usr1,
                ..
            }
            | Op::KillStorm { .. } => Fault::BareSigterm,
            // One `gateway` command each (the last ones are never a fault of
            // the table: a file written is one call too).
            Op::Operator { .. }
            | Op::Signal {
                signal: Signal::Int,
                ..
            }
            | Op::Write { .. }
            | Op::Damage { .. }
            | Op::BreakStart { .. }
            | Op::FsFault { .. }
            | Op::FsRestore { .. }
            | Op::SignalNoWait { .. }
            | Op::Background { .. }
            | Op::Await { .. }
            | Op::Pause { .. } => Fault::OperatorStop,
            Op::Oom { .. } => Fault::Oom,
            Op::ContainerKill | Op::KillStormInit { .. } => Fault::ContainerKill,
            // Only a target whose adapter has these commands runs them: not
            // the reference, whose floor this is.
            Op::SupervisorCrash | Op::SupervisorRestart | Op::ApiSignal { .. } => {
                Fault::OperatorStop
            }
        };
        (fault, s.fault.times().max(1))
    }
}

const MEMORY: i64 = 64 * 1024 * 1024;

struct Floor {
    docker: Docker,
    image: String,
    poll: Duration,
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

impl Floor {
    async fn exec(&self, id: &str, words: &[&str]) -> restart_harness::backend::CmdOutput {
        exec::exec(&self.docker, id, &argv(words), Duration::from_secs(30))
            .await
            .unwrap_or_else(|e| panic!("exec {words:?}: {e}"))
    }

    /// Polls `gateway ping` until it answers with a pid other than `not`.
    async fn wait_answer(&self, id: &str, not: Option<&str>) -> String {
        let start = Instant::now();
        loop {
            let out = self.exec(id, &["/gateway", "ping"]).await;
            let pid = out.stdout.trim().strip_prefix("pong ").map(str::to_owned);
            if let Some(pid) = pid {
                if Some(pid.as_str()) != not {
                    return pid;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the gateway did not answer in 30 s; last: {out:?}"
            );
            tokio::time::sleep(self.poll).await;
        }
    }

    /// Polls `gateway status` until init answers (the profile stays down).
    async fn wait_init(&self, id: &str) {
        let start = Instant::now();
        while self.exec(id, &["/gateway", "status", "--json"]).await.code != Some(0) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "init did not answer"
            );
            tokio::time::sleep(self.poll).await;
        }
    }

    async fn run(&self, n: usize, fault: Fault) -> Duration {
        self.run_repeated(n, fault, 1).await
    }

    async fn run_repeated(&self, n: usize, fault: Fault, repeat: u32) -> Duration {
        let name = format!("rh-floor-{}-{n}", std::process::id());
        let volume = format!("{name}-data");
        let start = Instant::now();
        self.docker
            .create_volume(VolumeCreateRequest {
                name: Some(volume.clone()),
                ..Default::default()
            })
            .await
            .expect("create volume");
        let oom = fault == Fault::Oom;
        let body = ContainerCreateBody {
            image: Some(self.image.clone()),
            env: Some(if oom {
                vec!["GATEWAY_TEST_HOOKS=1".to_owned()]
            } else {
                Vec::new()
            }),
            host_config: Some(HostConfig {
                readonly_rootfs: Some(true),
                network_mode: Some("none".to_owned()),
                // The same container as the harness's: the reference shape.
                tmpfs: Shape::reference()
                    .run_tmpfs
                    .map(|(path, opts)| [(path, opts)].into()),
                mounts: Some(vec![Mount {
                    typ: Some(MountType::VOLUME),
                    source: Some(volume.clone()),
                    target: Some("/data".to_owned()),
                    ..Default::default()
                }]),
                memory: oom.then_some(MEMORY),
                memory_swap: oom.then_some(MEMORY),
                init: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        };
        let id = self
            .docker
            .create_container(
                Some(CreateContainerOptionsBuilder::new().name(&name).build()),
                body,
            )
            .await
            .expect("create container")
            .id;
        self.docker.start_container(&id, None).await.expect("start");
        let mut pid = self.wait_answer(&id, None).await;
        for _ in 0..repeat {
            pid = self.fault(&id, fault, pid).await;
        }
        self.docker
            .restart_container(
                &id,
                Some(RestartContainerOptionsBuilder::new().t(10).build()),
            )
            .await
            .expect("restart");
        if fault == Fault::OperatorStop {
            self.wait_init(&id).await;
        } else {
            self.wait_answer(&id, None).await;
        }
        let log = archive::download(&self.docker, &id, "/data/boot.log")
            .await
            .expect("boot.log");
        assert!(log.is_some(), "no boot.log");
        self.docker
            .remove_container(
                &id,
                Some(
                    RemoveContainerOptionsBuilder::new()
                        .force(true)
                        .v(true)
                        .build(),
                ),
            )
            .await
            .expect("remove container");
        self.docker
            .remove_volume(
                &volume,
                None::<bollard::query_parameters::RemoveVolumeOptions>,
            )
            .await
            .expect("remove volume");
        start.elapsed()
    }

    /// The fault's bare calls on the life `pid`; the pid of the life after it.
    async fn fault(&self, id: &str, fault: Fault, pid: String) -> String {
        match fault {
            Fault::ContainerRestart => pid,
            Fault::BareSigterm => {
                self.exec(id, &["/gateway", "kill", &pid, "SIGTERM"]).await;
                self.wait_answer(id, Some(&pid)).await
            }
            Fault::OperatorStop => {
                self.exec(id, &["/gateway", "stop"]).await;
                pid
            }
            Fault::Oom => {
                let mib = (MEMORY / (1024 * 1024) * 2 + 16).to_string();
                self.exec(id, &["/gateway", "balloon", "--mib", &mib]).await;
                self.wait_answer(id, Some(&pid)).await
            }
            Fault::ContainerKill => {
                self.docker
                    .kill_container(
                        id,
                        Some(KillContainerOptionsBuilder::new().signal("SIGKILL").build()),
                    )
                    .await
                    .expect("kill");
                self.docker.start_container(id, None).await.expect("start");
                // A new container life: its gateway may well reuse the pid.
                self.wait_answer(id, None).await
            }
        }
    }

    /// Every scenario's floor, `jobs` at a time: the wall time.
    async fn table(&self, scenarios: &[Scenario], jobs: usize, first: usize) -> Duration {
        let start = Instant::now();
        futures_util::stream::iter(scenarios.iter().enumerate())
            .map(|(i, s)| {
                let (fault, repeat) = Fault::of(s);
                self.run_repeated(first + i, fault, repeat)
            })
            .buffer_unordered(jobs)
            .collect::<Vec<_>>()
            .await;
        start.elapsed()
    }
}

/// One Markdown row: the floor, the harness (`digits` decimals) and their
/// ratio (two decimals: the goal is 1.3×, and 1.34 is not 1.3).
fn print_row(label: &str, digits: usize, bare: Duration, harness: Duration) {
    let (b, h) = (bare.as_secs_f64(), harness.as_secs_f64());
    println!(
        "| {label} | {b:.digits$} s | {h:.digits$} s | {:.2}× |",
        h / b
    );
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let runs: usize = std::env::var("RH_FLOOR_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let backend: Arc<dyn Backend> = Arc::new(docker_testing::reference_backend().await);
    let floor = Floor {
        docker: docker_testing::connect_or_panic().await,
        image: docker_testing::reference_image().await.name,
        poll: Waits::default().poll,
    };
    let cases = [
        (
            "container-restart",
            "01-container-restart.toml",
            Fault::ContainerRestart,
        ),
        ("bare-sigterm", "02-bare-sigterm.toml", Fault::BareSigterm),
        (
            "operator-stop",
            "07-operator-stop.toml",
            Fault::OperatorStop,
        ),
        ("oom", "05-oom.toml", Fault::Oom),
    ];
    println!("| scenario | bare calls (median of {runs}) | harness (median of {runs}) | ratio |");
    println!("|---|---|---|---|");
    let mut n = 0;
    for (label, file, fault) in cases {
        let scenario = docker_testing::embedded_scenario(file);
        let (mut bare, mut harness) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            n += 1;
            bare.push(floor.run(n, fault).await);
            let start = Instant::now();
            let r = runner::run_scenario(&*backend, &scenario, &RunOptions::default()).await;
            harness.push(start.elapsed());
            assert_eq!(
                r.outcome,
                Outcome::Passed,
                "{label}: {:?}",
                r.first_failure()
            );
        }
        print_row(label, 2, median(bare), median(harness));
    }
    table(&floor, &backend, runs, n).await;
}

/// The whole Docker table beside its parallel floor, per `-j`.
async fn table(floor: &Floor, backend: &Arc<dyn Backend>, runs: usize, mut n: usize) {
    let which = std::env::var("RH_FLOOR_TABLE").unwrap_or_else(|_| "all".to_owned());
    let storms = match which.as_str() {
        "none" => return,
        "all" => true,
        "no-storms" => false,
        other => panic!("RH_FLOOR_TABLE={other}: use all, no-storms or none"),
    };
    let jobs: Vec<usize> = std::env::var("RH_FLOOR_JOBS")
        .unwrap_or_else(|_| "2,8".to_owned())
        .split(',')
        .map(|j| j.trim().parse().expect("RH_FLOOR_JOBS: numbers, e.g. 2,8"))
        .collect();
    let scenarios: Vec<Scenario> = restart_harness::scenario::embedded::load()
        .expect("the embedded table loads")
        .into_iter()
        .filter(|s| s.runs_on(BackendKind::Docker))
        .filter(|s| {
            storms || !matches!(s.fault.op, Op::KillStorm { .. } | Op::KillStormInit { .. })
        })
        .collect();
    println!();
    println!(
        "| the Docker table ({} scenarios) | floor (median of {runs}) | harness (median of {runs}) | ratio |",
        scenarios.len()
    );
    println!("|---|---|---|---|");
    for j in jobs {
        let (mut bare, mut harness) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            bare.push(floor.table(&scenarios, j, n).await);
            n += scenarios.len();
            let start = Instant::now();
            let results = runner::run_all(
                backend.clone(),
                scenarios.clone(),
                RunOptions {
                    jobs: j,
                    ..RunOptions::default()
                },
                Arc::new(|_: &runner::ScenarioResult| {}),
            )
            .await;
            harness.push(start.elapsed());
            let bad: Vec<String> = results
                .iter()
                .filter(|r| r.outcome != Outcome::Passed)
                .map(|r| format!("{}: {:?}", r.name, r.first_failure()))
                .collect();
            assert!(bad.is_empty(), "-j {j}: {bad:?}");
        }
        print_row(&format!("`-j {j}`"), 1, median(bare), median(harness));
    }
}
