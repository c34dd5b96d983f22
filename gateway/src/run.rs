//! `gateway run --profile P`: one gateway process (SPEC §3).
//!
//! The life of a gateway:
//! 1. signal handlers first ([`signals::install`]);
//! 2. the profile name and the dirs are checked (bad input: exit 2);
//! 3. `config.toml` is read; on a configuration error `startup_failed` is
//!    persisted with `exit_reason: "config: <message>"` and the process exits 78;
//! 4. `lifecycle.json` phase `running`, `starting` persisted, the channel bound,
//!    `ready_delay_ms` waited, `running` persisted;
//! 5. the first shutdown signal (at any point of 4 as well) decides the cause:
//!    `draining` persisted, `drain_ms` drained, the terminal write of the teardown
//!    table, `lifecycle.json` phase `exited`, exit.
//!
//! Decisions where the spec is silent:
//! - A configuration error writes no `lifecycle.json` phase `running` (the life
//!   never got past step 2) but still writes phase `exited` as its last act, so
//!   that `lifecycle.json` names the same process as `gateway_state.json` and the
//!   next boot reads `prior_exit=clean` (the process ended on its own terms).
//! - A state file that cannot be written (a symlink, a full disk) ends the process
//!   with exit 1 and one line on stderr, after a best-effort `exited` event and
//!   `lifecycle.json` phase `exited`. Exit 1 is an unexpected exit for init: it
//!   revives with backoff and gives up after the crash limit, which suits both a
//!   transient IO error and a setup that needs an operator. A configuration error
//!   whose `startup_failed` cannot be written still exits 78.
//! - `draining` is persisted with `exit_reason: null`: the reason belongs to the
//!   terminal write, and a gateway killed mid-drain left no decided reason.
//! - Failing to append an event is a warning on stderr, not fatal: the history is
//!   for observers; the state files are the contract.
//! - The profile home must already exist (init creates homes): a missing one is an
//!   unknown profile, exit 2.

mod channel;
mod signals;

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use restart_contract::config::GatewayConfig;
use restart_contract::events::{self, Event, EventKind, Source};
use restart_contract::layout::{DataDir, ProfileHome, ProfileName, RunDir};
use restart_contract::marker::{self, MarkerVerdict};
use restart_contract::procfs::{self, ProcessIdentity};
use restart_contract::records::{
    GatewayStateRecord, LifecyclePhase, LifecycleRecord, PlannedStopMarker,
};
use restart_contract::state::{ExitReason, GatewayState, ShutdownSignal};
use restart_contract::store::{self, StoreError};
use restart_contract::teardown::{self, Cause, Terminal, EXIT_CONFIG};
use restart_contract::timefmt::{self, Timestamp};

use crate::cli::Dirs;
use crate::exit::CommandError;
use crate::mutants::{self, Mutant};

pub use channel::{HOOKS_DISABLED, TEST_HOOKS_ENV};

