//! Reading a target's files through the sandbox: a profile's history
//! (`events.jsonl`), a data-dir file's lines (`boot.log`), and a home at rest,
//! classified as the contract does without touching it.

use std::path::Path;

use restart_contract::events::{self, Event};
use restart_contract::layout::files;
use restart_contract::records::{DesiredStateRecord, GatewayStateRecord};
use restart_contract::store::{classify, Classified};

use crate::backend::{profile_file, BackendError, BackendResult, FileVersion, Sandbox};
use crate::history::{EntryKind, History};
use crate::observe::{
    is_judged_for_tears, is_temp_file, is_whole_json, torn_in, FileState, RestSeen, Status,
};

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
    let recorded = recorded_versions(target).await?;
    let unparsable_versions = unparsable_versions(
        &profile_file(profile, files::GATEWAY_STATE),
        &recorded,
        state_bytes.as_deref(),
        history,
    );
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
        unparsable_versions,
        supervised: st.map(|s| s.supervised),
        live: st.map(|s| s.live),
        pid: st.and_then(|s| s.pid),
        start_time: st.and_then(|s| s.start_time),
    })
}

/// Every version the backend recorded; none where it records nothing (local
/// processes).
pub async fn recorded_versions(target: &mut dyn Sandbox) -> BackendResult<Vec<FileVersion>> {
    match target.file_versions().await {
        Ok(v) => Ok(v),
        Err(BackendError::Unsupported { .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// How many versions of the state file at `rel` do not parse as JSON: each
/// recorded one (a removal is no version) and the file `now`; each recorded.
pub fn unparsable_versions(
    rel: &Path,
    recorded: &[FileVersion],
    now: Option<&[u8]>,
    history: &mut History,
) -> usize {
    let shown = rel.to_string_lossy();
    let want = shown.trim_start_matches("./");
    let written: Vec<(&str, &str)> = recorded
        .iter()
        .filter(|v| v.path.trim_start_matches("./") == want)
        .filter_map(|v| v.text.as_deref().map(|t| (v.ts.as_str(), t)))
        .collect();
    let mut bad: Vec<String> = written
        .iter()
        .filter(|(_, t)| !is_whole_json(t.as_bytes()))
        .map(|(ts, t)| format!("recorded at {ts}: {t:?}"))
        .collect();
    if let Some(b) = now.filter(|b| !is_whole_json(b)) {
        bad.push(format!(
            "now: {:?}",
            String::from_utf8_lossy(&b[..b.len().min(400)])
        ));
    }
    for b in &bad {
        history.record(
            EntryKind::File,
            format!("{want}: does not parse as JSON, {b}"),
        );
    }
    if !written.is_empty() {
        history.record(
            EntryKind::File,
            format!(
                "{want}: {} versions recorded, {} of them do not parse",
                written.len(),
                bad.len()
            ),
        );
    }
    bad.len()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn version(path: &str, text: Option<&str>) -> FileVersion {
        FileVersion {
            ts: "2026-12-05T18:00:00Z".to_owned(),
            path: path.to_owned(),
            text: text.map(str::to_owned),
        }
    }

    #[test]
    fn every_recorded_version_of_the_file_and_the_file_now_must_parse() {
        let rel = Path::new("profiles/a/gateway_state.json");
        let recorded = [
            version(
                "./profiles/a/gateway_state.json",
                Some(r#"{"gateway_state":"running"}"#),
            ),
            // A write cut short, then removed: the removal is no version.
            version("profiles/a/gateway_state.json", Some(r#"{"gateway_st"#)),
            version("profiles/a/gateway_state.json", None),
            // Another profile's torn file is not this one's.
            version("profiles/b/gateway_state.json", Some("")),
        ];
        let mut h = History::new();
        assert_eq!(unparsable_versions(rel, &recorded, Some(b"{}"), &mut h), 1);
        assert_eq!(unparsable_versions(rel, &recorded, Some(b""), &mut h), 2);
        assert_eq!(unparsable_versions(rel, &[], None, &mut h), 0);
    }
}
