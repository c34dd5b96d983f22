//! The image: tagged by hash and not rebuilt when unchanged; docs/backends.md's
//! by-hand build (`DOCKER_BUILDKIT=0 docker build` of the documented context)
//! and the legacy-builder fallback give the same binary and the same config as
//! the harness's BuildKit build.

use std::collections::HashMap;
use std::io::Read;

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder, InspectContainerOptions,
    RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use restart_harness::backend::docker::image::{self, BuildOptions, ImageBuilder};
use restart_harness::backend::docker::labels;
use sha2::{Digest, Sha256};

use crate::support;

/// `/gateway` of `image`, read from a created (never started) container:
/// (sha256, uid, mode).
async fn gateway_of(docker: &Docker, image: &str, run: &str) -> (String, u64, u32) {
    let name = format!("restart-harness-{run}");
    let body = ContainerCreateBody {
        image: Some(image.to_owned()),
        labels: Some(labels::for_target(run, "image-digest")),
        ..Default::default()
    };
    let id = docker
        .create_container(
            Some(CreateContainerOptionsBuilder::new().name(&name).build()),
            body,
        )
        .await
        .unwrap_or_else(|e| panic!("create a container of {image}: {e}"))
        .id;
    let mut tar = Vec::new();
    let opts = DownloadFromContainerOptionsBuilder::new()
        .path("/gateway")
        .build();
    let mut stream = docker.download_from_container(&id, Some(opts));
    while let Some(chunk) = stream.next().await {
        tar.extend_from_slice(&chunk.unwrap());
    }
    // The image's `VOLUME /data` gave the container an anonymous volume:
    // `v(true)` removes it with the container, and we check that it did.
    let anonymous: Vec<String> = docker
        .inspect_container(&id, None::<InspectContainerOptions>)
        .await
        .unwrap()
        .mounts
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.name)
        .collect();
    docker
        .remove_container(
            &id,
            Some(
                RemoveContainerOptionsBuilder::new()
                    .force(true)
                    .v(true)
                    .build(),
            ),
        )
        .await
        .unwrap();
    for v in anonymous {
        assert!(
            docker.inspect_volume(&v).await.is_err(),
            "volume {v} of {name} outlived it"
        );
    }
    let mut archive = tar::Archive::new(&tar[..]);
    let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
    let uid = entry.header().uid().unwrap();
    let mode = entry.header().mode().unwrap();
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).unwrap();
    (hex(&Sha256::digest(&bytes)), uid, mode)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The config fields the contract fixes (SPEC §6), and the labels.
#[derive(Debug, PartialEq)]
struct Config {
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    user: Option<String>,
    stop_signal: Option<String>,
    volumes: Option<Vec<String>>,
    labels: Option<HashMap<String, String>>,
}

async fn config_of(docker: &Docker, image: &str) -> Config {
    let c = docker
        .inspect_image(image)
        .await
        .unwrap_or_else(|e| panic!("inspect {image}: {e}"))
        .config
        .unwrap_or_default();
    Config {
        entrypoint: c.entrypoint,
        cmd: c.cmd,
        user: c.user,
        stop_signal: c.stop_signal,
        volumes: c.volumes,
        labels: c.labels,
    }
}

async fn remove_image(docker: &Docker, name: &str) {
    let _ = docker
        .remove_image(
            name,
            Some(RemoveImageOptionsBuilder::new().force(true).build()),
            None,
        )
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_gateway_is_not_rebuilt() {
    let first = support::docker::reference_image().await;
    let docker = support::docker::connect_or_panic().await;
    let again = image::build_image_with(&docker, &BuildOptions::new(false))
        .await
        .unwrap();
    assert_eq!(again.name, first.name);
    assert_eq!(again.built_with, None, "reused, not rebuilt: {again}");
    let tag = first.name.rsplit(':').next().unwrap();
    assert_eq!(tag.len(), 12);
    assert!(first.name.starts_with("restart-harness/gateway:"));
    if let Some(b) = first.built_with {
        eprintln!("this process built {first}");
        assert_eq!(
            b,
            ImageBuilder::BuildKit,
            "BuildKit works on this engine; the fallback ran: {first}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_by_hand_build_and_the_legacy_builder_give_the_same_image() {
    let harness = support::docker::reference_image().await;
    let docker = support::docker::connect_or_panic().await;
    let tag = harness.name.rsplit(':').next().unwrap().to_owned();
    let by_hand = format!("restart-harness/gateway-byhand:{tag}");
    let legacy = format!("restart-harness/gateway-legacy:{tag}");

    // docs/backends.md's context: the static binary as `gateway`, an empty `data/`.
    let ctx = tempfile::tempdir().unwrap();
    std::fs::copy(&harness.binary, ctx.path().join("gateway")).unwrap();
    std::fs::create_dir(ctx.path().join("data")).unwrap();
    let dockerfile = image::default_workspace().join("Dockerfile");
    let out = std::process::Command::new("docker")
        .env("DOCKER_BUILDKIT", "0")
        .arg("build")
        .arg("-q")
        .arg("-f")
        .arg(&dockerfile)
        .args(["-t", &by_hand])
        .arg(ctx.path())
        .output()
        .unwrap_or_else(|e| panic!("run the docker CLI: {e}"));
    assert!(
        out.status.success(),
        "DOCKER_BUILDKIT=0 docker build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&harness.binary).unwrap();
    image::build_with_legacy_builder(&docker, &legacy, &bytes)
        .await
        .unwrap();

    let run = format!("image-test-{}", std::process::id());
    let want = gateway_of(&docker, &harness.name, &run).await;
    assert_eq!(
        want.0, harness.binary_sha256,
        "the image holds the binary it was built from"
    );
    assert_eq!(
        (want.1, want.2 & 0o7777),
        (10001, 0o755),
        "owner and mode of /gateway"
    );
    let want_config = config_of(&docker, &harness.name).await;
    assert_eq!(
        want_config.entrypoint,
        Some(vec!["/gateway".to_owned(), "init".to_owned()])
    );
    assert_eq!(want_config.user.as_deref(), Some("10001:10001"));
    assert_eq!(want_config.stop_signal.as_deref(), Some("SIGTERM"));
    assert_eq!(want_config.volumes, Some(vec!["/data".to_owned()]));

    for other in [&by_hand, &legacy] {
        assert_eq!(
            gateway_of(&docker, other, &run).await,
            want,
            "/gateway of {other}"
        );
        assert_eq!(
            config_of(&docker, other).await,
            want_config,
            "config of {other}"
        );
    }
    remove_image(&docker, &by_hand).await;
    remove_image(&docker, &legacy).await;
    let left = labels::leftovers(&docker, Some(&run), None).await.unwrap();
    assert!(left.is_empty(), "{left}");
}
