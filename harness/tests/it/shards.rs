//! A run split into shards (`--partition count:K/N`, `hash:K/N`) and joined
//! again (`report merge`): every scenario in exactly one shard, the same
//! shards from the same table, and the merged report the whole run's, with
//! the whole run's verdict and JUnit.

use std::path::Path;

use predicates::prelude::*;
use restart_harness::gateway_bin::Build;
use restart_harness::report::RunReport;

use crate::support::{self, all_output, harness};

/// The scenarios `list` prints (the first word of each row), as the CLI sees
/// them with `args`.
fn listed(args: &[&str]) -> Vec<String> {
    let out = harness()
        .arg("list")
        .args(args)
        .output()
        .expect("running restart-harness list");
    assert!(out.status.success(), "{}", all_output(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| *w != "SCENARIO")
        .map(str::to_owned)
        .collect()
}

#[test]
fn three_shards_hold_every_scenario_of_the_table_once() {
    let whole = listed(&[]);
    assert!(whole.len() > 60, "{whole:?}");
    for strategy in ["count", "hash"] {
        let mut dealt: Vec<String> = Vec::new();
        for k in 1..=3 {
            let shard = listed(&["--partition", &format!("{strategy}:{k}/3")]);
            assert!(!shard.is_empty(), "{strategy}:{k}/3 is empty");
            // The same table deals the same shard every time.
            assert_eq!(
                shard,
                listed(&["--partition", &format!("{strategy}:{k}/3")])
            );
            dealt.extend(shard);
        }
        let mut sorted = dealt.clone();
        sorted.sort();
        let mut expected = whole.clone();
        expected.sort();
        assert_eq!(sorted, expected, "{strategy}: each scenario exactly once");
    }
}

/// `run` on local processes with the reference gateway, scenarios `filter`.
fn run_on_processes(filter: &str) -> assert_cmd::Command {
    let gateway = support::gateway(Build::Reference).display().to_string();
    let mut c = harness();
    c.args(["run", "--backend", "process", "-j", "2", "--gateway"])
        .arg(gateway)
        .args(["--filter", filter]);
    c
}

fn run_json(dir: &Path, name: &str, extra: &[&str]) -> (i32, RunReport) {
    let json = dir.join(name);
    let out = run_on_processes("^(core-|bare-sigterm$|sigkill$)")
        .arg("--json")
        .arg(&json)
        .args(extra)
        .output()
        .expect("running restart-harness run");
    let code = out.status.code().unwrap_or(-1);
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!("{}: {e}\n{}", json.display(), all_output(&out));
    });
    (code, serde_json::from_str(&text).expect("a run report"))
}

#[test]
fn three_shards_merged_are_the_whole_run() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (whole_code, whole) = run_json(dir.path(), "whole.json", &[]);
    let mut parts = Vec::new();
    for k in 1..=3 {
        let name = format!("part{k}.json");
        let (code, part) = run_json(dir.path(), &name, &["--partition", &format!("count:{k}/3")]);
        assert_eq!(code, 0, "shard {k}");
        assert!(part.summary.total < whole.summary.total);
        parts.push(dir.path().join(name));
    }
    let merged_json = dir.path().join("merged.json");
    let junit = dir.path().join("merged.xml");
    let out = harness()
        .args(["report", "merge"])
        .args(&parts)
        .arg("--json")
        .arg(&merged_json)
        .arg("--junit")
        .arg(&junit)
        .output()
        .expect("running restart-harness report merge");
    assert_eq!(out.status.code(), Some(whole_code), "{}", all_output(&out));
    let merged: RunReport =
        serde_json::from_str(&std::fs::read_to_string(&merged_json).unwrap()).unwrap();
    let names = |r: &RunReport| -> Vec<(String, &'static str)> {
        r.results
            .iter()
            .map(|s| (s.name.clone(), s.outcome.as_str()))
            .collect()
    };
    assert_eq!(names(&merged), names(&whole));
    assert_eq!(merged.summary, whole.summary);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(
        xml.matches("<testcase ").count(),
        whole.summary.total,
        "{xml}"
    );

    // A shard left out is an error, never a verdict.
    harness()
        .args(["report", "merge"])
        .args(&parts[..2])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is in no part"))
        .stderr(predicate::str::contains("give the report of every shard"));
    // And one given twice.
    harness()
        .args(["report", "merge"])
        .args([&parts[0], &parts[0], &parts[1], &parts[2]])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is in both"));
}

#[test]
fn an_empty_shard_says_so_and_a_bad_partition_says_what_to_write() {
    run_on_processes("^core-sigkill$")
        .args(["--partition", "count:2/2"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "partition count:2/2 holds none of the 1 scenarios: nothing to run in this shard",
        ));
    harness()
        .args(["run", "--partition", "count:4/3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("K must be between 1 and N"));
    let dir = tempfile::tempdir().expect("a temp dir");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"not\": \"a report\"}").unwrap();
    harness()
        .args(["report", "merge"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a report of `run --json`"));
    // Nothing lost: the file is as it was.
    assert_eq!(
        std::fs::read_to_string(&bad).unwrap(),
        "{\"not\": \"a report\"}"
    );
}
