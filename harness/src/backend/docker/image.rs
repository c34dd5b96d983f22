//! The gateway image: compile `gateway` statically, then build the project's
//! top-level `Dockerfile` (embedded here byte for byte) around it, tagged by a
//! hash of the binary and the Dockerfile so that an unchanged gateway is never
//! rebuilt.
//!
//! The build context is what docs/backends.md documents for a by-hand build: the
//! static `gateway` and an empty `data/` directory. `FROM scratch` needs no pull.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bollard::query_parameters::{BuildImageOptionsBuilder, BuilderVersion};
use bollard::Docker;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::client::{api_error, connect, is_not_found};
use crate::backend::error::{chain, exited_status, last_lines};
use crate::backend::{BackendError, BackendResult};

/// The project's Dockerfile: the harness builds exactly this file.
pub const DOCKERFILE: &str = include_str!("../../../../Dockerfile");

/// Repository of the reference gateway image.
pub const REFERENCE_REPO: &str = "restart-harness/gateway";

/// Repository of the gateway built with the `mutants` feature.
pub const MUTANTS_REPO: &str = "restart-harness/gateway-mutants";

/// The Rust target of the static build (glibc, `+crt-static`).
pub const STATIC_TARGET: &str = "x86_64-unknown-linux-gnu";

/// What to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    /// The workspace root (holds `Cargo.toml`, `gateway/` and `target/`).
    pub workspace: PathBuf,
    /// Build the gateway with its `mutants` feature, into the mutants repository.
    pub mutants: bool,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            workspace: default_workspace(),
            mutants: false,
        }
    }
}

impl BuildOptions {
    /// The default workspace, with or without mutants.
    pub fn new(mutants: bool) -> Self {
        BuildOptions {
            mutants,
            ..BuildOptions::default()
        }
    }

    /// The target dir of the static build (apart from the ordinary one, so that
    /// its `RUSTFLAGS` never invalidate the workspace's normal build cache).
    pub fn target_dir(&self) -> PathBuf {
        let dir = if self.mutants {
            "static-mutants"
        } else {
            "static"
        };
        self.workspace.join("target").join(dir)
    }

    /// Where the static binary lands.
    pub fn binary_path(&self) -> PathBuf {
        self.target_dir()
            .join(STATIC_TARGET)
            .join("release")
            .join("gateway")
    }

    /// The image repository.
    pub fn repository(&self) -> &'static str {
        if self.mutants {
            MUTANTS_REPO
        } else {
            REFERENCE_REPO
        }
    }
}

/// The workspace this harness was built from.
pub fn default_workspace() -> PathBuf {
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"));
    harness.parent().unwrap_or(harness).to_path_buf()
}

/// Which image builder ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ImageBuilder {
    /// BuildKit over the API (testcontainers' `GenericBuildableImage`).
    BuildKit,
    /// The engine's legacy builder (bollard, an in-memory context tar).
    Legacy,
}

impl fmt::Display for ImageBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImageBuilder::BuildKit => "BuildKit",
            ImageBuilder::Legacy => "the legacy builder",
        })
    }
}

/// A gateway image that exists on the engine.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageRef {
    /// `repository:tag`.
    pub name: String,
    /// The static binary it holds.
    pub binary: PathBuf,
    /// sha256 of that binary (hex).
    pub binary_sha256: String,
    /// The builder that built it now; `None`: the tag already existed.
    pub built_with: Option<ImageBuilder>,
    /// Why BuildKit was not used, when the legacy builder ran.
    pub buildkit_error: Option<String>,
    /// How long `cargo build` took (a no-op when nothing changed).
    pub compile_time: Duration,
    /// How long the image build took (zero when reused).
    pub image_time: Duration,
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        match self.built_with {
            Some(b) => write!(
                f,
                " (built with {b} in {:.1} s",
                self.image_time.as_secs_f64()
            )?,
            None => write!(f, " (already built, reused")?,
        }
        write!(
            f,
            "; gateway compiled in {:.1} s, sha256 {})",
            self.compile_time.as_secs_f64(),
            &self.binary_sha256[..12.min(self.binary_sha256.len())]
        )?;
        if let Some(e) = &self.buildkit_error {
            write!(f, "\n  BuildKit failed, so the legacy builder ran: {e}")?;
        }
        Ok(())
    }
}

