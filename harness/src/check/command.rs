//! The `[expect.command]` table: the exit code and output of the scenario's
//! command (`docs/scenarios.md`, "The table format").

use super::{ExpectationId, ExpectationResult, Out, Table};
use crate::backend::CmdOutput;
use crate::scenario::model::CommandExpect;

/// Checks `command.exit_code` (`killed` for no code) and
/// `command.output_contains` (in stdout then stderr).
pub(super) fn check(out: &mut Out, c: &CommandExpect, cmd: Option<&CmdOutput>) {
    out.eq(
        ExpectationId::expect(Table::Command, None, "exit_code"),
        &c.exit_code.map(|c| c.to_string()),
        cmd.map(|o| {
            o.code
                .map_or_else(|| "killed".to_owned(), |c| c.to_string())
        }),
    );
    if let Some(needle) = &c.output_contains {
        let text = cmd
            .map(|o| format!("{}{}", o.stdout, o.stderr))
            .unwrap_or_default();
        out.push(ExpectationResult::compare(
            ExpectationId::expect(Table::Command, None, "output_contains"),
            format!("{needle:?}"),
            format!("{:?}", text.trim()),
            text.contains(needle.as_str()),
        ));
    }
}
