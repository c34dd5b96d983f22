//! Where the `gateway` binary comes from: `--gateway PATH`, else
//! `$RESTART_HARNESS_GATEWAY`, else a `cargo build -p gateway` of this workspace,
//! taking the executable's path from cargo's JSON messages.
//!
//! Mutant builds (`--features mutants`) go to their own target dir,
//! `<workspace>/target/mutants`, so the default build is never touched and a
//! default binary can never enable a mutant.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The environment variable naming a gateway binary.
pub const ENV: &str = "RESTART_HARNESS_GATEWAY";

/// Which build of the reference gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Build {
    /// The default build: no mutant can be enabled.
    Reference,
    /// With the `mutants` feature: `GATEWAY_MUTANT=<name>` selects one bug.
    Mutants,
}

/// Why no gateway binary could be had.
#[derive(Debug, thiserror::Error)]
pub enum GatewayBinError {
    /// The named binary does not exist.
    #[error("gateway binary {0} does not exist")]
    NotFound(PathBuf),
    /// This harness was built outside its workspace and got no binary.
    #[error("no gateway binary: pass --gateway PATH or set {ENV} (the workspace {0} is not here to build one)")]
    NoWorkspace(PathBuf),
    /// cargo failed.
    #[error("`cargo build -p gateway` failed ({status}):\n{stderr}")]
    BuildFailed {
        /// Its exit status.
        status: String,
        /// What it said.
        stderr: String,
    },
    /// cargo could not be run.
    #[error("running cargo: {0}")]
    Cargo(#[from] std::io::Error),
    /// cargo built nothing executable.
    #[error("`cargo build -p gateway` reported no executable")]
    NoExecutable,
}

/// The workspace this harness was built from.
pub fn workspace_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or_else(|| manifest.join(".."), Path::to_owned)
}

/// The target dir of a build.
pub fn target_dir(build: Build) -> PathBuf {
    let ws = workspace_dir();
    match build {
        Build::Reference => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| ws.join("target")),
        Build::Mutants => ws.join("target").join("mutants"),
    }
}

/// The gateway to use: `explicit` (from `--gateway`), else `$RESTART_HARNESS_GATEWAY`
/// (reference builds only), else a cargo build.
pub fn locate(explicit: Option<&Path>, build: Build) -> Result<PathBuf, GatewayBinError> {
    let named = explicit.map(Path::to_owned).or_else(|| match build {
        Build::Reference => std::env::var_os(ENV).map(PathBuf::from),
        Build::Mutants => None,
    });
    if let Some(p) = named {
        return if p.is_file() {
            Ok(p)
        } else {
            Err(GatewayBinError::NotFound(p))
        };
    }
    cargo_build(build)
}

/// Builds the gateway with cargo and returns its executable.
pub fn cargo_build(build: Build) -> Result<PathBuf, GatewayBinError> {
    let ws = workspace_dir();
    if !ws.join("gateway").join("Cargo.toml").is_file() {
        return Err(GatewayBinError::NoWorkspace(ws));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&ws)
        .args(["build", "-p", "gateway", "--message-format=json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if build == Build::Mutants {
        cmd.args(["--features", "mutants", "--target-dir"])
            .arg(target_dir(Build::Mutants));
    }
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(GatewayBinError::BuildFailed {
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    executable_from_messages(&String::from_utf8_lossy(&out.stdout))
        .ok_or(GatewayBinError::NoExecutable)
}

/// The `executable` of the `gateway` binary's `compiler-artifact` message.
pub fn executable_from_messages(stdout: &str) -> Option<PathBuf> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == "gateway")
        .filter_map(|v| v["executable"].as_str().map(PathBuf::from))
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_executable_from_cargo_json() {
        let msgs = r#"{"reason":"compiler-artifact","target":{"name":"restart_contract","kind":["lib"]},"executable":null}
{"reason":"compiler-artifact","target":{"name":"gateway","kind":["bin"]},"executable":"/w/target/debug/gateway"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable_from_messages(msgs),
            Some(PathBuf::from("/w/target/debug/gateway"))
        );
        assert_eq!(executable_from_messages("{}"), None);
    }

    #[test]
    fn an_explicit_missing_binary_is_an_error() {
        let e = locate(Some(Path::new("/nonexistent/gateway")), Build::Reference).unwrap_err();
        assert!(matches!(e, GatewayBinError::NotFound(_)));
    }
}
