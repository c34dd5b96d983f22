//! Helpers for the Docker tests (`cargo test --features docker`): a client that
//! panics with the no-daemon message (the tests fail, never skip), and images
//! built once per test process however many tests ask for them.

use tokio::sync::OnceCell;

use restart_harness::backend::docker::image::{build_image_with, BuildOptions, ImageRef};
use restart_harness::backend::docker::{client, labels, DockerBackend};
use restart_harness::backend::BackendResult;

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

static REFERENCE: OnceCell<BackendResult<ImageRef>> = OnceCell::const_new();
static MUTANTS: OnceCell<BackendResult<ImageRef>> = OnceCell::const_new();

/// Builds (or reuses) an image once per process; the outcome, error included,
/// is shared by every test that asks, so a failed build is not retried by each.
async fn once(cell: &'static OnceCell<BackendResult<ImageRef>>, mutants: bool) -> ImageRef {
    let built = cell
        .get_or_init(|| async move {
            // A client of this test's runtime, used only inside this call: a
            // client kept across tests would hold connections of a runtime
            // that is gone.
            let docker = client::connect().await?;
            build_image_with(&docker, &BuildOptions::new(mutants)).await
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
pub fn embedded_scenario(file: &str) -> restart_harness::scenario::Scenario {
    let text = restart_harness::scenario::embedded::text(file)
        .unwrap_or_else(|| fail("not in the embedded table", file));
    restart_harness::scenario::load::parse_scenario(&format!("scenarios/{file}"), text)
        .unwrap_or_else(|e| fail("the embedded table does not load", e))
}

/// Runs the embedded scenario in `file` on a fresh Docker backend (its own run
/// id) on the runtime of the calling test, checks by label that the run left
/// no container or volume, and returns the result. `mutant` runs it on the
/// mutants image with `GATEWAY_MUTANT` set.
///
/// Async on purpose: the engine client must live on the runtime that drives it.
pub async fn run_embedded(
    file: &str,
    mutant: Option<&str>,
) -> restart_harness::runner::ScenarioResult {
    let scenario = embedded_scenario(file);
    let backend = match mutant {
        Some(_) => backend().await,
        None => reference_backend().await,
    };
    let opts = restart_harness::runner::RunOptions {
        env: mutant
            .map(|m| vec![("GATEWAY_MUTANT".to_owned(), m.to_owned())])
            .unwrap_or_default(),
        jobs: 1,
        ..restart_harness::runner::RunOptions::default()
    };
    run_leaving_nothing(&backend, &scenario, &opts).await
}

/// Runs `scenario` and checks by label that the run left no container or volume.
async fn run_leaving_nothing(
    backend: &DockerBackend,
    scenario: &restart_harness::scenario::Scenario,
    opts: &restart_harness::runner::RunOptions,
) -> restart_harness::runner::ScenarioResult {
    let result = restart_harness::runner::run_scenario(backend, scenario, opts).await;
    let left = labels::leftovers(backend.docker(), Some(backend.run_id()), None)
        .await
        .unwrap_or_else(|e| fail("listing leftovers", e));
    assert!(
        left.is_empty(),
        "scenario {} left {left} on the engine",
        scenario.name
    );
    result
}

/// A value one thread fills once and others wait for.
type Slot<T> = std::sync::Arc<(std::sync::Mutex<Option<T>>, std::sync::Condvar)>;

/// One scenario's result in the batch: `Err` when the batch itself could not
/// run it (e.g. the image could not be built).
type ResultSlot = Slot<Result<restart_harness::runner::ScenarioResult, String>>;

/// Every selected Docker scenario of the embedded table, run at once.
struct Batch {
    /// By scenario name.
    slots: std::collections::HashMap<String, ResultSlot>,
    /// By file name → scenario name.
    names: std::collections::HashMap<String, String>,
    /// Filled when the whole batch has ended: what it left on the engine
    /// (empty: nothing), or why it could not tell.
    done: Slot<String>,
}

static BATCH: std::sync::OnceLock<Batch> = std::sync::OnceLock::new();

/// How many scenarios of the batch (and of the Docker kill matrix) run at
/// once: `RH_DOCKER_JOBS`, default 8. Containers mostly wait (for signals,
/// drains, restarts), so far more run at once than there are cores; libtest
/// alone would run one per test thread.
pub fn jobs() -> usize {
    super::jobs_from_env("RH_DOCKER_JOBS", 8)
}

/// The test names libtest was asked to run (positional filters, `--exact`,
/// `--skip`), so a filtered run (`cargo test ... s_05`) runs only what it needs.
/// `test_name` is the whole name libtest matches them against, module path included.
fn selected(test_name: &str) -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut filters = Vec::new();
    let mut skips = Vec::new();
    let mut exact = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--exact" => exact = true,
            "--skip" => skips.extend(it.next().cloned()),
            // Flags that take a value.
            "--test-threads" | "--format" | "--color" | "--logfile" | "-Z" | "--report-time" => {
                it.next();
            }
            f if f.starts_with('-') => {}
            f => filters.push(f.to_owned()),
        }
    }
    let hit = |f: &String| {
        if exact {
            test_name == f
        } else {
            test_name.contains(f.as_str())
        }
    };
    (filters.is_empty() || filters.iter().any(hit)) && !skips.iter().any(hit)
}

fn new_slot<T>() -> Slot<T> {
    std::sync::Arc::new((std::sync::Mutex::new(None), std::sync::Condvar::new()))
}

