//! Support for tests, this crate's and its users': the gateway binary built once
//! per test process, and one scenario of the embedded table run to its result.
//!
//! Panicking helpers live here on purpose: they are for tests only.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use crate::backend::process::ProcessBackend;
use crate::backend::Backend;
use crate::gateway_bin::{self, Build};
use crate::report::human;
use crate::runner::{self, Outcome, RunOptions, ScenarioResult};
use crate::scenario::{embedded, load};

/// The gateway binary of `build` (`$RESTART_HARNESS_GATEWAY` for the reference
/// build, else cargo), built at most once per test process.
///
/// # Panics
/// When it cannot be had: a test cannot run without it.
pub fn gateway(build: Build) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<Build, PathBuf>>> = OnceLock::new();
    let map = BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    // One build at a time: concurrent tests wait for the first one's result.
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(p) = map.get(&build) {
        return p.clone();
    }
    let path = gateway_bin::locate(None, build)
        .unwrap_or_else(|e| panic!("no gateway binary ({build:?}): {e}"));
    map.insert(build, path.clone());
    path
}

/// A process backend running the `build` gateway.
pub fn process_backend(build: Build) -> ProcessBackend {
    ProcessBackend::new(gateway(build))
}

/// Runs the embedded scenario in `file` on `backend` with extra environment `env`.
///
/// # Panics
/// When the file is not in the embedded table or does not load.
pub fn run_embedded(file: &str, backend: &dyn Backend, env: &[(&str, &str)]) -> ScenarioResult {
    let text = embedded::text(file).unwrap_or_else(|| panic!("{file} is not in scenarios/"));
    let scenario =
        load::parse_scenario(&format!("scenarios/{file}"), text).unwrap_or_else(|e| panic!("{e}"));
    let opts = RunOptions {
        env: env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        jobs: 1,
        ..RunOptions::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("a tokio runtime: {e}"));
    rt.block_on(runner::run_scenario(backend, &scenario, &opts))
}

/// Whether the embedded scenario in `file` runs on `kind`.
///
/// # Panics
/// When the file is not in the embedded table or does not load.
pub fn runs_on(file: &str, kind: crate::backend::BackendKind) -> bool {
    let text = embedded::text(file).unwrap_or_else(|| panic!("{file} is not in scenarios/"));
    load::parse_scenario(file, text)
        .unwrap_or_else(|e| panic!("{e}"))
        .runs_on(kind)
}

/// Panics with the scenario's expectations and whole timeline unless it passed.
pub fn assert_passed(r: &ScenarioResult) {
    if r.outcome != Outcome::Passed {
        panic!(
            "scenario {} {}\n{}",
            r.name,
            r.outcome.as_str(),
            human::detail(r)
        );
    }
}
