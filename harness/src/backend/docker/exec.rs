//! `docker exec`: runs a command beside init and collects its output and exit code.

use std::time::Duration;

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::Docker;
use futures_util::StreamExt;

use super::client::{api_error, is_conflict};
use crate::backend::session::Session;
use crate::backend::{BackendError, BackendResult, CmdOutput};

/// How often the exit code is polled once the output stream has ended.
const EXIT_POLL: Duration = Duration::from_millis(10);

/// How long the exit code may lag behind the end of the output stream.
const EXIT_DEADLINE: Duration = Duration::from_secs(10);

/// Runs `cmd` in the running container `id` as the image's user, with the
/// container's environment, and waits for it at most `deadline`.
///
/// The exit code of a command killed by a signal reads `128 + signal`, as the
/// engine reports it (an exec has no separate "signalled" status).
pub async fn exec(
    docker: &Docker,
    id: &str,
    cmd: &[String],
    deadline: Duration,
) -> BackendResult<CmdOutput> {
    exec_as(docker, id, cmd, None, &[], deadline).await
}

/// [`exec`] as `user` (`None`: the image's `USER`) with extra environment
/// (`KEY=VALUE`).
pub async fn exec_as(
    docker: &Docker,
    id: &str,
    cmd: &[String],
    user: Option<&str>,
    env: &[String],
    deadline: Duration,
) -> BackendResult<CmdOutput> {
    let shown = cmd.join(" ");
    let options = CreateExecOptions {
        cmd: Some(cmd.to_vec()),
        user: user.map(str::to_owned),
        env: (!env.is_empty()).then(|| env.to_vec()),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(false),
        ..Default::default()
    };
    let created = docker.create_exec(id, options).await.map_err(|e| {
        let action = format!("exec `{shown}`");
        if is_conflict(&e) {
            BackendError::NotRunning { action, source: e }
        } else {
            api_error(format!("create {action}"), e)
        }
    })?;
    let mut out = CmdOutput::default();
    // Bound first: the future borrows `out`, which the timeout message reads.
    let collected = tokio::time::timeout(
        deadline,
        collect_output(docker, &created.id, &shown, &mut out),
    )
    .await;
    match collected {
        Ok(r) => r?,
        Err(_) => {
            return Err(BackendError::Timeout {
                awaited: format!("exec `{shown}` to finish"),
                waited: deadline,
                last_seen: format!(
                    "stdout: {:?}; stderr: {:?}",
                    tail(&out.stdout),
                    tail(&out.stderr)
                ),
            })
        }
    }
    let code = exit_code(docker, &created.id, &shown).await?;
    out.code = Some(i32::try_from(code).unwrap_or(i32::MAX));
    Ok(out)
}

/// Starts the created exec `exec_id` and reads its output into `out` until
/// the stream ends.
async fn collect_output(
    docker: &Docker,
    exec_id: &str,
    shown: &str,
    out: &mut CmdOutput,
) -> BackendResult<()> {
    let (mut output, _) = start_attached(docker, exec_id, shown).await?;
    while let Some(chunk) = output.next().await {
        match chunk.map_err(|e| api_error(format!("read the output of `{shown}`"), e))? {
            LogOutput::StdErr { message } => {
                out.stderr.push_str(&String::from_utf8_lossy(&message))
            }
            LogOutput::StdOut { message }
            | LogOutput::Console { message }
            | LogOutput::StdIn { message } => {
                out.stdout.push_str(&String::from_utf8_lossy(&message))
            }
        }
    }
    Ok(())
}

/// The exit code of the exec `exec_id`, whose output has ended. The output
/// stream can end a moment before the engine records the exit code, so
/// `inspect_exec` is polled until it says the command is no longer running.
async fn exit_code(docker: &Docker, exec_id: &str, shown: &str) -> BackendResult<i64> {
    let poll = async {
        loop {
            let ins = docker
                .inspect_exec(exec_id)
                .await
                .map_err(|e| api_error(format!("inspect exec `{shown}`"), e))?;
            if ins.running == Some(false) {
                if let Some(code) = ins.exit_code {
                    return Ok::<i64, BackendError>(code);
                }
            }
            tokio::time::sleep(EXIT_POLL).await;
        }
    };
    tokio::time::timeout(EXIT_DEADLINE, poll)
        .await
        .map_err(|_| BackendError::Timeout {
            awaited: format!("the exit code of exec `{shown}`"),
            waited: EXIT_DEADLINE,
            last_seen: "the output had ended, the engine still reported it running".to_owned(),
        })?
}

/// The last line of some output, for messages.
fn tail(s: &str) -> &str {
    s.trim_end().lines().last().unwrap_or("")
}

/// Starts `cmd` in the running container `id` as the image's user, kept
/// running with its stdin and stdout attached: a [`Session`]. Its stderr is
/// left out (an answer is a stdout line); a command that fails says so by
/// ending without answering.
pub async fn session(docker: &Docker, id: &str, cmd: &[String]) -> BackendResult<Session> {
    let shown = cmd.join(" ");
    let created = docker
        .create_exec(
            id,
            CreateExecOptions {
                cmd: Some(cmd.to_vec()),
                attach_stdin: Some(true),
                attach_stdout: Some(true),
                attach_stderr: Some(false),
                tty: Some(false),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| api_error(format!("create exec session `{shown}`"), e))?;
    let (output, input) = start_attached(docker, &created.id, &shown).await?;
    let stdout = output.filter_map(move |chunk| {
        let read = match chunk {
            Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                Some(Ok(message.to_vec()))
            }
            Ok(LogOutput::StdErr { .. } | LogOutput::StdIn { .. }) => None,
            Err(e) => Some(Err(api_error(format!("read the output of `{shown}`"), e))),
        };
        std::future::ready(read)
    });
    // Dropping the attached connection closes the command's stdin: it ends.
    Ok(Session::new(
        cmd.to_vec(),
        input,
        stdout.boxed(),
        Box::new(()),
    ))
}

/// The attached output and input of the created exec `exec_id`, started.
async fn start_attached(
    docker: &Docker,
    exec_id: &str,
    shown: &str,
) -> BackendResult<(
    std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>,
    >,
    std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>,
)> {
    let started = docker
        .start_exec(
            exec_id,
            Some(StartExecOptions {
                detach: false,
                tty: false,
                output_capacity: None,
            }),
        )
        .await
        .map_err(|e| api_error(format!("start exec `{shown}`"), e))?;
    match started {
        StartExecResults::Attached { output, input } => Ok((output, input)),
        StartExecResults::Detached => Err(BackendError::Other(format!(
            "exec `{shown}` started detached although we attached to it"
        ))),
    }
}
