//! The `restart-harness` command line: `run`, `list`, `replay`.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::backend::{self, BackendKind, SelectError, SelectOptions, Selection};
use crate::report::{self, RunReport};
use crate::runner::{self, RunOptions, ScenarioResult};
use crate::scenario::{self, LoadError, Scenario};

const EXIT_CODES: &str = "\
Exit codes:
  0  every scenario passed
  1  a scenario failed: a literal expectation did not hold (the gate says no)
  2  the harness could not run: a bad scenario table, no Docker daemon when
     docker was asked for, a gateway build failure, or a scenario that could not
     be run (an error is never a verdict on the gateway)";

const MUTANTS_EXIT_CODES: &str = "\
A mutant is killed by a scenario only when a literal expectation of that
scenario failed on the mutant while the reference passed the same scenario in
the same run. The mutant list comes from the gateway (`gateway mutants`).

Exit codes:
  0  the reference passed every scenario and every mutant was killed
  1  the reference failed a scenario, or a mutant survived every scenario
     (a hole in the table: add a scenario that kills it)
  2  the harness could not run, or a run ended in an error (a harness or
     Docker error is \"unknown\", never a kill)";

/// Runs restart scenarios against a gateway that honours the restart contract
/// and gates releases on them.
#[derive(Debug, Parser)]
#[command(name = "restart-harness", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the scenario table and report.
    #[command(after_help = EXIT_CODES)]
    Run(RunArgs),
    /// One line per scenario: its name, fault and backends.
    List(TableArgs),
    /// Run one scenario and print its whole timeline.
    #[command(after_help = EXIT_CODES)]
    Replay(ReplayArgs),
    /// The mutant gate: run the table against the reference gateway and each
    /// deliberate bug of its `mutants` build, and print the kill matrix.
    #[command(after_help = MUTANTS_EXIT_CODES)]
    Mutants(MutantsArgs),
    /// The Docker image of the gateway.
    #[command(subcommand)]
    Image(ImageCommand),
    /// Remove the containers and volumes that killed runs left on the Docker
    /// engine (found by their `restart-harness.run` label).
    Clean(CleanArgs),
}

/// `image`.
#[derive(Debug, Clone, Subcommand)]
pub enum ImageCommand {
    /// Compile `gateway` statically and build the top-level Dockerfile around
    /// it, tagged `restart-harness/gateway:<hash of binary and Dockerfile>`;
    /// an unchanged gateway is not rebuilt.
    Build {
        /// Build the gateway with its `mutants` feature, as
        /// `restart-harness/gateway-mutants:<hash>`.
        #[arg(long)]
        mutants: bool,
    },
}

/// `clean`.
#[derive(Debug, Clone, Args)]
pub struct CleanArgs {
    /// Also remove every image tagged under `restart-harness/`.
    #[arg(long)]
    pub images: bool,
}

/// `--backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// Local processes in temp dirs.
    Process,
    /// Real containers; no daemon is an error (exit 2).
    Docker,
    /// Docker when a daemon answers, else local processes.
    Auto,
}

impl From<BackendArg> for Selection {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Process => Selection::Process,
            BackendArg::Docker => Selection::Docker,
            BackendArg::Auto => Selection::Auto,
        }
    }
}

/// Where the table comes from.
#[derive(Debug, Clone, Args)]
pub struct TableArgs {
    /// A scenario file or a directory of them (default: the embedded table).
    #[arg(long, value_name = "PATH")]
    pub scenarios: Option<PathBuf>,
    /// Only scenarios whose name matches this regular expression.
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,
}

/// What the gateway is and where it runs.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Which backend runs the scenarios.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendArg,
    /// The gateway binary for the process backend (also $RESTART_HARNESS_GATEWAY);
    /// default: build this workspace's gateway with cargo.
    #[arg(long, value_name = "PATH")]
    pub gateway: Option<PathBuf>,
    /// The image the Docker backend runs (default: build the reference image).
    #[arg(long, value_name = "NAME")]
    pub image: Option<String>,
    /// Run a deliberately broken gateway (the `mutants` build, GATEWAY_MUTANT=NAME).
    #[arg(long, value_name = "NAME")]
    pub mutant: Option<String>,
}

/// `run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Which scenarios.
    #[command(flatten)]
    pub table: TableArgs,
    /// Which gateway, on which backend.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Scenarios at once (default: the number of cores).
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    pub jobs: Option<usize>,
    /// Also write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// `mutants`.
