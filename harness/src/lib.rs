//! `restart-harness`: runs restart scenarios against a gateway that honours the
//! restart contract, on local processes or real containers, and gates releases.

pub mod backend;