/// Runs a gateway until its first shutdown signal; returns its exit code.
pub fn main(dirs: &Dirs, profile: &str) -> Result<i32, CommandError> {
    // Before anything else: a signal that arrives while we read files must be
    // recorded, not kill us with the default action.
    let signals = signals::install()
        .map_err(|e| CommandError::failed(format!("installing signal handlers: {e}")))?;

    let profile = ProfileName::new(profile).map_err(|e| CommandError::usage(e.to_string()))?;
    let home = DataDir::new(&dirs.data).home(&profile);
    if !home.dir().is_dir() {
        return Err(CommandError::usage(format!(
            "unknown profile `{profile}`: no home at {}; create it with `gateway init --profiles {profile}` or pass the right --data",
            home.dir().display()
        )));
    }
    let socket = RunDir::new(&dirs.run).gateway_socket(&profile);
    let socket_len = socket.as_os_str().len();
    if socket_len > channel::MAX_SOCKET_PATH {
        return Err(CommandError::usage(format!(
            "socket path {} is {socket_len} bytes, unix sockets allow {}: use a shorter --run",
            socket.display(),
            channel::MAX_SOCKET_PATH
        )));
    }
    let me = procfs::current()
        .map_err(|e| CommandError::failed(format!("reading own start time from /proc: {e}")))?;

    let gateway = Gateway {
        profile,
        home,
        socket,
        me,
        test_hooks: std::env::var(TEST_HOOKS_ENV).is_ok_and(|v| v == "1"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::failed(format!("starting the runtime: {e}")))?;
    runtime.block_on(gateway.live(signals))
}

/// A state write that failed: the process ends with exit 1.
#[derive(Debug)]
struct Fatal(String);

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<StoreError> for Fatal {
    fn from(e: StoreError) -> Self {
        Fatal(e.to_string())
    }
}

/// Exit code of a gateway whose state could not be written.
const EXIT_FATAL: i32 = 1;

struct Gateway {
    profile: ProfileName,
    home: ProfileHome,
    socket: std::path::PathBuf,
    me: ProcessIdentity,
    test_hooks: bool,
}

impl Gateway {
    async fn live(self, signals: signals::Signals) -> Result<i32, CommandError> {
        // A temp file of an interrupted atomic write (a life killed between
        // creating its temp and renaming it) is a dead writer's: this process
        // is now the only writer of these files, so it removes them first.
        store::knobs::set_in_place(mutants::is(Mutant::WritesInPlace));
        for path in [self.home.gateway_state(), self.home.lifecycle()] {
            if let Err(e) = store::remove_stale_temps(&path) {
                self.warn(e);
            }
        }
        let config = match GatewayConfig::load(&self.home.config()) {
            Ok(c) => c,
            Err(e) => return Ok(self.config_error(&e.0)),
        };
        store::knobs::set_write_pause(Duration::from_millis(config.write_pause_ms));
        let mut channel = None;
        let outcome = self.serve(config, signals, &mut channel).await;
        match outcome {
            Ok(code) => {
                self.remove_channel(channel.as_ref());
                self.say(format_args!("exited code={code}"));
                Ok(code)
            }
            Err(fatal) => {
                // Best effort: the history and lifecycle say this life ended.
                let _ = self.write_lifecycle(LifecyclePhase::Exited);
                self.event(EventKind::Exited { code: EXIT_FATAL });
                self.remove_channel(channel.as_ref());
                // main prints it as `gateway: profile P: ...`, one line.
                Err(CommandError::failed(format!(
                    "profile {}: {fatal}",
                    self.profile
                )))
            }
        }
    }

    /// Step 2 failed: persist `startup_failed` and exit 78.
    fn config_error(&self, message: &str) -> i32 {
        self.warn(format_args!(
            "configuration error in {}: {message}",
            self.home.config().display()
        ));
        let reason = ExitReason::Config(message.to_owned());
        if let Err(e) = self.persist(GatewayState::StartupFailed, Some(reason), false) {
            self.warn(e);
        }
        if let Err(e) = self.write_lifecycle(LifecyclePhase::Exited) {
            self.warn(e);
        }
        self.event(EventKind::Exited { code: EXIT_CONFIG });
        self.say(format_args!("exited code={EXIT_CONFIG}"));
        EXIT_CONFIG
    }

    /// Steps 3 and 4.
    async fn serve(
        &self,
        config: GatewayConfig,
        signals: signals::Signals,
        channel_out: &mut Option<channel::Channel>,
    ) -> Result<i32, Fatal> {
        let mut signals = signals
            .into_async()
            .map_err(|e| Fatal(format!("watching signals: {e}")))?;
        self.write_lifecycle(LifecyclePhase::Running)?;
        self.persist(GatewayState::Starting, None, false)?;
        self.event(EventKind::Starting);

        let (channel, listener) = channel::bind(&self.socket)
            .map_err(|e| Fatal(format!("binding {}: {e}", self.socket.display())))?;
        *channel_out = Some(channel);
        tokio::spawn(channel::serve(
            listener,
            channel::ChannelConfig {
                pid: self.me.pid,
                test_hooks: self.test_hooks,
            },
        ));

        // A signal during `starting` is handled like any other.
        tokio::select! {
            sig = signals.first() => return self.teardown(sig, config).await,
            () = tokio::time::sleep(Duration::from_millis(config.ready_delay_ms)) => {}
        }
        self.persist(GatewayState::Running, None, false)?;
        self.event(EventKind::Running);
        self.say(format_args!("running pid={}", self.me.pid));

        let sig = signals.first().await;
        self.teardown(sig, config).await
    }

    /// Step 5: the first shutdown signal decides the cause.
    async fn teardown(&self, sig: ShutdownSignal, config: GatewayConfig) -> Result<i32, Fatal> {
        let verdict = sig.consumes_marker().then(|| self.consume_marker());
        let names_me = verdict.is_some_and(MarkerVerdict::names_this_process)
            && !mutants::is(Mutant::SignalMeansCrash);
        let cause = teardown::cause(sig, names_me);
        self.event(EventKind::Signal {
            signal: sig.name().to_owned(),
            cause,
            marker: verdict.map(|v| verdict_word(v).to_owned()),
        });

        self.persist(GatewayState::Draining, None, false)?;
        tokio::time::sleep(Duration::from_millis(config.drain_ms)).await;

        let terminal = mutated_terminal(cause, sig);
        if let Some(t) = terminal.write {
            self.persist(t.gateway_state, Some(t.exit_reason), t.restart_requested)?;
        }
        self.write_lifecycle(LifecyclePhase::Exited)?;
        self.event(EventKind::Exited {
            code: terminal.exit_code,
        });
        Ok(terminal.exit_code)
    }

    /// Reads the planned-stop marker, judges it, and removes it whatever it said:
    /// a malformed, expired or foreign marker must never match anyone later.
    fn consume_marker(&self) -> MarkerVerdict {
        let path = self.home.planned_stop_marker();
        let bytes = match std::fs::read(&path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                // Unreadable (a directory, no permission): it cannot name us.
                self.warn(format_args!(
                    "reading {}: {e}; treating it as malformed",
                    path.display()
                ));
                Some(Vec::new())
            }
        };
        let verdict = judge(bytes.as_deref(), self.me, timefmt::now());
        if bytes.is_some() {
            if let Err(e) = store::remove_if_exists(&path) {
                self.warn(e);
            }
        }
        verdict
    }

    /// Writes `gateway_state.json` (keeping unknown keys) and logs `persisted`.
    fn persist(
        &self,
        state: GatewayState,
        exit_reason: Option<ExitReason>,
        restart_requested: bool,
    ) -> Result<(), Fatal> {
        let path = self.home.gateway_state();
        // rewrite_record reads the old file first and would keep a corrupt one
        // aside: refuse a symlink before it can be moved instead of refused.
        store::refuse_symlink(&path)?;
        let wire = exit_reason.as_ref().map(ExitReason::to_wire);
        let record = GatewayStateRecord::new(
            self.profile.as_str(),
            self.me,
            state,
            exit_reason,
            restart_requested,
            timefmt::now(),
        );
        store::rewrite_record(&path, record)?;
        self.event(EventKind::Persisted {
            gateway_state: state,
            exit_reason: wire,
        });
        Ok(())
    }

    fn write_lifecycle(&self, phase: LifecyclePhase) -> Result<(), Fatal> {
        let path = self.home.lifecycle();
        store::refuse_symlink(&path)?;
        store::rewrite_record(&path, LifecycleRecord::new(phase, self.me, timefmt::now()))?;
        Ok(())
    }

    fn event(&self, kind: EventKind) {
        if let Err(e) = events::append(&self.home.events(), &Event::now(Source::Gateway, kind)) {
            self.warn(format_args!("warning: event not logged: {e}"));
        }
    }

    fn remove_channel(&self, channel: Option<&channel::Channel>) {
        if let Some(Err(e)) = channel.map(channel::Channel::remove) {
            self.warn(format_args!("removing {}: {e}", self.socket.display()));
        }
    }

    /// One line on stdout, `gateway[P] ...`. A closed stdout must not end the
    /// process mid-teardown (println! would panic), so errors are ignored.
    fn say(&self, what: impl fmt::Display) {
        let _ = writeln!(std::io::stdout(), "gateway[{}] {what}", self.profile);
    }

    /// One line on stderr, `gateway[P]: ...`; errors ignored as in [`Self::say`].
    fn warn(&self, what: impl fmt::Display) {
        let _ = writeln!(std::io::stderr(), "gateway[{}]: {what}", self.profile);
    }
}