/// Compiles the static gateway and builds its image: `restart-harness image build`.
pub async fn build_image(opts: &BuildOptions) -> BackendResult<ImageRef> {
    let docker = connect().await?;
    build_image_with(&docker, opts).await
}

/// [`build_image`] on an existing client.
pub async fn build_image_with(docker: &Docker, opts: &BuildOptions) -> BackendResult<ImageRef> {
    build_image_on(docker, None, opts).await
}

/// [`build_image`] on the engine `--docker-host` named (`host`), or the one
/// `DOCKER_HOST` names (`None`). BuildKit is tried only on the latter: its
/// client (testcontainers) reaches no other.
pub async fn build_image_on(
    docker: &Docker,
    host: Option<&str>,
    opts: &BuildOptions,
) -> BackendResult<ImageRef> {
    let (mut image, bytes) = compile(opts).await?;
    if image_exists(docker, &image.name).await? {
        return Ok(image);
    }
    let t1 = Instant::now();
    if host.is_some() {
        build_legacy_checked(docker, &image.name, &bytes).await?;
        image.built_with = Some(ImageBuilder::Legacy);
        image.image_time = t1.elapsed();
        return Ok(image);
    }
    // An empty directory for `COPY data/ /data/`.
    let context = tempfile::tempdir().map_err(|e| {
        BackendError::io("creating a build context dir in", std::env::temp_dir(), e)
    })?;
    let data = context.path().join("data");
    std::fs::create_dir(&data).map_err(|e| BackendError::io("creating", &data, e))?;

    let buildkit = crate::progress::announce(
        &format!("building the image {}", image.name),
        build_with_buildkit(&image.name, &image.binary, &data),
    )
    .await;
    match buildkit {
        Ok(()) if image_exists(docker, &image.name).await? => {
            image.built_with = Some(ImageBuilder::BuildKit);
        }
        outcome => {
            // BuildKit can be missing or broken on an engine (e.g. no buildx
            // for the CLI, or a daemon with BuildKit disabled); the legacy
            // builder is always there. Record why we fell back.
            image.buildkit_error = Some(match outcome {
                Err(e) => chain(&e),
                Ok(()) => "the build reported success but the image does not exist".to_owned(),
            });
            build_legacy_checked(docker, &image.name, &bytes).await?;
            image.built_with = Some(ImageBuilder::Legacy);
        }
    }
    image.image_time = t1.elapsed();
    Ok(image)
}

/// The environment variable naming a static gateway already built (the
/// harness image ships one): the reference image is built around it, and
/// nothing is compiled.
pub const PREBUILT_ENV: &str = "RESTART_HARNESS_STATIC_GATEWAY";

/// [`PREBUILT_ENV`] for the gateway built with its mutants.
pub const PREBUILT_MUTANTS_ENV: &str = "RESTART_HARNESS_STATIC_GATEWAY_MUTANTS";

