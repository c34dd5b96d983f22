//! Which expectation a result is about, typed from where it is born to the
//! reports and the kill matrix, and printed only at the end
//! (`terminal.default.cause`, `setup.2.exit_code (gateway stop --profile a)`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The table of a scenario an expectation belongs to, or what the runner
/// itself needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// `[expect.command]`.
    Command,
    /// `[expect.first_boot.P]`.
    FirstBoot,
    /// `[expect.terminal.P]`.
    Terminal,
    /// `[expect.at_rest.P]`.
    AtRest,
    /// `[expect.boot.P]`.
    Boot,
    /// `[expect.after_boot.P]`.
    AfterBoot,
    /// `[expect.container]`.
    Container,
    /// Setup step `n` (1-based).
    Setup(usize),
    /// A precondition the runner needs of the target (a running gateway to
    /// signal): not a literal of the table.
    Precondition,
}

impl Table {
    /// The table's name, as the scenario file spells it.
    fn name(self) -> &'static str {
        match self {
            Table::Command => "command",
            Table::FirstBoot => "first_boot",
            Table::Terminal => "terminal",
            Table::AtRest => "at_rest",
            Table::Boot => "boot",
            Table::AfterBoot => "after_boot",
            Table::Container => "container",
            Table::Setup(_) => "setup",
            Table::Precondition => "precondition",
        }
    }
}

/// What of a table an expectation reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// A key of an `[expect]` table (`cause`, `keeps_key.model`).
    Key(String),
    /// A setup step's exit code, with its command as shown.
    ExitCode(String),
    /// A setup step's placeholders, filled from status.
    Placeholders,
    /// A precondition, in words.
    Need(String),
}

/// One expectation's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExpectationId {
    /// Its table.
    pub table: Table,
    /// The profile it is about, for the per-profile tables.
    pub profile: Option<String>,
    /// What it reads.
    pub field: Field,
}

impl ExpectationId {
    /// A key of an `[expect]` table; `profile` for the per-profile tables.
    pub fn expect(table: Table, profile: Option<&str>, key: impl Into<String>) -> Self {
        ExpectationId {
            table,
            profile: profile.map(str::to_owned),
            field: Field::Key(key.into()),
        }
    }

    /// Setup step `step`'s `expect_code`.
    pub fn setup_exit_code(step: usize, command: impl Into<String>) -> Self {
        ExpectationId {
            table: Table::Setup(step),
            profile: None,
            field: Field::ExitCode(command.into()),
        }
    }

    /// Setup step `step`'s placeholders.
    pub fn setup_placeholders(step: usize) -> Self {
        ExpectationId {
            table: Table::Setup(step),
            profile: None,
            field: Field::Placeholders,
        }
    }

    /// A precondition the runner needs, in words.
    pub fn precondition(what: impl Into<String>) -> Self {
        ExpectationId {
            table: Table::Precondition,
            profile: None,
            field: Field::Need(what.into()),
        }
    }

    /// Whether it is a literal of the table: an `[expect]` entry or a setup
    /// step's `expect_code`. A precondition the runner adds on its own, or a
    /// placeholder it could not fill, is not.
    pub fn is_literal(&self) -> bool {
        match (self.table, &self.field) {
            (Table::Setup(_), field) => matches!(field, Field::ExitCode(_)),
            (Table::Precondition, _) => false,
            (
                Table::Command
                | Table::FirstBoot
                | Table::Terminal
                | Table::AtRest
                | Table::Boot
                | Table::AfterBoot
                | Table::Container,
                _,
            ) => true,
        }
    }
}

impl fmt::Display for ExpectationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.table, &self.field) {
            (Table::Setup(n), Field::ExitCode(command)) => {
                write!(f, "setup.{n}.exit_code ({command})")
            }
            (Table::Setup(n), Field::Placeholders) => write!(f, "setup.{n} placeholders"),
            (_, Field::Need(what)) => f.write_str(what),
            (table, field) => {
                f.write_str(table.name())?;
                if let Some(p) = &self.profile {
                    write!(f, ".{p}")?;
                }
                match field {
                    Field::Key(key) => write!(f, ".{key}"),
                    Field::ExitCode(command) => write!(f, ".exit_code ({command})"),
                    Field::Placeholders => f.write_str(" placeholders"),
                    Field::Need(what) => write!(f, ": {what}"),
                }
            }
        }
    }
}