/// The marker rule, with the marker mutants applied.
fn judge(bytes: Option<&[u8]>, me: ProcessIdentity, now: Timestamp) -> MarkerVerdict {
    let pid_only = mutants::is(Mutant::MarkerPidOnly);
    let never_expires = mutants::is(Mutant::MarkerNeverExpires);
    if !pid_only && !never_expires {
        return marker::judge(bytes, me, now);
    }
    let Some(bytes) = bytes else {
        return MarkerVerdict::Absent;
    };
    let Ok(mut m) = serde_json::from_slice::<PlannedStopMarker>(bytes) else {
        return MarkerVerdict::Malformed;
    };
    if pid_only {
        m.target_start_time = Some(me.start_time);
    }
    if never_expires {
        m.written_at = now;
    }
    marker::judge_marker(&m, me, now)
}

/// The marker verdict as written in the `signal` event.
pub fn verdict_word(v: MarkerVerdict) -> &'static str {
    match v {
        MarkerVerdict::Absent => "absent",
        MarkerVerdict::NamesThisProcess => "names-this-process",
        MarkerVerdict::Malformed => "malformed",
        MarkerVerdict::OtherPid => "other-pid",
        MarkerVerdict::NoStartTime => "no-start-time",
        MarkerVerdict::OtherStartTime => "other-start-time",
        MarkerVerdict::Expired => "expired",
        MarkerVerdict::FromTheFuture => "from-the-future",
    }
}

