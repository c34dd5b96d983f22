//! `restart-harness`: the thin binary over the library.

use std::process::ExitCode;

use clap::Parser;
use restart_harness::cli::{self, Cli};

fn main() -> ExitCode {
    let outcome = match Cli::try_parse() {
        Ok(parsed) => cli::dispatch(parsed.command),
        Err(e) => cli::not_parsed(&e),
    };
    // The one mapping of an error to an exit code: `CliError::exit_code`.
    ExitCode::from(match outcome {
        Ok(code) => code,
        Err(e) => {
            // Each message quotes its sources: printing the chain too would repeat them.
            eprintln!("restart-harness: {e}");
            e.exit_code()
        }
    })
}
