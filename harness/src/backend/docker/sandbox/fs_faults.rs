//! Filesystem faults in a profile's home, made with archives the engine
//! extracts as root: a read-only home (mode 0555), a directory where a file
//! belongs, a full disk (filler files until ENOSPC); and their undoing.

use std::path::Path;

use super::DockerSandbox;
use crate::backend::docker::archive;
use crate::backend::{BackendError, BackendResult, FsFault};

/// The names of the files that fill a full disk (`harness-filler-N`).
const FILLER_PREFIX: &str = "harness-filler-";
/// The size of one filler file: one page of tmpfs.
const FILLER_BYTES: usize = 4096;

impl DockerSandbox {
    /// Makes writes in `profile`'s home fail as `fault` says.
    pub(super) async fn make_fs_fault(
        &mut self,
        profile: &str,
        fault: &FsFault,
    ) -> BackendResult<()> {
        self.thaw();
        let uid = self.spec.shape.uid;
        // The engine extracts as root and applies each header's owner and mode,
        // also over an existing directory.
        let (dest, tar) = match fault {
            // The gateway runs as its image's user, not root: mode 0555 is EACCES.
            FsFault::ReadOnlyHome => (
                self.data_path(Path::new("profiles"))?,
                archive::dir_tar(uid, profile, 0o555)?,
            ),
            FsFault::DirWhereFile(file) => (
                self.data_path(&Path::new("profiles").join(profile))?,
                archive::dir_tar(uid, file, 0o700)?,
            ),
            FsFault::FullDisk => return self.fill_disk(profile).await,
        };
        if !archive::upload(&self.docker, &self.id, &dest, tar).await? {
            return Err(BackendError::NotInContainer {
                action: fault.to_string(),
                path: dest,
                container: self.name.clone(),
            });
        }
        if *fault == FsFault::ReadOnlyHome {
            self.read_only.insert(profile.to_owned());
        }
        Ok(())
    }

    /// Fills the homes' tmpfs from `profile`'s home with page-sized filler
    /// files, in one upload that must end with the engine's ENOSPC.
    async fn fill_disk(&mut self, profile: &str) -> BackendResult<()> {
        let Some(limit) = self.spec.disk_limit else {
            return Err(BackendError::SpecLacks {
                fault: "full-disk",
                needs: "a size-limited filesystem for the homes",
                field: "disk_limit",
            });
        };
        // More pages than the whole tmpfs: the upload must run out of space.
        let n = usize::try_from(limit).unwrap_or(usize::MAX) / FILLER_BYTES + 2;
        let dest = self.data_path(&Path::new("profiles").join(profile))?;
        let tar = archive::files_tar(self.spec.shape.uid, &filler_names(n), FILLER_BYTES)?;
        self.fillers.insert(profile.to_owned(), n);
        match archive::upload(&self.docker, &self.id, &dest, tar).await {
            Ok(true) => Err(BackendError::DiskNotFull {
                pages: n,
                path: dest,
                limit,
            }),
            Ok(false) => Err(BackendError::NotInContainer {
                action: "full disk".to_owned(),
                path: dest,
                container: self.name.clone(),
            }),
            // The engine names ENOSPC only in its message.
            Err(e) if e.to_string().contains("no space left on device") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Undoes the read-only home and the fillers of `profile`.
    pub(super) async fn undo_fs_faults(&mut self, profile: &str) -> BackendResult<()> {
        self.thaw();
        let uid = self.spec.shape.uid;
        if self.read_only.remove(profile) {
            // Homes are 0700 (SPEC §1).
            let dest = self.data_path(Path::new("profiles"))?;
            let tar = archive::dir_tar(uid, profile, 0o700)?;
            archive::upload(&self.docker, &self.id, &dest, tar).await?;
        }
        if let Some(n) = self.fillers.remove(profile) {
            // An empty file in a filler's place frees its page.
            let dest = self.data_path(&Path::new("profiles").join(profile))?;
            let tar = archive::files_tar(uid, &filler_names(n), 0)?;
            archive::upload(&self.docker, &self.id, &dest, tar).await?;
        }
        Ok(())
    }
}

/// The names of a full disk's `n` filler files.
fn filler_names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{FILLER_PREFIX}{i}")).collect()
}
