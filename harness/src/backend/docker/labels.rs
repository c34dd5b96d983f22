//! Labels on everything the Docker backend creates, and the sweep that removes
//! what a killed run left behind (`restart-harness clean`).
//!
//! Containers and volumes carry [`RUN`] and [`SCENARIO`]. Images are built from
//! the project's Dockerfile exactly as written (a by-hand `docker build` must give
//! the same image), so they are recognised by their repository instead:
//! everything under [`IMAGE_NAMESPACE`] was tagged by the harness.

use std::collections::HashMap;
use std::fmt;

use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListImagesOptions, ListVolumesOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder, RemoveVolumeOptionsBuilder,
};
use bollard::Docker;

use super::client::api_error;
use crate::backend::BackendResult;

/// The run a container or volume belongs to (value: the run id).
pub const RUN: &str = "restart-harness.run";
/// The scenario a container or volume belongs to (value: the scenario name).
pub const SCENARIO: &str = "restart-harness.scenario";
/// The repository namespace of every image the harness tags.
pub const IMAGE_NAMESPACE: &str = "restart-harness/";

/// The labels of one scenario's container and volume.
pub fn for_target(run: &str, scenario: &str) -> HashMap<String, String> {
    HashMap::from([
        (RUN.to_owned(), run.to_owned()),
        (SCENARIO.to_owned(), scenario.to_owned()),
    ])
}

/// A `label` filter: every harness object, or one run's, or one scenario of one run.
fn label_filter(run: Option<&str>, scenario: Option<&str>) -> HashMap<String, Vec<String>> {
    let mut labels = vec![match run {
        Some(run) => format!("{RUN}={run}"),
        None => RUN.to_owned(),
    }];
    if let Some(scenario) = scenario {
        labels.push(format!("{SCENARIO}={scenario}"));
    }
    HashMap::from([("label".to_owned(), labels)])
}

/// Containers and volumes carrying the harness label.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// Container names (or ids when unnamed).
    pub containers: Vec<String>,
    /// Volume names.
    pub volumes: Vec<String>,
}

impl Leftovers {
    /// Nothing left.
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.volumes.is_empty()
    }
}

impl fmt::Display for Leftovers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} container(s) [{}], {} volume(s) [{}]",
            self.containers.len(),
            self.containers.join(", "),
            self.volumes.len(),
            self.volumes.join(", ")
        )
    }
}

/// Lists harness containers and volumes: all of them, one run's, or one
/// scenario's of one run. A run calls this at start to warn about leftovers.
pub async fn leftovers(
    docker: &Docker,
    run: Option<&str>,
    scenario: Option<&str>,
) -> BackendResult<Leftovers> {
    let filters = label_filter(run, scenario);
    let containers = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .map_err(|e| api_error("list harness containers", e))?
        .into_iter()
        .map(|c| {
            c.names
                .and_then(|n| n.first().cloned())
                .map(|n| n.trim_start_matches('/').to_owned())
                .or(c.id)
                .unwrap_or_default()
        })
        .collect();
    let volumes = docker
        .list_volumes(Some(
            ListVolumesOptionsBuilder::new().filters(&filters).build(),
        ))
        .await
        .map_err(|e| api_error("list harness volumes", e))?
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.name)
        .collect();
    Ok(Leftovers {
        containers,
        volumes,
    })
}

/// What [`sweep`] removed, and what it could not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Containers removed.
    pub containers: Vec<String>,
    /// Volumes removed.
    pub volumes: Vec<String>,
    /// Image tags removed.
    pub images: Vec<String>,
    /// Removals that failed, with the engine's reason.
    pub failures: Vec<String>,
}

impl fmt::Display for SweepReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "removed {} container(s)", self.containers.len())?;
        for c in &self.containers {
            writeln!(f, "  container {c}")?;
        }
        writeln!(f, "removed {} volume(s)", self.volumes.len())?;
        for v in &self.volumes {
            writeln!(f, "  volume {v}")?;
        }
        writeln!(f, "removed {} image tag(s)", self.images.len())?;
        for i in &self.images {
            writeln!(f, "  image {i}")?;
        }
        for e in &self.failures {
            writeln!(f, "FAILED: {e}")?;
        }
        Ok(())
    }
}

/// Removes harness containers and volumes (of one run, or all), and with
/// `images` every image tag under [`IMAGE_NAMESPACE`]. Containers go first: a
/// volume in use by a container cannot be removed. Failures are collected, not
/// fatal, so one stuck object does not keep the rest.
pub async fn sweep(docker: &Docker, run: Option<&str>, images: bool) -> BackendResult<SweepReport> {
    let found = leftovers(docker, run, None).await?;
    let mut report = SweepReport::default();
    for c in found.containers {
        // `v(true)` removes the container's anonymous volumes (an image's
        // `VOLUME` not mounted over); named ones go below, by label.
        let opts = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        match docker.remove_container(&c, Some(opts)).await {
            Ok(()) => report.containers.push(c),
            Err(e) if super::client::is_not_found(&e) => report.containers.push(c),
            Err(e) => report.failures.push(format!("container {c}: {e}")),
        }
    }
    for v in found.volumes {
        let opts = RemoveVolumeOptionsBuilder::new().force(true).build();
        match docker.remove_volume(&v, Some(opts)).await {
            Ok(()) => report.volumes.push(v),
            Err(e) if super::client::is_not_found(&e) => report.volumes.push(v),
            Err(e) => report.failures.push(format!("volume {v}: {e}")),
        }
    }
    if images {
        for tag in harness_image_tags(docker).await? {
            // No `force`: an image a foreign container still uses is reported, not yanked.
            let opts = RemoveImageOptionsBuilder::new().build();
            match docker.remove_image(&tag, Some(opts), None).await {
                Ok(_) => report.images.push(tag),
                Err(e) => report.failures.push(format!("image {tag}: {e}")),
            }
        }
    }
    Ok(report)
}

/// Every image tag in the harness namespace.
pub async fn harness_image_tags(docker: &Docker) -> BackendResult<Vec<String>> {
    let images = docker
        .list_images(None::<ListImagesOptions>)
        .await
        .map_err(|e| api_error("list images", e))?;
    let mut tags: Vec<String> = images
        .into_iter()
        .flat_map(|i| i.repo_tags)
        .filter(|t| t.starts_with(IMAGE_NAMESPACE))
        .collect();
    tags.sort();
    tags.dedup();
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_narrow_by_run_and_scenario() {
        assert_eq!(label_filter(None, None)["label"], vec![RUN.to_owned()]);
        assert_eq!(
            label_filter(Some("r1"), Some("s")),
            HashMap::from([(
                "label".to_owned(),
                vec![
                    "restart-harness.run=r1".to_owned(),
                    "restart-harness.scenario=s".to_owned()
                ]
            )])
        );
    }
}
