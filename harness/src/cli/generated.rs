//! What is generated from the command line's definitions: shell completions
//! and the man page.

use super::{Cli, CliError};

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
        .map_err(|e| CliError::render("man page", e))?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}