/// Reports carry it as its text.
impl Serialize for ExpectationId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A report read back (`report merge`): the text parsed as it was printed.
impl<'de> Deserialize<'de> for ExpectationId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ExpectationId::parse(&String::deserialize(d)?))
    }
}

impl ExpectationId {
    /// Its printed text read back; any text that is no table's key is a
    /// precondition in words, as the runner prints those.
    pub fn parse(text: &str) -> ExpectationId {
        if let Some(setup) = text.strip_prefix("setup.") {
            let (n, rest) = setup.split_at(
                setup
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(setup.len()),
            );
            if let Ok(step) = n.parse::<usize>() {
                if rest == " placeholders" {
                    return ExpectationId::setup_placeholders(step);
                }
                if let Some(command) = rest
                    .strip_prefix(".exit_code (")
                    .and_then(|c| c.strip_suffix(')'))
                {
                    return ExpectationId::setup_exit_code(step, command);
                }
            }
        }
        let per_profile = [
            Table::FirstBoot,
            Table::Terminal,
            Table::AtRest,
            Table::Boot,
            Table::AfterBoot,
        ];
        for table in per_profile {
            if let Some((profile, key)) = text
                .strip_prefix(table.name())
                .and_then(|r| r.strip_prefix('.'))
                .and_then(|r| r.split_once('.'))
            {
                return ExpectationId::expect(table, Some(profile), key);
            }
        }
        for table in [Table::Command, Table::Container] {
            if let Some(key) = text
                .strip_prefix(table.name())
                .and_then(|r| r.strip_prefix('.'))
            {
                return ExpectationId::expect(table, None, key);
            }
        }
        ExpectationId::precondition(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_reads_back_as_it_was_printed() {
        for id in [
            ExpectationId::expect(Table::Terminal, Some("default"), "cause"),
            ExpectationId::expect(Table::AtRest, Some("a"), "keeps_key.model"),
            ExpectationId::expect(Table::FirstBoot, Some("b"), "action"),
            ExpectationId::expect(Table::Command, None, "exit_code"),
            ExpectationId::expect(Table::Container, None, "restarted"),
            ExpectationId::setup_exit_code(2, "gateway stop --profile a"),
            ExpectationId::setup_placeholders(3),
            ExpectationId::precondition("a running gateway of default to signal"),
        ] {
            let text = id.to_string();
            assert_eq!(ExpectationId::parse(&text), id, "{text}");
        }
    }

    #[test]
    fn it_prints_as_the_reports_always_did() {
        let cases = [
            (
                ExpectationId::expect(Table::Terminal, Some("default"), "cause"),
                "terminal.default.cause",
            ),
            (
                ExpectationId::expect(Table::AtRest, Some("b"), "keeps_key.model"),
                "at_rest.b.keeps_key.model",
            ),
            (
                ExpectationId::expect(Table::Command, None, "exit_code"),
                "command.exit_code",
            ),
            (
                ExpectationId::expect(Table::Container, None, "restarted"),
                "container.restarted",
            ),
            (
                ExpectationId::setup_exit_code(2, "gateway stop --profile a"),
                "setup.2.exit_code (gateway stop --profile a)",
            ),
            (ExpectationId::setup_placeholders(3), "setup.3 placeholders"),
            (
                ExpectationId::precondition("a running gateway of a to send SIGTERM to"),
                "a running gateway of a to send SIGTERM to",
            ),
        ];
        for (id, text) in cases {
            assert_eq!(id.to_string(), text);
        }
    }

    #[test]
    fn literals_are_the_tables_and_the_setup_exit_codes() {
        assert!(ExpectationId::expect(Table::FirstBoot, Some("a"), "action").is_literal());
        assert!(ExpectationId::setup_exit_code(1, "gateway start --profile a").is_literal());
        assert!(!ExpectationId::setup_placeholders(1).is_literal());
        assert!(!ExpectationId::precondition("a running gateway").is_literal());
    }
}
