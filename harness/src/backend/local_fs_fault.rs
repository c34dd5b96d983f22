//! Filesystem faults on a local data dir (the process backend): a read-only
//! bind mount or mode 0500 for a read-only home, a directory where a file
//! belongs, a small full tmpfs for a full disk. A home's read-only mount or
//! mode and its filler are undone by `restore`; every mount before the data
//! dir is removed.
//!
//! Mounts need root, or the sandbox's own user and mount namespace
//! ([`Holder`]): then they are made inside it, and the home is read and
//! written through the namespace's view of it.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use super::user_namespace::Holder;
use super::{BackendError, BackendKind, BackendResult, FsFault};

/// How big the tmpfs of a full disk is.
const FULL_DISK_BYTES: usize = 64 * 1024;

/// The name of the file that fills a full disk.
const FILLER: &str = "harness-filler";

/// The faults applied to one data dir, to undo them.
#[derive(Debug, Default)]
pub struct LocalFsFaults {
    /// Read-only bind mounts, undone by `restore`.
    read_only: Vec<PathBuf>,
    /// The tmpfs of full disks: they hold what was written since, so they
    /// stay until the data dir goes.
    tmpfs: Vec<PathBuf>,
    chmods: Vec<PathBuf>,
}

fn err(what: &str, path: &Path, e: std::io::Error) -> BackendError {
    BackendError::io(what, path, e)
}

fn needs_root(what: &str) -> BackendError {
    BackendError::Unsupported {
        backend: BackendKind::Process,
        what: format!(
            "{what} unless the harness runs as root or in a user namespace (it mounts a filesystem)"
        ),
    }
}

/// Where mounts are made: the harness's own namespace (as root), or a
/// sandbox's user and mount namespace.
#[derive(Clone, Copy)]
pub enum Mounts<'a> {
    /// The harness's mount namespace; mounting needs root.
    Own,
    /// The namespace a [`Holder`] keeps.
    Namespace(&'a Holder),
}

impl Mounts<'_> {
    /// Whether mounts can be made here.
    fn can_mount(self) -> bool {
        match self {
            Mounts::Own => nix::unistd::geteuid().is_root(),
            Mounts::Namespace(_) => true,
        }
    }

    /// `path` as the sandbox's processes see it.
    pub fn view(self, path: &Path) -> PathBuf {
        match self {
            Mounts::Own => path.to_owned(),
            Mounts::Namespace(h) => h.view(path),
        }
    }

    fn tmpfs(self, home: &Path, opts: &str) -> BackendResult<()> {
        match self {
            Mounts::Own => mount(
                Some("tmpfs"),
                home,
                Some("tmpfs"),
                MsFlags::empty(),
                Some(opts),
            )
            .map_err(|e| err("mounting a tmpfs on", home, e.into())),
            Mounts::Namespace(h) => {
                h.run(&["mount", "-t", "tmpfs", "-o", opts, "tmpfs", &text(home)?])
            }
        }
    }

    fn bind_read_only(self, home: &Path) -> BackendResult<()> {
        match self {
            Mounts::Own => {
                mount(
                    Some(home),
                    home,
                    None::<&str>,
                    MsFlags::MS_BIND,
                    None::<&str>,
                )
                .map_err(|e| err("bind-mounting", home, e.into()))?;
                mount(
                    None::<&str>,
                    home,
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
                    None::<&str>,
                )
                .map_err(|e| err("remounting read-only", home, e.into()))
            }
            Mounts::Namespace(h) => {
                let home = text(home)?;
                h.run(&["mount", "--bind", &home, &home])?;
                h.run(&["mount", "-o", "remount,bind,ro", &home])
            }
        }
    }

    fn unmount(self, path: &Path) -> BackendResult<()> {
        match self {
            Mounts::Own => {
                umount2(path, MntFlags::MNT_DETACH).map_err(|e| err("unmounting", path, e.into()))
            }
            Mounts::Namespace(h) => h.run(&["umount", "--lazy", &text(path)?]),
        }
    }
}

fn text(path: &Path) -> BackendResult<String> {
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| BackendError::BadPath {
            path: path.to_owned(),
            why: "is not UTF-8, and the sandbox's namespace is entered with text arguments",
        })
}

