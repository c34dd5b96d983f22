//! Exit codes of the `gateway` commands and how errors become them.

use std::fmt;

/// Exit code of a command that did what was asked.
pub const OK: i32 = 0;
/// Exit code of a command whose outcome was a failure (start failed, intent not persisted).
pub const FAILED: i32 = 1;
/// Exit code of bad input or bad circumstances: unknown profile, no init, a second init, bad arguments.
pub const USAGE: i32 = 2;

/// An error that ends a command with a one-line message and an exit code.
#[derive(Debug)]
pub struct CommandError {
    /// The exit code.
    pub code: i32,
    /// One line naming the problem and what to do.
    pub message: String,
}

impl CommandError {
    /// Exit 2: bad input or circumstances.
    pub fn usage(message: impl Into<String>) -> Self {
        CommandError {
            code: USAGE,
            message: message.into(),
        }
    }
    /// Exit 1: the command ran but the outcome is a failure.
    pub fn failed(message: impl Into<String>) -> Self {
        CommandError {
            code: FAILED,
            message: message.into(),
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CommandError {}
