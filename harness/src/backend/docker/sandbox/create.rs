//! Creating a sandbox: its volumes, its container (not started) and, for a
//! shape that records files or a disk that fills, the recorder sidecar.

use std::collections::HashMap;
use std::time::SystemTime;

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType, VolumeCreateRequest};
use bollard::query_parameters::CreateContainerOptionsBuilder;
use bollard::Docker;

use super::teardown::RemovalGuard;
use super::{object_name, DockerSandbox};
use crate::backend::docker::archive;
use crate::backend::docker::client::{api_error, is_not_found};
use crate::backend::docker::events::EventLog;
use crate::backend::docker::labels;
use crate::backend::docker::privilege::Privilege;
use crate::backend::session::Sessions;
use crate::backend::{BackendError, BackendResult, SandboxSpec};

/// The images a sandbox runs.
#[derive(Debug, Clone, Copy)]
pub struct Images<'a> {
    /// The target's.
    pub target: &'a str,
    /// The recorder sidecar's (`gateway watch`: the reference image).
    pub recorder: &'a str,
}

/// The engine a sandbox is made on.
#[derive(Debug, Clone, Copy)]
pub struct Engine<'a> {
    /// Its client.
    pub docker: &'a Docker,
    /// Where it was reached (`--docker-host`; `None`: `DOCKER_HOST`), so
    /// that a removal from another thread reaches the same engine.
    pub host: Option<&'a str>,
}

impl DockerSandbox {
    /// Creates the volumes and the container (not started:
    /// [`crate::backend::Sandbox::boot`] starts it), privileged as the
    /// engine allows when the shape needs it.
    pub(crate) async fn create(
        engine: Engine<'_>,
        images: Images<'_>,
        run_id: &str,
        spec: &SandboxSpec,
        privilege: Option<Privilege>,
    ) -> BackendResult<DockerSandbox> {
        let Images {
            target: image,
            recorder: recorder_image,
        } = images;
        let docker = engine.docker;
        let name = object_name(run_id, &spec.name);
        let labels = labels::for_target(run_id, &spec.name);
        // Taken before the container exists: the event log replays from here.
        let since = SystemTime::now();
        let mut guard = RemovalGuard::on(engine.host);
        let volumes = match create_volumes(docker, &name, &labels, spec, &mut guard).await {
            Ok(v) => v,
            Err(e) => {
                guard.remove_now(docker).await;
                return Err(e);
            }
        };
        let mut body = container_body(image, spec, volumes.mounts, labels);
        if let (Some(p), Some(host)) = (privilege, body.host_config.as_mut()) {
            p.apply(host);
        }
        let id = match create_container(docker, &name, image, body).await {
            Ok(id) => id,
            Err(e) => {
                guard.remove_now(docker).await;
                return Err(e);
            }
        };
        guard.containers.push(id.clone());
        let events = EventLog::subscribe(docker, &id, since);
        let mut sandbox = DockerSandbox {
            docker: docker.clone(),
            id,
            name,
            volume: volumes.data,
            profiles_volume: volumes.profiles,
            run_id: run_id.to_owned(),
            spec: spec.clone(),
            events,
            guard,
            recorder: None,
            read_only: Default::default(),
            fillers: Default::default(),
            sessions: Sessions::default(),
            frozen: None,
        };
        sandbox.prepare_sidecar(recorder_image).await?;
        Ok(sandbox)
    }

    /// Starts the recorder sidecar when the shape records files or the
    /// homes are on a volume of their own, which it then holds mounted.
    async fn prepare_sidecar(&mut self, recorder_image: &str) -> BackendResult<()> {
        let shape = &self.spec.shape;
        if self.profiles_volume.is_some() {
            // The recorder mounts the data volume read-only: the mount point
            // of `profiles/` must be there before it mounts that volume too.
            let tar = archive::dir_tar(shape.uid, "profiles", 0o700)?;
            archive::upload(&self.docker, &self.id, &shape.data_dir, tar).await?;
        }
        if !shape.record.is_empty() || self.profiles_volume.is_some() {
            self.start_recorder(recorder_image).await?;
        }
        Ok(())
    }
}

/// The volumes of a sandbox, and where the container mounts them.
struct Volumes {
    /// The data dir's volume.
    data: String,
    /// The size-limited tmpfs volume of `profiles/`, if any.
    profiles: Option<String>,
    /// Their mounts in the target's container.
    mounts: Vec<Mount>,
}

