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
