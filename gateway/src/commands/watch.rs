//! `gateway watch DIR --name FILE...`: prints every version of the named files
//! written anywhere under DIR, as one JSON line each, from inotify.
//!
//! Not part of the contract: a tool of the harness. A target that keeps no
//! event history still gets its terminal write checked, even when the next life
//! overwrites the file before anyone looks, because a sidecar container runs
//! this over the target's volume (mounted read-only) and keeps every version
//! with its time. It lives in this binary because that is the project's one
//! static binary in a `FROM scratch` image.
//!
//! Lines: `{"ts":..,"event":"watching"}` once the watches are in place, then
//! `{"ts":..,"path":"profiles/b/gateway_state.json","text":"..."}` per version
//! (`text` null when the file was removed or vanished before it was read). A
//! file written twice before it is read shows its newer content twice: a version
//! can be missed, never invented.

use std::collections::HashMap;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use restart_contract::timefmt;

use crate::exit::CommandError;

/// What is watched.
struct Watcher {
    inotify: Inotify,
    root: PathBuf,
    names: Vec<String>,
    dirs: HashMap<WatchDescriptor, PathBuf>,
}

impl Watcher {
    /// Watches `dir` and every directory below it; prints what the matching
    /// files hold now.
    fn add_tree(&mut self, dir: &Path) -> Result<(), CommandError> {
        let flags = AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_ONLYDIR;
        let wd = match self.inotify.add_watch(dir, flags) {
            Ok(wd) => wd,
            // A directory made and removed at once (an engine's scratch
            // dirs): gone before it could be watched, so nothing of it can
            // be missed.
            Err(nix::errno::Errno::ENOENT | nix::errno::Errno::ENOTDIR) if dir != self.root => {
                return Ok(())
            }
            Err(e) => {
                return Err(CommandError::failed(format!(
                    "watch {}: {e}",
                    dir.display()
                )))
            }
        };
        self.dirs.insert(wd, dir.to_owned());
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(()); // gone already: its parent's events say so
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                self.add_tree(&path)?;
            } else if self.wanted(&entry.file_name().to_string_lossy()) {
                self.print_version(&path);
            }
        }
        Ok(())
    }

    fn wanted(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    fn print_version(&self, path: &Path) {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        let text = std::fs::read(path)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        emit(&serde_json::json!({
            "ts": timefmt::format(&timefmt::now()),
            "path": rel.to_string_lossy(),
            "text": text,
        }));
    }
}

fn emit(value: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    // A closed stdout ends the watch on the next write: nothing reads it any more.
    if writeln!(out, "{value}").and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
}

/// Runs until killed.
pub fn watch(dir: &Path, names: &[String]) -> Result<i32, CommandError> {
    if !dir.is_dir() {
        return Err(CommandError::usage(format!(
            "{} is not a directory: give the directory to watch",
            dir.display()
        )));
    }
    let inotify = Inotify::init(InitFlags::IN_CLOEXEC)
        .map_err(|e| CommandError::failed(format!("inotify_init: {e}")))?;
    let mut w = Watcher {
        inotify,
        root: dir.to_owned(),
        names: names.to_vec(),
        dirs: HashMap::new(),
    };
    w.add_tree(dir)?;
    emit(&serde_json::json!({"ts": timefmt::format(&timefmt::now()), "event": "watching"}));
    loop {
        let events = w
            .inotify
            .read_events()
            .map_err(|e| CommandError::failed(format!("reading inotify events: {e}")))?;
        for ev in events {
            let (Some(parent), Some(name)) = (w.dirs.get(&ev.wd).cloned(), ev.name) else {
                continue;
            };
            let path = parent.join(std::ffi::OsStr::from_bytes(name.as_bytes()));
            if ev.mask.contains(AddWatchFlags::IN_ISDIR) {
                if ev
                    .mask
                    .intersects(AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO)
                {
                    w.add_tree(&path)?;
                }
            } else if w.wanted(&name.to_string_lossy()) {
                if ev.mask.contains(AddWatchFlags::IN_DELETE) {
                    let rel = path.strip_prefix(&w.root).unwrap_or(&path);
                    emit(&serde_json::json!({
                        "ts": timefmt::format(&timefmt::now()),
                        "path": rel.to_string_lossy(),
                        "text": null,
                    }));
                } else if ev
                    .mask
                    .intersects(AddWatchFlags::IN_CLOSE_WRITE | AddWatchFlags::IN_MOVED_TO)
                {
                    w.print_version(&path);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_gone_before_its_watch_is_skipped_but_a_missing_root_is_not() {
        let root = tempfile::tempdir().unwrap();
        let mut w = Watcher {
            inotify: Inotify::init(InitFlags::IN_CLOEXEC).unwrap(),
            root: root.path().to_owned(),
            names: vec!["config.v2.json".to_owned()],
            dirs: HashMap::new(),
        };
        w.add_tree(root.path()).unwrap();
        assert!(w.add_tree(&root.path().join("gen-runtimes123")).is_ok());
        assert_eq!(w.dirs.len(), 1);
        w.root = root.path().join("nosuch");
        let root_missing = w.root.clone();
        assert!(w.add_tree(&root_missing).is_err());
    }
}
