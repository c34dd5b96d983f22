//! Boot reconciliation (SPEC §4): create the requested profiles, read every home,
//! decide with the boot table, and publish one boot line per profile.
//!
//! Reading rules, where the contract leaves a choice:
//! - `gateway_state.json` unreadable for another reason than corruption (e.g.
//!   permissions) is treated like `corrupt` (registered down) but left in place;
//! - a corrupt `desired_state.json` (including an intent word this contract does
//!   not know) is kept aside and counts as no intent; an `unsupported` one is left
//!   in place and also counts as no intent: the boot table then decides from the
//!   observed state alone.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use restart_contract::boot::{
    self, BootAction, BootInput, BootLine, BootRow, PriorExit, PriorState,
};
use restart_contract::events::{self, Event, EventKind, Source};
use restart_contract::layout::{DataDir, ProfileHome, ProfileName};
use restart_contract::records::{
    DesiredStateRecord, GatewayStateRecord, LifecyclePhase, LifecycleRecord,
};
use restart_contract::state::{DesiredState, GatewayState};
use restart_contract::store::{self, ReadOutcome};
use restart_contract::timefmt;

use crate::exit::CommandError;
use crate::mutants::{self, Mutant};

/// One profile after boot: its home and its boot line.
#[derive(Debug, Clone)]
pub struct Booted {
    /// The profile.
    pub name: ProfileName,
    /// Its home.
    pub home: ProfileHome,
    /// What boot read and did.
    pub line: BootLine,
}

impl Booted {
    /// Whether boot starts it.
    pub fn starts(&self) -> bool {
        self.line.action == BootAction::Start
    }
}

fn warn(msg: impl std::fmt::Display) {
    eprintln!("gateway init: {msg}");
}

/// Creates the homes of `requested` (and `default`) that do not exist yet, then
/// reads and decides every profile home, in name order.
pub fn reconcile(data: &DataDir, requested: &[ProfileName]) -> Result<Vec<Booted>, CommandError> {
    let profiles_dir = data.profiles_dir();
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&profiles_dir)
        .map_err(|e| {
            CommandError::failed(format!(
                "cannot create {}: {e}; check that the data dir is writable by this user",
                profiles_dir.display()
            ))
        })?;

    let mut new_profiles = Vec::new();
    let mut wanted: Vec<ProfileName> = requested.to_vec();
    wanted.push(ProfileName::default_profile());
    for name in wanted {
        let home = data.home(&name);
        match DirBuilder::new().mode(0o700).create(home.dir()) {
            Ok(()) => new_profiles.push(name),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(CommandError::failed(format!(
                    "cannot create the home of profile `{name}` at {}: {e}",
                    home.dir().display()
                )))
            }
        }
    }

    let mut names = list_homes(&profiles_dir)?;
    names.sort();
    let now = timefmt::now();
    Ok(names
        .into_iter()
        .map(|name| {
            let home = data.home(&name);
            let new_profile = new_profiles.contains(&name);
            let line = decide_profile(&name, &home, new_profile, now);
            Booted { name, home, line }
        })
        .collect())
}

/// The valid profile homes under `DATA/profiles`; anything else is warned about.
fn list_homes(profiles_dir: &Path) -> Result<Vec<ProfileName>, CommandError> {
    let entries = fs::read_dir(profiles_dir).map_err(|e| {
        CommandError::failed(format!("cannot list {}: {e}", profiles_dir.display()))
    })?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                warn(format!("listing {}: {e}", profiles_dir.display()));
                continue;
            }
        };
        let path = entry.path();
        let Some(raw) = entry.file_name().to_str().map(str::to_owned) else {
            warn(format!(
                "ignoring {}: not a valid profile name (not UTF-8)",
                path.display()
            ));
            continue;
        };
        let name = match ProfileName::new(&raw) {
            Ok(n) => n,
            Err(e) => {
                warn(format!("ignoring {}: {e}", path.display()));
                continue;
            }
        };
        match entry.file_type() {
            Ok(t) if t.is_dir() => names.push(name),
            Ok(t) if t.is_symlink() => warn(format!(
                "ignoring {}: a symlink; a profile home must be a real directory",
                path.display()
            )),
            Ok(_) => warn(format!("ignoring {}: not a directory", path.display())),
            Err(e) => warn(format!("ignoring {}: {e}", path.display())),
        }
    }
    Ok(names)
}

/// Reads one home and applies the boot table (and the boot mutants).
fn decide_profile(
    name: &ProfileName,
    home: &ProfileHome,
    new_profile: bool,
    now: timefmt::Timestamp,
) -> BootLine {
    let prior = read_prior_state(name, home);
    let desired = read_intent(name, home);
    let prior_exit = read_prior_exit(name, home);
    let (row, mut action) = boot::decide(BootInput {
        new_profile,
        prior,
        desired,
    });
    if mutants::is(Mutant::BootAutostartsEverything) {
        action = BootAction::Start;
    }
    if mutants::is(Mutant::BootIgnoresDraining)
        && row == BootRow::RunningOrDraining
        && matches!(
            prior,
            PriorState::Recorded {
                state: GatewayState::Draining,
                ..
            }
        )
    {
        action = BootAction::RegisterDown;
    }
    BootLine {
        ts: now,
        profile: name.as_str().to_owned(),
        prior_state: prior.label(),
        desired,
        action,
        prior_exit,
    }
}

