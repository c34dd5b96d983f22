//! One container's engine events (`create`, `start`, `kill`, `die`, `oom`, ...),
//! recorded from the moment it was created.
//!
//! The events endpoint is a lazy HTTP stream: an event that happens before the
//! request reaches the daemon is lost to a plain subscription. We subscribe with
//! `since` set to before the container existed, so the daemon first replays its
//! buffered events for the container and then streams new ones, atomically:
//! nothing is missed whatever the timing, and no sleep is needed to "let the
//! subscription land". Seeing the replayed `create` event proves the stream works.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::query_parameters::EventsOptionsBuilder;
use bollard::Docker;
use futures_util::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::backend::{BackendError, BackendResult};

/// The engine's actions on a container that the harness records and waits
/// for; exec events are left out (every `gateway` command is one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The container was created.
    Create,
    /// It started (a boot).
    Start,
    /// A signal was sent to it through the engine.
    Kill,
    /// Its PID 1 exited.
    Die,
    /// The kernel's OOM killer took a process of it.
    Oom,
    /// It was stopped through the engine.
    Stop,
    /// It was restarted through the engine.
    Restart,
    /// It was removed.
    Destroy,
}

impl Action {
    /// Every action recorded.
    const ALL: [Action; 8] = [
        Action::Create,
        Action::Start,
        Action::Kill,
        Action::Die,
        Action::Oom,
        Action::Stop,
        Action::Restart,
        Action::Destroy,
    ];

    /// The engine's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Start => "start",
            Action::Kill => "kill",
            Action::Die => "die",
            Action::Oom => "oom",
            Action::Stop => "stop",
            Action::Restart => "restart",
            Action::Destroy => "destroy",
        }
    }

    /// The action the engine names `word`, if the harness records it.
    fn parse(word: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == word)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One engine event about the container.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContainerEvent {
    /// What the engine did.
    pub action: Action,
    /// `exitCode` of a `die` event.
    pub exit_code: Option<i64>,
    /// `signal` of a `kill` event (a number, e.g. `9`).
    pub signal: Option<String>,
    /// When the engine saw it (ns since the epoch).
    pub time_nano: i64,
}

impl std::fmt::Display for ContainerEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.action.as_str())?;
        if let Some(c) = self.exit_code {
            write!(f, "(exitCode={c})")?;
        }
        if let Some(s) = &self.signal {
            write!(f, "(signal={s})")?;
        }
        Ok(())
    }
}

/// Everything recorded so far, and whether the stream ended.
#[derive(Debug, Clone, Default)]
struct Record {
    events: Vec<ContainerEvent>,
    ended: Option<String>,
}

/// The recorded events of one container, fed by a background task.
#[derive(Debug)]
pub struct EventLog {
    rx: watch::Receiver<Record>,
    task: JoinHandle<()>,
}

impl EventLog {
    /// Starts recording the events of container `id`, replaying from `since`
    /// (take it before creating the container).
    pub fn subscribe(docker: &Docker, id: &str, since: SystemTime) -> Self {
        // Whole seconds, one second early: the daemon's replay filter has no
        // sub-second guarantee, and the container filter keeps others out.
        let since = since
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            .saturating_sub(1);
        let filters = HashMap::from([
            ("type".to_owned(), vec!["container".to_owned()]),
            ("container".to_owned(), vec![id.to_owned()]),
            (
                "event".to_owned(),
                Action::ALL.iter().map(|a| a.as_str().to_owned()).collect(),
            ),
        ]);
        let opts = EventsOptionsBuilder::new()
            .since(&since.to_string())
            .filters(&filters)
            .build();
        let mut stream = docker.events(Some(opts));
        let (tx, rx) = watch::channel(Record::default());
        let task = tokio::spawn(async move {
            while let Some(item) = stream.next().await {
                match item {
                    Ok(msg) => {
                        // The filter lets only the recorded actions through.
                        let Some(action) = msg.action.as_deref().and_then(Action::parse) else {
                            continue;
                        };
                        let attrs = msg.actor.and_then(|a| a.attributes).unwrap_or_default();
                        let ev = ContainerEvent {
                            action,
                            exit_code: attrs.get("exitCode").and_then(|c| c.parse().ok()),
                            signal: attrs.get("signal").cloned(),
                            time_nano: msg.time_nano.unwrap_or_default(),
                        };
                        tx.send_modify(|r| r.events.push(ev));
                    }
                    Err(e) => {
                        tx.send_modify(|r| r.ended = Some(format!("event stream error: {e}")));
                        return;
                    }
                }
            }
            tx.send_modify(|r| r.ended = Some("event stream closed by the daemon".to_owned()));
        });
        EventLog { rx, task }
    }

    /// How many events so far: pass it to [`EventLog::wait_for`] to wait only
    /// for events after now.
    pub fn len(&self) -> usize {
        self.rx.borrow().events.len()
    }

    /// No event recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every event so far.
    pub fn all(&self) -> Vec<ContainerEvent> {
        self.rx.borrow().events.clone()
    }

    /// The events from index `from` on.
    pub fn since(&self, from: usize) -> Vec<ContainerEvent> {
        self.rx
            .borrow()
            .events
            .get(from..)
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    }

    /// A short description of the last few events, for timeout messages.
    pub fn tail(&self) -> String {
        let r = self.rx.borrow();
        let start = r.events.len().saturating_sub(6);
        let mut s = r.events[start..]
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" → ");
        if s.is_empty() {
            s = "no event".to_owned();
        }
        if let Some(end) = &r.ended {
            s.push_str(&format!(" ({end})"));
        }
        s
    }

    /// Waits until an event from index `from` on is `action`, at most
    /// `deadline`; returns its index and the event.
    pub async fn wait_for(
        &self,
        from: usize,
        action: Action,
        deadline: Duration,
    ) -> BackendResult<(usize, ContainerEvent)> {
        let find = |r: &Record| {
            r.events.get(from..).and_then(|evs| {
                evs.iter()
                    .position(|e| e.action == action)
                    .map(|i| (from + i, evs[i].clone()))
            })
        };
        let mut rx = self.rx.clone();
        let waited = tokio::time::timeout(
            deadline,
            rx.wait_for(|r| find(r).is_some() || r.ended.is_some()),
        )
        .await;
        match waited {
            Ok(Ok(r)) => match find(&r) {
                Some(ev) => Ok(ev),
                None => Err(BackendError::EventStream {
                    action: action.to_string(),
                    detail: r.ended.clone().unwrap_or_default(),
                }),
            },
            Ok(Err(_)) => Err(BackendError::EventStream {
                action: action.to_string(),
                detail: "the event recorder stopped".to_owned(),
            }),
            Err(_) => Err(BackendError::Timeout {
                awaited: format!("the container's `{action}` event"),
                waited: deadline,
                last_seen: format!("events: {}", self.tail()),
            }),
        }
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        self.task.abort();
    }
}