#[derive(Debug, Clone, Args)]
pub struct MutantsArgs {
    /// Which scenarios.
    #[command(flatten)]
    pub table: TableArgs,
    /// Which backend runs the scenarios (the reference and the mutants build
    /// of the gateway; on Docker their two images).
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendArg,
    /// Runs at once (default: the number of cores).
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    pub jobs: Option<usize>,
    /// Also write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Run every scenario on every mutant; by default a mutant stops at its
    /// first kill.
    #[arg(long)]
    pub full: bool,
    /// Only this mutant (repeatable; default: every mutant the gateway lists).
    #[arg(long = "mutant", value_name = "NAME")]
    pub mutants: Vec<String>,
}

/// `replay`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// The scenario's name.
    pub name: String,
    /// A scenario file or a directory of them (default: the embedded table).
    #[arg(long, value_name = "PATH")]
    pub scenarios: Option<PathBuf>,
    /// Which gateway, on which backend.
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Why the harness could not run (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The table is wrong.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// `--filter` is not a regular expression.
    #[error("--filter: {0}")]
    Filter(#[from] regex::Error),
    /// No backend.
    #[error(transparent)]
    Select(#[from] SelectError),
    /// A report could not be written.
    #[error("writing {path}: {detail}")]
    Write {
        /// Where.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// `replay` of a scenario that is not in the table.
    #[error("no scenario named `{0}`; `restart-harness list` shows them")]
    NoSuchScenario(String),
    /// The mutant gate could not be set up.
    #[error(transparent)]
    Mutants(#[from] crate::mutants::MutantsError),
    /// The filter left nothing to run.
    #[error("no scenario to run on the {0} backend (check --filter and the scenarios' backends)")]
    Nothing(BackendKind),
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub fn emit(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Loads the table: `--scenarios` or the embedded one.
pub fn load_table(path: Option<&std::path::Path>) -> Result<Vec<Scenario>, LoadError> {
    match path {
        Some(p) => scenario::load_path(p),
        None => scenario::embedded::load(),
    }
}

fn filtered(table: &TableArgs) -> Result<Vec<Scenario>, CliError> {
    let all = load_table(table.scenarios.as_deref())?;
    Ok(match &table.filter {
        Some(f) => {
            let re = regex::Regex::new(f)?;
            all.into_iter().filter(|s| re.is_match(&s.name)).collect()
        }
        None => all,
    })
}

/// `list`: one line per scenario.
pub fn list(table: &TableArgs) -> Result<String, CliError> {
    Ok(render_list(&filtered(table)?))
}

/// The `list` output of `scenarios`.
pub fn render_list(scenarios: &[Scenario]) -> String {
    let w = scenarios
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let fw = scenarios
        .iter()
        .map(|s| s.fault.to_string().len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!(
        "{:<w$}  {:<fw$}  {:<14}  WHY\n",
        "SCENARIO", "FAULT", "BACKENDS"
    );
    for s in scenarios {
        let backends: Vec<&str> = s.backends.iter().map(|b| b.as_str()).collect();
        out.push_str(&format!(
            "{:<w$}  {:<fw$}  {:<14}  {}\n",
            s.name,
            s.fault.to_string(),
            backends.join(","),
            s.why
        ));
    }
    out
}

fn select_options(t: &TargetArgs) -> (SelectOptions, Vec<(String, String)>) {
    let env = t
        .mutant
        .iter()
        .map(|m| ("GATEWAY_MUTANT".to_owned(), m.clone()))
        .collect();
    (
        SelectOptions {
            gateway: t.gateway.clone(),
            mutants: t.mutant.is_some(),
            image: t.image.clone(),
        },
        env,
    )
}

fn write(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|e| CliError::Write {
        path: path.to_owned(),
        detail: e.to_string(),
    })
}

/// `run`: runs the table, prints the report, writes JSON and JUnit; returns the
/// exit code.
pub async fn run(args: &RunArgs) -> Result<u8, CliError> {
    let scenarios = filtered(&args.table)?;
    let (sel, env) = select_options(&args.target);
    let backend: Arc<dyn backend::Backend> =
        Arc::from(backend::select(args.target.backend.into(), &sel).await?);
    let kind = backend.kind();
    let scenarios: Vec<Scenario> = scenarios.into_iter().filter(|s| s.runs_on(kind)).collect();
    if scenarios.is_empty() {
        return Err(CliError::Nothing(kind));
    }
    let opts = RunOptions {
        env,
        jobs: args
            .jobs
            .unwrap_or_else(|| RunOptions::default().jobs)
            .max(1),
        ..RunOptions::default()
    };
    let jobs = opts.jobs;
    let tty = std::io::stdout().is_terminal();
    let bar = tty.then(|| {
        let b = indicatif::ProgressBar::new(scenarios.len() as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
        {
            b.set_style(style);
        }
        b.set_message(format!("on {}", backend.describe()));
        b
    });
    let bar_cb = bar.clone();
    let on_done: Arc<dyn Fn(&ScenarioResult) + Send + Sync> = Arc::new(move |r| {
        if let Some(b) = &bar_cb {
            b.inc(1);
            b.set_message(format!("{} {}", r.name, r.outcome.as_str()));
        }
    });
    let start = Instant::now();
    let results = runner::run_all(backend.clone(), scenarios, opts, on_done).await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = RunReport::new(
        backend.describe(),
        kind,
        jobs,
        u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        results,
    );
    emit(&report::human::render(&report));
    if let Some(p) = &args.json {
        let text = report::json::render(&report).map_err(|e| CliError::Write {
            path: p.clone(),
            detail: e.to_string(),
        })?;
        write(p, &text)?;
    }
    if let Some(p) = &args.junit {
        let text = report::junit::render(&report).map_err(|e| CliError::Write {
            path: p.clone(),
            detail: e.to_string(),
        })?;
        write(p, &text)?;
    }
    Ok(report.exit_code())
}

/// `mutants`: runs the kill matrix, prints it, writes JSON; returns the exit code.
pub async fn mutants(args: &MutantsArgs) -> Result<u8, CliError> {
    use crate::mutants::{self as gate, report::MutantsReport, run as mrun};
    let scenarios = filtered(&args.table)?;
    let prepared = mrun::prepare(args.backend.into()).await?;
    let kind = prepared.backends.kind();
    let scenarios: Vec<Scenario> = scenarios.into_iter().filter(|s| s.runs_on(kind)).collect();
    if scenarios.is_empty() {
        return Err(CliError::Nothing(kind));
    }
    let mutants = gate::select(prepared.mutants, &args.mutants)?;
    let plan = mrun::Plan {
        scenarios,
        mutants,
        full: args.full,
        jobs: args
            .jobs
            .unwrap_or_else(|| RunOptions::default().jobs)
            .max(1),
        waits: RunOptions::default().waits,
    };
    let tty = std::io::stdout().is_terminal();
    let bar = tty.then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
            b.set_style(style);
        }
        b.enable_steady_tick(std::time::Duration::from_millis(200));
        b.set_message(format!("on {}", prepared.backends.describe));
        b
    });
    let bar_cb = bar.clone();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let on_run: mrun::OnRun = Arc::new(move |subject, r| {
        let n = count.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if let Some(b) = &bar_cb {
            b.set_message(format!(
                "{n} runs; {subject} on {}: {}",
                r.name,
                r.outcome.as_str()
            ));
        }
    });
    let run = mrun::run(&prepared.backends, &plan, on_run).await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = MutantsReport::new(prepared.backends.describe.clone(), kind, &plan, run);
    emit(&gate::report::render(&report));
    if let Some(p) = &args.json {
        let text = gate::report::json(&report).map_err(|e| CliError::Write {
            path: p.clone(),
            detail: e.to_string(),
        })?;
        write(p, &text)?;
    }
    Ok(report.exit_code())
}

/// `replay`: runs one scenario and prints its expectations and whole timeline.
pub async fn replay(args: &ReplayArgs) -> Result<u8, CliError> {
    let all = load_table(args.scenarios.as_deref())?;
    let s = all
        .into_iter()
        .find(|s| s.name == args.name)
        .ok_or_else(|| CliError::NoSuchScenario(args.name.clone()))?;
    let (sel, env) = select_options(&args.target);
    let backend = backend::select(args.target.backend.into(), &sel).await?;
    if !s.runs_on(backend.kind()) {
        return Err(CliError::Nothing(backend.kind()));
    }
    let opts = RunOptions {
        env,
        jobs: 1,
        ..RunOptions::default()
    };
    let start = Instant::now();
    let r = runner::run_scenario(&*backend, &s, &opts).await;
    let report = RunReport::new(
        backend.describe(),
        backend.kind(),
        1,
        u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        vec![r],
    );
    emit(&format!("{}\n", report::human::header(&report)));
    for r in &report.results {
        emit(&report::human::detail(r));
    }
    Ok(report.exit_code())
}

/// `image build`: prints the image and how it was had.
pub async fn image(cmd: &ImageCommand) -> Result<u8, CliError> {
    match cmd {
        ImageCommand::Build { mutants } => {
            let opts = backend::docker::BuildOptions::new(*mutants);
            let image = backend::docker::build_image(&opts)
                .await
                .map_err(SelectError::Backend)?;
            println!("{image}");
            Ok(0)
        }
    }
}

/// `clean`: removes what earlier runs left; exit 1 when something could not be removed.
pub async fn clean(args: &CleanArgs) -> Result<u8, CliError> {
    let report = backend::docker::clean(args.images)
        .await
        .map_err(SelectError::Backend)?;
    print!("{report}");
    Ok(u8::from(!report.failures.is_empty()))
}
