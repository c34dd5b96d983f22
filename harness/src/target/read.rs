//! Reading a target's files through the sandbox: a profile's history
//! (`events.jsonl`), a data-dir file's lines (`boot.log`), and a home at rest,
//! classified as the contract does without touching it.

use std::path::Path;

use restart_contract::events::{self, Event};
use restart_contract::layout::files;
use restart_contract::records::{DesiredStateRecord, GatewayStateRecord};
use restart_contract::store::{classify, Classified};

use crate::backend::{profile_file, BackendResult, Sandbox};
use crate::history::{EntryKind, History};
use crate::observe::{is_judged_for_tears, is_temp_file, torn_in, FileState, RestSeen, Status};

/// Reads a profile's history (rotated log first), recording unreadable lines.
pub async fn read_events(
    target: &mut dyn Sandbox,
    profile: &str,
    history: &mut History,
) -> BackendResult<Vec<Event>> {
    let mut text = String::new();
    for name in [files::EVENTS_ROTATED, files::EVENTS] {
        if let Some(bytes) = target.read_file(&profile_file(profile, name)).await? {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    let (events, bad) = events::parse_log(&text);
    for b in bad {
        history.record(
            EntryKind::Note,
            format!(
                "{profile}/events.jsonl line {}: unreadable ({})",
                b.line, b.error
            ),
        );
    }
    Ok(events)
}

/// The lines of `DATA/boot.log`.
pub async fn boot_log(target: &mut dyn Sandbox) -> BackendResult<Vec<String>> {
    read_lines(target, Path::new("boot.log")).await
}

/// The non-empty lines of a data-dir file (none when it does not exist).
pub async fn read_lines(target: &mut dyn Sandbox, rel: &Path) -> BackendResult<Vec<String>> {
    Ok(target
        .read_file(rel)
        .await?
        .map(|b| {
            String::from_utf8_lossy(&b)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default())
}

fn classified<R, T>(c: Option<Classified<R>>, value: impl Fn(&R) -> T) -> FileState<T> {
    match c {
        None => FileState::Missing,
        Some(Classified::Valid(r)) => FileState::Value(value(&r)),
        Some(Classified::Corrupt(_)) => FileState::Corrupt,
        Some(Classified::Unsupported(_)) => FileState::Unsupported,
    }
}

/// Reads one profile's files at rest (changing nothing) and its status: the
/// home in one read where the backend can, so every file is of one instant.
pub async fn at_rest(
    target: &mut dyn Sandbox,
    profile: &str,
    status: &Status,
    history: &mut History,
) -> BackendResult<RestSeen> {
    let home = target
        .read_dir(&Path::new("profiles").join(profile))
        .await?;
    // Something that is not a file where a file belongs (a directory, after a
    // `dir-where-file` fault) reads as zero bytes: unreadable, so corrupt and
    // torn, as the contract's boot counts a file it cannot read.
    let file = |name: &str| {
        home.iter()
            .find(|e| e.name == name)
            .map(|e| e.content.clone().unwrap_or_default())
    };
    let state_bytes = file(files::GATEWAY_STATE);
    let desired_bytes = file(files::DESIRED_STATE);
    let marker = file(files::PLANNED_STOP_MARKER);
    let home_files: Vec<String> = home.iter().map(|e| e.name.clone()).collect();
    for (name, bytes) in [
        (files::GATEWAY_STATE, &state_bytes),
        (files::DESIRED_STATE, &desired_bytes),
        (files::PLANNED_STOP_MARKER, &marker),
    ] {
        history.record(
            EntryKind::File,
            format!(
                "{profile}/{name}: {}",
                bytes.as_ref().map_or_else(
                    || "absent".to_owned(),
                    |b| String::from_utf8_lossy(b).trim_end().to_owned()
                )
            ),
        );
    }
    history.record(
        EntryKind::File,
        format!("{profile}/: {}", home_files.join(" ")),
    );
    let torn_files = count_torn(profile, &home_files, &file, history);
    let temp_files = home_files.iter().filter(|n| is_temp_file(n)).count();
    let state = state_bytes.as_deref().map(classify::<GatewayStateRecord>);
    let (exit_reason, restart_requested) = match &state {
        Some(Classified::Valid(r)) => (
            r.exit_reason.as_ref().map(|x| x.to_wire()),
            Some(r.restart_requested),
        ),
        _ => (None, None),
    };
    let state_keys = state_bytes
        .as_deref()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
        .unwrap_or_default();
    let desired = desired_bytes.as_deref().map(classify::<DesiredStateRecord>);
    let st = status.get(profile);
    Ok(RestSeen {
        gateway_state: classified(state, |r| r.gateway_state),
        exit_reason,
        restart_requested,
        state_keys,
        desired_state: classified(desired, |r| r.desired_state),
        marker: marker.is_some(),
        home_files,
        torn_files,
        temp_files,
        supervised: st.map(|s| s.supervised),
        live: st.map(|s| s.live),
        pid: st.and_then(|s| s.pid),
        start_time: st.and_then(|s| s.start_time),
    })
}

/// How many torn things the home's files hold ([`torn_in`]), each recorded.
fn count_torn(
    profile: &str,
    home_files: &[String],
    file: &dyn Fn(&str) -> Option<Vec<u8>>,
    history: &mut History,
) -> usize {
    let mut torn_files = 0;
    for name in home_files.iter().filter(|n| is_judged_for_tears(n)) {
        let Some(bytes) = file(name) else {
            continue;
        };
        let torn = torn_in(name, &bytes);
        if torn > 0 {
            history.record(
                EntryKind::File,
                format!(
                    "{profile}/{name}: torn ({torn}): {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(400)]).trim_end()
                ),
            );
        }
        torn_files += torn;
    }
    torn_files
}
