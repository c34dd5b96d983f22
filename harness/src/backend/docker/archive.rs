//! Files of the data dir through the engine's archive API (`GET`/`PUT
//! /containers/{id}/archive`). It works on a stopped container too, which is
//! what lets the harness read what a dead life left behind.

use std::io::Read;
use std::path::{Component, Path};

use bollard::query_parameters::{
    DownloadFromContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;

use super::client::{api_error, is_not_found};
use crate::backend::{BackendError, BackendResult};

/// The data dir inside the container (SPEC §6).
pub const DATA_DIR: &str = "/data";

/// The image's user and group (SPEC §6).
pub const GATEWAY_UID: u64 = 10001;

/// The container path of `rel`, a path relative to the reference's data dir.
pub fn data_path(rel: &Path) -> BackendResult<String> {
    data_path_in(DATA_DIR, rel)
}

/// The container path of `rel`, a path relative to `data_dir`. Refuses
/// absolute paths and `..`, which could reach outside the data dir.
pub fn data_path_in(data_dir: &str, rel: &Path) -> BackendResult<String> {
    let mut out = String::from(data_dir);
    for c in rel.components() {
        match c {
            Component::Normal(part) => {
                let part = part.to_str().ok_or_else(|| BackendError::BadPath {
                    path: rel.to_owned(),
                    why: "is not UTF-8, and the engine's archive API takes UTF-8 paths",
                })?;
                out.push('/');
                out.push_str(part);
            }
            Component::CurDir => {}
            _ => {
                return Err(BackendError::BadPath {
                    path: rel.to_owned(),
                    why: "must be relative to the data dir, without `..`",
                })
            }
        }
    }
    Ok(out)
}

/// Downloads `path` as a tar archive; `None` when it does not exist.
pub async fn download(docker: &Docker, id: &str, path: &str) -> BackendResult<Option<Vec<u8>>> {
    let opts = DownloadFromContainerOptionsBuilder::new()
        .path(path)
        .build();
    let mut stream = docker.download_from_container(id, Some(opts));
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => buf.extend_from_slice(&bytes),
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(api_error(format!("download {path}"), e)),
        }
    }
    Ok(Some(buf))
}

/// The contents of the single file an archive of a file path holds.
pub fn file_from_tar(path: &str, tar: &[u8]) -> BackendResult<Vec<u8>> {
    let bad = |e| reading(path, e);
    let mut archive = tar::Archive::new(tar);
    let mut entries = archive.entries().map_err(bad)?;
    let mut entry = entries
        .next()
        .ok_or_else(|| bad(std::io::Error::other("it holds no entry")))?
        .map_err(bad)?;
    match entry.header().entry_type() {
        tar::EntryType::Regular | tar::EntryType::Continuous => {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(bad)?;
            Ok(bytes)
        }
        tar::EntryType::Directory => Err(BackendError::NotAFile {
            path: path.to_owned(),
        }),
        other => Err(special(path, other)),
    }
}

/// An archive the engine sent could not be read.
fn reading(path: &str, e: std::io::Error) -> BackendError {
    BackendError::tar(format!("reading the engine's archive of {path}"), e)
}

/// What a tar entry that is neither a file nor a directory is.
fn special(path: &str, kind: tar::EntryType) -> BackendError {
    BackendError::SpecialFile {
        path: path.to_owned(),
        kind: format!("a tar entry of type {kind:?}"),
    }
}

/// An archive to upload could not be built.
fn building(of: &str, e: std::io::Error) -> BackendError {
    BackendError::tar(format!("building an archive of {of}"), e)
}

/// One direct child of a directory archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// Its file name.
    pub name: String,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// Its bytes, for a regular file.
    pub content: Option<Vec<u8>>,
}

/// The direct children of the directory an archive of a directory path holds,
/// with the bytes of those that are regular files
/// (the archive's entries are `dir/`, `dir/a`, `dir/sub/`, `dir/sub/b`, ...).
pub fn children_from_tar(path: &str, tar: &[u8]) -> BackendResult<Vec<Child>> {
    let bad = |e| reading(path, e);
    let mut archive = tar::Archive::new(tar);
    let mut children = Vec::new();
    let mut root_is_dir = None;
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let entry_path = entry.path().map_err(bad)?.into_owned();
        let parts: Vec<_> = entry_path.components().collect();
        let kind = entry.header().entry_type();
        let is_dir = kind == tar::EntryType::Directory;
        match parts.len() {
            1 => root_is_dir = Some(is_dir),
            2 => {
                let name = parts[1].as_os_str().to_string_lossy().into_owned();
                let content =
                    if matches!(kind, tar::EntryType::Regular | tar::EntryType::Continuous) {
                        let mut bytes = Vec::new();
                        entry.read_to_end(&mut bytes).map_err(bad)?;
                        Some(bytes)
                    } else {
                        None
                    };
                children.push(Child {
                    name,
                    is_dir,
                    content,
                });
            }
            _ => {}
        }
    }
    if root_is_dir == Some(false) {
        return Err(BackendError::NotADirectory {
            path: path.to_owned(),
        });
    }
    children.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(children)
}

