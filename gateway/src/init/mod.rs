//! `gateway init`: the supervisor (SPEC §4).
//!
//! - [`lock`]: one init per data dir (`DATA/init.lock`);
//! - [`boot`]: boot reconciliation and the boot lines;
//! - [`spawn`]: spawning one gateway;
//! - [`supervise`]: what to do when a gateway ends, and the control requests;
//! - [`server`]: the control socket.
//!
//! Everything runs on the main thread (a tokio current-thread runtime): the
//! gateways' parent-death signal fires when the thread that spawned them exits, so
//! a single long-lived spawning thread is what ties their lives to init's.
//! init behaves the same as PID 1 or as an ordinary process: it handles SIGTERM,
//! SIGINT and SIGCHLD, and ignores (with a line on stderr) the signals PID 1 would
//! ignore for want of a handler (SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2).

pub mod boot;
pub mod lock;
pub mod server;
pub mod spawn;
pub mod supervise;

use std::fs::DirBuilder;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::time::{Duration, Instant};

use restart_contract::layout::{DataDir, ProfileName, RunDir};
use restart_contract::store;
use tokio::signal::unix::{signal, Signal as SignalStream, SignalKind};
use tokio::sync::mpsc;

use crate::cli::Dirs;
use crate::control::{ErrorKind, Response};
use crate::exit::CommandError;
use crate::init::server::{Envelope, SocketGuard};
use crate::init::spawn::Spawner;
use crate::init::supervise::{Policy, SpawnReason, Supervisor};

/// Options of `gateway init`.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Data and run dirs.
    pub dirs: Dirs,
    /// Profiles to create if missing.
    pub profiles: Vec<String>,
    /// Container-stop grace.
    pub grace_ms: u64,
    /// Crash-loop limit.
    pub crash_limit: u32,
    /// Crash-loop window.
    pub crash_window_s: u64,
    /// The first backoff delay, in ms.
    pub backoff_ms: u64,
}

/// How often init reaps even without a SIGCHLD (a coalesced or lost signal must
/// never leave a zombie or a stale `up`).
const REAP_TICK: Duration = Duration::from_secs(1);

/// Runs init until a container stop; returns its exit code.
pub fn main(opts: InitOptions) -> Result<i32, CommandError> {
    let requested = parse_profiles(&opts.profiles)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::failed(format!("cannot start init's runtime: {e}")))?;
    // block_on runs on this (the main) thread, which lives as long as init: the
    // thread every gateway is spawned from.
    runtime.block_on(run(opts, requested))
}

/// `--profiles a,b` (or `$GATEWAY_PROFILES`): valid names, empty items skipped.
fn parse_profiles(raw: &[String]) -> Result<Vec<ProfileName>, CommandError> {
    raw.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            ProfileName::new(s).map_err(|e| {
                CommandError::usage(format!("{e} (in --profiles or $GATEWAY_PROFILES)"))
            })
        })
        .collect()
}

/// The signals init handles.
struct Signals {
    term: SignalStream,
    int: SignalStream,
    chld: SignalStream,
    hup: SignalStream,
    quit: SignalStream,
    usr1: SignalStream,
    usr2: SignalStream,
}

impl Signals {
    fn install() -> io::Result<Self> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            chld: signal(SignalKind::child())?,
            hup: signal(SignalKind::hangup())?,
            quit: signal(SignalKind::quit())?,
            usr1: signal(SignalKind::user_defined1())?,
            usr2: signal(SignalKind::user_defined2())?,
        })
    }
}

fn create_dir_0700(path: &std::path::Path) -> Result<(), CommandError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|e| {
            CommandError::failed(format!(
                "cannot create {}: {e}; check --data/--run and their permissions",
                path.display()
            ))
        })
}

/// Sets the run dir to 0700 even when it already existed: Docker re-creates a
/// tmpfs with the mountpoint's mode (0755) on a container restart, whatever its
/// `mode=0700` option says, and the sockets must stay private to the user.
fn restrict_run_dir(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)) {
        eprintln!(
            "gateway init: cannot set {} to mode 0700: {e}; its sockets may be reachable by other users",
            path.display()
        );
    }
}

/// Removes sockets left by an earlier boot: we hold the data dir's lock, so no
/// live init or gateway of ours owns them.
fn remove_stale_sockets(run: &RunDir) {
    let _ = store::remove_if_exists(&run.control_socket());
    let Ok(entries) = std::fs::read_dir(run.gateways_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "sock") {
            if let Err(e) = store::remove_if_exists(&path) {
                eprintln!(
                    "gateway init: cannot remove stale socket {}: {e}",
                    path.display()
                );
            }
        }
    }
}

