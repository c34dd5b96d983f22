//! What the operator commands (`stop`, `start`, `restart`) share: the profile and
//! its home, the client of init, the intent, the cli events, and the wait for a
//! gateway to reach `running`.

use std::time::{Duration, Instant};

use restart_contract::events::{self, Event, EventKind, Source};
use restart_contract::layout::{DataDir, ProfileHome, ProfileName, RunDir};
use restart_contract::procfs::{self, ProcessIdentity};
use restart_contract::records::{DesiredStateRecord, GatewayStateRecord};
use restart_contract::state::{GatewayState, IntentWriter};
use restart_contract::store::{self, Classified};
use restart_contract::timefmt;

use crate::cli::ControlArgs;
use crate::control::{Client, ProfileStatus, Supervised};
use crate::exit::CommandError;
use crate::mutants::{self, Mutant};

/// How often a command polls init and the state file while it waits.
pub const POLL: Duration = Duration::from_millis(50);

/// One operator command's context.
#[derive(Debug)]
pub struct Ctx {
    /// The data dir.
    pub data: DataDir,
    /// The profile.
    pub profile: ProfileName,
    /// Its home.
    pub home: ProfileHome,
    /// init's control socket.
    pub client: Client,
    /// The gateway's channel.
    pub channel: std::path::PathBuf,
    /// When waiting gives up.
    pub deadline: Instant,
    /// `--timeout-s`.
    pub timeout_s: u64,
    /// The profile's command lock, held until the command ends (SPEC §5:
    /// commands on one profile run one after the other). `None`: it could
    /// not be taken (no run dir: no init to talk to either).
    _lock: Option<std::fs::File>,
}

/// Takes the profile's command lock, waiting while another command on the
/// profile holds it. Without a run dir there is no init either, and the
/// command fails on its own (exit 2); any other failure is a line on stderr,
/// and the command goes on unserialized rather than not at all.
fn lock_profile(run: &RunDir, profile: &ProfileName) -> Option<std::fs::File> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if !run.root().is_dir() || mutants::is(Mutant::CommandsNotSerialized) {
        return None;
    }
    let path = run.command_lock(profile);
    let taken = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(run.commands_dir())
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .mode(0o600)
                .open(&path)
        })
        .and_then(|file| file.lock().map(|()| file));
    match taken {
        Ok(file) => Some(file),
        Err(e) => {
            eprintln!(
                "gateway: cannot take {} ({e}); going on without waiting for other commands on `{profile}`",
                path.display()
            );
            None
        }
    }
}

impl Ctx {
    /// Validates `--profile` (bad name: exit 2) and sets the deadline.
    pub fn new(args: &ControlArgs) -> Result<Self, CommandError> {
        let profile = ProfileName::new(&args.profile)
            .map_err(|e| CommandError::usage(format!("{e} (--profile)")))?;
        let data = DataDir::new(&args.dirs.data);
        let run = RunDir::new(&args.dirs.run);
        let lock = lock_profile(&run, &profile);
        Ok(Ctx {
            _lock: lock,
            channel: crate::run::socket_path(&args.dirs.run, &profile),
            home: data.home(&profile),
            data,
            profile,
            client: Client::new(run.control_socket()),
            deadline: Instant::now() + Duration::from_secs(args.timeout_s),
            timeout_s: args.timeout_s,
        })
    }

    /// Appends a cli event to the profile's history; a failure is a line on
    /// stderr, never the end of the command.
    pub fn emit(&self, kind: EventKind) {
        if let Err(e) = events::append(&self.home.events(), &Event::now(Source::Cli, kind)) {
            eprintln!(
                "gateway: cannot append an event to the history of `{}`: {e}",
                self.profile
            );
        }
    }

    /// Persists the intent `by` records, keeping keys it does not know, and
    /// logs `desired-written`. Returns a one-line error when it could not.
    ///
    /// A `desired_state.json` of another schema is not overwritten (nothing
    /// written by a newer implementation is lost): that is a failure to persist.
    pub fn persist_intent(&self, by: IntentWriter) -> Result<(), String> {
        let path = self.home.desired_state();
        if let Ok(Some(Classified::Unsupported(schema))) =
            store::peek_record::<DesiredStateRecord>(&path)
        {
            return Err(format!(
                "{} has schema {schema}, which this gateway does not support; not overwritten: \
                 move it away, then run the command again",
                path.display()
            ));
        }
        let record = DesiredStateRecord::new(by, timefmt::now());
        let desired_state = record.desired_state;
        store::rewrite_record(&path, record).map_err(|e| {
            format!(
                "cannot persist the intent `{desired_state}` of `{}`: {e}",
                self.profile
            )
        })?;
        self.emit(EventKind::DesiredWritten { desired_state });
        Ok(())
    }

