//! The protocol between the operator commands and init over `RUN/control.sock`.
//!
//! Line-delimited JSON over a unix stream socket: the client writes one
//! [`Request`] as a single line, init answers with one [`Response`] line, and the
//! client may send further requests on the same connection (the commands open
//! one connection per request). Init answers every line, even one that does not
//! parse (with [`Response::Error`] `bad-request`), and never blocks on a
//! request: everything that takes time (a gateway draining, starting) is
//! observed by polling [`Request::Status`].
//!
//! ```text
//! -> {"op":"status"}
//! <- {"reply":"status","mutant":null,"profiles":[{"profile":"default","supervised":"up","pid":7,"start_time":5551234,...}]}
//! -> {"op":"start","profile":"a"}
//! <- {"reply":"ok","profile":{"profile":"a","supervised":"up","pid":9,...}}
//! -> {"op":"stop-target","profile":"a","pid":9,"start_time":5551300}
//! <- {"reply":"refused","refusal":"changed","profile":{...the current status...}}
//! -> {"op":"start","profile":"nope"}
//! <- {"reply":"error","error":"unknown-profile","message":"unknown profile `nope`: ..."}
//! ```
//!
//! Requests:
//! - `status`: every profile init supervises, in name order;
//! - `start P`: start P now unless it is up (cancels a pending backoff, forgets
//!   a crash loop: an operator start takes responsibility);
//! - `stop-target P pid start_time`: take exactly that process down. Refused
//!   (`changed`) when P's process is another one, (`not-running`) when P is not up.
//!   Otherwise init marks P operator-stopped (it will not be started again
//!   whatever the exit code) and sends SIGTERM;
//! - `restart P`: SIGUSR1 to P's process (it exits 75 and init starts it again);
//!   refused (`not-running`) when P is not up;
//! - `cancel P`: cancel a pending revival (backoff) or a pending start after an
//!   exit, forget a give-up: P is down. Refused (`running`) when P is up.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::exit::CommandError;

/// The longest line either side accepts (a status of many profiles fits easily).
pub const MAX_LINE: usize = 1024 * 1024;

/// How long a client waits for init's answer to one request.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// A request from an operator command to init.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    /// Every profile's supervision.
    Status,
    /// Start the profile unless it is up.
    Start {
        /// The profile.
        profile: String,
    },
    /// Take exactly this process of the profile down (operator stop).
    StopTarget {
        /// The profile.
        profile: String,
        /// The pid the caller saw (and wrote into the marker).
        pid: i32,
        /// Its start time.
        start_time: u64,
    },
    /// SIGUSR1 to the profile's process.
    Restart {
        /// The profile.
        profile: String,
    },
    /// Cancel a pending revival or start; the profile is down.
    Cancel {
        /// The profile.
        profile: String,
    },
}

pub use restart_contract::status::Supervised;

/// How a gateway process ended, as init reaped it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it (`SIGKILL`, ...).
    Signal(String),
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitStatus::Code(c) => write!(f, "exit code {c}"),
            ExitStatus::Signal(s) => write!(f, "killed by {s}"),
        }
    }
}

/// One profile as init sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileStatus {
    /// The profile.
    pub profile: String,
    /// Its supervision.
    pub supervised: Supervised,
    /// The live gateway's pid (only when `up`).
    pub pid: Option<i32>,
    /// Its start time (only when `up` and readable).
    pub start_time: Option<u64>,
    /// How the last gateway of this profile ended, if one did under this init.
    #[serde(default)]
    pub last_exit: Option<ExitStatus>,
    /// When `backoff`: how long until the revival, in ms.
    #[serde(default)]
    pub retry_in_ms: Option<u64>,
    /// When `up`: an operator stop of this process is under way.
    #[serde(default)]
    pub stopping: bool,
}

/// Why init refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refusal {
    /// The profile's process is not the one named (pid or start time changed).
    Changed,
    /// The profile is not up.
    NotRunning,
    /// The profile is up.
    Running,
}

/// Why init could not handle a request at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// No profile of that name (or not a valid name).
    UnknownProfile,
    /// The line is not a request.
    BadRequest,
    /// init is stopping (container stop).
    ShuttingDown,
    /// init tried and failed (e.g. the spawn failed).
    Failed,
}

/// init's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "kebab-case")]
pub enum Response {
    /// The answer to `status`.
    Status {
        /// The mutant active in init, if any (feature `mutants` only).
        #[serde(default)]
        mutant: Option<String>,
        /// Every profile, in name order.
        profiles: Vec<ProfileStatus>,
    },
    /// Done; the profile's status after the request.
    Ok {
        /// The profile's status.
        profile: ProfileStatus,
    },
    /// Not done, and why; the profile's current status.
    Refused {
        /// Why.
        refusal: Refusal,
        /// The profile's current status.
        profile: ProfileStatus,
    },
    /// The request could not be handled.
    Error {
        /// What kind of error.
        error: ErrorKind,
        /// One line for the operator.
        message: String,
    },
}

/// The message of [`ErrorKind::UnknownProfile`], naming the fix.
pub fn unknown_profile_message(profile: &str) -> String {
    format!(
        "unknown profile `{profile}`: init has no such profile; create it by starting init with \
         `gateway init --profiles {profile}`"
    )
}

