//! Process identity: a pid and its start time name one process life (SPEC §2).

use std::fmt;
use std::io;

use serde::{Deserialize, Serialize};

/// One process life: a pid and field 22 of `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProcessIdentity {
    /// The process id (in the reader's pid namespace).
    pub pid: i32,
    /// Clock ticks since boot at which the process started.
    pub start_time: u64,
}

impl fmt::Display for ProcessIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {} (start_time {})", self.pid, self.start_time)
    }
}

/// Field 22 (`starttime`) of a `/proc/<pid>/stat` line.
///
/// The command name (field 2) may contain spaces and parentheses, so fields are
/// counted from the last `)`.
pub fn parse_start_time(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    // After the `)` come fields 3, 4, ...; field 22 is the 20th of them.
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

/// The start time of `pid`, from `/proc`.
pub fn start_time(pid: i32) -> io::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_start_time(&stat).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("/proc/{pid}/stat has no field 22"),
        )
    })
}

/// This process's identity.
pub fn current() -> io::Result<ProcessIdentity> {
    let pid = std::process::id() as i32;
    Ok(ProcessIdentity {
        pid,
        start_time: start_time(pid)?,
    })
}

/// The identity of `pid` if it is alive (and not a zombie).
pub fn identity(pid: i32) -> Option<ProcessIdentity> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let state = stat[stat.rfind(')')? + 1..].split_whitespace().next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    Some(ProcessIdentity {
        pid,
        start_time: parse_start_time(&stat)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_22_counts_from_the_last_paren() {
        let stat =
            "7 (gate way) (x)) S 1 7 7 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 5551234 1000 10";
        assert_eq!(parse_start_time(stat), Some(5551234));
    }

    #[test]
    fn own_start_time_is_readable() {
        let me = current().unwrap();
        assert_eq!(identity(me.pid), Some(me));
    }

    #[test]
    fn truncated_stat_has_no_start_time() {
        assert_eq!(parse_start_time("7 (x) S 1 2 3"), None);
        assert_eq!(parse_start_time("garbage"), None);
    }
}