/// Creates the data volume and, for a disk that fills, the size-limited
/// tmpfs volume of `profiles/`; each created one goes into `guard`.
async fn create_volumes(
    docker: &Docker,
    name: &str,
    labels: &HashMap<String, String>,
    spec: &SandboxSpec,
    guard: &mut RemovalGuard,
) -> BackendResult<Volumes> {
    let shape = &spec.shape;
    let data = format!("{name}-data");
    let plain = |volume: &str| VolumeCreateRequest {
        name: Some(volume.to_owned()),
        labels: Some(labels.clone()),
        ..Default::default()
    };
    create_volume(docker, plain(&data), guard).await?;
    let mut mounts = vec![volume_mount(&data, &shape.data_dir, false)];
    for (i, dir) in shape.volumes.iter().enumerate() {
        let volume = format!("{name}-vol{i}");
        create_volume(docker, plain(&volume), guard).await?;
        mounts.push(volume_mount(&volume, dir, false));
    }
    let Some(limit) = spec.disk_limit else {
        return Ok(Volumes {
            data,
            profiles: None,
            mounts,
        });
    };
    let profiles = format!("{name}-profiles");
    // The local driver mounts a tmpfs of this size when a container using the
    // volume starts; the recorder keeps it mounted (and its files alive)
    // while the target's container restarts.
    let opts = [
        ("type".to_owned(), "tmpfs".to_owned()),
        ("device".to_owned(), "tmpfs".to_owned()),
        (
            "o".to_owned(),
            format!("size={limit},uid={0},gid={0},mode=0700", shape.uid),
        ),
    ];
    let request = VolumeCreateRequest {
        driver: Some("local".to_owned()),
        driver_opts: Some(opts.into()),
        ..plain(&profiles)
    };
    create_volume(docker, request, guard).await?;
    let target = format!("{}/profiles", shape.data_dir);
    mounts.push(volume_mount(&profiles, &target, false));
    Ok(Volumes {
        data,
        profiles: Some(profiles),
        mounts,
    })
}

/// Creates the volume `request` names, and hands it to `guard`.
async fn create_volume(
    docker: &Docker,
    request: VolumeCreateRequest,
    guard: &mut RemovalGuard,
) -> BackendResult<()> {
    let name = request.name.clone().unwrap_or_default();
    docker
        .create_volume(request)
        .await
        .map_err(|e| api_error(format!("create volume {name}"), e))?;
    guard.volumes.push(name);
    Ok(())
}

/// The target's container: the shape's image, environment and filesystem,
/// no network, and init as PID 1.
fn container_body(
    image: &str,
    spec: &SandboxSpec,
    mounts: Vec<Mount>,
    labels: HashMap<String, String>,
) -> ContainerCreateBody {
    let shape = &spec.shape;
    let mut env = Vec::new();
    if shape.contract_init {
        if !spec.profiles.is_empty() {
            env.push(format!("GATEWAY_PROFILES={}", spec.profiles.join(",")));
        }
        if spec.memory_limit.is_some() {
            // `gateway balloon` only works when the gateway sees this (SPEC §5).
            env.push("GATEWAY_TEST_HOOKS=1".to_owned());
        }
    }
    env.extend(spec.env.iter().map(|(k, v)| format!("{k}={v}")));
    let host_config = HostConfig {
        readonly_rootfs: Some(shape.read_only_root),
        network_mode: Some("none".to_owned()),
        tmpfs: shape
            .run_tmpfs
            .as_ref()
            .map(|(path, opts)| [(path.clone(), opts.clone())].into()),
        mounts: Some(mounts),
        // Swap equal to memory: no swap, so the kernel kills instead of swapping.
        memory: spec.memory_limit,
        memory_swap: spec.memory_limit,
        // gateway init is PID 1 itself: no docker-init in between, unless
        // the shape asks for it.
        init: Some(shape.init),
        ..Default::default()
    };
    ContainerCreateBody {
        image: Some(image.to_owned()),
        // Appended to ENTRYPOINT ["/gateway", "init"].
        cmd: (shape.contract_init && !spec.init_args.is_empty()).then(|| spec.init_args.clone()),
        env: Some(env),
        labels: Some(labels),
        host_config: Some(host_config),
        ..Default::default()
    }
}

/// Creates the container `name`; returns its id. A 404 means the image is
/// missing: [`BackendError::NoImage`].
async fn create_container(
    docker: &Docker,
    name: &str,
    image: &str,
    body: ContainerCreateBody,
) -> BackendResult<String> {
    let options = CreateContainerOptionsBuilder::new().name(name).build();
    match docker.create_container(Some(options), body).await {
        Ok(r) => Ok(r.id),
        Err(e) if is_not_found(&e) => Err(BackendError::NoImage {
            image: image.to_owned(),
        }),
        Err(e) => Err(api_error(format!("create container {name}"), e)),
    }
}

/// A named volume mounted at `target`.
pub(super) fn volume_mount(source: &str, target: &str, read_only: bool) -> Mount {
    Mount {
        typ: Some(MountType::VOLUME),
        source: Some(source.to_owned()),
        target: Some(target.to_owned()),
        read_only: Some(read_only),
        ..Default::default()
    }
}
