//! What the test modules share: the gateway binary built once per test
//! process, one scenario of the embedded table run to its result, the kill
//! matrix's plan and checks, the `restart-harness` command, and the names of
//! tests and snapshots in this one binary. The Docker tests' helpers are in
//! `docker`.
//!
//! Panicking helpers live here on purpose: they are for tests only. The
//! floor bench (`benches/floor.rs`) includes this module too.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use restart_harness::backend::process::ProcessBackend;
use restart_harness::backend::Backend;
use restart_harness::gateway_bin::{self, Build};
use restart_harness::report::human;
use restart_harness::runner::{self, Outcome, RunOptions, ScenarioResult};
use restart_harness::scenario::{embedded, load};

#[cfg(feature = "docker")]
pub mod docker;

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
pub fn runs_on(file: &str, kind: restart_harness::backend::BackendKind) -> bool {
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

/// The kill-matrix plan of the embedded table on `kind`: every scenario that
/// runs there and the reference claims, the `mutants`, each until its first
/// kill unless `full`.
///
/// # Panics
/// When the embedded table does not load.
pub fn mutant_plan(
    kind: restart_harness::backend::BackendKind,
    mutants: Vec<restart_harness::mutants::MutantInfo>,
    full: bool,
    jobs: usize,
) -> restart_harness::mutants::run::Plan {
    let scenarios = embedded::load()
        .unwrap_or_else(|e| panic!("the embedded table does not load: {e}"))
        .into_iter()
        .filter(|s| s.runs_on(kind) && restart_harness::mutants::run::in_the_gate(s))
        .collect();
    restart_harness::mutants::run::Plan {
        scenarios,
        mutants,
        full,
        jobs,
        waits: restart_harness::status::Waits::default(),
    }
}

/// The mutants every build must keep: the bug classes that reached upstream
/// users (issue 5's list) and the ones added since. A surviving mutant is a
/// hole in the table to fill with a scenario, never a mutant to delete.
pub const KNOWN_MUTANTS: [&str; 18] = [
    "teardown-always-stopped",
    "teardown-skips-terminal-write",
    "signal-means-crash",
    "stop-writes-no-marker",
    "marker-pid-only",
    "boot-autostarts-everything",
    "boot-ignores-draining",
    "marker-never-expires",
    "marker-in-default-home",
    "stop-skips-marker",
    "signal-exits-zero",
    "never-give-up",
    "stop-ignores-intent-failure",
    "writes-in-place",
    "stop-keeps-backoff",
    "start-in-backoff-keeps-crashes",
    "crash-window-never-slides",
    "commands-not-serialized",
];

/// Panics, with the whole rendered report, unless the reference passed every
/// scenario, every mutant was killed and no run ended in an error.
pub fn assert_every_mutant_killed(report: &restart_harness::mutants::report::MutantsReport) {
    use restart_harness::mutants::matrix::RowVerdict;
    let text = restart_harness::mutants::report::render(report);
    let m = &report.matrix;
    let not_killed: Vec<&str> = m
        .rows
        .iter()
        .filter(|r| !matches!(r.verdict, RowVerdict::Killed { .. }))
        .map(|r| r.mutant.as_str())
        .collect();
    assert!(
        m.summary.errors == 0,
        "{} run(s) ended in an error: the verdict is unknown\n{text}",
        m.summary.errors
    );
    assert!(
        m.summary.reference_failed == 0 && m.summary.reference_passed == m.scenarios.len(),
        "the reference must pass every scenario\n{text}"
    );
    assert!(
        not_killed.is_empty(),
        "not killed (a hole in the table: add a scenario): {not_killed:?}\n{text}"
    );
    assert_eq!(m.exit_code, 0, "{text}");
}

/// The name libtest gives the test `name` of the module at `module_path`
/// (`module_path!()`, which starts with this binary's crate name, `it`):
/// `docker_no_daemon::connect_or_panic_child`. A filter with `--exact` must
/// be this whole name.
#[cfg(feature = "docker")]
pub fn test_name(module_path: &str, name: &str) -> String {
    match module_path.split_once("::") {
        Some((_crate, module)) => format!("{module}::{name}"),
        None => name.to_owned(),
    }
}

/// Settings under which a named snapshot is `tests/snapshots/<name>.snap`:
/// the folder and the names the snapshots had when each test file was a
/// binary of its own. Insta's default, from this binary's module paths, would
/// be `tests/it/snapshots/it__<module>__<name>.snap`.
pub fn snapshot_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s
}

/// The `restart-harness` binary of this build, blind to a gateway or mutant
/// chosen by the caller's environment: a test names what it runs.
pub fn harness() -> assert_cmd::Command {
    let mut c =
        assert_cmd::Command::cargo_bin("restart-harness").expect("the restart-harness binary");
    c.env_remove("RESTART_HARNESS_GATEWAY")
        .env_remove("GATEWAY_MUTANT");
    c
}

/// A one-scenario table file: a bare SIGTERM to `default`, whose terminal
/// write must say `gateway_state` (the reference's says `running`).
pub fn bare_sigterm_scenario(name: &str, gateway_state: &str) -> String {
    format!(
        r#"name = "{name}"
why = "A bare SIGTERM is signal-initiated."
profiles = ["default"]
backends = ["process"]
claims = ["bare-sigterm-is-not-a-stop"]
[fault]
kind = "bare-sigterm"
profile = "default"

[expect.terminal.default]
gateway_state = "{gateway_state}"
"#
    )
}

/// Runs `cmd` and asserts that it refused: exit 2, and `needle` on stderr.
pub fn refused(cmd: &mut assert_cmd::Command, needle: &str) {
    cmd.assert()
        .code(2)
        .stderr(predicates::str::contains(needle));
}

/// A finished command's stdout, then its stderr: what a user would have seen.
pub fn all_output(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// How many runs a test starts at once: the positive number in `$var`, else
/// `default`. Scenarios mostly wait (drains, backoffs, restarts), so far more
/// run at once than there are cores.
pub fn jobs_from_env(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}