fn read_prior_state(name: &ProfileName, home: &ProfileHome) -> PriorState {
    let path = home.gateway_state();
    match store::read_record::<GatewayStateRecord>(&path) {
        Ok(ReadOutcome::Missing) => PriorState::Missing,
        Ok(ReadOutcome::Valid(r)) => PriorState::Recorded {
            state: r.gateway_state,
            restart_requested: r.restart_requested,
        },
        Ok(ReadOutcome::Unsupported(schema)) => {
            warn(format!(
                "profile `{name}`: {} has schema {schema}, which this init does not support; \
                 left in place, profile registered down",
                path.display()
            ));
            PriorState::Unsupported
        }
        Ok(ReadOutcome::Corrupt { reason, kept_aside }) => {
            warn(format!(
                "profile `{name}`: {} is corrupt ({reason}); its bytes were kept aside at {}, \
                 profile registered down: inspect it, then `gateway start --profile {name}`",
                path.display(),
                kept_aside.display()
            ));
            PriorState::Corrupt
        }
        Err(e) => {
            warn(format!(
                "profile `{name}`: cannot read its state ({e}); left in place, profile \
                 registered down as corrupt"
            ));
            PriorState::Corrupt
        }
    }
}

fn read_intent(name: &ProfileName, home: &ProfileHome) -> Option<DesiredState> {
    let path = home.desired_state();
    match store::read_record::<DesiredStateRecord>(&path) {
        Ok(ReadOutcome::Missing) => None,
        Ok(ReadOutcome::Valid(r)) => Some(r.desired_state),
        Ok(ReadOutcome::Unsupported(schema)) => {
            warn(format!(
                "profile `{name}`: {} has schema {schema}, which this init does not support; \
                 left in place and read as no intent",
                path.display()
            ));
            None
        }
        Ok(ReadOutcome::Corrupt { reason, kept_aside }) => {
            warn(format!(
                "profile `{name}`: {} is corrupt ({reason}); its bytes were kept aside at {}, \
                 read as no intent",
                path.display(),
                kept_aside.display()
            ));
            None
        }
        Err(e) => {
            warn(format!(
                "profile `{name}`: cannot read its intent ({e}); read as no intent"
            ));
            None
        }
    }
}

fn read_prior_exit(name: &ProfileName, home: &ProfileHome) -> PriorExit {
    let path = home.lifecycle();
    match store::read_record::<LifecycleRecord>(&path) {
        Ok(ReadOutcome::Valid(r)) => match r.phase {
            LifecyclePhase::Exited => PriorExit::Clean,
            LifecyclePhase::Running => PriorExit::Unclean,
        },
        Ok(ReadOutcome::Missing | ReadOutcome::Unsupported(_)) => PriorExit::Unknown,
        Ok(ReadOutcome::Corrupt { reason, kept_aside }) => {
            warn(format!(
                "profile `{name}`: {} is corrupt ({reason}); its bytes were kept aside at {}",
                path.display(),
                kept_aside.display()
            ));
            PriorExit::Unknown
        }
        Err(e) => {
            warn(format!(
                "profile `{name}`: cannot read {}: {e}",
                path.display()
            ));
            PriorExit::Unknown
        }
    }
}

/// Appends every boot line to `DATA/boot.log` and init's stdout, and a `boot`
/// event to each profile's history. Failures are reported, never fatal: a boot
/// that cannot log must still start the gateways.
pub fn publish(data: &DataDir, booted: &[Booted]) {
    let log = data.boot_log();
    let mut file = match store::refuse_symlink(&log)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
                .open(&log)
                .map_err(|e| e.to_string())
        }) {
        Ok(f) => Some(f),
        Err(e) => {
            warn(format!(
                "cannot open {}: {e}; boot lines go to stdout only",
                log.display()
            ));
            None
        }
    };
    let stdout = io::stdout();
    for b in booted {
        let text = format!("{}\n", b.line);
        if let Some(f) = file.as_mut() {
            // One write(2) per line, O_APPEND: never interleaved, never rewritten.
            if let Err(e) = f.write_all(text.as_bytes()) {
                warn(format!("appending to {}: {e}", log.display()));
            }
        }
        let mut out = stdout.lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
        let event = Event::now(Source::Init, EventKind::boot(&b.line));
        if let Err(e) = events::append(&b.home.events(), &event) {
            warn(format!(
                "profile `{}`: cannot append the boot event: {e}",
                b.name
            ));
        }
    }
    if let Some(f) = file {
        let _ = f.sync_all();
    }
}
