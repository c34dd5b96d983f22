//! The control socket `RUN/control.sock`: accepts connections and forwards each
//! request line to init's loop, which owns all supervision state.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use crate::control::{ErrorKind, Request, Response, MAX_LINE};

/// A request and where its answer goes.
pub type Envelope = (Request, oneshot::Sender<Response>);

/// Binds the control socket (any stale one was removed at boot).
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    UnixListener::bind(path)
}

/// Accepts connections forever, one task per connection.
pub async fn accept_loop(listener: UnixListener, tx: mpsc::Sender<Envelope>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(connection(stream, tx.clone()));
            }
            Err(e) => {
                eprintln!("gateway init: accepting on the control socket: {e}");
                // Out of fds and the like: do not spin.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

async fn connection(stream: UnixStream, tx: mpsc::Sender<Envelope>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut line = String::new();
        match (&mut reader)
            .take(MAX_LINE as u64)
            .read_line(&mut line)
            .await
        {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = match serde_json::from_str::<Request>(line.trim_end()) {
            Ok(req) => {
                let (otx, orx) = oneshot::channel();
                if tx.send((req, otx)).await.is_err() {
                    return;
                }
                orx.await.unwrap_or(Response::Error {
                    error: ErrorKind::ShuttingDown,
                    message: "init is stopping".to_owned(),
                })
            }
            Err(e) => Response::Error {
                error: ErrorKind::BadRequest,
                message: format!("not a control request ({e}); see gateway/src/control.rs"),
            },
        };
        let mut bytes = match serde_json::to_vec(&response) {
            Ok(b) => b,
            Err(_) => return,
        };
        bytes.push(b'\n');
        if write.write_all(&bytes).await.is_err() {
            return;
        }
    }
}

/// Removes the control socket when init exits (dropped last).
#[derive(Debug)]
pub struct SocketGuard(pub PathBuf);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
