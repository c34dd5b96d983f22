//! The JSON report: the whole [`RunReport`], timelines included.

use super::RunReport;

/// The report as pretty JSON.
pub fn render(report: &RunReport) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(report)
}
