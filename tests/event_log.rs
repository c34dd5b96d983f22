//! The event log on a full disk: a line the disk cut short is taken back, so
//! the log stays whole lines and the next append starts a line of its own.

use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use restart_contract::events::{append, Event, EventKind, Source};

/// One tmpfs page: every byte past it is ENOSPC.
const PAGE: usize = 4096;

fn mount_one_page(dir: &Path) -> nix::Result<()> {
    mount(
        Some("tmpfs"),
        dir,
        Some("tmpfs"),
        MsFlags::empty(),
        Some(format!("size={PAGE}").as_str()),
    )
}

/// Valid event lines (padded with a long `signal` name) totalling `len` bytes.
fn lines_of(len: usize) -> Vec<u8> {
    let line = |pad: usize| {
        format!(
            "{{\"ts\":\"2026-12-04T00:00:00.000Z\",\"source\":\"gateway\",\"pid\":1,\"event\":\"signal\",\"signal\":\"{}\",\"cause\":\"signal-initiated\"}}\n",
            "S".repeat(pad)
        )
    };
    let bare = line(0).len();
    let mut out = Vec::new();
    while len - out.len() >= 2 * bare + 200 {
        out.extend(line(200).into_bytes());
    }
    out.extend(line(len - out.len() - bare).into_bytes());
    assert_eq!(out.len(), len);
    out
}

/// Runs the test `name` of this binary again as root of a new user and mount
/// namespace (`unshare -Urm`), where it can mount, and asserts that it ran
/// there and passed: as non-root it is never a silent pass.
fn rerun_as_namespace_root(name: &str) {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount"])
        .arg(exe)
        .args(["--exact", name, "--test-threads", "1"])
        .output()
        .expect("running unshare (util-linux) to mount without root");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{name} in a user namespace (needs root, or user namespaces allowed): {text}"
    );
}

#[test]
fn a_line_a_full_disk_cut_short_is_taken_back() {
    if !nix::unistd::geteuid().is_root() {
        return rerun_as_namespace_root("a_line_a_full_disk_cut_short_is_taken_back");
    }
    let dir = tempfile::tempdir().unwrap();
    mount_one_page(dir.path()).expect("mounting a one-page tmpfs");
    let log = dir.path().join("events.jsonl");
    // Twenty bytes left in the page: the next line fits in part only.
    let before = lines_of(PAGE - 20);
    std::fs::write(&log, &before).unwrap();

    let appended = append(&log, &Event::now(Source::Gateway, EventKind::Running));

    let after = std::fs::read(&log).unwrap();
    umount2(dir.path(), MntFlags::MNT_DETACH).unwrap();
    let e = appended.expect_err("a line longer than the space left cannot be appended");
    assert!(e.to_string().contains("short write"), "{e}");
    assert_eq!(
        after.len(),
        before.len(),
        "the cut-short line was taken back"
    );
    assert_eq!(after, before);
}
