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
use crate::target::{Claim, Target, TargetError};
use crate::verdict::{exit, Tally};

pub mod validate;

pub use validate::Misuse;

const EXIT_CODES: &str = "\
Exit codes:
  0  at least one scenario ran, and every one that ran passed
  1  a scenario failed: a literal expectation did not hold (the gate says no)
  2  no verdict: nothing ran (every scenario selected was not claimed or not
     run here), a scenario ended in error, or the command line was refused
     (a bad table or option, no Docker daemon when docker was asked for, a
     gateway build failure); an error is never a verdict on the gateway";

const MUTANTS_EXIT_CODES: &str = "\
A mutant is killed by a scenario only when a literal expectation of that
scenario failed on the mutant while the reference passed the same scenario in
the same run. The mutant list comes from the gateway (`gateway mutants`).

Exit codes:
  0  the reference passed every scenario and every mutant was killed
  1  the reference failed a scenario, or a mutant survived every scenario
     (a hole in the table: add a scenario that kills it)
  2  no verdict: nothing ran, a run ended in an error (a harness or Docker
     error is \"unknown\", never a kill), or the command line was refused";

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
    /// One line per scenario: its name, fault and backends; with --target,
    /// what that target claims; with --claims, every claim.
    List(ListArgs),
    /// Run one scenario and print its whole timeline.
    #[command(after_help = EXIT_CODES)]
    Replay(ReplayArgs),
    /// The mutant gate: run the table against the reference gateway and each
    /// deliberate bug of its `mutants` build, and print the kill matrix.
    #[command(after_help = MUTANTS_EXIT_CODES)]
    Mutants(MutantsArgs),
    /// Seeded random schedules of faults and commands on a real target, each
    /// step compared with an independent model of the contract; the first
    /// divergence is shrunk on the target and written as a scenario file.
    #[command(after_help = EXPLORE_EXIT_CODES)]
    Explore(ExploreArgs),
    /// The Docker image of the gateway.
    #[command(subcommand)]
    Image(ImageCommand),
    /// Remove the containers and volumes that killed runs left on the Docker
    /// engine (found by their `restart-harness.run` label).
    Clean(CleanArgs),
    /// Print a shell completion script (`restart-harness completions bash >
    /// /etc/bash_completion.d/restart-harness`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `restart-harness man > restart-harness.1`.
    Man,
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
        /// Build a release of another target with its adapter's recipe
        /// (`hermes@0.17.0`), tagged `REPOSITORY:VERSION-<recipe hash>`; an
        /// existing tag is not rebuilt.
        #[arg(long, value_name = "NAME@VERSION", conflicts_with = "mutants")]
        target: Option<String>,
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

/// `list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Which scenarios.
    #[command(flatten)]
    pub table: TableArgs,
    /// Show what this target claims, and which scenarios it does not claim.
    #[arg(long, value_name = "NAME[@VERSION]")]
    pub target: Option<String>,
    /// List every claim and the promise it names.
    #[arg(long, conflicts_with = "target")]
    pub claims: bool,
}

/// What the gateway is and where it runs.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// What to gate: `reference` (this repository's gateway), an adapter in
    /// adapters/ or a path to one, with @VERSION for a target built per
    /// release (`hermes@0.17.0`).
    #[arg(long, value_name = "NAME[@VERSION]", default_value = "reference")]
    pub target: String,
    /// Which backend runs the scenarios.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendArg,
    /// The gateway binary for the process backend (also $RESTART_HARNESS_GATEWAY);
    /// default: build this workspace's gateway with cargo.
    #[arg(long, value_name = "PATH")]
    pub gateway: Option<PathBuf>,
    /// The image the Docker backend runs (default: build the target's image:
    /// the reference image, or the release's with its adapter's recipe).
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
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = parse_count)]
    pub jobs: Option<usize>,
    /// Also write the JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// `explore`.
