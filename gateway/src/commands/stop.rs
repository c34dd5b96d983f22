//! `gateway stop` (SPEC §5): the operator stop.
//!
//! 1. ask init for the profile's pid and start_time;
//! 2. write the planned-stop marker naming them (best effort: on failure a
//!    `marker-failed` event and a line on stderr, then go on);
//! 3. persist intent `stopped`;
//! 4. ask init to take exactly that process down (`stop-target`); init refuses
//!    when the pid or start_time changed, and stop retries with the new ones;
//! 5. wait until it has exited.
//!
//! A profile that is down, backing off or given up: persist intent `stopped`,
//! cancel any pending restart, say "already stopped", exit 0. Exit 1 when the
//! intent could not be persisted (after stopping anyway): the stop would not
//! survive a restart.

use std::path::PathBuf;

use restart_contract::events::EventKind;
use restart_contract::layout::ProfileName;
use restart_contract::procfs::ProcessIdentity;
use restart_contract::records::PlannedStopMarker;
use restart_contract::state::IntentWriter;
use restart_contract::store;
use restart_contract::timefmt;

use crate::cli::ControlArgs;
use crate::commands::operator::{identity, Ctx, POLL};
use crate::control::{Acted, ProfileStatus, Refusal, Request, Supervised};
use crate::exit::{CommandError, OK};
use crate::mutants::{self, Mutant};

/// How many times stop follows a changed process before it gives up.
const MAX_RETARGETS: u32 = 20;

/// Runs `gateway stop`.
pub fn stop(args: &ControlArgs) -> Result<i32, CommandError> {
    let ctx = Ctx::new(args)?;
    let mut stop = Stop {
        // The mutant models a stop path that forgot to mark: no marker, no intent.
        writes: !mutants::is(Mutant::StopWritesNoMarker),
        intent: None,
        ctx,
    };
    let mut st = stop.ctx.client.status_of(stop.ctx.profile.as_str())?;
    let mut retargets = 0;
    let outcome = loop {
        if st.supervised == Supervised::Up {
            let Some(target) = identity(&st) else {
                // init could not read its start time: no marker can name it. Ask
                // again until it can tell (or the process ends).
                st = stop.poll(&st)?;
                continue;
            };
            let marker = stop.write_marker(target);
            stop.persist_intent();
            match stop.ctx.client.act(&Request::StopTarget {
                profile: stop.ctx.profile.as_str().to_owned(),
                pid: target.pid,
                start_time: target.start_time,
            })? {
                Acted::Done(_) => {
                    stop.ctx.emit(EventKind::StopRequested {
                        target_pid: target.pid,
                    });
                    let waited = stop.wait_exited(target);
                    // Only once it has exited: a gateway still alive may not have
                    // read the marker yet (an unread marker expires in 60 s).
                    if waited.is_ok() {
                        stop.clean_marker(marker);
                    }
                    break waited.map(|()| {
                        format!(
                            "stopped profile `{}` (pid {})",
                            stop.ctx.profile, target.pid
                        )
                    });
                }
                Acted::Refused(Refusal::Changed, now) => {
                    stop.clean_marker(marker);
                    retargets += 1;
                    if retargets > MAX_RETARGETS {
                        break Err(CommandError::failed(format!(
                            "profile `{}` kept changing process ({retargets} times) while being \
                             stopped; run `gateway stop --profile {}` again",
                            stop.ctx.profile, stop.ctx.profile
                        )));
                    }
                    st = now;
                }
                Acted::Refused(_, now) => {
                    stop.clean_marker(marker);
                    st = now;
                }
            }
        } else {
            stop.persist_intent();
            match stop.ctx.client.act(&Request::Cancel {
                profile: stop.ctx.profile.as_str().to_owned(),
            })? {
                Acted::Done(_) => break Ok("already stopped".to_owned()),
                // Revived meanwhile: stop that process.
                Acted::Refused(_, now) => st = now,
            }
        }
    };
    match (outcome, stop.intent.take()) {
        (Ok(msg), None | Some(Ok(()))) => {
            println!("{msg}");
            Ok(OK)
        }
        (Ok(msg), Some(Err(_)))
            if crate::mutants::is(crate::mutants::Mutant::StopIgnoresIntentFailure) =>
        {
            println!("{msg}");
            Ok(OK)
        }
        (Ok(msg), Some(Err(e))) => {
            println!("{msg}");
            Err(CommandError::failed(format!(
                "{e}; the gateway is stopped but would start again after a restart"
            )))
        }
        (Err(e), Some(Err(intent_error))) => {
            eprintln!("gateway: {intent_error}");
            Err(e)
        }
        (Err(e), _) => Err(e),
    }
}

