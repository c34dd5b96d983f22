//! The timeline of one scenario: every step, signal, command and its output, file
//! snapshot, event line, boot line, gateway output and wait, with its time since
//! the scenario started. Printed when a scenario fails and by `replay`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::backend::CmdOutput;

/// What kind of entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// A phase of the run (boot, setup, fault, observe, next boot, check).
    Phase,
    /// A setup step.
    Step,
    /// A `gateway` command and its output.
    Command,
    /// A signal sent.
    Signal,
    /// A file as read.
    File,
    /// Lines of `events.jsonl`.
    Event,
    /// Boot lines.
    BootLine,
    /// What init and its gateways printed.
    Output,
    /// A wait on a condition, and how long it took.
    Wait,
    /// Anything else worth knowing.
    Note,
    /// Something went wrong.
    Error,
}

impl EntryKind {
    fn label(self) -> &'static str {
        match self {
            EntryKind::Phase => "phase",
            EntryKind::Step => "step",
            EntryKind::Command => "cmd",
            EntryKind::Signal => "signal",
            EntryKind::File => "file",
            EntryKind::Event => "events",
            EntryKind::BootLine => "boot",
            EntryKind::Output => "output",
            EntryKind::Wait => "wait",
            EntryKind::Note => "note",
            EntryKind::Error => "error",
        }
    }
}

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Milliseconds since the scenario started.
    pub at_ms: u64,
    /// What kind.
    pub kind: EntryKind,
    /// The text (may span lines).
    pub text: String,
}

/// The timeline being recorded.
#[derive(Debug)]
pub struct History {
    start: Instant,
    /// The wall clock at `start`, to place what a target stamped with its
    /// own clock (a recorded version's time) on the timeline.
    wall: chrono::DateTime<chrono::Utc>,
    entries: Vec<Entry>,
}

impl Default for History {
    fn default() -> Self {
        Self::new()
    }
}

impl History {
    /// An empty timeline starting now.
    pub fn new() -> Self {
        History {
            start: Instant::now(),
            wall: chrono::Utc::now(),
            entries: Vec::new(),
        }
    }

    /// When it started, by the wall clock (RFC 3339, milliseconds).
    pub fn started_at(&self) -> String {
        self.wall
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Records an entry.
    pub fn record(&mut self, kind: EntryKind, text: impl Into<String>) {
        let at_ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.entries.push(Entry {
            at_ms,
            kind,
            text: text.into(),
        });
    }

    /// Records a command and what it printed.
    pub fn command(&mut self, shown: &str, out: &CmdOutput) {
        let mut text = format!(
            "{shown} -> {}",
            out.code
                .map_or_else(|| "killed by a signal".to_owned(), |c| format!("exit {c}"))
        );
        for (name, s) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let s = s.trim_end();
            if !s.is_empty() {
                let _ = write!(text, "\n{name}: {s}");
            }
        }
        self.record(EntryKind::Command, text);
    }

    /// The entries so far.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Takes the entries out.
    pub fn into_entries(self) -> Vec<Entry> {
        self.entries
    }
}

/// Renders a timeline for a human: one entry per block, continuation lines indented.
pub fn render(entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        let mut lines = e.text.lines();
        let first = lines.next().unwrap_or("");
        let _ = writeln!(
            out,
            "{:>8.3}s {:<7} {first}",
            e.at_ms as f64 / 1000.0,
            e.kind.label()
        );
        for l in lines {
            let _ = writeln!(out, "{:>18}{l}", "");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_multiline_entries_indented() {
        let entries = vec![
            Entry {
                at_ms: 1234,
                kind: EntryKind::Command,
                text: "gateway stop -> exit 0\nstdout: stopped".into(),
            },
            Entry {
                at_ms: 5,
                kind: EntryKind::Phase,
                text: "boot".into(),
            },
        ];
        let r = render(&entries);
        assert_eq!(
            r,
            "   1.234s cmd     gateway stop -> exit 0\n                  stdout: stopped\n   0.005s phase   boot\n"
        );
    }
}