/// A client of init's control socket.
#[derive(Debug, Clone)]
pub struct Client {
    socket: PathBuf,
}

impl Client {
    /// A client of the control socket at `socket`.
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        Client {
            socket: socket.into(),
        }
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    fn no_init(&self, why: &std::io::Error) -> CommandError {
        CommandError::usage(format!(
            "no init is listening on {} ({why}): start `gateway init` first (or pass --run)",
            self.socket.display()
        ))
    }

    /// Sends one request on a fresh connection and reads the answer.
    ///
    /// A socket nobody listens on is exit 2 (no init); an init that accepts but
    /// does not answer within [`REPLY_TIMEOUT`] is exit 1.
    pub fn request(&self, req: &Request) -> Result<Response, CommandError> {
        let mut stream = UnixStream::connect(&self.socket).map_err(|e| self.no_init(&e))?;
        let broken = |e: std::io::Error| {
            CommandError::failed(format!(
                "init on {} did not answer: {e}; check init's output",
                self.socket.display()
            ))
        };
        stream
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(REPLY_TIMEOUT)))
            .map_err(broken)?;
        let mut line = serde_json::to_vec(req)
            .map_err(|e| CommandError::failed(format!("encoding a control request: {e}")))?;
        line.push(b'\n');
        stream.write_all(&line).map_err(broken)?;
        let mut reader = BufReader::new(stream).take(MAX_LINE as u64);
        let mut answer = String::new();
        let n = reader.read_line(&mut answer).map_err(broken)?;
        if n == 0 {
            return Err(CommandError::failed(format!(
                "init on {} closed the connection without answering; check init's output",
                self.socket.display()
            )));
        }
        serde_json::from_str(answer.trim_end()).map_err(|e| {
            CommandError::failed(format!(
                "init on {} answered something that is not a control response ({e}): {}",
                self.socket.display(),
                answer.trim_end()
            ))
        })
    }

    /// `status`: every profile, and init's mutant.
    pub fn status(&self) -> Result<(Vec<ProfileStatus>, Option<String>), CommandError> {
        match self.request(&Request::Status)? {
            Response::Status { profiles, mutant } => Ok((profiles, mutant)),
            other => Err(unexpected(&other)),
        }
    }

    /// `status`, narrowed to one profile; an unknown profile is exit 2.
    pub fn status_of(&self, profile: &str) -> Result<ProfileStatus, CommandError> {
        let (profiles, _) = self.status()?;
        profiles
            .into_iter()
            .find(|p| p.profile == profile)
            .ok_or_else(|| CommandError::usage(unknown_profile_message(profile)))
    }

    /// Sends a request that answers about one profile: `Ok` or `Refused`.
    /// `Error` replies become command errors (unknown profile: exit 2).
    pub fn act(&self, req: &Request) -> Result<Acted, CommandError> {
        match self.request(req)? {
            Response::Ok { profile } => Ok(Acted::Done(profile)),
            Response::Refused { refusal, profile } => Ok(Acted::Refused(refusal, profile)),
            Response::Error { error, message } => Err(error_to_command(error, message)),
            other @ Response::Status { .. } => Err(unexpected(&other)),
        }
    }
}

/// The outcome of a request about one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acted {
    /// Done; the status after.
    Done(ProfileStatus),
    /// Refused; the current status.
    Refused(Refusal, ProfileStatus),
}

fn unexpected(resp: &Response) -> CommandError {
    match resp {
        Response::Error { error, message } => error_to_command(*error, message.clone()),
        other => CommandError::failed(format!(
            "init answered out of turn: {}",
            serde_json::to_string(other).unwrap_or_default()
        )),
    }
}

fn error_to_command(error: ErrorKind, message: String) -> CommandError {
    match error {
        ErrorKind::UnknownProfile | ErrorKind::BadRequest => CommandError::usage(message),
        ErrorKind::ShuttingDown => CommandError::usage(format!(
            "{message}: init is stopping; run the command again once it has restarted"
        )),
        ErrorKind::Failed => CommandError::failed(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_have_their_documented_wire_form() {
        let req = Request::StopTarget {
            profile: "a".into(),
            pid: 9,
            start_time: 5551300,
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"op":"stop-target","profile":"a","pid":9,"start_time":5551300}"#
        );
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"op":"status"}"#).unwrap(),
            Request::Status
        );
    }

    #[test]
    fn supervised_words_are_the_specs() {
        for (s, w) in [
            (Supervised::Up, "up"),
            (Supervised::Down, "down"),
            (Supervised::Backoff, "backoff"),
            (Supervised::GaveUp, "gave-up"),
        ] {
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{w}\""));
            assert_eq!(s.as_str(), w);
        }
    }

    #[test]
    fn responses_round_trip() {
        let resp = Response::Refused {
            refusal: Refusal::Changed,
            profile: ProfileStatus {
                profile: "a".into(),
                supervised: Supervised::Up,
                pid: Some(3),
                start_time: Some(4),
                last_exit: Some(ExitStatus::Signal("SIGKILL".into())),
                retry_in_ms: None,
                stopping: false,
            },
        };
        let text = serde_json::to_string(&resp).unwrap();
        assert_eq!(serde_json::from_str::<Response>(&text).unwrap(), resp);
    }
}