impl LocalFsFaults {
    /// Applies `fault` to the profile home `home` (its path as the sandbox's
    /// processes name it), mounting where `mounts` says.
    pub fn apply(&mut self, home: &Path, fault: &FsFault, mounts: Mounts<'_>) -> BackendResult<()> {
        let root = mounts.can_mount();
        match fault {
            FsFault::ReadOnlyHome if root => {
                // Root ignores modes: only a read-only mount makes its writes fail.
                self.read_only.push(home.to_owned());
                mounts.bind_read_only(home)
            }
            FsFault::ReadOnlyHome => {
                std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o500))
                    .map_err(|e| err("making read-only", home, e))?;
                self.chmods.push(home.to_owned());
                Ok(())
            }
            FsFault::DirWhereFile(file) => std::fs::DirBuilder::new()
                .mode(0o700)
                .create(mounts.view(home).join(file))
                .map_err(|e| err(&format!("making a directory {file} in"), home, e)),
            FsFault::FullDisk if root => self.full_disk(home, mounts),
            FsFault::FullDisk => Err(needs_root("fill a disk")),
        }
    }

    /// Moves the home's tree onto a small tmpfs mounted over it, then fills it.
    fn full_disk(&mut self, home: &Path, mounts: Mounts<'_>) -> BackendResult<()> {
        let seen = mounts.view(home);
        // Everything in the home, directories too (a directory where a file
        // belongs is itself a fault the schedule may have made before).
        let tree = read_tree(&seen)?;
        let opts = format!("size={FULL_DISK_BYTES},mode=0700");
        mounts.tmpfs(home, &opts)?;
        self.tmpfs.push(home.to_owned());
        write_tree(&seen, &tree)?;
        // Fill what is left; ENOSPC is the point.
        let filler = seen.join(FILLER);
        let mut f = std::fs::File::create(&filler).map_err(|e| err("creating", &filler, e))?;
        let block = vec![0u8; 4096];
        while std::io::Write::write_all(&mut f, &block).is_ok() {}
        let _ = std::io::Write::flush(&mut f);
        Ok(())
    }

    /// Makes `home` writable again and frees its filler's space.
    pub fn restore(&mut self, home: &Path, mounts: Mounts<'_>) -> BackendResult<()> {
        if let Some(i) = self.read_only.iter().position(|m| m == home) {
            mounts.unmount(home)?;
            self.read_only.remove(i);
        }
        if let Some(i) = self.chmods.iter().position(|c| c == home) {
            std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| err("making writable", home, e))?;
            self.chmods.remove(i);
        }
        if self.tmpfs.iter().any(|m| m == home) {
            let filler = mounts.view(home).join(FILLER);
            std::fs::OpenOptions::new()
                .write(true)
                .open(&filler)
                .and_then(|f| f.set_len(0))
                .map_err(|e| err("emptying", &filler, e))?;
        }
        Ok(())
    }

    /// Undoes every fault (before the data dir is removed). Mounts made in a
    /// sandbox's namespace go with it: only the harness's own are undone.
    pub fn undo(&mut self, mounts: Mounts<'_>) -> BackendResult<()> {
        if let Mounts::Namespace(_) = mounts {
            self.tmpfs.clear();
            self.read_only.clear();
        }
        let mut failed = Vec::new();
        // The read-only bind of a full home lies over its tmpfs: unmount it first.
        let mounts: Vec<PathBuf> = self
            .tmpfs
            .drain(..)
            .chain(self.read_only.drain(..))
            .collect();
        for m in mounts.into_iter().rev() {
            if let Err(e) = umount2(&m, MntFlags::MNT_DETACH) {
                failed.push(format!("unmounting {}: {e}", m.display()));
            }
        }
        for c in self.chmods.drain(..) {
            if let Err(e) = std::fs::set_permissions(&c, std::fs::Permissions::from_mode(0o700)) {
                failed.push(format!("making {} writable: {e}", c.display()));
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(BackendError::LeftBehind {
                when: "when undoing the filesystem faults".to_owned(),
                left: failed.join("; "),
            })
        }
    }
}

