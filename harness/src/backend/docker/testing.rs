//! Helpers for the Docker tests (`cargo test --features docker`): a client that
//! panics with the no-daemon message (the tests fail, never skip), and images
//! built once per test process however many tests ask for them.

use tokio::sync::OnceCell;

use super::image::{build_image_with, BuildOptions, ImageRef};
use super::{client, DockerBackend};

/// Panics with `context` and the error: test helpers only.
fn fail(context: &str, e: impl std::fmt::Display) -> ! {
    panic!("{context}: {e}")
}

/// A negotiated client, or a panic saying which daemon did not answer and how
/// to fix it. Docker tests call this first: with the `docker` feature on and
/// no daemon, they fail.
pub async fn connect_or_panic() -> bollard::Docker {
    match client::connect().await {
        Ok(d) => d,
        Err(e) => fail("the docker tests need a Docker Engine", e),
    }
}

static REFERENCE: OnceCell<Result<ImageRef, String>> = OnceCell::const_new();
static MUTANTS: OnceCell<Result<ImageRef, String>> = OnceCell::const_new();

/// Builds (or reuses) an image once per process; the outcome, error included,
/// is shared by every test that asks, so a failed build is not retried by each.
async fn once(cell: &'static OnceCell<Result<ImageRef, String>>, mutants: bool) -> ImageRef {
    let built = cell
        .get_or_init(|| async move {
            // A client of this test's runtime, used only inside this call: a
            // client kept across tests would hold connections of a runtime
            // that is gone.
            let docker = client::connect().await.map_err(|e| e.to_string())?;
            build_image_with(&docker, &BuildOptions::new(mutants))
                .await
                .map_err(|e| e.to_string())
        })
        .await;
    match built {
        Ok(image) => image.clone(),
        Err(e) => fail("building the gateway image failed", e),
    }
}

/// The reference gateway image, built once per test process.
pub async fn reference_image() -> ImageRef {
    once(&REFERENCE, false).await
}

/// The gateway image built with its `mutants` feature, built once per test process.
pub async fn mutants_image() -> ImageRef {
    once(&MUTANTS, true).await
}

/// A backend on the reference image and the mutants image, with a fresh run id.
pub async fn backend() -> DockerBackend {
    let (reference, mutants) = tokio::join!(reference_image(), mutants_image());
    let docker = connect_or_panic().await;
    match DockerBackend::with_images(docker, reference.name, Some(mutants.name)).await {
        Ok(b) => b,
        Err(e) => fail("creating the docker backend failed", e),
    }
}

/// A backend on the reference image only.
pub async fn reference_backend() -> DockerBackend {
    let reference = reference_image().await;
    let docker = connect_or_panic().await;
    match DockerBackend::with_images(docker, reference.name, None).await {
        Ok(b) => b,
        Err(e) => fail("creating the docker backend failed", e),
    }
}

/// The embedded scenario in `file` (`01-container-restart.toml`).
pub fn embedded_scenario(file: &str) -> crate::scenario::Scenario {
    let text = crate::scenario::embedded::text(file)
        .unwrap_or_else(|| fail("not in the embedded table", file));
    crate::scenario::load::parse_scenario(&format!("scenarios/{file}"), text)
        .unwrap_or_else(|e| fail("the embedded table does not load", e))
}

/// Runs the embedded scenario in `file` on a fresh Docker backend (its own run
/// id) on the runtime of the calling test, checks by label that the run left
/// no container or volume, and returns the result. `mutant` runs it on the
/// mutants image with `GATEWAY_MUTANT` set.
///
/// Async on purpose: the engine client must live on the runtime that drives it.
pub async fn run_embedded(file: &str, mutant: Option<&str>) -> crate::runner::ScenarioResult {
    let scenario = embedded_scenario(file);
    let backend = match mutant {
        Some(_) => backend().await,
        None => reference_backend().await,
    };
    let opts = crate::runner::RunOptions {
        env: mutant
            .map(|m| vec![("GATEWAY_MUTANT".to_owned(), m.to_owned())])
            .unwrap_or_default(),
        jobs: 1,
        ..crate::runner::RunOptions::default()
    };
    let result = crate::runner::run_scenario(&backend, &scenario, &opts).await;
    let left = super::labels::leftovers(backend.docker(), Some(backend.run_id()), None)
        .await
        .unwrap_or_else(|e| fail("listing leftovers", e));
    assert!(
        left.is_empty(),
        "scenario {} left {left} on the engine",
        scenario.name
    );
    result
}
