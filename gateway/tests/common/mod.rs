//! What every gateway test needs: the binary, a command that no environment
//! leaks into, and condition waits with deadlines (no fixed sleeps).

use std::process::Command;
use std::time::{Duration, Instant};

/// How long any awaited condition may take; generous for loaded CI machines.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Environment variables that must not leak from the test's environment.
pub const LEAKY_VARS: [&str; 5] = [
    "GATEWAY_DATA",
    "GATEWAY_RUN",
    "GATEWAY_PROFILES",
    "GATEWAY_TEST_HOOKS",
    "GATEWAY_MUTANT",
];

/// Polls `probe` until it returns `Ok`, or panics after `timeout` naming `what`
/// and the last value seen (the `Err` of the last probe).
pub fn wait_until<T>(
    timeout: Duration,
    what: &str,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match probe() {
            Ok(v) => return v,
            Err(last) => {
                if Instant::now() >= deadline {
                    panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}");
                }
            }
        }
        // The pause between two looks of the wait, not a wait of its own.
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The `gateway` binary under test.
pub fn gateway_bin() -> &'static str {
    env!("CARGO_BIN_EXE_gateway")
}

/// A `gateway` command with none of the environment that could leak in.
pub fn bare_command() -> Command {
    let mut cmd = Command::new(gateway_bin());
    for var in LEAKY_VARS {
        cmd.env_remove(var);
    }
    cmd
}
