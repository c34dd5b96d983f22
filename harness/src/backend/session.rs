//! A kept command that answers one line per line asked (`gateway status --json
//! --serve`): a look costs a round trip through its pipes, not a new process
//! (on Docker: not a new `docker exec`, whose runc start is most of a look).
//!
//! A session is only ever asked after the previous answer came: an answer
//! that did not come in time ends the session, so a late one can never be
//! taken for the answer to a later question.

use std::pin::Pin;
use std::time::Duration;

use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::{BackendError, BackendResult};

/// How long one answer may take (a look of the reference gateway takes a
/// millisecond; its channel ping alone may wait up to one second).
pub const ANSWER_DEADLINE: Duration = Duration::from_secs(5);

/// One kept command: its stdin, its stdout as chunks, and what keeps it alive.
pub struct Session {
    /// The argv it runs, to tell sessions apart and to name it in errors.
    argv: Vec<String>,
    input: Pin<Box<dyn AsyncWrite + Send>>,
    output: BoxStream<'static, BackendResult<Vec<u8>>>,
    /// Bytes read past the last answer.
    pending: Vec<u8>,
    /// Whatever must live as long as the session (a child process killed on drop).
    _guard: Box<dyn Send>,
    /// At least one question was answered.
    answered: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("argv", &self.argv)
            .field("answered", &self.answered)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session over a started command's stdin and stdout.
    pub fn new(
        argv: Vec<String>,
        input: Pin<Box<dyn AsyncWrite + Send>>,
        output: BoxStream<'static, BackendResult<Vec<u8>>>,
        guard: Box<dyn Send>,
    ) -> Session {
        Session {
            argv,
            input,
            output,
            pending: Vec::new(),
            _guard: guard,
            answered: false,
        }
    }

    /// The argv this session runs.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// Whether it answered at least once.
    pub fn answered(&self) -> bool {
        self.answered
    }

    /// Writes one line and returns the next line the command prints (without
    /// its newline). Any error leaves the session unusable: drop it.
    pub async fn ask(&mut self, question: &str) -> BackendResult<String> {
        let shown = self.argv.join(" ");
        let mut line = question.as_bytes().to_vec();
        line.push(b'\n');
        self.input
            .write_all(&line)
            .await
            .and(self.input.flush().await)
            .map_err(|e| {
                BackendError::process(format!("asking `{shown}` (writing its stdin)"), e)
            })?;
        let answer = tokio::time::timeout(ANSWER_DEADLINE, self.next_line())
            .await
            .map_err(|_| BackendError::Timeout {
                awaited: format!("`{shown}` to answer a line"),
                waited: ANSWER_DEADLINE,
                last_seen: format!(
                    "{:?} so far",
                    String::from_utf8_lossy(&self.pending).trim_end()
                ),
            })??;
        self.answered = true;
        Ok(answer)
    }

    async fn next_line(&mut self) -> BackendResult<String> {
        loop {
            if let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                return Ok(String::from_utf8_lossy(&line[..end]).into_owned());
            }
            match self.output.next().await {
                Some(Ok(bytes)) => self.pending.extend_from_slice(&bytes),
                // The stream's error names the command and what failed.
                Some(Err(e)) => return Err(e),
                None => {
                    return Err(BackendError::NoAnswer {
                        argv: self.argv.join(" "),
                        printed: if self.pending.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " (it printed {:?})",
                                String::from_utf8_lossy(&self.pending).trim_end()
                            )
                        },
                    })
                }
            }
        }
    }
}

/// The sessions of one sandbox: at most one kept command, and whether kept
/// commands work there at all.
#[derive(Debug, Default)]
pub struct Sessions {
    /// In a mutex only so that a sandbox holding it stays `Sync` (a session's
    /// pipes are `Send` only); it is reached through `&mut self`, never locked.
    open: std::sync::Mutex<Option<Session>>,
    /// Sessions in a row that ended before their first answer.
    unanswered: u32,
}

/// After this many sessions in a row end before answering, the command is
/// taken not to serve (an image whose `gateway` has no `--serve`): the
/// sandbox stops keeping sessions and looks are single commands again.
const UNANSWERED_LIMIT: u32 = 3;

/// What is written to ask (any line is a question).
const QUESTION: &str = "look";

