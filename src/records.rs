//! The JSON records of a profile home (SPEC §2).
//!
//! Every record keeps the keys it does not know in `extra`, so a rewrite by this
//! implementation never drops what a newer one added.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::procfs::ProcessIdentity;
use crate::state::{DesiredState, ExitReason, GatewayState, IntentWriter};
use crate::timefmt::{serde_ts, Timestamp};

/// The only schema version this contract reads and writes.
pub const SCHEMA: u64 = 1;

/// Keys a record does not know, kept across rewrites.
pub type Extra = Map<String, Value>;

/// A JSON record of a profile home.
pub trait Record: Serialize + for<'de> Deserialize<'de> {
    /// Its file name in the home.
    const FILE: &'static str;
    /// Whether it carries a `schema` (and so can be `unsupported`).
    const VERSIONED: bool;
    /// The keys this implementation does not know.
    fn extra_mut(&mut self) -> &mut Extra;
}

/// `gateway_state.json`: the observed state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayStateRecord {
    /// Always [`SCHEMA`].
    pub schema: u64,
    /// The profile the record is about.
    #[serde(default)]
    pub profile: String,
    /// The state.
    pub gateway_state: GatewayState,
    /// Why the last life ended; null while starting or running.
    #[serde(default)]
    pub exit_reason: Option<ExitReason>,
    /// The gateway process the record is about.
    pub pid: i32,
    /// Its start time; with `pid` it names one process life.
    pub start_time: u64,
    /// A restart (SIGUSR1) was under way when it stopped.
    #[serde(default)]
    pub restart_requested: bool,
    /// When it was written.
    #[serde(with = "serde_ts")]
    pub updated_at: Timestamp,
    /// Keys this implementation does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl GatewayStateRecord {
    /// A fresh record about `process`.
    pub fn new(
        profile: &str,
        process: ProcessIdentity,
        gateway_state: GatewayState,
        exit_reason: Option<ExitReason>,
        restart_requested: bool,
        updated_at: Timestamp,
    ) -> Self {
        GatewayStateRecord {
            schema: SCHEMA,
            profile: profile.to_owned(),
            gateway_state,
            exit_reason,
            pid: process.pid,
            start_time: process.start_time,
            restart_requested,
            updated_at,
            extra: Extra::new(),
        }
    }

    /// The process life the record is about.
    pub fn process(&self) -> ProcessIdentity {
        ProcessIdentity {
            pid: self.pid,
            start_time: self.start_time,
        }
    }
}

impl Record for GatewayStateRecord {
    const FILE: &'static str = crate::layout::files::GATEWAY_STATE;
    const VERSIONED: bool = true;
    fn extra_mut(&mut self) -> &mut Extra {
        &mut self.extra
    }
}

/// `desired_state.json`: the operator's intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredStateRecord {
    /// Always [`SCHEMA`].
    pub schema: u64,
    /// The intent.
    pub desired_state: DesiredState,
    /// The command that wrote it.
    pub by: IntentWriter,
    /// When it was written.
    #[serde(with = "serde_ts")]
    pub updated_at: Timestamp,
    /// Keys this implementation does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl DesiredStateRecord {
    /// The intent that `by` records.
    pub fn new(by: IntentWriter, updated_at: Timestamp) -> Self {
        DesiredStateRecord {
            schema: SCHEMA,
            desired_state: by.desired_state(),
            by,
            updated_at,
            extra: Extra::new(),
        }
    }
}

impl Record for DesiredStateRecord {
    const FILE: &'static str = crate::layout::files::DESIRED_STATE;
    const VERSIONED: bool = true;
    fn extra_mut(&mut self) -> &mut Extra {
        &mut self.extra
    }
}

/// `.gateway-planned-stop.json`: written by `gateway stop` before it signals.
///
/// Read leniently by [`crate::marker::judge`]: a marker that does not parse is
/// malformed and never matches, it is not an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedStopMarker {
    /// The pid to be stopped.
    pub target_pid: i32,
    /// Its start time; a missing one never matches.
    #[serde(default)]
    pub target_start_time: Option<u64>,
    /// Who wrote it.
    pub stopper_pid: i32,
    /// When; the marker is valid within [now - 60 s, now + 5 s].
    #[serde(with = "serde_ts")]
    pub written_at: Timestamp,
    /// Keys this implementation does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl PlannedStopMarker {
    /// A marker naming `target`, written now by `stopper_pid`.
    pub fn new(target: ProcessIdentity, stopper_pid: i32, written_at: Timestamp) -> Self {
        PlannedStopMarker {
            target_pid: target.pid,
            target_start_time: Some(target.start_time),
            stopper_pid,
            written_at,
            extra: Extra::new(),
        }
    }
}

impl Record for PlannedStopMarker {
    const FILE: &'static str = crate::layout::files::PLANNED_STOP_MARKER;
    const VERSIONED: bool = false;
    fn extra_mut(&mut self) -> &mut Extra {
        &mut self.extra
    }
}

/// The phase in `lifecycle.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecyclePhase {
    /// Written at start.
    Running,
    /// Written as the last act of a life.
    Exited,
}

/// `lifecycle.json`: did the last life reach its end?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifecycleRecord {
    /// `running` at start, `exited` as the last act.
    pub phase: LifecyclePhase,
    /// The process.
    pub pid: i32,
    /// Its start time.
    pub start_time: u64,
    /// When it was written.
    #[serde(with = "serde_ts")]
    pub updated_at: Timestamp,
    /// Keys this implementation does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl LifecycleRecord {
    /// A record of `phase` for `process`.
    pub fn new(phase: LifecyclePhase, process: ProcessIdentity, updated_at: Timestamp) -> Self {
        LifecycleRecord {
            phase,
            pid: process.pid,
            start_time: process.start_time,
            updated_at,
            extra: Extra::new(),
        }
    }
}

impl Record for LifecycleRecord {
    const FILE: &'static str = crate::layout::files::LIFECYCLE;
    const VERSIONED: bool = false;
    fn extra_mut(&mut self) -> &mut Extra {
        &mut self.extra
    }
}
