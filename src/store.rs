//! Atomic writes and classified reads of the contract's files (SPEC §2).
//!
//! Writes: temp file in the same directory, fsync, rename, fsync the directory,
//! mode 0600, and never through a symlink. Reads classify a file as missing,
//! valid, `corrupt` (its bytes kept aside, never replacing an earlier copy) or
//! `unsupported` (a valid record of another schema, left untouched).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use crate::records::{Record, SCHEMA};

/// Why a file of the contract could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The target, or the directory holding it, is a symlink.
    #[error(
        "refusing to write {path}: it is a symlink; replace it with a regular file or directory"
    )]
    Symlink {
        /// The symlink.
        path: PathBuf,
    },
    /// An IO operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// On what.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The record could not be serialized (a bug, not bad input).
    #[error("serializing {path}: {source}")]
    Serialize {
        /// Where it was going.
        path: PathBuf,
        /// The error.
        #[source]
        source: serde_json::Error,
    },
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        op,
        path: path.to_owned(),
        source,
    }
}

fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Refuses `path` when it or its directory is a symlink.
pub fn refuse_symlink(path: &Path) -> Result<(), StoreError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    for p in [path, parent] {
        if is_symlink(p) {
            return Err(StoreError::Symlink { path: p.to_owned() });
        }
    }
    Ok(())
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically: temp, fsync, rename, fsync dir; 0600.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    refuse_symlink(path)?;
    if knobs::IN_PLACE.load(Ordering::Relaxed) {
        return write_in_place(path, bytes);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc_o_nofollow())
            .open(&temp)
            .map_err(io_err("creating", &temp))?;
        file.write_all(bytes).map_err(io_err("writing", &temp))?;
        file.sync_all().map_err(io_err("fsyncing", &temp))?;
        knobs::pause();
        // Checked again just before the rename: a symlink planted meanwhile is
        // replaced by the rename, never written through, but we still refuse.
        refuse_symlink(path)?;
        fs::rename(&temp, path).map_err(io_err("renaming onto", path))?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("fsyncing directory", dir))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// The `writes-in-place` mutant's write: truncate, (pause), write. A kill in
/// between leaves a torn file; that is what the kill storms must catch.
fn write_in_place(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc_o_nofollow())
        .open(path)
        .map_err(io_err("opening", path))?;
    knobs::pause();
    file.write_all(bytes).map_err(io_err("writing", path))?;
    file.sync_all().map_err(io_err("fsyncing", path))
}

/// Process-wide knobs of the writes, for crash-consistency testing: a pause
/// inside each write (the `write_pause_ms` of `config.toml`), and the reference
/// gateway's `writes-in-place` mutant. Both are off unless the gateway sets them.
pub mod knobs {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::Duration;

    pub(super) static IN_PLACE: AtomicBool = AtomicBool::new(false);
    static PAUSE_MS: AtomicU64 = AtomicU64::new(0);

    /// Each write pauses `d` between its bytes and making them the file's.
    pub fn set_write_pause(d: Duration) {
        PAUSE_MS.store(
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Writes go in place, not through a temp file (a deliberate bug).
    pub fn set_in_place(on: bool) {
        IN_PLACE.store(on, Ordering::Relaxed);
    }

    pub(super) fn pause() {
        let ms = PAUSE_MS.load(Ordering::Relaxed);
        if ms > 0 {
            // A deliberate widening of the crash window, not a wait for anything.
            std::thread::sleep(Duration::from_millis(ms));
        }
    }
}

// O_NOFOLLOW on Linux; spelled out to keep the contract crate free of libc.
fn libc_o_nofollow() -> i32 {
    nix::fcntl::OFlag::O_NOFOLLOW.bits()
}

/// Serializes `record` as one JSON line and writes it atomically.
pub fn write_record<R: Record>(path: &Path, record: &R) -> Result<(), StoreError> {
    let mut bytes = serde_json::to_vec(record).map_err(|source| StoreError::Serialize {
        path: path.to_owned(),
        source,
    })?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Writes `record`, keeping the keys that the valid record now at `path` has and
/// `record` does not know. A corrupt file there is kept aside first.
pub fn rewrite_record<R: Record>(path: &Path, record: R) -> Result<(), StoreError> {
    let record = keep_unknown_keys(path, record)?;
    write_record(path, &record)
}

/// `record` with the keys that the valid record now at `path` has and `record`
/// does not know (the read half of [`rewrite_record`]). A corrupt file there
/// is kept aside first.
pub fn keep_unknown_keys<R: Record>(path: &Path, mut record: R) -> Result<R, StoreError> {
    // Refused before reading: a corrupt symlink target must not get the link kept aside.
    refuse_symlink(path)?;
    if let ReadOutcome::Valid(mut old) = read_record::<R>(path)? {
        for (k, v) in std::mem::take(old.extra_mut()) {
            record.extra_mut().entry(k).or_insert(v);
        }
    }
    Ok(record)
}

/// Whether `name` is a temp file that [`write_atomic`] makes for the file `of`
/// (`.<of>.tmp-<pid>-<n>`).
pub fn is_temp_of(name: &str, of: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|rest| rest.strip_prefix(of))
        .is_some_and(|rest| rest.starts_with(".tmp-"))
}

/// Removes the temp files that interrupted atomic writes of `path` left
/// behind (a writer killed between creating its temp file and renaming it).
/// Only the file's one writer may call it, before its first write: any other
/// temp of `path` is then a dead writer's. Returns how many were removed.
pub fn remove_stale_temps(path: &Path) -> Result<usize, StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let Some(of) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Ok(0);
    };
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_err("listing", dir)(e)),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(io_err("listing", dir))?;
        if is_temp_of(&entry.file_name().to_string_lossy(), &of) && remove_if_exists(&entry.path())?
        {
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod temp_tests {
    use super::*;

    #[test]
    fn stale_temps_of_one_file_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gateway_state.json");
        write_atomic(&path, b"{}\n").unwrap();
        for name in [
            ".gateway_state.json.tmp-41-0",
            ".gateway_state.json.tmp-42-3",
            ".lifecycle.json.tmp-41-1",
            "gateway_state.json.corrupt-1",
        ] {
            fs::write(dir.path().join(name), b"{").unwrap();
        }
        assert!(is_temp_of(
            ".gateway_state.json.tmp-41-0",
            "gateway_state.json"
        ));
        assert!(!is_temp_of(
            ".lifecycle.json.tmp-41-1",
            "gateway_state.json"
        ));
        assert_eq!(remove_stale_temps(&path).unwrap(), 2);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec![
                ".lifecycle.json.tmp-41-1",
                "gateway_state.json",
                "gateway_state.json.corrupt-1"
            ]
        );
    }
}