/// The prebuilt static gateway the environment names for `opts`, if any.
fn prebuilt(opts: &BuildOptions) -> Option<PathBuf> {
    let var = if opts.mutants {
        PREBUILT_MUTANTS_ENV
    } else {
        PREBUILT_ENV
    };
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Compiles the static gateway (or takes the prebuilt one) and names its
/// image; returns it (not built yet) with the binary's bytes.
async fn compile(opts: &BuildOptions) -> BackendResult<(ImageRef, Vec<u8>)> {
    let t0 = Instant::now();
    let binary = match prebuilt(opts) {
        Some(binary) => binary,
        None => compile_announced(opts).await?,
    };
    let compile_time = t0.elapsed();
    let bytes = tokio::fs::read(&binary)
        .await
        .map_err(|e| BackendError::io("reading", &binary, e))?;
    check_static(&binary, &bytes)?;
    let image = ImageRef {
        name: format!("{}:{}", opts.repository(), image_tag(&bytes, DOCKERFILE)),
        binary,
        binary_sha256: hex(&Sha256::digest(&bytes)),
        built_with: None,
        buildkit_error: None,
        compile_time,
        image_time: Duration::ZERO,
    };
    Ok((image, bytes))
}

/// [`compile_static_gateway`], with a line on stderr before and after.
async fn compile_announced(opts: &BuildOptions) -> BackendResult<PathBuf> {
    crate::progress::announce(
        &format!(
            "compiling the static gateway{} (cargo build --release --target {STATIC_TARGET})",
            if opts.mutants {
                " with its mutants"
            } else {
                ""
            }
        ),
        compile_static_gateway(opts),
    )
    .await
}

/// The legacy builder, and a check that the image it reported built exists.
async fn build_legacy_checked(docker: &Docker, name: &str, binary: &[u8]) -> BackendResult<()> {
    crate::progress::announce(
        &format!("building the image {name} (legacy builder)"),
        build_with_legacy_builder(docker, name, binary),
    )
    .await?;
    if image_exists(docker, name).await? {
        return Ok(());
    }
    Err(BackendError::ImageBuild {
        image: name.to_owned(),
        detail: "the legacy builder reported success, and the image does not exist".to_owned(),
    })
}

/// Whether `name` exists on the engine. Checked before every build and every
/// container start, so that a missing image is reported as such and never
/// pulled (there is no registry).
pub async fn image_exists(docker: &Docker, name: &str) -> BackendResult<bool> {
    match docker.inspect_image(name).await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(api_error(format!("inspect image {name}"), e)),
    }
}

/// [`image_exists`], as an error naming the image and the fix.
pub async fn require_image(docker: &Docker, name: &str) -> BackendResult<()> {
    if image_exists(docker, name).await? {
        Ok(())
    } else {
        Err(BackendError::NoImage {
            image: name.to_owned(),
        })
    }
}