    /// The valid `gateway_state.json`, if any (read without changing anything).
    pub fn state(&self) -> Option<GatewayStateRecord> {
        match store::peek_record::<GatewayStateRecord>(&self.home.gateway_state()) {
            Ok(Some(Classified::Valid(r))) => Some(r),
            _ => None,
        }
    }

    /// Whether the wait is over.
    pub fn timed_out(&self) -> bool {
        Instant::now() >= self.deadline
    }
}

/// The process of an `up` profile, when init knows its start time.
pub fn identity(st: &ProfileStatus) -> Option<ProcessIdentity> {
    match (st.supervised, st.pid, st.start_time) {
        (Supervised::Up, Some(pid), Some(start_time)) => Some(ProcessIdentity { pid, start_time }),
        _ => None,
    }
}

/// One line describing what the state file says.
fn describe_state(rec: Option<&GatewayStateRecord>) -> String {
    match rec {
        None => "gateway_state.json is missing or unreadable".to_owned(),
        Some(r) => format!(
            "gateway_state.json says {} (exit_reason: {}, pid {})",
            r.gateway_state,
            r.exit_reason
                .as_ref()
                .map_or_else(|| "null".to_owned(), |x| x.to_wire()),
            r.pid
        ),
    }
}

fn describe_supervision(st: &ProfileStatus) -> String {
    let mut s = format!("init has it {}", st.supervised.as_str());
    if let Some(exit) = &st.last_exit {
        s.push_str(&format!(", its last gateway ended with {exit}"));
    }
    s
}

/// Waits until a gateway of the profile other than `old` is `running`: the state
/// file says `running` about the live process init supervises. Ends with exit 1
/// naming the `exit_reason` when it ends `startup_failed`, exits, or the
/// deadline passes.
pub fn wait_running(
    ctx: &Ctx,
    old: Option<(i32, Option<u64>)>,
) -> Result<ProcessIdentity, CommandError> {
    let name = &ctx.profile;
    loop {
        let st = ctx.client.status_of(name.as_str())?;
        let rec = ctx.state();
        match st.supervised {
            Supervised::Up => {
                let current = (st.pid.unwrap_or(0), st.start_time);
                if let (Some(id), true) = (identity(&st), Some(current) != old) {
                    // A live gateway whose record is unreadable (damaged while it
                    // ran) will not write it again until its next transition:
                    // init and its channel are the only witnesses left.
                    if rec.is_none()
                        && procfs::identity(id.pid) == Some(id)
                        && crate::commands::ping::ping_channel(
                            &ctx.channel,
                            crate::commands::ping::PING_TIMEOUT,
                        ) == Ok(id.pid)
                    {
                        return Ok(id);
                    }
                    if let Some(r) = rec.as_ref().filter(|r| r.process() == id) {
                        match r.gateway_state {
                            GatewayState::Running if procfs::identity(id.pid) == Some(id) => {
                                return Ok(id)
                            }
                            GatewayState::StartupFailed => {
                                return Err(CommandError::failed(format!(
                                    "profile `{name}` failed to start: {}",
                                    describe_state(Some(r))
                                )))
                            }
                            _ => {}
                        }
                    }
                }
            }
            Supervised::Down | Supervised::Backoff | Supervised::GaveUp => {
                return Err(CommandError::failed(format!(
                    "profile `{name}` is not running: {}; {}",
                    describe_state(rec.as_ref()),
                    describe_supervision(&st)
                )));
            }
        }
        if ctx.timed_out() {
            return Err(CommandError::failed(format!(
                "profile `{name}` is not running after {} s: {}; {}",
                ctx.timeout_s,
                describe_state(rec.as_ref()),
                describe_supervision(&st)
            )));
        }
        std::thread::sleep(POLL);
    }
}

/// The outcome of start/restart: the wait's result, and an intent failure
/// (which alone makes the command exit 1: the start would not survive a restart).
pub fn finish_start(
    ctx: &Ctx,
    verb: &str,
    waited: Result<ProcessIdentity, CommandError>,
    intent: Result<(), String>,
) -> Result<i32, CommandError> {
    let id = match (waited, &intent) {
        (Ok(id), _) => id,
        (Err(e), Ok(())) => return Err(e),
        (Err(e), Err(intent_error)) => {
            eprintln!("gateway: {intent_error}");
            return Err(e);
        }
    };
    println!(
        "{verb} profile `{}`: running as pid {}",
        ctx.profile, id.pid
    );
    match intent {
        Ok(()) => Ok(crate::exit::OK),
        Err(e) => Err(CommandError::failed(format!(
            "{e}; it is running now but may not be started again after a restart"
        ))),
    }
}
