//! Long work says what it is doing: when a build has run for a second, one
//! line on stderr names it, and one more gives its duration when it ends. Work
//! that ends sooner (a warm build) prints nothing.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long work may run before it is announced.
const QUIET: Duration = Duration::from_secs(1);

/// Runs `work`, announcing it on stderr as `what` if it takes longer than a second.
pub async fn announce<F: Future>(what: &str, work: F) -> F::Output {
    let t0 = Instant::now();
    tokio::pin!(work);
    tokio::select! {
        out = &mut work => return out,
        // A timer for the message only: nothing waits on it.
        () = tokio::time::sleep(QUIET) => {}
    }
    eprintln!("restart-harness: {what} ...");
    let out = work.await;
    eprintln!(
        "restart-harness: {what}: done in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    out
}