/// Every entry of a directory archive, by its path below that directory: what
/// one request reads of a whole tree at one instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    entries: std::collections::BTreeMap<std::path::PathBuf, Entry>,
}

/// One entry of a [`Tree`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Dir,
    File(Vec<u8>),
    /// A symlink, a device, ...: its tar entry type.
    Other(tar::EntryType),
}

impl Tree {
    /// The tree an archive of the directory `path` holds (its entries are
    /// `dir/`, `dir/a`, `dir/sub/`, `dir/sub/b`, ...).
    pub fn from_tar(path: &str, tar: &[u8]) -> BackendResult<Tree> {
        let bad = |e| reading(path, e);
        let mut archive = tar::Archive::new(tar);
        let mut entries = std::collections::BTreeMap::new();
        for entry in archive.entries().map_err(bad)? {
            let mut entry = entry.map_err(bad)?;
            let rel: std::path::PathBuf = entry.path().map_err(bad)?.components().skip(1).collect();
            let node = match entry.header().entry_type() {
                tar::EntryType::Directory => Entry::Dir,
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let mut bytes = Vec::new();
                    entry.read_to_end(&mut bytes).map_err(bad)?;
                    Entry::File(bytes)
                }
                other => Entry::Other(other),
            };
            entries.insert(rel, node);
        }
        match entries.get(Path::new("")) {
            Some(Entry::Dir) => Ok(Tree { entries }),
            _ => Err(BackendError::NotADirectory {
                path: path.to_owned(),
            }),
        }
    }

    /// The key of `rel` in the tree: a data-dir path may start at `.` (a
    /// declared default home of `.`), which [`data_path_in`] drops as well.
    fn key(rel: &Path) -> std::path::PathBuf {
        rel.components()
            .filter(|c| !matches!(c, Component::CurDir))
            .collect()
    }

    /// The file at `rel`, as [`file_from_tar`] reads it (`None`: absent).
    pub fn file(&self, rel: &Path, shown: &str) -> BackendResult<Option<Vec<u8>>> {
        match self.entries.get(&Tree::key(rel)) {
            None => Ok(None),
            Some(Entry::File(bytes)) => Ok(Some(bytes.clone())),
            Some(Entry::Dir) => Err(BackendError::NotAFile {
                path: shown.to_owned(),
            }),
            Some(Entry::Other(kind)) => Err(special(shown, *kind)),
        }
    }

    /// The direct children of the directory at `rel`, as [`children_from_tar`]
    /// reads them (empty: absent).
    pub fn children(&self, rel: &Path, shown: &str) -> BackendResult<Vec<Child>> {
        let rel = Tree::key(rel);
        let rel = rel.as_path();
        match self.entries.get(rel) {
            None => return Ok(Vec::new()),
            Some(Entry::Dir) => {}
            Some(_) => {
                return Err(BackendError::NotADirectory {
                    path: shown.to_owned(),
                })
            }
        }
        Ok(self
            .entries
            .iter()
            .filter(|(p, _)| p.parent() == Some(rel))
            .map(|(p, node)| Child {
                name: p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                is_dir: *node == Entry::Dir,
                content: match node {
                    Entry::File(bytes) => Some(bytes.clone()),
                    Entry::Dir | Entry::Other(_) => None,
                },
            })
            .collect())
    }
}

/// A tar archive holding `dirs` (created as needed, in order) and then the file
/// `file` with `bytes`, all owned by the gateway's user: files mode 0600
/// (SPEC §2), directories 0700 (as the gateway creates profile homes).
pub fn file_tar(dirs: &[String], file: &str, bytes: &[u8]) -> BackendResult<Vec<u8>> {
    file_tar_owned(GATEWAY_UID, dirs, file, bytes)
}

/// [`file_tar`], owned by `uid` (and the group of the same number).
pub fn file_tar_owned(
    uid: u64,
    dirs: &[String],
    file: &str,
    bytes: &[u8],
) -> BackendResult<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    let mtime = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let bad = |e| building(file, e);
    let header = |kind: tar::EntryType, size: u64, mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(mode);
        h.set_uid(uid);
        h.set_gid(uid);
        h.set_mtime(mtime);
        h
    };
    for d in dirs {
        let mut h = header(tar::EntryType::Directory, 0, 0o700);
        builder
            .append_data(&mut h, format!("{d}/"), std::io::empty())
            .map_err(bad)?;
    }
    let mut h = header(tar::EntryType::Regular, bytes.len() as u64, 0o600);
    builder.append_data(&mut h, file, bytes).map_err(bad)?;
    builder.into_inner().map_err(bad)
}

/// An archive of one directory `name` with `mode`, owned by `uid`: extracted
/// over an existing directory, it sets that directory's owner and mode.
pub fn dir_tar(uid: u64, name: &str, mode: u32) -> BackendResult<Vec<u8>> {
    let bad = |e| building(name, e);
    let mut builder = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_size(0);
    h.set_mode(mode);
    h.set_uid(uid);
    h.set_gid(uid);
    builder
        .append_data(&mut h, format!("{name}/"), std::io::empty())
        .map_err(bad)?;
    builder.into_inner().map_err(bad)
}

