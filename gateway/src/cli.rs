//! The `gateway` command line (SPEC §3–§5).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The reference marker-aware gateway and its supervisor.
#[derive(Debug, Parser)]
#[command(name = "gateway", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data dir and the run dir are. Flags beat environment variables.
#[derive(Debug, Clone, Args)]
pub struct Dirs {
    /// The data dir (persists across restarts).
    #[arg(long, env = "GATEWAY_DATA", default_value = "/data")]
    pub data: PathBuf,
    /// The run dir (sockets only; never persists).
    #[arg(long, env = "GATEWAY_RUN", default_value = "/run/gateway")]
    pub run: PathBuf,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one gateway process (spawned by init).
    Run {
        #[command(flatten)]
        dirs: Dirs,
        /// The profile.
        #[arg(long)]
        profile: String,
    },
    /// The supervisor: PID 1 in the container.
    Init {
        #[command(flatten)]
        dirs: Dirs,
        /// Profiles to create if they have no home yet (besides `default`).
        #[arg(long, env = "GATEWAY_PROFILES", value_delimiter = ',')]
        profiles: Vec<String>,
        /// How long a container stop waits for gateways before SIGKILL.
        #[arg(long, default_value_t = 8000)]
        grace_ms: u64,
        /// Unexpected exits tolerated within the window before giving up.
        #[arg(long, default_value_t = 5)]
        crash_limit: u32,
        /// The crash-loop window.
        #[arg(long, default_value_t = 60)]
        crash_window_s: u64,
        /// The first backoff delay before a revival, doubling up to 5 s (or
        /// to this delay, if longer).
        #[arg(long, default_value_t = 100)]
        backoff_ms: u64,
    },
    /// Operator stop: write the marker and the intent, then stop the gateway.
    Stop(ControlArgs),
    /// Operator start: write the intent, then start the gateway.
    Start(ControlArgs),
    /// Operator restart: write the intent, then restart the gateway (SIGUSR1).
    Restart(ControlArgs),
    /// Every profile's supervision and state.
    Status {
        #[command(flatten)]
        dirs: Dirs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Keep running: answer each line read on stdin with one `--json` line
        /// (a look that fails answers `{"error":"..."}`), until stdin ends. The
        /// harness asks this way instead of starting a command per look.
        #[arg(long, requires = "json")]
        serve: bool,
    },
    /// Exit 0 if the profile's channel answers.
    Ping {
        #[command(flatten)]
        dirs: Dirs,
        /// The profile.
        #[arg(long, default_value = "default")]
        profile: String,
    },
    /// A bare kill(2): no marker.
    Kill {
        /// The pid.
        pid: i32,
        /// `SIGTERM`, `TERM` or `15`.
        signal: String,
    },
    /// List the deliberate bugs this build can enable: one `name<TAB>sentence`
    /// line each; none in a default build. Hidden: for the harness's mutant gate.
    #[command(hide = true)]
    Mutants,
    /// Print every version of the named files written under DIR, one JSON line
    /// each (inotify). Hidden: the harness runs it in a sidecar to record the
    /// state files of targets that keep no event history.
    #[command(hide = true)]
    Watch {
        /// The directory (watched with every directory below it).
        dir: PathBuf,
        /// A file name to record (repeatable).
        #[arg(long = "name", required = true)]
        names: Vec<String>,
    },
    /// Test hook: make the gateway allocate N MiB (needs GATEWAY_TEST_HOOKS=1 in its environment).
    Balloon {
        #[command(flatten)]
        dirs: Dirs,
        /// MiB to allocate and touch.
        #[arg(long)]
        mib: u64,
        /// The profile.
        #[arg(long, default_value = "default")]
        profile: String,
    },
}

/// Arguments of the control commands.
#[derive(Debug, Clone, Args)]
pub struct ControlArgs {
    #[command(flatten)]
    pub dirs: Dirs,
    /// The profile.
    #[arg(long, default_value = "default")]
    pub profile: String,
    /// How long to wait for the outcome.
    #[arg(long, default_value_t = 30)]
    pub timeout_s: u64,
}