/// The tag: the first 12 hex digits of sha256(binary ‖ Dockerfile).
pub fn image_tag(binary: &[u8], dockerfile: &str) -> String {
    let mut h = Sha256::new();
    h.update(binary);
    h.update(dockerfile.as_bytes());
    hex(&h.finalize())[..12].to_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `RUSTFLAGS="-C target-feature=+crt-static" cargo build --release -p gateway
/// --target x86_64-unknown-linux-gnu --target-dir <ws>/target/static[-mutants]`.
async fn compile_static_gateway(opts: &BuildOptions) -> BackendResult<PathBuf> {
    // Under `cargo run`/`cargo test`, $CARGO is the cargo that built us.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = opts.workspace.join("Cargo.toml");
    let mut args: Vec<std::ffi::OsString> = [
        "build",
        "--release",
        "-p",
        "gateway",
        "--target",
        STATIC_TARGET,
        "--manifest-path",
    ]
    .map(Into::into)
    .to_vec();
    args.push(manifest.into());
    args.push("--target-dir".into());
    args.push(opts.target_dir().into());
    if opts.mutants {
        args.extend(["--features".into(), "mutants".into()]);
    }
    let mut cmd = tokio::process::Command::new(&cargo);
    cmd.current_dir(&opts.workspace).args(&args);
    // `CARGO_ENCODED_RUSTFLAGS` would beat `RUSTFLAGS`; the static flag must win.
    cmd.env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = cmd.output().await.map_err(|source| BackendError::Spawn {
        program: Path::new(&cargo).display().to_string(),
        hint: " (is a Rust toolchain installed?)",
        source,
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(BackendError::CommandFailed {
            purpose: "compiling the static gateway".to_owned(),
            argv: std::iter::once(&cargo)
                .chain(&args)
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            status: exited_status(out.status),
            stderr: last_lines(&stderr, 30),
        });
    }
    Ok(opts.binary_path())
}

/// Refuses a dynamically linked binary: in a `FROM scratch` image it would fail
/// at exec with a baffling "no such file or directory" (the missing loader).
fn check_static(path: &Path, bytes: &[u8]) -> BackendResult<()> {
    match elf_has_interpreter(bytes) {
        Some(false) => Ok(()),
        Some(true) => Err(BackendError::NotStatic {
            binary: path.to_owned(),
            problem: "is dynamically linked (it has a PT_INTERP)",
        }),
        None => Err(BackendError::NotStatic {
            binary: path.to_owned(),
            problem: "is not a 64-bit little-endian ELF file",
        }),
    }
}

/// Whether a 64-bit little-endian ELF file names a program interpreter
/// (`PT_INTERP`, i.e. it needs the dynamic loader); `None` if it is not one.
fn elf_has_interpreter(bytes: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    if bytes.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(bytes.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(bytes.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(bytes.get(o..o + 8)?.try_into().ok()?));
    let phoff = usize::try_from(u64_at(0x20)?).ok()?;
    let phentsize = usize::from(u16_at(0x36)?);
    let phnum = usize::from(u16_at(0x38)?);
    for i in 0..phnum {
        if u32_at(phoff + i * phentsize)? == PT_INTERP {
            return Some(true);
        }
    }
    Some(false)
}

/// BuildKit over the API, through testcontainers.
async fn build_with_buildkit(
    name: &str,
    binary: &Path,
    data: &Path,
) -> Result<(), testcontainers::TestcontainersError> {
    use testcontainers::core::BuildImageOptions;
    use testcontainers::runners::AsyncBuilder;
    let (repo, tag) = name.rsplit_once(':').unwrap_or((name, "latest"));
    let image = testcontainers::GenericBuildableImage::new(repo, tag)
        .with_dockerfile_string(DOCKERFILE)
        .with_file(binary, "gateway")
        .with_file(data, "data");
    image
        .build_image_with(BuildImageOptions::new().with_skip_if_exists(true))
        .await
        .map(|_| ())
}

/// The legacy builder, with the context as an in-memory tar: the Dockerfile,
/// `gateway` (0755) and an empty `data/` (0755). The fallback when BuildKit
/// fails; public so that a test can prove it builds the same image.
pub async fn build_with_legacy_builder(
    docker: &Docker,
    name: &str,
    binary: &[u8],
) -> BackendResult<()> {
    let context = legacy_context(binary)
        .map_err(|e| BackendError::tar("building the legacy builder's context", e))?;
    let opts = BuildImageOptionsBuilder::new()
        .dockerfile("Dockerfile")
        .t(name)
        .rm(true)
        .forcerm(true)
        .version(BuilderVersion::BuilderV1)
        .build();
    let mut stream = docker.build_image(opts, None, Some(bollard::body_full(context.into())));
    let mut log = String::new();
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| api_error(format!("build {name}"), e))?;
        if let Some(line) = info.stream {
            log.push_str(&line);
        }
        if let Some(detail) = info.error_detail {
            return Err(BackendError::ImageBuild {
                image: name.to_owned(),
                detail: format!(
                    "the legacy builder says: {}\n{log}",
                    detail.message.unwrap_or_default()
                ),
            });
        }
    }
    Ok(())
}

fn legacy_context(binary: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut ar = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8], mode: u32, kind: tar::EntryType| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(0);
        ar.append_data(&mut h, path, data)
    };
    add(
        "Dockerfile",
        DOCKERFILE.as_bytes(),
        0o644,
        tar::EntryType::Regular,
    )?;
    add("gateway", binary, 0o755, tar::EntryType::Regular)?;
    add("data/", &[], 0o755, tar::EntryType::Directory)?;
    ar.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_depends_on_binary_and_dockerfile() {
        let a = image_tag(b"bin", "FROM scratch");
        assert_eq!(a.len(), 12);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, image_tag(b"bin2", "FROM scratch"));
        assert_ne!(a, image_tag(b"bin", "FROM scratch\n"));
        assert_eq!(a, image_tag(b"bin", "FROM scratch"));
    }

    #[test]
    fn the_embedded_dockerfile_is_the_contract_one() {
        assert!(DOCKERFILE.contains("FROM scratch"));
        assert!(DOCKERFILE.contains(r#"ENTRYPOINT ["/gateway", "init"]"#));
        // No `# syntax=` line: it would make BuildKit pull a frontend image.
        assert!(!DOCKERFILE
            .lines()
            .any(|l| l.trim_start().starts_with("# syntax=")));
    }

    #[test]
    fn elf_interpreter_detection() {
        assert_eq!(elf_has_interpreter(b"#!/bin/sh"), None);
        // The test binary itself is dynamically linked.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(elf_has_interpreter(&me), Some(true));
    }
}