/// An archive of regular files `names`, each of `size` zero bytes, mode 0600,
/// owned by `uid` (a full disk's fillers, or empty files in their place).
pub fn files_tar(uid: u64, names: &[String], size: usize) -> BackendResult<Vec<u8>> {
    let bad = |e| building("fillers", e);
    let mut builder = tar::Builder::new(Vec::new());
    let zeros = vec![0u8; size];
    for name in names {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(size as u64);
        h.set_mode(0o600);
        h.set_uid(uid);
        h.set_gid(uid);
        builder
            .append_data(&mut h, name, zeros.as_slice())
            .map_err(bad)?;
    }
    builder.into_inner().map_err(bad)
}

/// Extracts `tar` into the existing directory `dir` of the container. The
/// engine applies the owners and modes of the archive's headers.
///
/// Returns `Ok(false)` when `dir` does not exist.
pub async fn upload(docker: &Docker, id: &str, dir: &str, tar: Vec<u8>) -> BackendResult<bool> {
    let opts = UploadToContainerOptionsBuilder::new().path(dir).build();
    match docker
        .upload_to_container(id, Some(opts), bollard::body_full(tar.into()))
        .await
    {
        Ok(()) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(api_error(format!("upload into {dir}"), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_paths_stay_inside_the_data_dir() {
        assert_eq!(data_path(Path::new("boot.log")).unwrap(), "/data/boot.log");
        assert_eq!(
            data_path(Path::new("profiles/default/./x.json")).unwrap(),
            "/data/profiles/default/x.json"
        );
        assert_eq!(data_path(Path::new("")).unwrap(), "/data");
        assert!(data_path(Path::new("../etc")).is_err());
        assert!(data_path(Path::new("/etc/passwd")).is_err());
    }

    #[test]
    fn a_file_archive_round_trips() {
        let tar = file_tar(&["a".into(), "a/b".into()], "a/b/f.json", b"{}").unwrap();
        let kids = children_from_tar("a", &tar).unwrap();
        assert_eq!(
            kids,
            vec![Child {
                name: "b".into(),
                is_dir: true,
                content: None,
            }]
        );
        let home = file_tar(&["h".into()], "h/s.json", b"{}").unwrap();
        assert_eq!(
            children_from_tar("h", &home).unwrap(),
            vec![Child {
                name: "s.json".into(),
                is_dir: false,
                content: Some(b"{}".to_vec()),
            }]
        );
        let single = file_tar(&[], "f.json", b"hello").unwrap();
        assert_eq!(file_from_tar("f.json", &single).unwrap(), b"hello");
        let mut archive = tar::Archive::new(&tar[..]);
        for e in archive.entries().unwrap() {
            let e = e.unwrap();
            assert_eq!(e.header().uid().unwrap(), GATEWAY_UID);
            let mode = e.header().mode().unwrap();
            assert!(mode == 0o600 || mode == 0o700, "{mode:o}");
        }
    }

    #[test]
    fn a_tree_reads_files_and_children_as_single_archives_do() {
        let tar = file_tar(
            &[
                "data".into(),
                "data/profiles".into(),
                "data/profiles/a".into(),
            ],
            "data/profiles/a/s.json",
            b"{}",
        )
        .unwrap();
        let tree = Tree::from_tar("/data", &tar).unwrap();
        let home = Path::new("profiles/a");
        assert_eq!(
            tree.file(&home.join("s.json"), "s").unwrap(),
            Some(b"{}".to_vec())
        );
        assert_eq!(tree.file(Path::new("boot.log"), "b").unwrap(), None);
        assert!(matches!(
            tree.file(home, "home"),
            Err(BackendError::NotAFile { .. })
        ));
        assert_eq!(
            tree.children(home, "home").unwrap(),
            vec![Child {
                name: "s.json".into(),
                is_dir: false,
                content: Some(b"{}".to_vec()),
            }]
        );
        assert_eq!(
            tree.children(Path::new(""), "data").unwrap(),
            vec![Child {
                name: "profiles".into(),
                is_dir: true,
                content: None,
            }]
        );
        assert_eq!(tree.children(Path::new("profiles/b"), "b").unwrap(), vec![]);
        assert!(tree.children(&home.join("s.json"), "s").is_err());
        // A home of `.` (hermes's default profile) reads the same entries.
        assert_eq!(
            tree.file(Path::new("./profiles/a/s.json"), "s").unwrap(),
            Some(b"{}".to_vec())
        );
        assert_eq!(
            tree.children(Path::new("."), "data").unwrap(),
            tree.children(Path::new(""), "data").unwrap()
        );
        let single = file_tar(&[], "f.json", b"hello").unwrap();
        assert!(Tree::from_tar("f.json", &single).is_err());
    }
}
