//! The data dir's files through the engine's archive API: reads (live, or of
//! the instant of a freeze) and writes owned by the shape's user.

use std::path::Path;

use super::DockerSandbox;
use crate::backend::docker::archive;
use crate::backend::{BackendError, BackendResult};

/// How many times an archive the engine cut short is asked for again.
const ARCHIVE_ATTEMPTS: usize = 5;

impl DockerSandbox {
    /// The container path of a data-dir path.
    pub(super) fn data_path(&self, rel: &Path) -> BackendResult<String> {
        archive::data_path_in(&self.spec.shape.data_dir, rel)
    }

    /// Reads a data-dir file; `None` when absent.
    pub(super) async fn read(&self, rel: &Path) -> BackendResult<Option<Vec<u8>>> {
        let path = self.data_path(rel)?;
        if let Some(tree) = self.frozen_tree().await? {
            return tree.file(rel, &path);
        }
        match archive::download(&self.docker, &self.id, &path).await? {
            None => Ok(None),
            Some(tar) => archive::file_from_tar(&path, &tar).map(Some),
        }
    }

    /// The children of a data-dir directory (empty when absent), with the
    /// bytes of its files.
    pub(super) async fn children(&self, rel: &Path) -> BackendResult<Vec<archive::Child>> {
        let path = self.data_path(rel)?;
        if let Some(tree) = self.frozen_tree().await? {
            return tree.children(rel, &path);
        }
        match self.whole(&path).await? {
            None => Ok(Vec::new()),
            Some(tree) => tree.children(Path::new(""), &path),
        }
    }

    /// The tree below the container path `path` in one archive (`None`:
    /// absent). The engine archives it while the gateways may be writing in
    /// it: a file replaced or removed mid-archive leaves a truncated stream.
    /// Such an archive is asked for again, a few times; it is a new read, not a
    /// wait for anything.
    async fn whole(&self, path: &str) -> BackendResult<Option<archive::Tree>> {
        let mut attempt = 1;
        loop {
            let Some(tar) = archive::download(&self.docker, &self.id, path).await? else {
                return Ok(None);
            };
            match archive::Tree::from_tar(path, &tar) {
                Ok(tree) => return Ok(Some(tree)),
                Err(e) if attempt >= ARCHIVE_ATTEMPTS => return Err(e),
                Err(_) => attempt += 1,
            }
        }
    }

    /// The frozen data dir (archived now if this is the first read since the
    /// freeze); `None`: reads are live.
    async fn frozen_tree(&self) -> BackendResult<Option<&archive::Tree>> {
        let Some(cell) = &self.frozen else {
            return Ok(None);
        };
        let path = self.data_path(Path::new(""))?;
        let tree = cell
            .get_or_try_init(|| async { Ok(self.whole(&path).await?.unwrap_or_default()) })
            .await?;
        Ok(Some(tree))
    }

    /// Reads are live again (see [`DockerSandbox::frozen`]).
    pub(super) fn thaw(&mut self) {
        self.frozen = None;
    }

    /// Writes `bytes` to the data-dir file `rel`, owned by the shape's user,
    /// mode 0600, creating its missing parent directories (0700).
    pub(super) async fn write(&mut self, rel: &Path, bytes: &[u8]) -> BackendResult<()> {
        self.thaw();
        self.data_path(rel)?; // validates
        let parts: Vec<String> = rel
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        let Some((file, parents)) = parts.split_last() else {
            return Err(BackendError::BadPath {
                path: rel.to_owned(),
                why: "is empty: name a file to write",
            });
        };
        // Extract into the deepest directory that exists, creating only the
        // missing ones: extracting an existing directory's header would reset
        // its owner and mode.
        for k in (0..=parents.len()).rev() {
            let dest = self.data_path(Path::new(&parents[..k].join("/")))?;
            let missing = &parents[k..];
            let dirs: Vec<String> = (1..=missing.len())
                .map(|n| missing[..n].join("/"))
                .collect();
            let mut inner = missing.to_vec();
            inner.push(file.clone());
            let tar = archive::file_tar_owned(self.spec.shape.uid, &dirs, &inner.join("/"), bytes)?;
            if archive::upload(&self.docker, &self.id, &dest, tar).await? {
                return Ok(());
            }
        }
        Err(BackendError::NotInContainer {
            action: format!("write {}", rel.display()),
            path: self.spec.shape.data_dir.clone(),
            container: self.name.clone(),
        })
    }
}
