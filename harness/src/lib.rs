//! `restart-harness`: runs restart scenarios against a gateway that honours the
//! restart contract, on local processes or real containers, and gates releases.
//!
//! Jepsen's split, in layers that import only downwards:
//!
//! - [`backend`]: where a supervisor runs (local processes, Docker) and its
//!   primitives; [`history`]: the timeline of a run;
//! - [`observe`]: what is seen, as plain data and derivations without IO;
//! - [`target`]: what is gated (the reference, or an adapter file) and the
//!   driver that reaches it; [`status`]: the waits built on its status;
//! - [`op`]: every operation, its TOML form and the one interpreter that
//!   performs it; [`scenario`]: the table (setup operations, a fault, literal
//!   expectations); [`check`]: the expectations against observations;
//! - [`runner`] drives a scenario; [`explore`] draws schedules against a model;
//!   [`report`] presents runs; [`mutants`] scores the table against
//!   deliberately broken gateways; [`cli`] and its exit codes ([`verdict`],
//!   at the bottom with [`progress`] and [`gateway_bin`]) front it all.

pub mod backend;
pub mod check;
pub mod cli;
pub mod explore;
pub mod gateway_bin;
pub mod history;
pub mod mutants;
pub mod observe;
pub mod op;
pub mod partition;
pub mod progress;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod status;
pub mod target;
pub mod verdict;
