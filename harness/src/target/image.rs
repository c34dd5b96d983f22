//! Images of targets built per release: the adapter's recipe, run as
//! `RECIPE VERSION TAG`, cached by (version, recipe hash) in the tag itself
//! (`restart-harness/hermes:0.17.0-<12 hex>`), so a warm build is one inspect.

use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::adapter::{Adapter, ImageSection};
use crate::backend::error::exited_status;
use crate::backend::{BackendError, BackendResult};

/// The directory of the recipe: everything in it is hashed.
fn recipe_dir(adapter: &Adapter, section: &ImageSection) -> PathBuf {
    let base = adapter.source.parent().unwrap_or(Path::new("."));
    let script = base.join(&section.recipe);
    script.parent().map_or(base.to_owned(), Path::to_owned)
}

/// sha256 over the recipe directory's files (relative names and bytes, in
/// name order); unreadable files count by name only, so a missing recipe
/// still gives a stable tag and fails at build time with its own message.
fn recipe_hash(dir: &Path) -> String {
    let mut files = Vec::new();
    collect(dir, dir, &mut files);
    files.sort();
    let mut h = Sha256::new();
    for rel in files {
        h.update(rel.to_string_lossy().as_bytes());
        h.update([0]);
        if let Ok(bytes) = std::fs::read(dir.join(&rel)) {
            h.update(&bytes);
        }
        h.update([0]);
    }
    let digest = h.finalize();
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            collect(root, &p, out);
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push(rel.to_owned());
        }
    }
}

/// The tag of a release's image: `REPOSITORY:VERSION-<recipe hash>`.
pub fn release_tag(adapter: &Adapter, section: &ImageSection, version: &str) -> String {
    let hash = recipe_hash(&recipe_dir(adapter, section));
    format!("{}:{version}-{hash}", section.repository)
}

/// Builds the release's image unless its tag exists; returns the tag. Prints
/// one line on stderr before a build and one after, with its duration.
pub async fn build_release(adapter: &Adapter, version: &str) -> BackendResult<String> {
    build_release_on(adapter, version, None).await
}

/// [`build_release`] on the engine at `host` (`None`: `DOCKER_HOST`): each
/// engine of a run has its own images.
pub async fn build_release_on(
    adapter: &Adapter,
    version: &str,
    host: Option<&str>,
) -> BackendResult<String> {
    let section = adapter
        .image
        .as_ref()
        .ok_or_else(|| BackendError::AdapterLacks {
            adapter: adapter.source.clone(),
            section: "[image] recipe, so its target is not built per release",
        })?;
    let tag = release_tag(adapter, section, version);
    let docker = crate::backend::docker::client::connect_to(host).await?;
    if docker.inspect_image(&tag).await.is_ok() {
        return Ok(tag);
    }
    // One build at a time in this process: two releases share their base, and
    // two builders racing for a missing base would each run debootstrap.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    if docker.inspect_image(&tag).await.is_ok() {
        return Ok(tag);
    }
    let base = adapter.source.parent().unwrap_or(Path::new("."));
    let script = base.join(&section.recipe);
    eprintln!(
        "restart-harness: building {tag} ({}@{version}) with {}",
        adapter.name,
        script.display()
    );
    let t0 = Instant::now();
    let status = tokio::process::Command::new("bash")
        .arg(&script)
        .arg(version)
        .arg(&tag)
        // The recipe's own `docker` commands reach the same engine.
        .envs(host.map(|h| ("DOCKER_HOST", h)))
        .stdin(std::process::Stdio::null())
        .status()
        .await
        .map_err(|source| BackendError::Spawn {
            program: format!("bash {}", script.display()),
            hint: "",
            source,
        })?;
    if !status.success() {
        return Err(BackendError::ImageBuild {
            image: tag,
            detail: format!(
                "{} {} (its last lines above say why)",
                script.display(),
                exited_status(status)
            ),
        });
    }
    eprintln!(
        "restart-harness: built {tag} in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    Ok(tag)
}
