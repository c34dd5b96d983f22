//! `restart-harness`: runs restart scenarios against a gateway that honours the
//! restart contract, on local processes or real containers, and gates releases.
//!
//! Jepsen's split: the scenario table and its loader ([`scenario`]) generate the
//! operations, [`fault`] injects the faults through a [`backend::Sandbox`], the
//! [`history`] records everything, [`observe`] reads what happened, and [`check`]
//! compares it with the table's literal expectations. [`runner`] drives it all;
//! [`report`] and [`cli`] present it; [`mutants`] scores the table against
//! deliberately broken gateways (the kill matrix).

pub mod backend;
pub mod check;
pub mod cli;
pub mod explore;
pub mod fault;
pub mod gateway_bin;
pub mod history;
pub mod mutants;
pub mod observe;
pub mod progress;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod status;
pub mod target;
pub mod verdict;
