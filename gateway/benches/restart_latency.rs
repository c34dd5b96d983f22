//! Restart latencies of the reference gateway, as ratios against baselines run in
//! the same process (`cargo bench -p gateway --bench restart_latency`).
//!
//! - init start → `running` of one gateway, against spawning `gateway --version`;
//! - bare SIGTERM → durable `running` (drain 0), against one atomic record write
//!   (temp, fsync, rename, fsync dir) in the same directory.
//!
//! Medians of 20. Prints a table; asserts nothing about time (machines differ).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use restart_contract::procfs::ProcessIdentity;
use restart_contract::records::{DesiredStateRecord, GatewayStateRecord};
use restart_contract::state::IntentWriter;
use restart_contract::store::{classify, write_record, Classified};
use restart_contract::{timefmt, ExitReason, GatewayState};

const SAMPLES: usize = 20;
const GATEWAY: &str = env!("CARGO_BIN_EXE_gateway");

fn main() {
    let (init_to_running, sigterm_to_running) = measure_gateway_lives();
    let spawn_baseline = median(
        (0..SAMPLES)
            .map(|_| {
                let t = Instant::now();
                let status = Command::new(GATEWAY)
                    .arg("--version")
                    .stdout(Stdio::null())
                    .status()
                    .expect("spawn gateway --version");
                assert!(status.success());
                t.elapsed()
            })
            .collect(),
    );
    let write_baseline = measure_atomic_write();

    println!("restart latency, median of {SAMPLES} (ratio = measured / baseline in this run)");
    println!(
        "{:<42} {:>10} {:>30} {:>10} {:>7}",
        "measure", "median", "baseline", "median", "ratio"
    );
    row(
        "init start -> gateway running",
        init_to_running,
        "spawn `gateway --version`",
        spawn_baseline,
    );
    row(
        "bare SIGTERM -> durable `running`",
        sigterm_to_running,
        "one atomic record write",
        write_baseline,
    );
}

fn row(what: &str, d: Duration, base: &str, b: Duration) {
    println!(
        "{:<42} {:>8.2}ms {:>30} {:>8.2}ms {:>6.1}x",
        what,
        ms(d),
        base,
        ms(b),
        d.as_secs_f64() / b.as_secs_f64()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Dirs {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    run: PathBuf,
}

fn dirs() -> Dirs {
    let tmp = tempfile::Builder::new()
        .prefix("rhb")
        .tempdir_in("/tmp")
        .expect("tempdir");
    let data = tmp.path().join("d");
    let run = tmp.path().join("r");
    std::fs::create_dir_all(data.join("profiles/default")).expect("mkdir");
    std::fs::write(data.join("profiles/default/config.toml"), "drain_ms = 0\n").expect("config");
    // An existing home with no state is registered down at boot (`missing`); the
    // intent an operator start leaves makes it start.
    write_record(
        &data.join("profiles/default/desired_state.json"),
        &DesiredStateRecord::new(IntentWriter::Start, timefmt::now()),
    )
    .expect("intent");
    Dirs {
        _tmp: tmp,
        data,
        run,
    }
}

fn spawn_init(d: &Dirs) -> Child {
    Command::new(GATEWAY)
        .arg("init")
        .arg("--data")
        .arg(&d.data)
        .arg("--run")
        .arg(&d.run)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn gateway init")
}

fn stop_init(mut child: Child) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = child.wait();
}

fn state(path: &Path) -> Option<GatewayStateRecord> {
    match classify::<GatewayStateRecord>(&std::fs::read(path).ok()?) {
        Classified::Valid(r) => Some(r),
        _ => None,
    }
}

/// Polls `f` every 200 µs until it yields, or panics after 10 s naming `what`.
fn poll<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
        std::thread::sleep(Duration::from_micros(200)); // poll interval of a measurement loop
    }
}

/// One fresh supervisor per sample: init start → `running`, then a bare SIGTERM to
/// that gateway → its terminal `running` write on disk. Returns both medians.
fn measure_gateway_lives() -> (Duration, Duration) {
    let mut to_running = Vec::new();
    let mut sigterm_to_durable = Vec::new();
    for _ in 0..SAMPLES {
        let d = dirs();
        let state_path = d.data.join("profiles/default/gateway_state.json");
        let t = Instant::now();
        let init = spawn_init(&d);
        let pid = poll("gateway_state running", || {
            state(&state_path)
                .filter(|r| r.gateway_state == GatewayState::Running)
                .map(|r| r.pid)
        });
        to_running.push(t.elapsed());

        let t = Instant::now();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        )
        .expect("kill");
        poll("the terminal write of the signalled gateway", || {
            state(&state_path).filter(|r| {
                r.pid == pid
                    && r.gateway_state == GatewayState::Running
                    && r.exit_reason == Some(ExitReason::Signal("SIGTERM".into()))
            })
        });
        sigterm_to_durable.push(t.elapsed());
        stop_init(init);
    }
    (median(to_running), median(sigterm_to_durable))
}

/// One atomic record write (temp, fsync, rename, fsync dir), the floor of any durable write.
fn measure_atomic_write() -> Duration {
    let d = dirs();
    let scratch = d.data.join("profiles/default/bench_record.json");
    let rec = GatewayStateRecord::new(
        "default",
        ProcessIdentity {
            pid: 1,
            start_time: 1,
        },
        GatewayState::Running,
        None,
        false,
        timefmt::now(),
    );
    median(
        (0..SAMPLES)
            .map(|_| {
                let t = Instant::now();
                write_record(&scratch, &rec).expect("write");
                t.elapsed()
            })
            .collect(),
    )
}
