//! `restart-harness`: the thin binary over the library.

use std::process::ExitCode;

use clap::Parser;
use restart_harness::cli::{self, Cli, Command};
use restart_harness::verdict::exit;

fn main() -> ExitCode {
    let parsed = match Cli::try_parse() {
        Ok(parsed) => parsed,
        Err(e) => return refuse(&e),
    };
    match real_main(parsed) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("restart-harness: {e:#}");
            ExitCode::from(exit::NO_VERDICT)
        }
    }
}

/// A command line clap refused, as one line with its tip (exit 2); help and
/// the version print as clap prints them.
fn refuse(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(if e.use_stderr() {
            exit::NO_VERDICT
        } else {
            exit::OK
        });
    }
    eprintln!("restart-harness: {}", cli::one_line_error(&e.to_string()));
    ExitCode::from(exit::NO_VERDICT)
}

fn real_main(parsed: Cli) -> anyhow::Result<u8> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match parsed.command {
        Command::List(args) => {
            cli::emit(&cli::list(&args)?);
            Ok(exit::OK)
        }
        Command::Run(args) => Ok(rt.block_on(cli::run(&args))?),
        Command::Replay(args) => Ok(rt.block_on(cli::replay(&args))?),
        Command::Mutants(args) => Ok(rt.block_on(cli::mutants(&args))?),
        Command::Explore(args) => Ok(rt.block_on(cli::explore(&args))?),
        Command::Image(cmd) => Ok(rt.block_on(cli::image(&cmd))?),
        Command::Clean(args) => Ok(rt.block_on(cli::clean(&args))?),
        Command::Completions { shell } => {
            cli::emit(&cli::completions(shell));
            Ok(exit::OK)
        }
        Command::Man => {
            cli::emit(&cli::man_page()?);
            Ok(exit::OK)
        }
    }
}
