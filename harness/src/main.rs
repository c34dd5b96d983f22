//! `restart-harness`: the thin binary over the library.

use std::process::ExitCode;

use clap::Parser;
use restart_harness::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let parsed = Cli::parse();
    match real_main(parsed) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("restart-harness: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main(parsed: Cli) -> anyhow::Result<u8> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match parsed.command {
        Command::List(args) => {
            cli::emit(&cli::list(&args)?);
            Ok(0)
        }
        Command::Run(args) => Ok(rt.block_on(cli::run(&args))?),
        Command::Replay(args) => Ok(rt.block_on(cli::replay(&args))?),
        Command::Mutants(args) => Ok(rt.block_on(cli::mutants(&args))?),
        Command::Explore(args) => Ok(rt.block_on(cli::explore(&args))?),
        Command::Image(cmd) => Ok(rt.block_on(cli::image(&cmd))?),
        Command::Clean(args) => Ok(rt.block_on(cli::clean(&args))?),
        Command::Completions { shell } => {
            cli::emit(&cli::completions(shell));
            Ok(0)
        }
        Command::Man => {
            cli::emit(&cli::man_page()?);
            Ok(0)
        }
    }
}
