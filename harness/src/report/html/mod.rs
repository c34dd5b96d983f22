//! The HTML report: one self-contained page (no network, no script) with the
//! summary, then per scenario its expectations and its timeline drawn as SVG
//! ([`picture`]): one lane per profile, each life a bar ending in how the next
//! look found the profile, marks for the fault, signals, commands and boot
//! lines, a tick per recorded version of the state file, and the instants T0,
//! T1 and T2. The first failing expectation links to the instant it read.
//!
//! The page's structure is what tests and readers rely on: each scenario is a
//! `section.scenario#s-NAME`, each lane a `g.lane[data-profile]`, each life a
//! `rect.life`, each mark a `.mark.KIND`, each version a `.tick`, each instant
//! a `line.instant#s-NAME-T1`, and the first failure an `a.first-failure`.

pub mod picture;

use std::fmt::Write as _;

use super::RunReport;
use crate::check::{ExpectationResult, Table, Verdict};
use crate::runner::{Outcome, ScenarioResult};
use picture::{Instant, MarkKind, Picture};

/// The whole page of `report`, titled `title`.
pub fn render(report: &RunReport, title: &str) -> String {
    let mut t = head(title);
    let _ = writeln!(
        t,
        "<p class=\"header\">{}</p>",
        esc(&super::human::header(report))
    );
    summary(&mut t, report);
    // Failures first: they are what the page is opened for.
    let (bad, good): (Vec<&ScenarioResult>, Vec<&ScenarioResult>) = report
        .results
        .iter()
        .partition(|r| matches!(r.outcome, Outcome::Failed | Outcome::Error));
    for r in bad.into_iter().chain(good) {
        scenario(&mut t, r);
    }
    t.push_str("</body></html>\n");
    t
}

/// A page of runs that are not one table's (the mutant gate's runs worth a
/// look, explore's shrunk schedule): `report`, the command's own text report,
/// then each run drawn the same way.
pub fn render_runs(title: &str, report: &str, runs: &[&ScenarioResult]) -> String {
    let mut t = head(title);
    let _ = writeln!(t, "<pre class=\"report\">{}</pre>", esc(report));
    for r in runs {
        scenario(&mut t, r);
    }
    t.push_str("</body></html>\n");
    t
}

