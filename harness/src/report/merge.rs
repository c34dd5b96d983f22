//! `report merge`: the JSON reports of a run's shards (`run --partition K/N
//! --json`) as one report, with one verdict by the rule of `run`.
//!
//! Every scenario of the whole run must be in exactly one part: a shard
//! missing, or one run twice, is an error, never a verdict (a gate that
//! merged half its shards would say yes without looking at the rest).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{RunReport, Shard};
use crate::runner::ScenarioResult;

/// One shard's report, with where it was read.
#[derive(Debug, Clone)]
pub struct Part {
    /// The file.
    pub path: PathBuf,
    /// Its report.
    pub report: RunReport,
}

/// Why shards could not be merged. The CLI exits 2.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A part could not be read.
    #[error("{}: {source}; give the JSON report that `run --json` wrote", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A part is not a report (the file is kept as it is).
    #[error("{}: not a report of `run --json` ({source}); give the file `run --json` wrote", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// Nothing to merge.
    #[error("no report to merge: give every shard's `run --json` report")]
    Empty,
    /// Parts of different runs.
    #[error("{} and {} are not shards of one run ({what} differs): merge the shards of one run only", first.display(), other.display())]
    OtherRun {
        /// The first part.
        first: PathBuf,
        /// The part that differs.
        other: PathBuf,
        /// What differs.
        what: &'static str,
    },
    /// A scenario ran in two parts.
    #[error("{scenario} is in both {} and {}: each shard must be run once, with one N and each K once", first.display(), second.display())]
    Twice {
        /// The scenario.
        scenario: String,
        /// One part.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// A scenario of the run is in no part.
    #[error("{scenario} is in no part ({missing} of the {total} scenarios are missing): give the report of every shard")]
    Missing {
        /// The first one missing.
        scenario: String,
        /// How many are missing.
        missing: usize,
        /// How many the run has.
        total: usize,
    },
}

/// Reads each part.
pub fn read(paths: &[PathBuf]) -> Result<Vec<Part>, MergeError> {
    paths.iter().map(|p| read_one(p)).collect()
}

fn read_one(path: &Path) -> Result<Part, MergeError> {
    let text = std::fs::read_to_string(path).map_err(|source| MergeError::Read {
        path: path.to_owned(),
        source,
    })?;
    let report = serde_json::from_str(&text).map_err(|source| MergeError::Parse {
        path: path.to_owned(),
        source,
    })?;
    Ok(Part {
        path: path.to_owned(),
        report,
    })
}

/// The parts as one report: every scenario of the run once, in table order.
pub fn merge(parts: &[Part]) -> Result<RunReport, MergeError> {
    let first = parts.first().ok_or(MergeError::Empty)?;
    let table = whole_table(first);
    for p in &parts[1..] {
        let differs = |what| MergeError::OtherRun {
            first: first.path.clone(),
            other: p.path.clone(),
            what,
        };
        if p.report.backend_kind != first.report.backend_kind {
            return Err(differs("the backend"));
        }
        if p.report.target != first.report.target {
            return Err(differs("the target"));
        }
        if whole_table(p) != table {
            return Err(differs("the table"));
        }
    }
    let mut found: BTreeMap<&str, (&Path, &ScenarioResult)> = BTreeMap::new();
    for p in parts {
        for r in &p.report.results {
            if let Some((earlier, _)) = found.insert(&r.name, (&p.path, r)) {
                return Err(MergeError::Twice {
                    scenario: r.name.clone(),
                    first: earlier.to_owned(),
                    second: p.path.clone(),
                });
            }
        }
    }
    let missing: Vec<&String> = table
        .iter()
        .filter(|n| !found.contains_key(n.as_str()))
        .collect();
    if let Some(first_missing) = missing.first() {
        return Err(MergeError::Missing {
            scenario: (*first_missing).clone(),
            missing: missing.len(),
            total: table.len(),
        });
    }
    let results: Vec<ScenarioResult> = table
        .iter()
        .filter_map(|n| found.get(n.as_str()).map(|(_, r)| (*r).clone()))
        .collect();
    let mut backends: Vec<&str> = Vec::new();
    for p in parts {
        if !backends.contains(&p.report.backend.as_str()) {
            backends.push(&p.report.backend);
        }
    }
    // The shards ran side by side: the run took as long as the longest.
    let wall_ms = parts.iter().map(|p| p.report.wall_ms).max().unwrap_or(0);
    let jobs = parts.iter().map(|p| p.report.jobs).sum();
    Ok(RunReport::new(
        backends.join("; "),
        first.report.backend_kind,
        jobs,
        wall_ms,
        results,
    )
    .with_target(first.report.target.clone()))
}

/// The whole run a part belongs to: its shard's table, or (a run that was
/// not sharded) its own results.
fn whole_table(p: &Part) -> Vec<String> {
    match &p.report.partition {
        Some(Shard { table, .. }) => table.clone(),
        None => p.report.results.iter().map(|r| r.name.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendKind;
    use crate::runner::Outcome;

    fn result(name: &str, outcome: Outcome) -> ScenarioResult {
        ScenarioResult {
            name: name.to_owned(),
            why: String::new(),
            fault: "sigkill".to_owned(),
            backend: BackendKind::Process,
            outcome,
            duration_ms: 10,
            expectations: Vec::new(),
            error: None,
            not_claimed: None,
            not_run: None,
            started_at: None,
            engine: None,
            timeline: Vec::new(),
        }
    }

    fn part(k: u32, names: &[(&str, Outcome)]) -> Part {
        let table = ["a", "b", "c", "d"].map(str::to_owned).to_vec();
        let report = RunReport::new(
            "process".to_owned(),
            BackendKind::Process,
            2,
            100 * u64::from(k),
            names.iter().map(|(n, o)| result(n, *o)).collect(),
        )
        .with_partition(Some(Shard {
            partition: format!("count:{k}/3"),
            table,
        }));
        // As it travels: through its JSON.
        let text = super::super::json::render(&report).unwrap();
        Part {
            path: PathBuf::from(format!("part{k}.json")),
            report: serde_json::from_str(&text).unwrap(),
        }
    }

    #[test]
    fn three_shards_are_the_whole_run_in_table_order() {
        let merged = merge(&[
            part(2, &[("b", Outcome::Failed)]),
            part(1, &[("a", Outcome::Passed), ("d", Outcome::Passed)]),
            part(3, &[("c", Outcome::Passed)]),
        ])
        .unwrap();
        let names: Vec<&str> = merged.results.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert_eq!((merged.summary.passed, merged.summary.failed), (3, 1));
        assert_eq!(merged.exit_code(), 1);
        assert_eq!(merged.wall_ms, 300);
        assert_eq!(merged.partition, None);
    }

    #[test]
    fn a_missing_shard_or_a_shard_run_twice_is_an_error() {
        let e = merge(&[
            part(1, &[("a", Outcome::Passed), ("d", Outcome::Passed)]),
            part(3, &[("c", Outcome::Passed)]),
        ])
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "b is in no part (1 of the 4 scenarios are missing): give the report of every shard"
        );
        let e = merge(&[
            part(1, &[("a", Outcome::Passed), ("d", Outcome::Passed)]),
            part(2, &[("b", Outcome::Passed)]),
            part(2, &[("b", Outcome::Passed)]),
            part(3, &[("c", Outcome::Passed)]),
        ])
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("b is in both part2.json and part2.json"),
            "{e}"
        );
        assert!(matches!(merge(&[]), Err(MergeError::Empty)));
    }
}
