//! The harness's integration tests, one test binary (`it`) with a module per
//! former test file: the harness is linked once, not once per file, and the
//! helpers live once, in [`support`].
//!
//! A test's name is its module path: `cargo test -p restart-harness --test it
//! teeth::` runs the module `teeth`, `-- --exact docker_gate::NAME` one test.
//! A filter matches anywhere in the name, so `cli::` also selects
//! `docker_cli::`, `mutants_cli::` and `upstream_hermes::cli::`.
//!
//! Features gate modules here: `docker` adds the `docker_*` modules (they need
//! a Docker Engine, and fail without one), `upstream` adds `upstream_hermes`.

mod support;

mod cli;
#[cfg(feature = "docker")]
mod docker_cli;
#[cfg(feature = "docker")]
mod docker_engines;
#[cfg(feature = "docker")]
mod docker_explore;
#[cfg(feature = "docker")]
mod docker_gate;
#[cfg(feature = "docker")]
mod docker_harness_image;
#[cfg(feature = "docker")]
mod docker_image;
#[cfg(feature = "docker")]
mod docker_mutants;
#[cfg(feature = "docker")]
mod docker_no_daemon;
#[cfg(feature = "docker")]
mod docker_primitives;
#[cfg(feature = "docker")]
mod docker_scenarios;
mod examples_ci;
mod explore_process;
#[cfg(feature = "browser")]
mod html_browser;
mod layers;
mod mutants_cli;
mod mutants_process;
mod mutants_report;
mod process_scenarios;
mod readme;
mod reports;
mod shards;
mod teeth;
mod timing_replays;
#[cfg(feature = "upstream")]
mod upstream_dockerd;
#[cfg(feature = "upstream")]
mod upstream_hermes;