/// The page up to its heading, titled `title`.
fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n",
        t = esc(title)
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px;text-align:left}\
span.passed,td.passed{color:#1a7f37}span.failed,td.failed,span.error,td.error,p.error{color:#c62828;font-weight:bold}\
span.not-claimed,td.not-claimed,span.not-run,td.not-run{color:#777}\
section.scenario{border-top:2px solid #ddd;margin-top:1.5em;padding-top:.5em}\
tr.fail td{background:#fdecea}a.first-failure{font-weight:bold;color:#c62828}\
svg{background:#fafafa;border:1px solid #ddd}.lane-label{font-size:12px}\
rect.life{fill:#90caf9;stroke:#1565c0}rect.life.cut{fill:#ffcc80;stroke:#e65100}\
.mark.fault{fill:#c62828}.mark.signal{fill:#6a1b9a}.mark.command{fill:#2e7d32}.mark.boot{fill:#0277bd}.mark.error{fill:#000}\
.tick{stroke:#37474f;stroke-width:2}line.instant{stroke:#555;stroke-dasharray:4 3}.instant-label{font-size:11px}\
pre{font-size:11px;background:#f5f5f5;padding:.5em;overflow-x:auto}";

fn summary(t: &mut String, report: &RunReport) {
    let s = &report.summary;
    let _ = writeln!(
        t,
        "<p class=\"summary\">{} passed, {} failed, {} errors, {} not claimed, {} not run: exit {}</p>",
        s.passed,
        s.failed,
        s.error,
        s.not_claimed,
        s.not_run,
        report.exit_code()
    );
    t.push_str("<table class=\"results\"><tr><th>scenario</th><th>result</th><th>time</th><th>first failing expectation</th></tr>\n");
    for r in &report.results {
        let _ = writeln!(
            t,
            "<tr><td><a href=\"#s-{id}\">{name}</a></td><td class=\"{c}\">{o}</td><td>{:.1}s</td><td>{}</td></tr>",
            r.duration_ms as f64 / 1000.0,
            esc(&r.first_failure().unwrap_or_default()),
            id = slug(&r.name),
            name = esc(&r.name),
            o = r.outcome.as_str(),
            c = class(r.outcome),
        );
    }
    t.push_str("</table>\n");
}

fn scenario(t: &mut String, r: &ScenarioResult) {
    let id = slug(&r.name);
    let _ = writeln!(
        t,
        "<section class=\"scenario {c}\" id=\"s-{id}\"><h2>{} <span class=\"{c}\">{o}</span></h2><p>{}</p><p>fault: <code>{}</code></p>",
        esc(&r.name),
        esc(&r.why),
        esc(&r.fault),
        o = r.outcome.as_str(),
        c = class(r.outcome),
    );
    if let Some(engine) = &r.engine {
        let _ = writeln!(t, "<p>engine: <code>{}</code></p>", esc(engine));
    }
    if let Some(e) = &r.error {
        let _ = writeln!(t, "<p class=\"error\">error: {}</p>", esc(e));
    }
    let pic = picture::picture(r);
    expectations(t, r, &id, &pic);
    t.push_str(&svg(&pic, &id));
    let _ = writeln!(
        t,
        "<details><summary>timeline ({} entries)</summary><pre>{}</pre></details></section>",
        r.timeline.len(),
        esc(&crate::history::render(&r.timeline))
    );
}

/// An outcome as a CSS class.
fn class(o: Outcome) -> &'static str {
    match o {
        Outcome::Passed => "passed",
        Outcome::Failed => "failed",
        Outcome::Error => "error",
        Outcome::NotClaimed => "not-claimed",
        Outcome::NotRun => "not-run",
    }
}

/// The instant an expectation reads at, by its table.
fn read_at(e: &ExpectationResult) -> Instant {
    match e.what.table {
        Table::Terminal | Table::AtRest | Table::Command => Instant::T1,
        Table::Boot | Table::AfterBoot | Table::Container => Instant::T2,
        Table::FirstBoot | Table::Setup(_) | Table::Precondition => Instant::T0,
    }
}

fn expectations(t: &mut String, r: &ScenarioResult, id: &str, pic: &Picture) {
    if r.expectations.is_empty() {
        return;
    }
    t.push_str("<table class=\"expectations\"><tr><th>expectation</th><th>expected</th><th>seen</th><th>verdict</th></tr>\n");
    let mut first = true;
    for e in &r.expectations {
        let failed = e.verdict == Verdict::Fail;
        let what = esc(&e.what.to_string());
        let cell = if failed && first {
            first = false;
            let at = read_at(e);
            // Linked only to an instant the scenario reached and drew.
            if pic.instants.iter().any(|(i, _)| *i == at) {
                format!(
                    "<a class=\"first-failure\" href=\"#s-{id}-{}\" title=\"read at {}\">{what}</a>",
                    at.name(),
                    at.name()
                )
            } else {
                format!("<span class=\"first-failure\">{what}</span>")
            }
        } else {
            what
        };
        let _ = writeln!(
            t,
            "<tr class=\"{}\"><td>{cell}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if failed { "fail" } else { "ok" },
            esc(&e.expected),
            esc(&e.seen),
            verdict_word(e.verdict)
        );
    }
    t.push_str("</table>\n");
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "FAIL",
        Verdict::Skipped => "skipped",
        Verdict::Unobserved => "unobserved",
    }
}

const WIDTH: f64 = 1100.0;
const LEFT: f64 = 110.0;
const LANE: f64 = 30.0;
const TOP: f64 = 34.0;

/// The picture as SVG.
fn svg(p: &Picture, id: &str) -> String {
    let end = p.end_ms.max(1) as f64;
    let x = |ms: u64| LEFT + (ms as f64 / end) * (WIDTH - LEFT - 20.0);
    let lanes: Vec<Option<&str>> = std::iter::once(None)
        .chain(p.lanes.iter().map(|l| Some(l.as_str())))
        .collect();
    let y = |lane: Option<&str>| {
        let i = lanes.iter().position(|l| *l == lane).unwrap_or(0);
        TOP + i as f64 * LANE
    };
    let height = TOP + lanes.len() as f64 * LANE + 24.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\"><title>timeline of {}</title>",
        esc(id)
    );
    for lane in &lanes {
        let ly = y(*lane);
        let name = lane.unwrap_or("supervisor");
        let _ = writeln!(
            s,
            "<g class=\"lane\" data-profile=\"{}\"><line x1=\"{LEFT}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#ddd\"/><text class=\"lane-label\" x=\"6\" y=\"{}\">{}</text>",
            esc(name),
            WIDTH - 10.0,
            ly + LANE / 2.0,
            ly + LANE / 2.0,
            ly + LANE / 2.0 + 4.0,
            esc(name)
        );
        for l in p.lives.iter().filter(|l| Some(l.profile.as_str()) == *lane) {
            let (x0, x1) = (x(l.from_ms), x(l.to_ms).max(x(l.from_ms) + 2.0));
            let ended = l.ended.as_deref().unwrap_or("still running at the end");
            let _ = writeln!(
                s,
                "<rect class=\"life{}\" data-pid=\"{}\" x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\"><title>pid {}, seen from {} ms; next look: {}</title></rect>",
                if l.ended.is_some() { " cut" } else { "" },
                l.pid,
                ly + 6.0,
                x1 - x0,
                LANE - 12.0,
                l.pid,
                l.from_ms,
                esc(ended)
            );
            if l.ended.is_some() {
                // How it ended, at the end of its bar.
                let _ = writeln!(
                    s,
                    "<text class=\"life-end\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">{}</text>",
                    x1 + 2.0,
                    ly + LANE / 2.0 + 3.0,
                    esc(ended.split(',').next().unwrap_or(ended))
                );
            }
        }
        for m in p.marks.iter().filter(|m| m.lane.as_deref() == *lane) {
            let mx = x(m.at_ms);
            let my = ly + LANE / 2.0;
            let shape = match m.kind {
                MarkKind::Boot => format!("<circle cx=\"{mx:.1}\" cy=\"{my:.1}\" r=\"4\""),
                MarkKind::Fault | MarkKind::Error => format!(
                    "<polygon points=\"{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\"",
                    mx,
                    my - 7.0,
                    mx - 6.0,
                    my + 5.0,
                    mx + 6.0,
                    my + 5.0
                ),
                MarkKind::Signal | MarkKind::Command => format!(
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"6\" height=\"12\"",
                    mx - 3.0,
                    my - 6.0
                ),
            };
            let _ = writeln!(
                s,
                "{shape} class=\"mark {}\"><title>{} ms: {}</title>{}",
                m.kind.class(),
                m.at_ms,
                esc(&m.text),
                if shape.starts_with("<circle") {
                    "</circle>"
                } else if shape.starts_with("<polygon") {
                    "</polygon>"
                } else {
                    "</rect>"
                }
            );
        }
        for tk in p.ticks.iter().filter(|t| Some(t.profile.as_str()) == *lane) {
            let tx = x(tk.at_ms);
            let _ = writeln!(
                s,
                "<line class=\"tick\" x1=\"{tx:.1}\" x2=\"{tx:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"><title>{} ms: {}</title></line>",
                ly + 2.0,
                ly + 8.0,
                tk.at_ms,
                esc(&tk.text)
            );
        }
        s.push_str("</g>\n");
    }
    for (i, at) in &p.instants {
        let ix = x(*at);
        let _ = writeln!(
            s,
            "<line class=\"instant\" id=\"s-{id}-{n}\" x1=\"{ix:.1}\" x2=\"{ix:.1}\" y1=\"14\" y2=\"{:.1}\"><title>{n} at {at} ms</title></line><text class=\"instant-label\" x=\"{:.1}\" y=\"11\">{n}</text>",
            height - 8.0,
            ix - 6.0,
            n = i.name()
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{LEFT}\" y=\"{:.1}\" font-size=\"10\">0 ms</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">{} ms</text></svg>",
        height - 4.0,
        WIDTH - 80.0,
        height - 4.0,
        p.end_ms
    );
    s
}

/// A scenario's name as an id (letters, digits, `-`).
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Text as HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendKind;
    use crate::check::ExpectationId;
    use crate::history::{Entry, EntryKind};

    fn failed() -> ScenarioResult {
        let e = |at_ms, kind, text: &str| Entry {
            at_ms,
            kind,
            text: text.to_owned(),
        };
        ScenarioResult {
            name: "core <x>".into(),
            why: "a & b".into(),
            fault: "container-restart".into(),
            backend: BackendKind::Process,
            outcome: Outcome::Failed,
            duration_ms: 500,
            expectations: vec![ExpectationResult {
                what: ExpectationId::parse("at_rest.default.supervised"),
                expected: "up".into(),
                seen: "down".into(),
                verdict: Verdict::Fail,
            }],
            error: None,
            not_claimed: None,
            not_run: None,
            started_at: None,
            engine: None,
            timeline: vec![
                e(10, EntryKind::Wait, "settled (default=up:7:live)"),
                e(10, EntryKind::Phase, "before the fault (T0)"),
                e(20, EntryKind::Phase, "fault: container-restart"),
                e(300, EntryKind::Wait, "settled (default=down)"),
                e(300, EntryKind::Phase, "at rest after the fault (T1)"),
                e(500, EntryKind::Phase, "outcome: failed"),
            ],
        }
    }

    #[test]
    fn the_page_stands_alone_escapes_its_text_and_links_the_failure_to_its_instant() {
        let report = RunReport::new(
            "process".into(),
            BackendKind::Process,
            1,
            500,
            vec![failed()],
        );
        let page = render(&report, "gate <1>");
        assert!(!page.contains("<script"), "no script");
        // The only URL is SVG's namespace: nothing is fetched.
        assert_eq!(
            page.matches("http").count(),
            page.matches("http://www.w3.org/2000/svg").count()
        );
        assert!(page.contains("<title>gate &lt;1&gt;</title>"));
        assert!(page.contains("core &lt;x&gt;") && page.contains("a &amp; b"));
        assert!(page.contains("<section class=\"scenario failed\" id=\"s-core--x-\">"));
        assert!(page.contains("<g class=\"lane\" data-profile=\"default\">"));
        assert!(page.contains("<rect class=\"life cut\" data-pid=\"7\""));
        assert!(page.contains("class=\"mark fault\""));
        assert!(page.contains("<line class=\"instant\" id=\"s-core--x--T1\""));
        assert!(page.contains(
            "<a class=\"first-failure\" href=\"#s-core--x--T1\" title=\"read at T1\">at_rest.default.supervised</a>"
        ));
    }
}
