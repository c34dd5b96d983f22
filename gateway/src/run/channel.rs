//! A gateway's channel: the unix socket `RUN/gateways/P.sock` (SPEC §3).
//!
//! One command per line, one reply line per command:
//! - `ping` → `pong <pid>`;
//! - `balloon <mib>` → `ballooned <mib>` (test hook, only with `GATEWAY_TEST_HOOKS=1`
//!   in the gateway's environment): sets the gateway's own `oom_score_adj` to 1000,
//!   then allocates and touches that many MiB and holds them until exit, so that a
//!   memory-limited container OOM-kills the gateway and not init.

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// The environment variable that enables the test hooks.
pub const TEST_HOOKS_ENV: &str = "GATEWAY_TEST_HOOKS";

/// The reply to `balloon` when the hooks are off.
pub const HOOKS_DISABLED: &str =
    "error: test hooks disabled (set GATEWAY_TEST_HOOKS=1 in the gateway environment)";

/// Unix socket paths must fit `sun_path` (108 bytes with the terminating NUL).
pub const MAX_SOCKET_PATH: usize = 107;

/// The longest command line accepted.
const MAX_LINE: u64 = 4096;

/// Memory held by `balloon` until the process exits.
static BALLOON: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// What the channel needs to answer.
#[derive(Debug, Clone, Copy)]
pub struct ChannelConfig {
    /// This process's pid.
    pub pid: i32,
    /// Whether `balloon` is enabled.
    pub test_hooks: bool,
}

/// A bound channel; remembers which socket file is its own.
#[derive(Debug)]
pub struct Channel {
    path: PathBuf,
    /// (dev, ino) of the socket file bound, so that only our own file is removed.
    file_id: Option<(u64, u64)>,
}

/// Binds the channel at `path`, creating its directory (0700) and replacing a
/// stale socket left by an earlier life. Anything other than a socket at `path`
/// is refused: the run dir holds sockets only, and we do not delete what we do
/// not understand.
pub fn bind(path: &Path) -> io::Result<(Channel, UnixListener)> {
    if let Some(dir) = path.parent() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists and is not a socket; remove it (the run dir holds sockets only)",
                    path.display()
                ),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    let file_id = std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()));
    Ok((
        Channel {
            path: path.to_owned(),
            file_id,
        },
        listener,
    ))
}

impl Channel {
    /// Removes the socket file if it is still the one we bound (a later life may
    /// already have replaced it).
    pub fn remove(&self) -> io::Result<()> {
        let Some(id) = self.file_id else {
            return Ok(());
        };
        match std::fs::symlink_metadata(&self.path) {
            Ok(m) if (m.dev(), m.ino()) == id => std::fs::remove_file(&self.path),
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Accepts connections forever, answering each on its own task.
pub async fn serve(listener: UnixListener, config: ChannelConfig) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(handle(stream, config));
            }
            // EMFILE and the like: back off briefly rather than spin.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}

async fn handle(stream: UnixStream, config: ChannelConfig) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = Vec::new();
    loop {
        line.clear();
        // Bounded: a client that never sends a newline cannot grow our memory.
        match (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .await
        {
            // A client that goes away mid-conversation is not an error of ours.
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let complete = line.ends_with(b"\n");
        let reply = if !complete && line.len() as u64 >= MAX_LINE {
            format!("error: command longer than {MAX_LINE} bytes")
        } else {
            answer(String::from_utf8_lossy(&line).trim(), config).await
        };
        if write
            .write_all(format!("{reply}\n").as_bytes())
            .await
            .is_err()
            || !complete
        {
            return;
        }
    }
}

/// The reply line (without newline) to one command line.
pub async fn answer(line: &str, config: ChannelConfig) -> String {
    let mut words = line.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some("ping"), None, _) => format!("pong {}", config.pid),
        (Some("balloon"), Some(mib), None) => {
            if !config.test_hooks {
                return HOOKS_DISABLED.to_owned();
            }
            let Ok(mib) = mib.parse::<u64>() else {
                return format!("error: `{mib}` is not a number of MiB: send `balloon <mib>`");
            };
            // Touching memory blocks; keep the runtime (signals, ping) responsive.
            match tokio::task::spawn_blocking(move || balloon(mib)).await {
                Ok(Ok(())) => format!("ballooned {mib}"),
                Ok(Err(e)) => format!("error: {e}"),
                Err(e) => format!("error: balloon task failed: {e}"),
            }
        }
        _ => format!("error: unknown command `{line}`: send `ping` or `balloon <mib>`"),
    }
}

/// Volunteers this process for the OOM killer, then allocates, touches and holds
/// `mib` MiB.
fn balloon(mib: u64) -> Result<(), String> {
    // Raising one's own oom_score_adj needs no privilege.
    std::fs::write("/proc/self/oom_score_adj", "1000")
        .map_err(|e| format!("setting /proc/self/oom_score_adj to 1000: {e}"))?;
    let bytes = usize::try_from(mib)
        .ok()
        .and_then(|m| m.checked_mul(1 << 20))
        .ok_or_else(|| format!("{mib} MiB does not fit this address space"))?;
    let mut held = BALLOON
        .lock()
        .map_err(|_| "balloon memory lock poisoned".to_owned())?;
    // One mapping, then written page by page (a non-zero byte: only resident
    // memory counts against a cgroup limit). No mmap while the kernel takes
    // this process: its OOM reaper needs the mapping lock, and a reaper that
    // cannot get it gives up, after which the kernel kills the next biggest
    // process of the container (init).
    held.push(vec![0xa5u8; bytes]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(test_hooks: bool) -> ChannelConfig {
        ChannelConfig {
            pid: 42,
            test_hooks,
        }
    }

    #[tokio::test]
    async fn ping_is_answered_with_the_pid() {
        assert_eq!(answer("ping", cfg(false)).await, "pong 42");
    }

    #[tokio::test]
    async fn balloon_needs_the_hooks() {
        assert_eq!(answer("balloon 1", cfg(false)).await, HOOKS_DISABLED);
    }

    #[tokio::test]
    async fn bad_commands_name_the_fix() {
        assert!(answer("pong", cfg(true))
            .await
            .starts_with("error: unknown command"));
        assert!(answer("balloon x", cfg(true))
            .await
            .contains("balloon <mib>"));
        assert!(answer("ping now", cfg(true)).await.starts_with("error:"));
    }
}
