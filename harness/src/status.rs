//! A target's status as the harness reads it (the contract's `gateway status
//! --json` document, whatever driver filled it), and the waits built on it.
//!
//! Every wait polls a condition until a deadline; a timeout says what was awaited
//! and the last thing seen. There is no fixed sleep anywhere: the poll interval is
//! only the pause between two looks.

use std::time::{Duration, Instant};

use crate::backend::{BackendError, BackendResult};
use crate::history::{EntryKind, History};
use crate::observe::Status;
use crate::target::Sut;

/// How long waits may take and how often they look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waits {
    /// Deadline of one wait.
    pub deadline: Duration,
    /// Pause between two looks.
    pub poll: Duration,
}

impl Default for Waits {
    fn default() -> Self {
        Waits {
            deadline: Duration::from_secs(30),
            poll: Duration::from_millis(25),
        }
    }
}

/// Asks the target once (its driver's status).
pub async fn query(sut: &mut Sut<'_>) -> BackendResult<Status> {
    sut.status().await
}

/// Polls status until `done(status)` holds, twice in a row with the same
/// summary (so a transition caught mid-way does not count), or the deadline.
pub async fn wait_status(
    sut: &mut Sut<'_>,
    history: &mut History,
    waits: Waits,
    awaited: &str,
    mut done: impl FnMut(&Status) -> bool,
) -> BackendResult<Status> {
    let start = Instant::now();
    let mut last_seen;
    let mut candidate: Option<String> = None;
    loop {
        match query(sut).await {
            Ok(st) => {
                let summary = st.summary();
                if done(&st) {
                    if candidate.as_deref() == Some(summary.as_str()) {
                        history.record(
                            EntryKind::Wait,
                            format!(
                                "{awaited}: reached after {} ms ({summary})",
                                start.elapsed().as_millis()
                            ),
                        );
                        return Ok(st);
                    }
                    candidate = Some(summary.clone());
                } else {
                    candidate = None;
                }
                last_seen = summary;
            }
            Err(e) => {
                candidate = None;
                last_seen = e.to_string();
            }
        }
        if start.elapsed() >= waits.deadline {
            let err = BackendError::Timeout {
                awaited: awaited.to_owned(),
                waited: start.elapsed(),
                last_seen,
            };
            history.record(EntryKind::Error, err.to_string());
            return Err(err);
        }
        tokio::time::sleep(waits.poll).await;
    }
}

/// Waits until every profile is settled (up and live, down, or given up).
pub async fn wait_settled(
    sut: &mut Sut<'_>,
    history: &mut History,
    waits: Waits,
) -> BackendResult<Status> {
    wait_status(
        sut,
        history,
        waits,
        "every profile settled (up and live, down, or gave-up)",
        Status::settled,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_contract_json_and_judges_settled() {
        let st = Status::parse(
            r#"{"profiles":[
              {"profile":"a","supervised":"up","pid":7,"start_time":55,"gateway_state":"running","desired_state":null,"live":true},
              {"profile":"b","supervised":"backoff","pid":null,"start_time":null,"gateway_state":"running","desired_state":null,"live":false},
              {"profile":"c","supervised":"gave-up","pid":null,"start_time":null,"gateway_state":"startup_failed","desired_state":"running","live":false}]}"#,
        )
        .unwrap();
        assert!(!st.settled());
        assert_eq!(st.gateways().get("a"), Some(&(7, 55)));
        assert_eq!(st.summary(), "a=up:7:live b=backoff c=gave-up");
        assert!(st.get("c").unwrap().settled());
    }

    #[test]
    fn garbage_is_reported_with_what_was_printed() {
        let e = Status::parse("nope").unwrap_err();
        assert!(e.contains("nope"));
    }
}
