//! A container that must do what only a privileged one may (a supervisor
//! that runs containers itself): `--privileged` where the engine allows it,
//! else the equivalent set.
//!
//! Some engines refuse `--privileged` although every part of it is allowed
//! but one capability: an engine whose own bounding set lacks
//! `CAP_SYS_RESOURCE` fails at start with "unable to apply caps", since a
//! privileged container gets every capability and `--cap-drop` is ignored
//! with `--privileged`. The equivalent is every capability but that one, no
//! seccomp filter, unmasked system paths and every device; the image's
//! entrypoint then remounts `/sys` and the cgroup mounts read-write, which
//! `--privileged` would have done.

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder, StartContainerOptions,
};
use bollard::Docker;

use super::client::api_error;
use super::labels;
use crate::backend::BackendResult;

/// How a container gets what `--privileged` gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privilege {
    /// `--privileged`: the engine allows it.
    Flag,
    /// The equivalent set: the engine refuses `--privileged`.
    Equivalent,
}

impl Privilege {
    /// Sets it on a container's host config.
    pub fn apply(self, host: &mut HostConfig) {
        match self {
            Privilege::Flag => host.privileged = Some(true),
            Privilege::Equivalent => {
                host.cap_add = Some(vec!["ALL".to_owned()]);
                host.cap_drop = Some(vec!["SYS_RESOURCE".to_owned()]);
                host.security_opt = Some(vec!["seccomp=unconfined".to_owned()]);
                // The CLI's `--security-opt systempaths=unconfined` is these
                // two, set by the client: the API knows no such option.
                host.masked_paths = Some(Vec::new());
                host.readonly_paths = Some(Vec::new());
                host.device_cgroup_rules = Some(vec!["a *:* rwm".to_owned()]);
            }
        }
    }
}

/// Asks the engine: starts a privileged container of `image` as root (its
/// `/gateway --help`, which exits at once) and sees whether it starts. As
/// root, since only a root process is given every capability to hold: a
/// privileged container of another user starts where root's would not.
pub async fn probe(docker: &Docker, image: &str, run_id: &str) -> BackendResult<Privilege> {
    let name = format!("restart-harness-{run_id}-privilege-probe");
    let body = ContainerCreateBody {
        image: Some(image.to_owned()),
        entrypoint: Some(vec!["/gateway".to_owned()]),
        cmd: Some(vec!["--help".to_owned()]),
        user: Some("0:0".to_owned()),
        labels: Some(labels::for_target(run_id, "privilege-probe")),
        host_config: Some(HostConfig {
            privileged: Some(true),
            network_mode: Some("none".to_owned()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let options = CreateContainerOptionsBuilder::new().name(&name).build();
    let id = docker
        .create_container(Some(options), body)
        .await
        .map_err(|e| api_error(format!("create the privilege probe {name}"), e))?
        .id;
    let started = docker
        .start_container(&id, None::<StartContainerOptions>)
        .await;
    let remove = RemoveContainerOptionsBuilder::new()
        .force(true)
        .v(true)
        .build();
    docker
        .remove_container(&id, Some(remove))
        .await
        .map_err(|e| api_error(format!("remove the privilege probe {name}"), e))?;
    Ok(match started {
        Ok(()) => Privilege::Flag,
        // The only failure a privileged start of a static binary has.
        Err(_) => Privilege::Equivalent,
    })
}