/// One entry of a home, as carried onto a full disk's tmpfs.
#[derive(Debug)]
enum Entry {
    File {
        bytes: Vec<u8>,
        mode: u32,
    },
    Dir {
        mode: u32,
        entries: Vec<(std::ffi::OsString, Entry)>,
    },
}

/// The entries under `dir`, read recursively; anything but a regular file or
/// a directory is an error rather than something silently left behind.
fn read_tree(dir: &Path) -> BackendResult<Vec<(std::ffi::OsString, Entry)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| err("reading", dir, e))? {
        let entry = entry.map_err(|e| err("reading", dir, e))?;
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).map_err(|e| err("reading", &path, e))?;
        let mode = meta.permissions().mode() & 0o7777;
        let item = if meta.is_file() {
            Entry::File {
                bytes: std::fs::read(&path).map_err(|e| err("reading", &path, e))?,
                mode,
            }
        } else if meta.is_dir() {
            Entry::Dir {
                mode,
                entries: read_tree(&path)?,
            }
        } else {
            return Err(BackendError::SpecialFile {
                path: path.display().to_string(),
                kind: if meta.is_symlink() {
                    "a symlink"
                } else {
                    "a socket, a fifo or a device"
                }
                .to_owned(),
            });
        };
        out.push((entry.file_name(), item));
    }
    Ok(out)
}

/// Sets `path`'s mode exactly (creation modes pass through the umask).
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// Writes `entries` under `dir` with their modes.
fn write_tree(dir: &Path, entries: &[(std::ffi::OsString, Entry)]) -> BackendResult<()> {
    for (name, entry) in entries {
        let path = dir.join(name);
        match entry {
            Entry::File { bytes, mode } => std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(*mode)
                .open(&path)
                .and_then(|mut f| std::io::Write::write_all(&mut f, bytes))
                .and_then(|()| set_mode(&path, *mode))
                .map_err(|e| err("copying back", &path, e))?,
            Entry::Dir { mode, entries } => {
                std::fs::DirBuilder::new()
                    .mode(*mode)
                    .create(&path)
                    .and_then(|()| set_mode(&path, *mode))
                    .map_err(|e| err("copying back", &path, e))?;
                write_tree(&path, entries)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full disk where this harness makes it: in its own mount namespace
    /// as root, in a sandbox's user and mount namespace otherwise (and there
    /// as root too, so both run in CI).
    fn a_full_disk_keeps_the_homes_files_and_directories_with(mounts: Mounts<'_>) {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("a");
        std::fs::create_dir(&home).unwrap();
        std::fs::write(home.join("gateway_state.json"), b"{}").unwrap();
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(home.join("desired_state.json"))
            .unwrap();
        let mut faults = LocalFsFaults::default();
        faults.apply(&home, &FsFault::FullDisk, mounts).unwrap();
        let seen = mounts.view(&home);
        assert_eq!(
            std::fs::read(seen.join("gateway_state.json")).unwrap(),
            b"{}"
        );
        let meta = std::fs::metadata(seen.join("desired_state.json")).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
        let full = std::fs::write(seen.join("new"), vec![0u8; 8192]).unwrap_err();
        assert_eq!(full.raw_os_error(), Some(nix::libc::ENOSPC));
        faults.restore(&home, mounts).unwrap();
        assert!(seen.join("desired_state.json").is_dir());
        std::fs::write(seen.join("new"), vec![0u8; 8192]).unwrap();
        faults.undo(mounts).unwrap();
    }

    #[test]
    fn a_full_disk_in_a_user_namespace_keeps_the_homes_files_and_directories() {
        let holder = super::super::user_namespace::Holder::start()
            .expect("a user and mount namespace (needs root, or user namespaces allowed)");
        a_full_disk_keeps_the_homes_files_and_directories_with(Mounts::Namespace(&holder));
    }

    #[test]
    #[ignore = "needs root: it mounts in the harness's own mount namespace (CI runs it as root)"]
    fn a_full_disk_as_root_keeps_the_homes_files_and_directories() {
        assert!(nix::unistd::geteuid().is_root(), "run this one as root");
        a_full_disk_keeps_the_homes_files_and_directories_with(Mounts::Own);
    }
}