/// What the bytes of a record file are.
#[derive(Debug, Clone, PartialEq)]
pub enum Classified<R> {
    /// A valid record of this schema.
    Valid(R),
    /// Not valid JSON of the schema.
    Corrupt(String),
    /// A valid record with another `schema`.
    Unsupported(u64),
}

/// Classifies `bytes` without touching any file.
pub fn classify<R: Record>(bytes: &[u8]) -> Classified<R> {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return Classified::Corrupt(format!("not JSON: {e}")),
    };
    let Some(obj) = value.as_object() else {
        return Classified::Corrupt("not a JSON object".to_owned());
    };
    if R::VERSIONED {
        match obj.get("schema").and_then(Value::as_u64) {
            None => return Classified::Corrupt("no integer `schema`".to_owned()),
            Some(s) if s != SCHEMA => return Classified::Unsupported(s),
            Some(_) => {}
        }
    }
    match serde_json::from_value::<R>(value) {
        Ok(r) => Classified::Valid(r),
        Err(e) => Classified::Corrupt(e.to_string()),
    }
}

/// What reading a record file found.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadOutcome<R> {
    /// No file.
    Missing,
    /// A valid record.
    Valid(R),
    /// The file was corrupt; its bytes now live at `kept_aside`.
    Corrupt {
        /// Why it is corrupt.
        reason: String,
        /// Where its bytes were kept.
        kept_aside: PathBuf,
    },
    /// A valid record of another schema, left in place.
    Unsupported(u64),
}

/// Reads and classifies the record at `path`, keeping a corrupt file aside.
pub fn read_record<R: Record>(path: &Path) -> Result<ReadOutcome<R>, StoreError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(ReadOutcome::Missing),
        Err(e) => return Err(io_err("reading", path)(e)),
    };
    Ok(match classify::<R>(&bytes) {
        Classified::Valid(r) => ReadOutcome::Valid(r),
        Classified::Unsupported(s) => ReadOutcome::Unsupported(s),
        Classified::Corrupt(reason) => ReadOutcome::Corrupt {
            reason,
            kept_aside: keep_aside(path)?,
        },
    })
}

/// Reads and classifies the record at `path` without changing anything (for
/// observers such as the harness).
pub fn peek_record<R: Record>(path: &Path) -> Result<Option<Classified<R>>, StoreError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(classify::<R>(&b))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("reading", path)(e)),
    }
}

/// Moves `path` to `<name>.corrupt-<unix-seconds>[-N]`, never replacing an
/// earlier copy, and returns where it went.
pub fn keep_aside(path: &Path) -> Result<PathBuf, StoreError> {
    let secs = chrono::Utc::now().timestamp();
    let base = format!("{}.corrupt-{secs}", path.display());
    for n in 0u32.. {
        let target = if n == 0 {
            PathBuf::from(&base)
        } else {
            PathBuf::from(format!("{base}-{n}"))
        };
        // link(2) fails when the target exists: no earlier copy is ever replaced.
        match fs::hard_link(path, &target) {
            Ok(()) => {
                fs::remove_file(path).map_err(io_err("removing", path))?;
                if let Some(dir) = path.parent() {
                    let _ = File::open(dir).and_then(|d| d.sync_all());
                }
                return Ok(target);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err("keeping aside", path)(e)),
        }
    }
    unreachable!("u32 range exhausted keeping {} aside", path.display())
}

/// Removes `path` if it exists; true when something was removed.
pub fn remove_if_exists(path: &Path) -> Result<bool, StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err("removing", path)(e)),
    }
}
