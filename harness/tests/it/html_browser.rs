//! The HTML report of a real failing run, opened in a real browser: headless
//! Chromium (Debian's package) loads the page, and the DOM it built has the
//! scenario's lanes, its lives and marks, the instants, and the first failing
//! expectation linked to the instant it read; a screenshot of it is taken.
//! Behind the `browser` feature; without Chromium it fails, never skips.

use std::path::Path;
use std::process::Command;

use restart_harness::gateway_bin::Build;

use crate::support::{self, all_output, harness};

/// The page as Chromium parsed it.
fn dom_of(page: &Path) -> String {
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| {
            panic!("running chromium: {e}; install it (bash ci/ensure-chromium.sh) or leave the `browser` feature off")
        });
    assert!(out.status.success(), "{}", all_output(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_failing_run_draws_its_timeline_in_chromium() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let page = dir.path().join("gate.html");
    // A real failing run: the mutant that persists `stopped` on every
    // teardown, through a container restart, on local processes.
    let out = harness()
        .args([
            "run",
            "--backend",
            "process",
            "--gateway",
            &support::gateway(Build::Mutants).display().to_string(),
            "--mutant",
            "teardown-always-stopped",
            "--filter",
            "^core-container-restart$",
            "--html",
        ])
        .arg(&page)
        .output()
        .expect("running restart-harness run");
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let dom = dom_of(&page);
    let id = "s-core-container-restart";
    for needle in [
        format!("<section class=\"scenario failed\" id=\"{id}\">"),
        "<g class=\"lane\" data-profile=\"default\">".to_owned(),
        "<g class=\"lane\" data-profile=\"supervisor\">".to_owned(),
        "<rect class=\"life cut\"".to_owned(),
        "class=\"mark fault\"".to_owned(),
        "class=\"mark boot\"".to_owned(),
        format!("<line class=\"instant\" id=\"{id}-T0\""),
        format!("<line class=\"instant\" id=\"{id}-T1\""),
        format!("<line class=\"instant\" id=\"{id}-T2\""),
        format!(
            "<a class=\"first-failure\" href=\"#{id}-T1\" title=\"read at T1\">terminal.default.gateway_state</a>"
        ),
    ] {
        assert!(dom.contains(&needle), "no {needle} in the DOM:\n{dom}");
    }
    // And it draws: a screenshot of the page is an image of some size.
    let shot = dir.path().join("gate.png");
    let status = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1200,900",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("running chromium");
    assert!(status.status.success(), "{}", all_output(&status));
    let png = std::fs::read(&shot).expect("the screenshot");
    assert_eq!(&png[1..4], b"PNG");
    assert!(png.len() > 20_000, "a blank page? {} bytes", png.len());
}
