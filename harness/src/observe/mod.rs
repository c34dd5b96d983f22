//! What the checker compares with the table: read from the target's files,
//! `events.jsonl`, `DATA/boot.log` and `gateway status --json`, never from the
//! harness's own idea of what should have happened.
//!
//! - the terminal write of a faulted life: its `signal` event (cause), its last
//!   `persisted` event (state, exit reason), and init's `reaped` event for its pid;
//! - the files at rest: `gateway_state.json` and `desired_state.json` classified as
//!   the contract does (without touching them), the marker, kept-aside copies;
//! - the boot lines of one boot (the lines appended after a given line count);
//! - supervision and liveness from status.

pub mod derive;
pub mod model;

pub use derive::{
    boot_lines_since, is_judged_for_tears, is_temp_file, is_whole_json, liveness,
    record_events_tail, startups_since, terminal_of, torn_in,
};
pub use model::{
    CauseSeen, ContainerSeen, ExitSeen, FileState, Life, LiveSeen, Observation, ProfileStatus,
    RestSeen, Status, Supervised, TerminalSeen,
};
