//! Connecting to the Docker Engine, and turning its errors into [`BackendError`]s.

use std::time::Duration;

use bollard::errors::Error as DockerError;
use bollard::Docker;

use crate::backend::error::chain;
use crate::backend::{BackendError, BackendResult};

/// Where the client connects when `DOCKER_HOST` is unset.
pub const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";

/// How long connecting may take. A socket that accepts but never answers must
/// not hang a run for bollard's default two minutes.
const CONNECT_DEADLINE: Duration = Duration::from_secs(15);

/// The endpoint the client will use, and where that choice came from, e.g.
/// `unix:///var/run/docker.sock (the default; DOCKER_HOST is unset)`.
pub fn endpoint() -> String {
    endpoint_of(None)
}

/// [`endpoint`] for an engine named on the command line (`Some`), or the
/// one `DOCKER_HOST` names (`None`).
pub fn endpoint_of(host: Option<&str>) -> String {
    let from = match (host, docker_host_env()) {
        (Some(_), _) => "from --docker-host",
        (None, Some(_)) => "from DOCKER_HOST",
        (None, None) => "the default; DOCKER_HOST is unset",
    };
    format!("{} ({from})", engine_name(host))
}

/// The engine's name in a report: its URL, as given or as `DOCKER_HOST`
/// (or the default) gives it.
pub fn engine_name(host: Option<&str>) -> String {
    host.map(str::to_owned)
        .or_else(docker_host_env)
        .unwrap_or_else(|| DEFAULT_SOCKET.to_owned())
}

/// `DOCKER_HOST`, when set and not empty.
fn docker_host_env() -> Option<String> {
    std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty())
}

/// Connects to the engine named by `DOCKER_HOST` (or the default socket),
/// negotiates the API version and pings it.
///
/// Negotiating matters: bollard speaks API 1.53 and this project must also run
/// against older engines (20.10 speaks 1.41). Any failure is
/// [`BackendError::NoDaemon`], naming the endpoint and the fix.
pub async fn connect() -> BackendResult<Docker> {
    connect_to(None).await
}

/// [`connect`] to the engine at `host` (`unix://`, `tcp://`, `http://`), or
/// where `DOCKER_HOST` says when `None`.
pub async fn connect_to(host: Option<&str>) -> BackendResult<Docker> {
    let no_daemon = |detail: String| BackendError::NoDaemon {
        endpoint: endpoint_of(host),
        detail,
    };
    let docker = match host {
        Some(h) => Docker::connect_with_host(h),
        None => Docker::connect_with_defaults(),
    }
    .map_err(|e| no_daemon(chain(&e)))?;
    let docker = match tokio::time::timeout(CONNECT_DEADLINE, docker.negotiate_version()).await {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => return Err(no_daemon(chain(&e))),
        Err(_) => {
            return Err(no_daemon(format!(
                "no answer to GET /version within {CONNECT_DEADLINE:?}"
            )))
        }
    };
    match tokio::time::timeout(CONNECT_DEADLINE, docker.ping()).await {
        Ok(Ok(_)) => Ok(docker),
        Ok(Err(e)) => Err(no_daemon(chain(&e))),
        Err(_) => Err(no_daemon(format!(
            "no answer to GET /_ping within {CONNECT_DEADLINE:?}"
        ))),
    }
}

/// An engine error with what we were doing ([`BackendError::Docker`]).
pub(crate) fn api_error(action: impl Into<String>, e: DockerError) -> BackendError {
    BackendError::docker(action, e)
}

/// The engine answered 404 (no such container, volume, image or path).
pub(crate) fn is_not_found(e: &DockerError) -> bool {
    matches!(
        e,
        DockerError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// The engine answered 409 (e.g. exec in a container that is not running).
pub(crate) fn is_conflict(e: &DockerError) -> bool {
    matches!(
        e,
        DockerError::DockerResponseServerError {
            status_code: 409,
            ..
        }
    )
}