async fn run(opts: InitOptions, requested: Vec<ProfileName>) -> Result<i32, CommandError> {
    // Handlers first: as PID 1, a signal without a handler is simply lost.
    let mut signals = Signals::install()
        .map_err(|e| CommandError::failed(format!("cannot install signal handlers: {e}")))?;
    let data = DataDir::new(&opts.dirs.data);
    let run_dir = RunDir::new(&opts.dirs.run);
    create_dir_0700(data.root())?;
    let _lock = lock::acquire(&data)?;
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        // Not fatal: as PID 1 every orphan is ours anyway.
        eprintln!("gateway init: cannot become a child subreaper: {e}");
    }
    create_dir_0700(run_dir.root())?;
    restrict_run_dir(run_dir.root());
    create_dir_0700(&run_dir.gateways_dir())?;
    let exe = std::env::current_exe().map_err(|e| {
        CommandError::failed(format!(
            "cannot find init's own executable to spawn gateways: {e}"
        ))
    })?;

    let booted = boot::reconcile(&data, &requested)?;
    remove_stale_sockets(&run_dir);
    boot::publish(&data, &booted);

    let control_path = run_dir.control_socket();
    let listener = server::bind(&control_path).map_err(|e| {
        CommandError::failed(format!(
            "cannot listen on {}: {e}; is the path under 108 bytes and writable?",
            control_path.display()
        ))
    })?;
    let _socket = SocketGuard(control_path);

    let policy = Policy {
        crash_limit: opts.crash_limit,
        crash_window: Duration::from_secs(opts.crash_window_s),
        backoff_start: Duration::from_millis(opts.backoff_ms),
    };
    let spawner = Spawner {
        exe,
        data: opts.dirs.data.clone(),
        run: opts.dirs.run.clone(),
    };
    let mut sup = Supervisor::new(
        booted.iter().map(|b| (b.name.clone(), b.home.clone())),
        spawner,
        policy,
    );
    for b in booted.iter().filter(|b| b.starts()) {
        let _ = sup.start(&b.name, SpawnReason::Boot);
    }

    let (tx, mut rx) = mpsc::channel::<Envelope>(64);
    let acceptor = tokio::spawn(server::accept_loop(listener, tx));
    let stopped_by = supervise_loop(&mut sup, &mut signals, &mut rx).await;
    eprintln!("gateway init: {stopped_by}: stopping every gateway");
    shutdown(
        &mut sup,
        &mut signals,
        &mut rx,
        Duration::from_millis(opts.grace_ms),
    )
    .await;
    acceptor.abort();
    Ok(0)
}

/// Supervises until a container stop; returns the signal that asked for it.
async fn supervise_loop(
    sup: &mut Supervisor,
    signals: &mut Signals,
    rx: &mut mpsc::Receiver<Envelope>,
) -> &'static str {
    let mut tick = tokio::time::interval(REAP_TICK);
    // Children may have ended before the SIGCHLD stream was first polled.
    sup.reap_all();
    loop {
        let far = Instant::now() + Duration::from_secs(3600);
        let deadline = tokio::time::Instant::from_std(sup.next_deadline().unwrap_or(far));
        tokio::select! {
            biased;
            _ = signals.term.recv() => return "SIGTERM",
            _ = signals.int.recv() => return "SIGINT",
            _ = signals.chld.recv() => sup.reap_all(),
            Some((req, reply)) = rx.recv() => {
                // Reap first: a status must not report a process that already ended.
                sup.reap_all();
                let _ = reply.send(sup.handle(req));
            }
            _ = tokio::time::sleep_until(deadline) => sup.on_timer(Instant::now()),
            _ = tick.tick() => sup.reap_all(),
            _ = signals.hup.recv() => ignored("SIGHUP"),
            _ = signals.quit.recv() => ignored("SIGQUIT"),
            _ = signals.usr1.recv() => ignored("SIGUSR1"),
            _ = signals.usr2.recv() => ignored("SIGUSR2"),
        }
    }
}

fn ignored(name: &str) {
    eprintln!("gateway init: ignoring {name} (container stop is SIGTERM or SIGINT)");
}

/// Container stop: SIGTERM to every gateway, wait up to `grace`, SIGKILL the
/// rest, reap. Control requests meanwhile are answered "shutting down".
async fn shutdown(
    sup: &mut Supervisor,
    signals: &mut Signals,
    rx: &mut mpsc::Receiver<Envelope>,
    grace: Duration,
) {
    sup.reap_all();
    sup.begin_shutdown();
    let deadline = tokio::time::Instant::now() + grace;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    while sup.any_up() {
        tokio::select! {
            _ = signals.chld.recv() => sup.reap_all(),
            _ = tick.tick() => sup.reap_all(),
            _ = tokio::time::sleep_until(deadline) => break,
            Some((_, reply)) = rx.recv() => {
                let _ = reply.send(Response::Error {
                    error: ErrorKind::ShuttingDown,
                    message: "init is stopping (container stop)".to_owned(),
                });
            }
            // Later stop signals change nothing: the stop is already under way.
            _ = signals.term.recv() => {}
            _ = signals.int.recv() => {}
        }
    }
    if sup.any_up() {
        sup.kill_remaining();
        // SIGKILL cannot be caught; a process in uninterruptible sleep may still
        // take a moment. Bounded, so init always exits.
        let until = tokio::time::Instant::now() + Duration::from_secs(5);
        while sup.any_up() {
            sup.reap_all();
            if !sup.any_up() {
                break;
            }
            // Woken by the child's SIGCHLD; the deadline bounds a child stuck in D state.
            match tokio::time::timeout_at(until, signals.chld.recv()).await {
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    sup.reap_all();
}
