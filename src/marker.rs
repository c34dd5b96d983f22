//! The planned-stop marker rule (SPEC §3).
//!
//! The marker names a process when `target_pid` equals its pid,
//! `target_start_time` equals its start time (a missing start time never
//! matches), and `written_at` is within [now - 60 s, now + 5 s]. The gateway
//! reads and removes the marker on every SIGTERM or SIGHUP, whether it matched or
//! not.

use chrono::Duration;

use crate::procfs::ProcessIdentity;
use crate::records::PlannedStopMarker;
use crate::timefmt::Timestamp;

/// How old a marker may be.
pub const MAX_AGE: Duration = Duration::seconds(60);
/// How far in the future a marker may be dated (clock skew between writers).
pub const MAX_FUTURE: Duration = Duration::seconds(5);

/// What a marker says about one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerVerdict {
    /// There was no marker.
    Absent,
    /// The marker names this process: an operator stop.
    NamesThisProcess,
    /// Not parseable as a marker.
    Malformed,
    /// Another pid.
    OtherPid,
    /// This pid, but no start time: never matches.
    NoStartTime,
    /// This pid, another start time: an earlier life of a reused pid.
    OtherStartTime,
    /// Written more than 60 s ago.
    Expired,
    /// Dated more than 5 s ahead.
    FromTheFuture,
}

impl MarkerVerdict {
    /// True only for [`MarkerVerdict::NamesThisProcess`].
    pub fn names_this_process(self) -> bool {
        self == MarkerVerdict::NamesThisProcess
    }
}

/// Applies the marker rule to a parsed marker.
pub fn judge_marker(
    marker: &PlannedStopMarker,
    me: ProcessIdentity,
    now: Timestamp,
) -> MarkerVerdict {
    if marker.target_pid != me.pid {
        return MarkerVerdict::OtherPid;
    }
    match marker.target_start_time {
        None => return MarkerVerdict::NoStartTime,
        Some(t) if t != me.start_time => return MarkerVerdict::OtherStartTime,
        Some(_) => {}
    }
    if marker.written_at < now - MAX_AGE {
        MarkerVerdict::Expired
    } else if marker.written_at > now + MAX_FUTURE {
        MarkerVerdict::FromTheFuture
    } else {
        MarkerVerdict::NamesThisProcess
    }
}

/// Applies the marker rule to the marker file's bytes (`None`: no file).
pub fn judge(bytes: Option<&[u8]>, me: ProcessIdentity, now: Timestamp) -> MarkerVerdict {
    let Some(bytes) = bytes else {
        return MarkerVerdict::Absent;
    };
    match serde_json::from_slice::<PlannedStopMarker>(bytes) {
        Ok(marker) => judge_marker(&marker, me, now),
        Err(_) => MarkerVerdict::Malformed,
    }
}