#[derive(Debug, Clone, Args)]
pub struct ExploreArgs {
    /// Which gateway, on which backend.
    #[command(flatten)]
    pub target: TargetArgs,
    /// The seed: the same seed gives the same schedules.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Operations per schedule.
    #[arg(long, default_value_t = 8, value_name = "K", value_parser = parse_count)]
    pub steps: usize,
    /// Wall time for exploring, until a divergence: `90s`, `2m`, `1h`.
    #[arg(long, default_value = "2m", value_parser = parse_budget, value_name = "DURATION")]
    pub budget: std::time::Duration,
    /// Wall time for shrinking a divergence on the target.
    #[arg(long, default_value = "1m", value_parser = parse_budget, value_name = "DURATION")]
    pub shrink_budget: std::time::Duration,
    /// Stop after this many schedules, whatever the time (a budget that does
    /// not depend on the machine's speed).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub schedules: Option<usize>,
    /// Where the shrunk schedule is written, as `explored-seed-S-N.toml.new`
    /// (created if it does not exist).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub out: PathBuf,
    /// Look past a known finding: draw no operation that needs CLAIM, as if
    /// the target did not make it (repeatable). Explore only: a gate (`run`)
    /// judges every claim the target makes.
    #[arg(long = "except-claim", value_name = "CLAIM")]
    pub except_claims: Vec<Claim>,
}

/// A count of at least 1 (`-j`, `--steps`, `--schedules`): zero would run
/// nothing and say nothing.
pub fn parse_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("0 would run nothing: give 1 or more".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "`{s}` is not a count: give a whole number, 1 or more"
        )),
    }
}

/// `90s`, `2m`, `1h`, `500ms`, or plain seconds; above zero.
pub fn parse_budget(s: &str) -> Result<std::time::Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!(
            "`{s}` is no time at all: give a duration above zero, as 90s or 2m"
        ));
    }
    Ok(d)
}

/// `90s`, `2m`, `1h`, `500ms`, or plain seconds.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("`{s}` is not a duration: write 90s, 2m, 1h or 500ms");
    let (digits, unit) = s.trim().split_at(
        s.trim()
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(s.trim().len()),
    );
    let n: u64 = digits.parse().map_err(|_| bad())?;
    Ok(match unit {
        "" | "s" => std::time::Duration::from_secs(n),
        "ms" => std::time::Duration::from_millis(n),
        "m" => std::time::Duration::from_secs(n * 60),
        "h" => std::time::Duration::from_secs(n * 3600),
        _ => return Err(bad()),
    })
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
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = parse_count)]
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
    /// The target could not be had.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The filter left nothing to run.
    #[error("no scenario to run on the {0} backend (check --filter and the scenarios' backends)")]
    Nothing(BackendKind),
    /// Explore wrote a scenario its own target does not claim (a harness bug).
    #[error(
        "explore wrote {path}, which its target does not claim ({claim}: {reason}), so it \
         would not replay there: a bug of restart-harness, please report it with that file"
    )]
    Unreplayable {
        /// The file written.
        path: PathBuf,
        /// The claim it needs.
        claim: Claim,
        /// Why the target does not make it.
        reason: String,
    },
    /// The command line asks for something the harness would not do as asked.
    #[error(transparent)]
    Misuse(#[from] Misuse),
}

/// `completions SHELL`: the completion script, generated from these definitions.
pub fn completions(shell: clap_complete::Shell) -> String {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "restart-harness", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// `man`: the man page (roff), generated from these definitions.
pub fn man_page() -> Result<String, CliError> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|e| CliError::Write {
            path: "stdout".into(),
            detail: e.to_string(),
        })?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// clap's error text as one line: its `error:` line, with its tip when it
