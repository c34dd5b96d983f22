//! `gateway ping [--profile P]` and the client side of a gateway's channel.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use restart_contract::layout::{DataDir, ProfileName};

use crate::cli::Dirs;
use crate::exit::CommandError;

/// How long `ping` waits for `pong`.
pub const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a request over a gateway's channel got no reply line.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// Nothing listens at the socket path.
    #[error(
        "no gateway listening at {path}: {source}; is the profile running? (`gateway status`)"
    )]
    Connect {
        /// The socket.
        path: PathBuf,
        /// Why connecting failed.
        #[source]
        source: io::Error,
    },
    /// The reply did not come in time.
    #[error("no reply from {path} within {timeout_ms} ms")]
    Timeout {
        /// The socket.
        path: PathBuf,
        /// The deadline.
        timeout_ms: u128,
    },
    /// The gateway closed the connection before replying.
    #[error("connection closed: gateway probably killed (no reply from {path})")]
    Closed {
        /// The socket.
        path: PathBuf,
    },
    /// Another IO error.
    #[error("talking to {path}: {source}")]
    Io {
        /// The socket.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
}

/// Sends one command line to the channel at `socket` and returns the reply line
/// (without its newline), waiting at most `timeout` overall.
pub fn request(socket: &Path, line: &str, timeout: Duration) -> Result<String, ChannelError> {
    let deadline = Instant::now() + timeout;
    let path = || socket.to_owned();
    let io_err = |source: io::Error| classify(source, socket, timeout);
    let mut stream = UnixStream::connect(socket).map_err(|source| ChannelError::Connect {
        path: path(),
        source,
    })?;
    let remaining = |now: Instant| deadline.saturating_duration_since(now);
    stream
        .set_write_timeout(Some(
            remaining(Instant::now()).max(Duration::from_millis(1)),
        ))
        .map_err(io_err)?;
    stream
        .write_all(format!("{line}\n").as_bytes())
        .map_err(io_err)?;
    let mut reader = BufReader::new(stream);
    let mut reply = Vec::new();
    loop {
        let left = remaining(Instant::now());
        if left.is_zero() {
            return Err(ChannelError::Timeout {
                path: path(),
                timeout_ms: timeout.as_millis(),
            });
        }
        // Re-armed on every read so that a trickle of bytes cannot outlast the deadline.
        reader
            .get_ref()
            .set_read_timeout(Some(left))
            .map_err(io_err)?;
        match reader.read_until(b'\n', &mut reply) {
            Ok(0) => return Err(ChannelError::Closed { path: path() }),
            Ok(_) if reply.ends_with(b"\n") => break,
            // EOF mid-line: the next read returns 0 and reports it.
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(e)),
        }
    }
    reply.pop();
    Ok(String::from_utf8_lossy(&reply).trim_end().to_owned())
}

fn classify(source: io::Error, socket: &Path, timeout: Duration) -> ChannelError {
    match source.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ChannelError::Timeout {
            path: socket.to_owned(),
            timeout_ms: timeout.as_millis(),
        },
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => ChannelError::Closed {
            path: socket.to_owned(),
        },
        _ => ChannelError::Io {
            path: socket.to_owned(),
            source,
        },
    }
}

/// Asks the channel at `socket` for `pong <pid>` within `timeout`; returns the pid.
/// Also what `gateway status` calls "live".
pub fn ping_channel(socket: &Path, timeout: Duration) -> Result<i32, String> {
    let reply = request(socket, "ping", timeout).map_err(|e| e.to_string())?;
    reply
        .strip_prefix("pong ")
        .and_then(|pid| pid.parse().ok())
        .ok_or_else(|| {
            format!(
                "unexpected reply `{reply}` from {} (expected `pong <pid>`)",
                socket.display()
            )
        })
}

/// Validates `profile` and finds its channel; an unknown profile is exit 2.
pub fn profile_socket(dirs: &Dirs, profile: &str) -> Result<PathBuf, CommandError> {
    let profile = ProfileName::new(profile).map_err(|e| CommandError::usage(e.to_string()))?;
    let home = DataDir::new(&dirs.data).home(&profile);
    if !home.dir().is_dir() {
        return Err(CommandError::usage(format!(
            "unknown profile `{profile}`: no home at {}; check --profile and --data (`gateway status` lists profiles)",
            home.dir().display()
        )));
    }
    Ok(crate::run::socket_path(&dirs.run, &profile))
}

/// `gateway ping`: prints `pong <pid>` and exits 0 when the channel answers
/// within 1 s; otherwise one line on stderr and exit 1.
pub fn ping(dirs: &Dirs, profile: &str) -> Result<i32, CommandError> {
    let socket = profile_socket(dirs, profile)?;
    let pid = ping_channel(&socket, PING_TIMEOUT).map_err(CommandError::failed)?;
    println!("pong {pid}");
    Ok(crate::exit::OK)
}
