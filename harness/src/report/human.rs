//! The human report: a line saying which backend ran, a table (scenario, backend,
//! result, time, first failing expectation), a summary line, then every failing
//! scenario's expectations and timeline.

use std::fmt::Write as _;

use super::RunReport;
use crate::check::Verdict;
use crate::history;
use crate::runner::{Outcome, ScenarioResult};

fn secs(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

/// The first line: which backend ran.
pub fn header(report: &RunReport) -> String {
    let n = report.summary.total;
    let target = report
        .target
        .as_ref()
        .map_or_else(String::new, |t| format!("target {t}, "));
    let shard = report.partition.as_ref().map_or_else(String::new, |s| {
        format!(" (partition {} of {})", s.partition, s.table.len())
    });
    format!(
        "restart-harness: {target}backend {}, {n} scenario{}{shard}, -j {}",
        report.backend,
        if n == 1 { "" } else { "s" },
        report.jobs
    )
}

/// The table and the summary line.
pub fn table(report: &RunReport) -> String {
    let mut out = String::new();
    let w = report
        .results
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let _ = writeln!(out, "{}", header(report));
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<w$}  {:<7}  {:<6}  {:>6}  FIRST FAILING EXPECTATION",
        "SCENARIO", "BACKEND", "RESULT", "TIME"
    );
    for r in report
        .results
        .iter()
        .filter(|r| r.outcome != Outcome::NotClaimed)
    {
        let _ = writeln!(
            out,
            "{:<w$}  {:<7}  {:<6}  {:>6}  {}",
            r.name,
            r.backend.as_str(),
            r.outcome.as_str(),
            secs(r.duration_ms),
            r.first_failure().unwrap_or_else(|| "-".to_owned())
        );
    }
    let s = report.summary;
    let _ = writeln!(out);
    let mut not_claimed = String::new();
    if s.not_claimed > 0 {
        not_claimed.push_str(&format!(", {} not claimed", s.not_claimed));
    }
    if s.not_run > 0 {
        not_claimed.push_str(&format!(", {} not run", s.not_run));
    }
    let _ = writeln!(
        out,
        "{} passed, {} failed, {} error{}{not_claimed} in {}",
        s.passed,
        s.failed,
        s.error,
        if s.error == 1 { "" } else { "s" },
        secs(report.wall_ms)
    );
    out.push_str(&engines_section(report));
    out.push_str(&not_claimed_section(report));
    if let Some(why) = report.verdict().explain() {
        let _ = writeln!(out, "\n{why}");
    }
    out
}

/// Where a run dealt its table to several engines, a line per engine: how
/// many scenarios it ran, how many passed, and its busy time; nothing for
/// one engine.
fn engines_section(report: &RunReport) -> String {
    let mut engines: Vec<(&str, usize, usize, u64)> = Vec::new();
    for r in &report.results {
        let Some(e) = r.engine.as_deref() else {
            continue;
        };
        let i = match engines.iter().position(|(name, ..)| *name == e) {
            Some(i) => i,
            None => {
                engines.push((e, 0, 0, 0));
                engines.len() - 1
            }
        };
        engines[i].1 += 1;
        engines[i].2 += usize::from(r.outcome == Outcome::Passed);
        engines[i].3 += r.duration_ms;
    }
    if engines.len() < 2 {
        return String::new();
    }
    let mut out = String::new();
    for (name, ran, passed, busy) in engines {
        let _ = writeln!(
            out,
            "  engine {name}: {ran} scenarios, {passed} passed, busy {}",
            secs(busy)
        );
    }
    out
}

/// The scenarios the target does not claim, grouped by the claim and its
/// reason (one paragraph per claim), or nothing.
fn not_claimed_section(report: &RunReport) -> String {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for r in &report.results {
        let Some(nc) = &r.not_claimed else { continue };
        let head = format!("{}: {}", nc.claim, nc.reason);
        match groups.iter_mut().find(|(h, _)| *h == head) {
            Some((_, names)) => names.push(&r.name),
            None => groups.push((head, vec![&r.name])),
        }
    }
    if groups.is_empty() {
        return String::new();
    }
    let target = report.target.as_deref().unwrap_or("the target");
    let mut out = format!("\nNOT CLAIMED by {target} (not run, never counted as passed):\n");
    for (head, names) in groups {
        let _ = writeln!(out, "- {head}\n  {}", names.join(", "));
    }
    out
}

/// One scenario's detail: its failing expectations (or error) and its timeline.
pub fn detail(r: &ScenarioResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "=== {} on {}: {} ({})",
        r.name,
        r.backend,
        r.outcome.as_str(),
        r.fault
    );
    let _ = writeln!(out, "why: {}", r.why);
    if let Some(engine) = &r.engine {
        let _ = writeln!(out, "engine: {engine}");
    }
    if let Some(e) = &r.error {
        let _ = writeln!(out, "error: {e}");
    }
    for e in &r.expectations {
        let mark = match e.verdict {
            Verdict::Pass => "ok  ",
            Verdict::Fail => "FAIL",
            Verdict::Skipped => "skip",
            Verdict::Unobserved => "????",
        };
        let _ = writeln!(out, "  {mark} {e}");
    }
    let _ = writeln!(out, "timeline:");
    out.push_str(&history::render(&r.timeline));
    out
}

/// The whole report: the table, then the detail of every scenario that did not pass.
pub fn render(report: &RunReport) -> String {
    let mut out = table(report);
    for r in report.results.iter().filter(|r| {
        !matches!(
            r.outcome,
            Outcome::Passed | Outcome::NotClaimed | Outcome::NotRun
        )
    }) {
        out.push('\n');
        out.push_str(&detail(r));
    }
    out
}
