//! `gateway status [--json]` (SPEC §5): every profile init supervises, with what
//! its files say and whether its channel answers.
//!
//! `--json` prints exactly
//! `{"profiles":[{"profile","supervised","pid","start_time","gateway_state","desired_state","live"}]}`
//! (`pid`, `start_time`, `gateway_state`, `desired_state` null when unknown), plus
//! a top-level `"mutant"` when a mutant is active in init or in this command.
//! Files are read without being changed: a corrupt or unsupported file reads as null.
//!
//! `--json --serve` answers one such document per line read on stdin, so that a
//! harness polling status keeps one process instead of starting one per look.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use restart_contract::layout::{DataDir, ProfileName, RunDir};
use restart_contract::records::{DesiredStateRecord, GatewayStateRecord};
use restart_contract::store::{self, Classified};

use crate::cli::Dirs;
use restart_contract::status::{StatusReport, StatusRow};

use crate::control::Client;
use crate::exit::{CommandError, OK};
use crate::mutants;

/// How long the channel has to answer `ping`.
pub const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// One row of `gateway status`.
pub type Row = StatusRow;

/// The `--json` document.
pub type Report = StatusReport;

/// Runs `gateway status`.
pub fn status(dirs: &Dirs, json: bool) -> Result<i32, CommandError> {
    let report = collect(dirs)?;
    let mut out = std::io::stdout().lock();
    let text = if json {
        let mut t = serde_json::to_string(&report)
            .map_err(|e| CommandError::failed(format!("encoding the status: {e}")))?;
        t.push('\n');
        t
    } else {
        human(&report)
    };
    // A closed stdout (`| head`) is not worth a panic.
    let _ = out.write_all(text.as_bytes());
    Ok(OK)
}

/// `gateway status --json --serve`: one look per line read on stdin, each
/// answered by one line, the `--json` document, or `{"error":"..."}` when init
/// does not answer. Ends when stdin ends or stdout is closed.
pub fn serve(dirs: &Dirs) -> Result<i32, CommandError> {
    let mut out = std::io::stdout().lock();
    for request in std::io::stdin().lock().lines() {
        if request.is_err() {
            break;
        }
        let answer = match collect(dirs) {
            Ok(report) => serde_json::to_string(&report),
            Err(e) => serde_json::to_string(&serde_json::json!({ "error": e.message })),
        }
        .map_err(|e| CommandError::failed(format!("encoding the status: {e}")))?;
        if writeln!(out, "{answer}")
            .and_then(|()| out.flush())
            .is_err()
        {
            break;
        }
    }
    Ok(OK)
}

/// Asks init, reads every home, pings every channel.
pub fn collect(dirs: &Dirs) -> Result<Report, CommandError> {
    let data = DataDir::new(&dirs.data);
    let run = RunDir::new(&dirs.run);
    let (profiles, init_mutant) = Client::new(run.control_socket()).status()?;
    let rows = profiles
        .into_iter()
        .map(|p| {
            let name = ProfileName::new(&p.profile).ok();
            let home = name.as_ref().map(|n| data.home(n));
            let gateway_state = home.as_ref().and_then(|h| {
                match store::peek_record::<GatewayStateRecord>(&h.gateway_state()) {
                    Ok(Some(Classified::Valid(r))) => Some(r.gateway_state),
                    _ => None,
                }
            });
            let desired_state = home.as_ref().and_then(|h| {
                match store::peek_record::<DesiredStateRecord>(&h.desired_state()) {
                    Ok(Some(Classified::Valid(r))) => Some(r.desired_state),
                    _ => None,
                }
            });
            let live = name
                .as_ref()
                .is_some_and(|n| ping(&run.gateway_socket(n), PING_TIMEOUT));
            Row {
                profile: p.profile,
                supervised: p.supervised,
                pid: p.pid,
                start_time: p.start_time,
                gateway_state,
                desired_state,
                live,
            }
        })
        .collect();
    Ok(Report {
        profiles: rows,
        mutant: init_mutant.or_else(|| mutants::active().map(|m| m.name().to_owned())),
    })
}

/// True when the channel at `socket` answers a `ping` line with `pong <pid>` in time.
pub fn ping(socket: &Path, timeout: Duration) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    if stream.set_read_timeout(Some(timeout)).is_err()
        || stream.set_write_timeout(Some(timeout)).is_err()
        || stream.write_all(b"ping\n").is_err()
    {
        return false;
    }
    let mut line = String::new();
    let mut reader = BufReader::new(stream);
    if reader.read_line(&mut line).is_err() {
        return false;
    }
    line.trim_end()
        .strip_prefix("pong ")
        .is_some_and(|pid| pid.parse::<i32>().is_ok())
}

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// The table of the human form.
fn human(report: &Report) -> String {
    let mut rows = vec![[
        "PROFILE".to_owned(),
        "SUPERVISED".to_owned(),
        "PID".to_owned(),
        "START_TIME".to_owned(),
        "STATE".to_owned(),
        "DESIRED".to_owned(),
        "LIVE".to_owned(),
    ]];
    for r in &report.profiles {
        rows.push([
            r.profile.clone(),
            r.supervised.as_str().to_owned(),
            or_dash(r.pid),
            or_dash(r.start_time),
            or_dash(r.gateway_state),
            or_dash(r.desired_state),
            if r.live { "yes" } else { "no" }.to_owned(),
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    if let Some(m) = &report.mutant {
        out.push_str(&format!("MUTANT ACTIVE: {m}\n"));
    }
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