/// has one (`a similar argument exists: '--mutant'`) and where help is.
pub fn one_line_error(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines
        .next()
        .unwrap_or("the command line was refused")
        .trim_start_matches("error: ");
    let tip = lines.find_map(|l| l.strip_prefix("tip: "));
    match tip {
        Some(tip) => format!("{first} ({tip}); see --help"),
        None => format!("{first}; see --help"),
    }
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

/// `list`: one line per scenario; what a target claims; every claim.
pub fn list(args: &ListArgs) -> Result<String, CliError> {
    if args.claims {
        return Ok(render_claims());
    }
    let scenarios = filtered(&args.table)?;
    match &args.target {
        None => Ok(render_list(&scenarios)),
        Some(t) => {
            // A release is not needed to say what the target claims.
            let name = t.split('@').next().unwrap_or(t);
            let target = Target {
                adapter: Target::adapter(name)?,
                version: None,
                image: None,
            };
            Ok(render_target(&target, &scenarios))
        }
    }
}

/// `list --claims`: every claim and its promise, core first.
pub fn render_claims() -> String {
    let w = Claim::ALL
        .iter()
        .map(|c| c.as_str().len())
        .max()
        .unwrap_or(8);
    let mut out = format!("{:<w$}  {:<8}  PROMISE\n", "CLAIM", "GROUP");
    for c in Claim::ALL {
        let group = if c.is_core() { "core" } else { "contract" };
        out.push_str(&format!(
            "{:<w$}  {group:<8}  {}\n",
            c.as_str(),
            c.sentence()
        ));
    }
    out
}

/// `list --target NAME`: what the target claims, then each scenario and
/// whether it runs on that target.
pub fn render_target(target: &Target, scenarios: &[Scenario]) -> String {
    let a = &target.adapter;
    let mut out = format!(
        "target {}: {}\nadapter {}, protocol {}, backends {}\n\nMAKES\n",
        a.name,
        a.about,
        a.source.display(),
        a.protocol.as_str(),
        a.backends
            .iter()
            .map(|b| b.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for c in Claim::ALL.iter().filter(|c| a.made.contains(c)) {
        out.push_str(&format!("  {c}\n"));
    }
    if !a.not_made.is_empty() {
        out.push_str("\nDOES NOT MAKE\n");
        for (c, why) in &a.not_made {
            out.push_str(&format!("  {c}: {why}\n"));
        }
    }
    let w = name_width(scenarios);
    out.push_str(&format!("\n{:<w$}  ON {}\n", "SCENARIO", a.name));
    for s in scenarios {
        let on = match target.unclaimed(&s.claims_needed()) {
            None if s.backends.iter().any(|b| a.backends.contains(b)) => "runs".to_owned(),
            None => "no common backend".to_owned(),
            Some((c, _)) => format!("not claimed ({c})"),
        };
        out.push_str(&format!("{:<w$}  {on}\n", s.name));
    }
    out
}

/// The width of the scenario-name column.
fn name_width(scenarios: &[Scenario]) -> usize {
    scenarios
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(8)
        .max(8)
}

/// The `list` output of `scenarios`.
pub fn render_list(scenarios: &[Scenario]) -> String {
    let w = name_width(scenarios);
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

/// What `--target`, `--image` and `--backend` resolve to: the target, the
/// backend to ask for, and how to set it up.
struct Resolved {
    target: Target,
    selection: Selection,
    select: SelectOptions,
    env: Vec<(String, String)>,
    /// `--mutant`, checked against the gateway once the backend has it.
    mutant: Option<String>,
    /// Whether `--gateway` named the binary (a mutant it lacks is its fault).
    explicit_gateway: bool,
}

/// Resolves and checks every option of the target and backend; nothing has
/// run yet ([`validate`]).
fn resolve(t: &TargetArgs) -> Result<Resolved, CliError> {
    let env = t
        .mutant
        .iter()
        .map(|m| ("GATEWAY_MUTANT".to_owned(), m.clone()))
        .collect();
    let target = Target::resolve(&t.target, t.image.clone())?;
    if target.is_contract() {
        // The contract's gateway runs in the backend's image (`--image`).
        return Ok(Resolved {
            target: Target {
                image: None,
                ..target
            },
            selection: validate::contract_selection(t)?,
            select: SelectOptions {
                gateway: t.gateway.clone(),
                mutants: t.mutant.is_some(),
                image: t.image.clone(),
            },
            env,
            mutant: t.mutant.clone(),
            explicit_gateway: t.gateway.is_some(),
        });
    }
    // Another target runs in its own image (`--image`, or the release's);
    // the backend keeps the reference image for the recorder sidecar.
    validate::declared_options(t, &target)?;
    let selection = match t.backend {
        BackendArg::Process => {
            target.check_backend(BackendKind::Process)?;
            Selection::Process
        }
        BackendArg::Docker | BackendArg::Auto => Selection::Docker,
    };
    Ok(Resolved {
        target,
        selection,
        select: SelectOptions::default(),
        env,
        mutant: None,
        explicit_gateway: false,
    })
}

/// The backend for `r`, with the target's image built when it is built per
/// release and no `--image` was given; the mutant asked for checked against
/// the gateway that will run it, and a target's `--image` against the engine.
async fn backend_for(r: &Resolved) -> Result<Box<dyn backend::Backend>, CliError> {
    if let (Some(image), Selection::Docker) = (&r.target.image, r.selection) {
        if !backend::docker::has_image(image)
            .await
            .map_err(SelectError::Backend)?
        {
            return Err(Misuse::NoSuchImage {
                image: image.clone(),
                hint: match &r.target.adapter.image {
                    Some(_) => format!(
                        "; or gate a release: --target {}@VERSION builds it",
                        r.target.adapter.name
                    ),
                    None => String::new(),
                },
            }
            .into());
        }
    }
    let b = backend::select(r.selection, &r.select).await?;
    r.target.check_backend(b.kind())?;
    if let Some(m) = &r.mutant {
        if let Some(binary) = b.mutants_binary() {
            let (binary, m, explicit) = (binary.to_owned(), m.clone(), r.explicit_gateway);
            tokio::task::spawn_blocking(move || validate::mutant_listed(&binary, &m, explicit))
                .await
                .map_err(|e| SelectError::Backend(backend::BackendError::Other(e.to_string())))??;
        }
    }
    if r.target.image.is_none() {
        if let Some(version) = &r.target.version {
            crate::target::image::build_release(&r.target.adapter, version)
                .await
                .map_err(SelectError::Backend)?;
        }
    }
    Ok(b)
}

/// The report's first line: the backend and the image or binary actually gated.
fn describe(b: &dyn backend::Backend, target: &Target) -> String {
    match target.image_tag() {
        Some(image) if !target.is_contract() => b.describe_gating(&image),
        _ => b.describe(),
    }
}

fn target_label(t: &Target) -> Option<String> {
    (!t.is_contract() || t.adapter.name != crate::target::REFERENCE).then(|| t.label())
}

/// Writes a report or a found scenario, creating its parent directories.
fn write(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    let err = |e: std::io::Error| CliError::Write {
        path: path.to_owned(),
        detail: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    std::fs::write(path, text).map_err(err)
}

/// `run`: runs the table, prints the report, writes JSON and JUnit; returns the
/// exit code.
pub async fn run(args: &RunArgs) -> Result<u8, CliError> {
    let scenarios = filtered(&args.table)?;
    let resolved = resolve(&args.target)?;
    let backend: Arc<dyn backend::Backend> = Arc::from(backend_for(&resolved).await?);
    let kind = backend.kind();
    let label = target_label(&resolved.target);
    let described = describe(&*backend, &resolved.target);
    let scenarios: Vec<Scenario> = scenarios.into_iter().filter(|s| s.runs_on(kind)).collect();
    if scenarios.is_empty() {
        return Err(CliError::Nothing(kind));
    }
    let opts = RunOptions {
        env: resolved.env,
        jobs: args.jobs.unwrap_or_else(|| RunOptions::default().jobs),
        ..RunOptions::for_target(resolved.target)
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
        b.set_message(format!("on {described}"));
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
        described,
        kind,
        jobs,
        u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        results,
    )
    .with_target(label);
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

const EXPLORE_EXIT_CODES: &str = "\
Exit codes:
  0  every schedule agreed with the model within the budget
  1  a divergence was found (its shrunk schedule is written to --out)
  2  explore could not run (bad input, no backend, every schedule errored)";

/// `explore`: explores, prints what it found, writes the scenario; returns the
/// exit code.
pub async fn explore(args: &ExploreArgs) -> Result<u8, CliError> {
    use crate::explore::{self as ex, ExploreOptions, Progress};
    let resolved = resolve(&args.target)?;
    // Checked before any image is built.
    let target = except_claims(resolved.target.clone(), &args.except_claims)?;
    let backend: Arc<dyn backend::Backend> = Arc::from(backend_for(&resolved).await?);
    let described = describe(&*backend, &resolved.target);
    let label = resolved.target.label();
    let kind = backend.kind();
    let opts = RunOptions {
        env: resolved.env,
        ..RunOptions::for_target(target)
    };
    let xo = ExploreOptions {
        seed: args.seed,
        steps: args.steps,
        budget: args.budget,
        shrink_budget: args.shrink_budget,
        max_schedules: args.schedules,
        ..ExploreOptions::default()
    };
    emit(&format!(
        "explore: target {label}, seed {}, {} operations per schedule, budget {:?}, on {described}\n",
        xo.seed, xo.steps, xo.budget,
    ));
    let on_progress = |p: &Progress| {
        let line = match p {
            Progress::Agreed { index, len } => {
                format!("schedule {index}: agreed ({len} operations)")
            }
            Progress::Diverged { index, divergence } => {
                format!("schedule {index}: DIVERGED {divergence}")
            }
            Progress::Shrunk { len } => format!("  shrunk to {len} operations"),
            Progress::Error(e) => format!("schedule error: {e}"),
        };
        emit(&format!("{line}\n"));
    };
    let report = ex::explore(backend, &opts, &xo, &on_progress).await;
    emit(&crate::report::explore::render(&report));
    if let Some(found) = &report.found {
        let path = ex::output_path(&args.out, found, xo.seed);
        write(&path, &found.scenario)?;
        // What explore writes must replay on the target it explored.
        let written = scenario::load::parse_scenario(&path.display().to_string(), &found.scenario)?;
        if let Some((claim, reason)) = opts.target.unclaimed(&written.claims_needed()) {
            return Err(CliError::Unreplayable {
                path,
                claim,
                reason,
            });
        }
        emit(&format!(
            "wrote {}\nreplay it: restart-harness run --scenarios {}{}\n",
            path.display(),
            path.display(),
            replay_args(&args.target, &label, kind)
        ));
    }
    let verdict = Tally {
        held: report.agreed,
        broke: usize::from(report.found.is_some()),
        errors: report.errors.len(),
        not_run: 0,
    }
    .verdict();
    if let Some(why) = verdict.explain() {
        emit(&format!("{why}\n"));
    }
    Ok(verdict.exit_code())
}

/// `target` without `claims` (`explore --except-claim`); a claim it does not
/// make is a misuse.
fn except_claims(target: Target, claims: &[Claim]) -> Result<Target, CliError> {
    if claims.is_empty() {
        return Ok(target);
    }
    let mut adapter = (*target.adapter).clone();
    for c in claims {
        if !adapter.made.contains(c) {
            return Err(Misuse::ExceptUnmade {
                claim: *c,
                target: target.label(),
            }
            .into());
        }
        adapter.made.retain(|m| m != c);
        adapter.not_made.insert(
            *c,
            "left out of this explore with --except-claim".to_owned(),
        );
    }
    Ok(Target {
        adapter: std::sync::Arc::new(adapter),
        ..target
    })
}

/// The options that replay a found scenario on the target explore ran.
fn replay_args(t: &TargetArgs, label: &str, kind: BackendKind) -> String {
    let mut out = String::new();
    if label != crate::target::REFERENCE {
        out.push_str(&format!(" --target {label}"));
    }
    out.push_str(&format!(" --backend {kind}"));
    if let Some(image) = &t.image {
        out.push_str(&format!(" --image {image}"));
    }
    if let Some(g) = &t.gateway {
        out.push_str(&format!(" --gateway {}", g.display()));
    }
    if let Some(m) = &t.mutant {
        out.push_str(&format!(" --mutant {m}"));
    }
    out
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
        jobs: args.jobs.unwrap_or_else(|| RunOptions::default().jobs),
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
    let resolved = resolve(&args.target)?;
    let backend = backend_for(&resolved).await?;
    if !s.runs_on(backend.kind()) {
        return Err(CliError::Nothing(backend.kind()));
    }
    let label = target_label(&resolved.target);
    let described = describe(&*backend, &resolved.target);
    let opts = RunOptions {
        env: resolved.env,
        jobs: 1,
        ..RunOptions::for_target(resolved.target)
    };
    let start = Instant::now();
    let r = runner::run_scenario(&*backend, &s, &opts).await;
    let report = RunReport::new(
        described,
        backend.kind(),
        1,
        u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
        vec![r],
    )
    .with_target(label);
    emit(&format!("{}\n", report::human::header(&report)));
    for r in &report.results {
        emit(&report::human::detail(r));
    }
    if let Some(why) = report.verdict().explain() {
        emit(&format!("\n{why}\n"));
    }
    Ok(report.exit_code())
}

/// `image build`: prints the image and how it was had.
pub async fn image(cmd: &ImageCommand) -> Result<u8, CliError> {
    match cmd {
        ImageCommand::Build {
            target: Some(spec), ..
        } => {
            let target = Target::resolve(spec, None)?;
            let Some(version) = &target.version else {
                return Err(TargetError::NoVersion(target.adapter.name.clone()).into());
            };
            let tag = crate::target::image::build_release(&target.adapter, version)
                .await
                .map_err(SelectError::Backend)?;
            println!("{tag}");
            Ok(exit::OK)
        }
        ImageCommand::Build {
            mutants,
            target: None,
        } => {
            let opts = backend::docker::BuildOptions::new(*mutants);
            let image = backend::docker::build_image(&opts)
                .await
                .map_err(SelectError::Backend)?;
            println!("{image}");
            Ok(exit::OK)
        }
    }
}

/// `clean`: removes what earlier runs left; exit 1 when something could not be removed.
pub async fn clean(args: &CleanArgs) -> Result<u8, CliError> {
    let report = backend::docker::clean(args.images)
        .await
        .map_err(SelectError::Backend)?;
    print!("{report}");
    Ok(if report.failures.is_empty() {
        exit::OK
    } else {
        exit::FAILED
    })
}