/// The end of a teardown: what to write last (nothing, under a mutant) and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ending {
    write: Option<Terminal>,
    exit_code: i32,
}

/// The teardown table's terminal write, with the teardown mutants applied.
fn mutated_terminal(cause: Cause, sig: ShutdownSignal) -> Ending {
    let mut t = teardown::terminal(cause, sig);
    let signal_initiated = cause == Cause::SignalInitiated;
    if mutants::is(Mutant::TeardownAlwaysStopped) {
        t.gateway_state = GatewayState::Stopped;
    }
    if signal_initiated && mutants::is(Mutant::SignalExitsZero) {
        t.exit_code = 0;
    }
    let exit_code = t.exit_code;
    let write = if signal_initiated && mutants::is(Mutant::TeardownSkipsTerminalWrite) {
        None
    } else {
        Some(t)
    };
    Ending { write, exit_code }
}

/// The path of a profile's channel, for the commands that talk to it.
pub fn socket_path(run: &Path, profile: &ProfileName) -> std::path::PathBuf {
    RunDir::new(run).gateway_socket(profile)
}

#[cfg(test)]
mod tests {
    use super::*;
    use restart_contract::records::PlannedStopMarker;
    use rstest::rstest;

    const ME: ProcessIdentity = ProcessIdentity {
        pid: 7,
        start_time: 5551234,
    };

    #[rstest]
    #[case::operator(Cause::OperatorStop, ShutdownSignal::Term, GatewayState::Stopped, 0)]
    #[case::interactive(Cause::InteractiveStop, ShutdownSignal::Int, GatewayState::Stopped, 0)]
    #[case::restart(Cause::Restart, ShutdownSignal::Usr1, GatewayState::Stopped, 75)]
    #[case::signal(Cause::SignalInitiated, ShutdownSignal::Hup, GatewayState::Running, 1)]
    fn without_mutants_the_terminal_write_is_the_tables(
        #[case] cause: Cause,
        #[case] sig: ShutdownSignal,
        #[case] state: GatewayState,
        #[case] code: i32,
    ) {
        if mutants::active().is_some() {
            return;
        }
        let ending = mutated_terminal(cause, sig);
        assert_eq!(ending.exit_code, code);
        assert_eq!(ending.write, Some(teardown::terminal(cause, sig)));
        assert_eq!(ending.write.map(|t| t.gateway_state), Some(state));
    }

    #[test]
    fn without_mutants_judging_is_the_contracts() {
        if mutants::active().is_some() {
            return;
        }
        let now = timefmt::now();
        let other_life = PlannedStopMarker::new(
            ProcessIdentity {
                pid: ME.pid,
                start_time: ME.start_time + 1,
            },
            1,
            now,
        );
        let bytes = serde_json::to_vec(&other_life).expect("serializable");
        assert_eq!(judge(Some(&bytes), ME, now), MarkerVerdict::OtherStartTime);
        assert_eq!(judge(None, ME, now), MarkerVerdict::Absent);
        assert_eq!(judge(Some(b"{"), ME, now), MarkerVerdict::Malformed);
    }

    #[test]
    fn verdict_words_are_kebab_case() {
        for v in [
            MarkerVerdict::Absent,
            MarkerVerdict::NamesThisProcess,
            MarkerVerdict::Malformed,
            MarkerVerdict::OtherPid,
            MarkerVerdict::NoStartTime,
            MarkerVerdict::OtherStartTime,
            MarkerVerdict::Expired,
            MarkerVerdict::FromTheFuture,
        ] {
            let w = verdict_word(v);
            assert!(w.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{w}");
        }
    }
}
