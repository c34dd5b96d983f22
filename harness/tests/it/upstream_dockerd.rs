//! The verdicts Docker documents for `--restart unless-stopped`, on Debian's
//! Docker Engine releases (`cargo test --features upstream`; `.ci/run` runs
//! them): each engine in an image built from Debian packages alone
//! (adapters/dockerd/), driven through adapters/dockerd.toml.
//!
//! - a running container is up after a reboot and after a power cut;
//! - after `docker stop` it stays down through both;
//! - `docker start` brings it back;
//! - an OOM-killed container is restarted.
//!
//! No daemon is a failure, never a skip.

use restart_harness::report::human::detail;
use restart_harness::runner::Outcome;

use crate::support::docker::run_embedded_on;

/// Runs `file` on the engine `version` and asserts that it passed.
async fn holds(file: &str, version: &str) {
    let r = run_embedded_on(file, &format!("dockerd@{version}")).await;
    assert_eq!(r.outcome, Outcome::Passed, "{}", detail(&r));
}

/// One test per verdict and engine release.
macro_rules! verdicts {
    ($($release:ident = $version:literal;)*) => {$(
        mod $release {
            use super::holds;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn up_after_a_reboot() {
                holds("39-core-container-restart.toml", $version).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn up_after_a_power_cut() {
                holds("40-core-container-kill.toml", $version).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_stopped_container_stays_down_through_a_reboot() {
                holds("45-core-operator-stop.toml", $version).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_stopped_container_stays_down_through_a_power_cut() {
                holds("63-core-operator-stop-then-power-cut.toml", $version).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn docker_start_brings_it_back() {
                holds("46-core-operator-start.toml", $version).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn an_oom_killed_container_is_restarted() {
                holds("44-core-oom.toml", $version).await;
            }
        }
    )*};
}

verdicts! {
    bookworm_20_10_24 = "20.10.24";
    trixie_26_1_5 = "26.1.5";
}
