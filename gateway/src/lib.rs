//! The reference gateway: the executable form of `docs/contract.md` (cited as SPEC §N).
//!
//! - [`run`], one gateway process (`gateway run`), SPEC §3;
//! - [`init`], the supervisor (`gateway init`), SPEC §4;
//! - [`control`], the protocol between the operator commands and init;
//! - [`commands`], the operator and helper commands, SPEC §5;
//! - [`mutants`], deliberately broken behaviours, only with the `mutants` feature.

pub mod cli;
pub mod commands;
pub mod control;
pub mod exit;
pub mod init;
pub mod mutants;
pub mod run;
