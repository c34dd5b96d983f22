//! The default table, embedded at build time from `scenarios/*.toml`, so that
//! `restart-harness run` works with no `--scenarios`.

use super::load::{load_sources, LoadError};
use super::model::Scenario;

include!(concat!(env!("OUT_DIR"), "/embedded_scenarios.rs"));

/// The embedded table, loaded. File names read `scenarios/<file>`.
pub fn load() -> Result<Vec<Scenario>, LoadError> {
    let named: Vec<(String, &str)> = FILES
        .iter()
        .map(|(f, t)| (format!("scenarios/{f}"), *t))
        .collect();
    load_sources(named.iter().map(|(f, t)| (f.as_str(), *t)))
}

/// The text of one embedded file by its name (`01-container-restart.toml`).
pub fn text(file: &str) -> Option<&'static str> {
    FILES.iter().find(|(f, _)| *f == file).map(|(_, t)| *t)
}