/// Fills `slot` unless already filled, and wakes its waiters.
fn fill<T>(slot: &Slot<T>, value: T) {
    let mut v = slot.0.lock().unwrap_or_else(|p| p.into_inner());
    if v.is_none() {
        *v = Some(value);
    }
    slot.1.notify_all();
}

/// Waits until `slot` is filled.
fn wait<T: Clone>(slot: &Slot<T>) -> T {
    let mut v = slot.0.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        if let Some(r) = v.as_ref() {
            return r.clone();
        }
        v = slot.1.wait(v).unwrap_or_else(|p| p.into_inner());
    }
}

impl Batch {
    /// Starts running, on a thread and runtime of its own, every embedded
    /// scenario that runs on Docker and whose test is selected; `prefix` is
    /// what libtest puts before the tests' function names (`docker_scenarios::`).
    fn start(prefix: &str) -> Batch {
        use restart_harness::backend::BackendKind;
        let mut scenarios = Vec::new();
        let mut slots = std::collections::HashMap::new();
        let mut names = std::collections::HashMap::new();
        for (file, _) in restart_harness::scenario::embedded::FILES {
            let s = embedded_scenario(file);
            if s.runs_on(BackendKind::Docker)
                && selected(&format!(
                    "{prefix}{}",
                    restart_harness::scenario::test_name_of(file)
                ))
            {
                slots.insert(s.name.clone(), new_slot());
                names.insert((*file).to_owned(), s.name.clone());
                scenarios.push(s);
            }
        }
        let done = new_slot();
        let (slots2, done2) = (slots.clone(), done.clone());
        std::thread::spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(4)
                    .enable_all()
                    .build()
                    .unwrap_or_else(|e| fail("a tokio runtime", e));
                rt.block_on(async {
                    let backend = std::sync::Arc::new(reference_backend().await);
                    let opts = restart_harness::runner::RunOptions {
                        jobs: jobs(),
                        ..restart_harness::runner::RunOptions::default()
                    };
                    let slots = slots2.clone();
                    let on_done: std::sync::Arc<
                        dyn Fn(&restart_harness::runner::ScenarioResult) + Send + Sync,
                    > = std::sync::Arc::new(move |r| {
                        if let Some(slot) = slots.get(&r.name) {
                            fill(slot, Ok(r.clone()));
                        }
                    });
                    restart_harness::runner::run_all(backend.clone(), scenarios, opts, on_done)
                        .await;
                    labels::leftovers(backend.docker(), Some(backend.run_id()), None)
                        .await
                        .map_err(|e| e.to_string())
                })
            }));
            let left = match outcome {
                Ok(Ok(left)) if left.is_empty() => String::new(),
                Ok(Ok(left)) => left.to_string(),
                Ok(Err(e)) => format!("listing leftovers failed: {e}"),
                Err(panic) => {
                    let msg = format!(
                        "the docker scenario batch panicked: {}",
                        restart_harness::runner::panic_message(panic.as_ref())
                    );
                    for slot in slots2.values() {
                        fill(slot, Err(msg.clone()));
                    }
                    msg
                }
            };
            // A test waiting for a scenario the batch never reported must not hang.
            for slot in slots2.values() {
                fill(
                    slot,
                    Err("the batch ended without a result for it".to_owned()),
                );
            }
            fill(&done2, left);
        });
        Batch { slots, names, done }
    }
}

/// The result of the embedded scenario in `file` from the batch: the first
/// caller starts every selected Docker scenario at once (`RH_DOCKER_JOBS` at a
/// time) on one backend, and each test then waits for its own result. So each
/// scenario is still its own test, but the suite takes about the time of the
/// slowest few scenarios, not of all of them in a row. `prefix` is what
/// libtest puts before the tests' function names (`docker_scenarios::`).
///
/// # Panics
/// When the batch could not run the scenario (the test fails with why).
pub fn batch_result(prefix: &str, file: &str) -> restart_harness::runner::ScenarioResult {
    let batch = BATCH.get_or_init(|| Batch::start(prefix));
    let Some(slot) = batch.names.get(file).and_then(|n| batch.slots.get(n)) else {
        fail(
            "not in the docker batch (it does not run on docker, or the test filter did not select it)",
            file,
        )
    };
    wait(slot).unwrap_or_else(|e| fail(file, e))
}

/// Waits for the whole batch and returns what it left on the engine, or why
/// it could not tell; empty when nothing is left. `prefix` as for [`batch_result`].
pub fn batch_leftovers(prefix: &str) -> String {
    let batch = BATCH.get_or_init(|| Batch::start(prefix));
    wait(&batch.done)
}

/// Runs the embedded scenario in `file` on `target` (`hermes@0.17.0`): builds
/// or reuses the release's image with its adapter's recipe, runs the scenario
/// on a fresh Docker backend (whose reference image serves the recorder
/// sidecar), checks by label that nothing was left, and returns the result.
#[cfg(feature = "upstream")]
pub async fn run_embedded_on(file: &str, target: &str) -> restart_harness::runner::ScenarioResult {
    let scenario = embedded_scenario(file);
    let target = restart_harness::target::Target::resolve(target, None)
        .unwrap_or_else(|e| fail("resolving the target", e));
    if let Some(version) = &target.version {
        restart_harness::target::image::build_release(&target.adapter, version)
            .await
            .unwrap_or_else(|e| fail("building the target's image failed", e));
    }
    let backend = reference_backend().await;
    let opts = restart_harness::runner::RunOptions {
        jobs: 1,
        ..restart_harness::runner::RunOptions::for_target(target)
    };
    run_leaving_nothing(&backend, &scenario, &opts).await
}
