//! Only one init per data dir: an exclusive `flock` on `DATA/init.lock`, held for
//! init's whole life (SPEC §4).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg, OFlag};
use restart_contract::layout::DataDir;

use crate::exit::CommandError;

/// The held lock; released when dropped (or when init dies, whatever kills it).
#[derive(Debug)]
pub struct InitLock {
    _lock: Flock<File>,
}

/// Takes the lock, or explains who holds it (exit 2).
///
/// The holder's pid is written into the file after locking, only so that a second
/// init can name it; the lock itself is the `flock`, which the kernel drops when
/// the holder dies, so a stale file never blocks a new init.
pub fn acquire(data: &DataDir) -> Result<InitLock, CommandError> {
    let path = data.init_lock();
    // std opens with O_CLOEXEC: gateways never inherit the lock, so an orphaned
    // gateway cannot keep a dead init's data dir locked.
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(OFlag::O_NOFOLLOW.bits())
        .open(&path)
        .map_err(|e| {
            CommandError::failed(format!(
                "cannot open {}: {e}; check that the data dir is writable by this user",
                path.display()
            ))
        })?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => {
            let me = std::process::id();
            // Best effort: the pid is only a hint for the second init's message.
            let _ = (|| {
                let mut f: &File = &lock;
                f.set_len(0)?;
                f.seek(SeekFrom::Start(0))?;
                f.write_all(format!("{me}\n").as_bytes())
            })();
            Ok(InitLock { _lock: lock })
        }
        Err((mut file, Errno::EWOULDBLOCK)) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim() {
                "" => "another init".to_owned(),
                pid => format!("another init (pid {pid})"),
            };
            Err(CommandError::usage(format!(
                "{holder} already holds {}: only one init may supervise a data dir; stop that \
                 init first, or give this one another --data",
                path.display()
            )))
        }
        Err((_, e)) => Err(CommandError::failed(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}