struct Stop {
    ctx: Ctx,
    writes: bool,
    /// The outcome of persisting the intent, once attempted.
    intent: Option<Result<(), String>>,
}

impl Stop {
    /// The marker's path: the profile's home, or (mutant) the `default` home
    /// whatever the profile, as upstream's `stop --all` did.
    fn marker_path(&self) -> PathBuf {
        if mutants::is(Mutant::MarkerInDefaultHome) {
            self.ctx
                .data
                .home(&ProfileName::default_profile())
                .planned_stop_marker()
        } else {
            self.ctx.home.planned_stop_marker()
        }
    }

    /// Writes the marker naming `target`; returns what was written, to remove it
    /// later only if it is still ours and unconsumed.
    fn write_marker(&self, target: ProcessIdentity) -> Option<(PathBuf, Vec<u8>)> {
        // The second mutant models a stop path whose pid lookup silently stopped
        // matching: no marker, no `marker-failed`, but the intent is still written.
        if !self.writes || mutants::is(Mutant::StopSkipsMarker) {
            return None;
        }
        let path = self.marker_path();
        let marker = PlannedStopMarker::new(target, std::process::id() as i32, timefmt::now());
        let written = serde_json::to_vec(&marker)
            .map_err(|e| e.to_string())
            .and_then(|mut bytes| {
                bytes.push(b'\n');
                store::write_atomic(&path, &bytes)
                    .map(|()| bytes)
                    .map_err(|e| e.to_string())
            });
        match written {
            Ok(bytes) => {
                self.ctx.emit(EventKind::MarkerWritten {
                    target_pid: target.pid,
                    target_start_time: target.start_time,
                });
                Some((path, bytes))
            }
            Err(error) => {
                eprintln!(
                    "gateway: cannot write the planned-stop marker {}: {error}; stopping anyway \
                     (the gateway will record a signal, not an operator stop; the intent still \
                     keeps it down)",
                    path.display()
                );
                self.ctx.emit(EventKind::MarkerFailed { error });
                None
            }
        }
    }

    /// Removes our marker if the gateway did not consume it (it ended another
    /// way, or the target changed), so that no stale marker is left behind.
    fn clean_marker(&self, marker: Option<(PathBuf, Vec<u8>)>) {
        if let Some((path, bytes)) = marker {
            if std::fs::read(&path).is_ok_and(|now| now == bytes) {
                let _ = store::remove_if_exists(&path);
            }
        }
    }

    /// Persists intent `stopped` once.
    fn persist_intent(&mut self) {
        if self.writes && self.intent.is_none() {
            // Reported once, with the outcome: "the error is one clear line".
            self.intent = Some(self.ctx.persist_intent(IntentWriter::Stop));
        }
    }

    /// Polls init once more, or fails at the deadline.
    fn poll(&self, st: &ProfileStatus) -> Result<ProfileStatus, CommandError> {
        if self.ctx.timed_out() {
            return Err(CommandError::failed(format!(
                "init cannot tell the start time of pid {:?} of profile `{}`, so no marker can \
                 name it; check /proc, then run the command again",
                st.pid, self.ctx.profile
            )));
        }
        std::thread::sleep(POLL);
        self.ctx.client.status_of(self.ctx.profile.as_str())
    }

    /// Waits until init no longer supervises `target` (it has been reaped).
    fn wait_exited(&self, target: ProcessIdentity) -> Result<(), CommandError> {
        loop {
            let st = self.ctx.client.status_of(self.ctx.profile.as_str())?;
            if identity(&st) != Some(target) {
                return Ok(());
            }
            if self.ctx.timed_out() {
                return Err(CommandError::failed(format!(
                    "profile `{}` (pid {}) has not exited within {} s; init will not start it \
                     again, check it with `gateway status`",
                    self.ctx.profile, target.pid, self.ctx.timeout_s
                )));
            }
            std::thread::sleep(POLL);
        }
    }
}
