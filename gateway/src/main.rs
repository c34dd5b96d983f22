//! `gateway`: a thin binary over the `gateway` library.

use clap::Parser;
use gateway::cli::{Cli, Command};
use gateway::exit::CommandError;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() {
                gateway::exit::USAGE
            } else {
                0
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let result: Result<i32, CommandError> = match cli.command {
        Command::Run { dirs, profile } => gateway::run::main(&dirs, &profile),
        Command::Init {
            dirs,
            profiles,
            grace_ms,
            crash_limit,
            crash_window_s,
            backoff_ms,
        } => gateway::init::main(gateway::init::InitOptions {
            dirs,
            profiles,
            grace_ms,
            crash_limit,
            crash_window_s,
            backoff_ms,
        }),
        Command::Stop(args) => gateway::commands::stop(&args),
        Command::Start(args) => gateway::commands::start(&args),
        Command::Restart(args) => gateway::commands::restart(&args),
        Command::Status {
            dirs, serve: true, ..
        } => gateway::commands::status::serve(&dirs),
        Command::Status { dirs, json, .. } => gateway::commands::status(&dirs, json),
        Command::Ping { dirs, profile } => gateway::commands::ping(&dirs, &profile),
        Command::Kill { pid, signal } => gateway::commands::kill(pid, &signal),
        Command::Balloon { dirs, mib, profile } => gateway::commands::balloon(&dirs, mib, &profile),
        Command::Watch { dir, names } => gateway::commands::watch::watch(&dir, &names),
        Command::Mutants => {
            print!("{}", gateway::mutants::listing());
            Ok(0)
        }
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("gateway: {e}");
            std::process::exit(e.code);
        }
    }
}
