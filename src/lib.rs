//! The restart contract of `docs/contract.md` (cited as SPEC §N in this code), shared by the reference gateway and the harness.
//!
//! Everything here is pure data, pure decisions, or file IO with the atomicity and
//! damage rules of the contract:
//!
//! - [`state`], the observed states, the operator's intent, exit reasons;
//! - [`records`], the JSON files of a profile home, which keep keys they do not know;
//! - [`store`], atomic writes (temp, fsync, rename, fsync dir, 0600, no symlinks) and
//!   classified reads (`missing`, `corrupt` kept aside, `unsupported` left alone);
//! - [`marker`], the planned-stop marker rule (SPEC §3);
//! - [`teardown`], the teardown table, signal and marker verdict to terminal write (SPEC §3);
//! - [`boot`], the boot table and the boot line (SPEC §2, §4);
//! - [`events`], the `events.jsonl` history;
//! - [`config`], `config.toml`;
//! - [`layout`], profile names and where every file lives;
//! - [`procfs`], the start time that tells two lives of one PID apart;
//! - [`status`], the `gateway status --json` document.

pub mod boot;
pub mod config;
pub mod events;
pub mod layout;
pub mod marker;
pub mod procfs;
pub mod records;
pub mod state;
pub mod status;
pub mod store;
pub mod teardown;
pub mod timefmt;

pub use state::{DesiredState, ExitReason, GatewayState};
