//! The `restart-harness` command line: the clap definitions of every command
//! and the dispatch to each, one command a module (`run`, `list`, `replay`,
//! `mutants`, `explore`, `image`, `clean`; completions and the man page in
//! `generated`). Every option is checked before anything runs ([`validate`]);
//! an error ends the command as one line and exit 2 ([`CliError::exit_code`]).

use clap::{Parser, Subcommand};

use crate::verdict::exit;

mod clean;
mod error;
mod explore;
mod generated;
mod image;
mod list;
mod mutants;
mod output;
mod replay;
mod report;
mod run;
mod table;
mod target;
pub mod validate;
mod values;

pub use clean::{clean, CleanArgs};
pub use error::CliError;
pub use explore::{explore, ExploreArgs, EXPLORE_EXIT_CODES};
pub use generated::{completions, man_page};
pub use image::{image, ImageCommand};
pub use list::{list, render_claims, render_list, render_target, ListArgs};
pub use mutants::{mutants, MutantsArgs, MUTANTS_EXIT_CODES};
pub use output::emit;
pub use replay::{replay, ReplayArgs};
pub use report::{report, MergeArgs, ReportCommand};
pub use run::{run, RunArgs};
pub use table::{load_table, TableArgs};
pub use target::{BackendArg, TargetArgs};
pub use validate::Misuse;
pub use values::{parse_budget, parse_count, ValueError};

/// The exit codes of `run` and `replay`, for their `--help`.
const EXIT_CODES: &str = "\
Exit codes:
  0  at least one scenario ran, and every one that ran passed
  1  a scenario failed: a literal expectation did not hold (the gate says no)
  2  no verdict: nothing ran (every scenario selected was not claimed or not
     run here), a scenario ended in error, or the command line was refused
     (a bad table or option, no Docker daemon when docker was asked for, a
     gateway build failure); an error is never a verdict on the gateway";

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
    /// Reports: merge the JSON reports of a run's shards into one report
    /// and one verdict.
    #[command(subcommand, after_help = EXIT_CODES)]
    Report(ReportCommand),
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

/// Runs `command`; returns its exit code (the verdict of a gate, or 0).
pub fn dispatch(command: Command) -> Result<u8, CliError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    match command {
        Command::List(args) => {
            emit(&list(&args)?);
            Ok(exit::OK)
        }
        Command::Run(args) => rt.block_on(run(&args)),
        Command::Replay(args) => rt.block_on(replay(&args)),
        Command::Mutants(args) => rt.block_on(mutants(&args)),
        Command::Explore(args) => rt.block_on(explore(&args)),
        Command::Report(cmd) => report(&cmd),
        Command::Image(cmd) => rt.block_on(image(&cmd)),
        Command::Clean(args) => rt.block_on(clean(&args)),
        Command::Completions { shell } => {
            emit(&completions(shell));
            Ok(exit::OK)
        }
        Command::Man => {
            emit(&man_page()?);
            Ok(exit::OK)
        }
    }
}

/// A command line clap did not run: help and the version, printed as clap
/// prints them (`Ok`: exit 0, or 2 when clap shows help for a missing
/// subcommand on stderr); anything else refused as [`CliError::Usage`].
pub fn not_parsed(e: &clap::Error) -> Result<u8, CliError> {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return Ok(if e.use_stderr() {
            exit::NO_VERDICT
        } else {
            exit::OK
        });
    }
    Err(CliError::Usage(one_line_error(&e.to_string())))
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