impl Sessions {
    /// Whether sessions are still worth opening here.
    pub fn usable(&self) -> bool {
        self.unanswered < UNANSWERED_LIMIT
    }

    /// One answer of the kept command `argv`: from the open session, or, when
    /// there is none or it failed (a container restart ends it), from a new
    /// one `open` starts. `Ok(None)` once the command is taken not to serve.
    pub async fn ask<F, Fut>(&mut self, argv: &[String], open: F) -> BackendResult<Option<String>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = BackendResult<Session>>,
    {
        if !self.usable() {
            return Ok(None);
        }
        if let Some(mut kept) = self.take(argv) {
            match kept.ask(QUESTION).await {
                Ok(answer) => {
                    self.keep(kept);
                    return Ok(Some(answer));
                }
                Err(_) => self.failed(kept),
            }
        }
        let mut fresh = open().await?;
        match fresh.ask(QUESTION).await {
            Ok(answer) => {
                self.keep(fresh);
                Ok(Some(answer))
            }
            Err(e) => {
                self.failed(fresh);
                if self.usable() {
                    Err(e)
                } else {
                    Ok(None)
                }
            }
        }
    }

    /// The open session for `argv`, if any.
    fn take(&mut self, argv: &[String]) -> Option<Session> {
        match self.slot().take() {
            Some(s) if s.argv() == argv => Some(s),
            _ => None,
        }
    }

    /// Keeps a session that answered.
    fn keep(&mut self, session: Session) {
        self.unanswered = 0;
        *self.slot() = Some(session);
    }

    fn slot(&mut self) -> &mut Option<Session> {
        self.open
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Notes a session that failed (dropped, so its command ends).
    fn failed(&mut self, session: Session) {
        if !session.answered() {
            self.unanswered += 1;
        }
    }

    /// Ends the open session (a container stop ends every exec'd command).
    pub fn close(&mut self) {
        *self.slot() = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session whose command prints `answers` as they come (the questions
    /// go into a pipe kept open by the session itself).
    fn cat_like(answers: &'static [&'static str]) -> Session {
        let (ours, theirs) = tokio::io::duplex(1024);
        let chunks: Vec<BackendResult<Vec<u8>>> =
            answers.iter().map(|a| Ok(a.as_bytes().to_vec())).collect();
        Session::new(
            vec!["x".to_owned()],
            Box::pin(ours),
            futures_util::stream::iter(chunks).boxed(),
            Box::new(theirs),
        )
    }

    #[tokio::test]
    async fn answers_are_lines_however_they_are_chunked() {
        let mut s = cat_like(&["{\"a\"", ":1}\n{\"b\":2}\n"]);
        assert_eq!(s.ask("look").await.unwrap(), "{\"a\":1}");
        assert_eq!(s.ask("look").await.unwrap(), "{\"b\":2}");
        let e = s.ask("look").await.unwrap_err().to_string();
        assert!(e.contains("`x` ended without answering"), "{e}");
        assert!(s.answered());
    }

    #[tokio::test]
    async fn three_sessions_that_never_answer_turn_sessions_off() {
        let mut sessions = Sessions::default();
        let argv = ["x".to_owned()];
        for _ in 0..2 {
            let e = sessions
                .ask(&argv, || async {
                    Ok(cat_like(&["usage: no --serve here"]))
                })
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains("(it printed \"usage: no --serve here\")"), "{e}");
        }
        let third = sessions
            .ask(&argv, || async {
                Ok(cat_like(&["usage: no --serve here"]))
            })
            .await;
        assert_eq!(third.unwrap(), None);
        assert!(!sessions.usable());
    }

    #[tokio::test]
    async fn a_kept_session_that_ends_is_replaced_in_the_same_question() {
        let mut sessions = Sessions::default();
        let argv = ["x".to_owned()];
        let first = sessions
            .ask(&argv, || async { Ok(cat_like(&["1\n"])) })
            .await;
        assert_eq!(first.unwrap().as_deref(), Some("1"));
        // The kept one has nothing more to say (its container stopped): a new one answers.
        let second = sessions
            .ask(&argv, || async { Ok(cat_like(&["2\n"])) })
            .await;
        assert_eq!(second.unwrap().as_deref(), Some("2"));
        assert!(sessions.usable());
    }
}
