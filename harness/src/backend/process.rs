//! The process backend: each target is a `gateway init` in its own short temp
//! dir (`/tmp/rh-XXXXXX/{data,run}`, so unix socket paths stay far below 108
//! bytes), fully isolated from every other target.
//!
//! A "container restart" is SIGTERM to init, a wait for its exit (SIGKILL after
//! the stop timeout, as `docker restart -t` does), and a new init on the same
//! data; a "container kill" is SIGKILL to init, whose gateways then die through
//! their parent-death signal. `destroy` checks that no process of the target is
//! left: leftovers are an error.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

use super::error::exited_status;
use super::local_fs_fault::Mounts;
use super::session::{Session, Sessions};
use super::user_namespace::{self, Holder};
use super::{
    Backend, BackendError, BackendKind, BackendResult, CmdOutput, ContainerFacts, Detached,
    Sandbox, SandboxSpec,
};

/// The environment variable that tags every process of a target with its temp
/// dir, so that `destroy` can find leftovers whatever init passes to gateways.
const TAG_ENV: &str = "RESTART_HARNESS_TARGET";

/// Docker's default stop timeout, used when a restart names none.
const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// What a wait for init's exit does when init outlives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnTimeout {
    /// SIGKILL it, as a stop timeout does (`docker restart -t`).
    Kill,
    /// Report the timeout (after a SIGKILL, so that nothing is left behind).
    Fail,
}

/// How long a `gateway` command may take before it is killed (its own
/// `--timeout-s` defaults to 30 s).
const COMMAND_DEADLINE: Duration = Duration::from_secs(60);

/// How long to wait for boot lines, process exits and leftovers to go.
const WAIT_DEADLINE: Duration = Duration::from_secs(20);

/// Pause between two looks while waiting.
const POLL: Duration = Duration::from_millis(20);

/// Creates process targets running one `gateway` binary.
#[derive(Debug, Clone)]
pub struct ProcessBackend {
    gateway: PathBuf,
}

impl ProcessBackend {
    /// A backend running `gateway` (an executable path).
    pub fn new(gateway: PathBuf) -> Self {
        ProcessBackend { gateway }
    }

    /// The gateway binary.
    pub fn gateway(&self) -> &Path {
        &self.gateway
    }
}

#[async_trait]
impl Backend for ProcessBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Process
    }

    fn describe(&self) -> String {
        format!("process (gateway {})", self.gateway.display())
    }

    fn mutants_binary(&self) -> Option<&Path> {
        Some(&self.gateway)
    }

    fn cannot(&self, spec: &SandboxSpec) -> Option<String> {
        spec.disk_limit?;
        let why = user_namespace::cannot_mount()?;
        Some(format!(
            "needs root or user namespaces (a full disk mounts a tmpfs over the home): {why}"
        ))
    }

    async fn create(&self, spec: &SandboxSpec) -> BackendResult<Box<dyn Sandbox>> {
        let dir = tempfile::Builder::new()
            .prefix("rh-")
            .tempdir_in("/tmp")
            .map_err(|e| BackendError::io("creating a temp dir in", "/tmp", e))?;
        let root = dir.path().to_owned();
        for sub in ["data", "run"] {
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(root.join(sub))
                .map_err(|e| BackendError::io("creating", root.join(sub), e))?;
        }
        // Not root, and a mount to make: the sandbox gets a user and mount
        // namespace of its own, where it can.
        let ns = match spec.disk_limit {
            Some(_) if !nix::unistd::geteuid().is_root() => Some(Holder::start()?),
            _ => None,
        };
        Ok(Box::new(ProcessSandbox {
            ns,
            spec: spec.clone(),
            gateway: self.gateway.clone(),
            data: root.join("data"),
            run: root.join("run"),
            root,
            dir: Some(dir),
            init: None,
            logs: Arc::new(Mutex::new(String::new())),
            facts: ContainerFacts::default(),
            boots: 0,
            fs_faults: super::local_fs_fault::LocalFsFaults::default(),
            sessions: Sessions::default(),
        }))
    }
}

/// One init and its temp dir.
pub struct ProcessSandbox {
    /// The user and mount namespace its processes run in, when the harness
    /// is not root and the scenario mounts (a full disk).
    ns: Option<Holder>,
    spec: SandboxSpec,
    gateway: PathBuf,
    root: PathBuf,
    data: PathBuf,
    run: PathBuf,
    dir: Option<tempfile::TempDir>,
    init: Option<Child>,
    logs: Arc<Mutex<String>>,
    facts: ContainerFacts,
    boots: u32,
    fs_faults: super::local_fs_fault::LocalFsFaults,
    /// The kept `gateway status --json --serve`.
    sessions: Sessions,
}

impl Drop for ProcessSandbox {
    // Last resort when `destroy` was never reached: no init outlives its target.
    fn drop(&mut self) {
        if let Some(child) = &mut self.init {
            let _ = child.start_kill();
        }
        // A mount must not outlive the data dir it covers.
        let _ = self.fs_faults.undo(mounts_of(&self.ns));
    }
}

/// A child's stdout as a stream of chunks (`shown`: the command, for errors).
fn chunks(stdout: ChildStdout, shown: String) -> BoxStream<'static, BackendResult<Vec<u8>>> {
    futures_util::stream::unfold(stdout, move |mut out| {
        let shown = shown.clone();
        async move {
            let mut buf = vec![0u8; 8192];
            match out.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(buf), out))
                }
                Err(e) => {
                    let action = format!("reading the stdout of `{shown}`");
                    Some((Err(BackendError::process(action, e)), out))
                }
            }
        }
    })
    .boxed()
}

/// Where a sandbox's mounts are made.
fn mounts_of(ns: &Option<Holder>) -> Mounts<'_> {
    match ns {
        Some(h) => Mounts::Namespace(h),
        None => Mounts::Own,
    }
}

/// Processes (pid, command line) whose command line or environment mentions `root`.
pub fn processes_mentioning(root: &Path) -> Vec<(i32, String)> {
    let needle = root.as_os_str().as_encoded_bytes();
    let me = std::process::id() as i32;
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in rd.filter_map(Result::ok) {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline.is_empty() {
            continue; // a zombie or a kernel thread: nothing left running
        }
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let hit = |hay: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        if hit(&cmdline) || hit(&environ) {
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            out.push((pid, text.trim().to_owned()));
        }
    }
    out
}

fn describe_procs(procs: &[(i32, String)]) -> String {
    procs
        .iter()
        .map(|(p, c)| format!("{p} `{c}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn exit_code_of(status: std::process::ExitStatus) -> i64 {
    match (status.code(), status.signal()) {
        (Some(c), _) => i64::from(c),
        (None, Some(s)) => 128 + i64::from(s),
        (None, None) => -1,
    }
}

fn pump(stream: impl AsyncRead + Unpin + Send + 'static, logs: Arc<Mutex<String>>, label: String) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(mut l) = logs.lock() {
                l.push_str(&label);
                l.push_str(&line);
                l.push('\n');
            }
        }
    });
}

impl ProcessSandbox {
    /// `path` (absolute) as the sandbox's processes see it.
    fn view(&self, path: &Path) -> PathBuf {
        mounts_of(&self.ns).view(path)
    }

    /// A command that runs `program` where the sandbox's processes run.
    fn command(&self, program: &Path) -> Command {
        match &self.ns {
            Some(h) => {
                let enter = h.enter();
                let mut cmd = Command::new(&enter[0]);
                cmd.args(&enter[1..]).arg(program);
                cmd
            }
            None => Command::new(program),
        }
    }

    fn boot_log_lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.view(&self.data.join("boot.log")))
            .map(|t| t.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    fn profiles(&self) -> Vec<String> {
        let mut p = self.spec.profiles.clone();
        if !p.iter().any(|x| x == "default") {
            p.push("default".to_owned());
        }
        p
    }

    fn logs_tail(&self) -> String {
        let logs = self.logs.lock().map(|l| l.clone()).unwrap_or_default();
        let lines: Vec<&str> = logs.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn spawn_init(&mut self) -> BackendResult<()> {
        let mut cmd = self.command(&self.gateway);
        cmd.arg("init")
            .arg("--data")
            .arg(&self.data)
            .arg("--run")
            .arg(&self.run);
        if !self.spec.profiles.is_empty() {
            cmd.arg("--profiles").arg(self.spec.profiles.join(","));
        }
        cmd.args(&self.spec.init_args)
            .envs(self.spec.env.iter().map(|(k, v)| (k, v)))
            .env(TAG_ENV, &self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            // Its own process group: a ^C at the harness's terminal is the
            // harness's business, not a "container stop" of every target.
            .process_group(0);
        // SAFETY: the closure runs in the child between fork and exec and only
        // makes one async-signal-safe syscall.
        unsafe {
            cmd.pre_exec(|| {
                // If the harness dies, its inits die too (and their gateways with them).
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|source| BackendError::Spawn {
            program: format!("`{} init`", self.gateway.display()),
            hint: "",
            source,
        })?;
        self.boots += 1;
        let n = self.boots;
        if let Some(out) = child.stdout.take() {
            pump(out, self.logs.clone(), format!("[init#{n}] "));
        }
        if let Some(err) = child.stderr.take() {
            pump(err, self.logs.clone(), format!("[init#{n} stderr] "));
        }
        self.init = Some(child);
        self.facts.started_at = Some(restart_contract::timefmt::format(
            &restart_contract::timefmt::now(),
        ));
        Ok(())
    }

    /// Waits until init wrote a boot line for every profile and answers status.
    async fn wait_booted(&mut self, lines_before: usize) -> BackendResult<()> {
        let start = Instant::now();
        let profiles = self.profiles();
        loop {
            if let Some(child) = &mut self.init {
                if let Ok(Some(status)) = child.try_wait() {
                    self.init = None;
                    return Err(BackendError::BootFailed {
                        how: exited_status(status),
                        output: self.logs_tail(),
                    });
                }
            }
            let lines = self.boot_log_lines();
            let new = lines.get(lines_before..).unwrap_or(&[]);
            let missing: Vec<&String> = profiles
                .iter()
                .filter(|p| {
                    let key = format!(" profile={p} ");
                    !new.iter().any(|l| l.contains(&key))
                })
                .collect();
            let status_ok = missing.is_empty()
                && self
                    .gateway(&["status".to_owned(), "--json".to_owned()])
                    .await
                    .is_ok_and(|o| o.code == Some(0));
            if status_ok {
                return Ok(());
            }
            if start.elapsed() > WAIT_DEADLINE {
                return Err(BackendError::Timeout {
                    awaited: format!(
                        "init's boot lines for {} and an answer to `gateway status`",
                        profiles.join(", ")
                    ),
                    waited: start.elapsed(),
                    last_seen: format!(
                        "boot lines still missing for [{}]; new boot.log lines: {:?}; init output:\n{}",
                        missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                        new,
                        self.logs_tail()
                    ),
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn boot_again(&mut self) -> BackendResult<()> {
        let before = self.boot_log_lines().len();
        self.spawn_init()?;
        self.wait_booted(before).await
    }

    /// Waits for init to exit, at most `timeout`, then does what `then`
    /// says; records its exit code.
    async fn wait_init_exit(&mut self, timeout: Duration, then: OnTimeout) -> BackendResult<()> {
        let Some(mut child) = self.init.take() else {
            return Err(BackendError::InitNotRunning);
        };
        let status = match tokio::time::timeout(timeout, child.wait()).await {
            Ok(r) => r.map_err(|e| BackendError::process("waiting for init", e))?,
            Err(_) => {
                let _ = child.start_kill();
                if then == OnTimeout::Fail {
                    // The kill only cleans up: the timeout is what is reported.
                    return Err(BackendError::Timeout {
                        awaited: "init to exit after a bare SIGTERM".to_owned(),
                        waited: timeout,
                        last_seen: "still running (then SIGKILLed)".to_owned(),
                    });
                }
                tokio::time::timeout(WAIT_DEADLINE, child.wait())
                    .await
                    .map_err(|_| BackendError::Timeout {
                        awaited: "init to exit after SIGKILL".to_owned(),
                        waited: WAIT_DEADLINE,
                        last_seen: "still running".to_owned(),
                    })?
                    .map_err(|e| BackendError::process("waiting for init", e))?
            }
        };
        self.facts.last_exit_code = Some(exit_code_of(status));
        Ok(())
    }

    /// Waits until no process of this target is left.
    async fn wait_all_gone(&self) -> Result<(), Vec<(i32, String)>> {
        let start = Instant::now();
        loop {
            let left = processes_mentioning(&self.root);
            if left.is_empty() {
                return Ok(());
            }
            if start.elapsed() > WAIT_DEADLINE {
                return Err(left);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// `gateway <args>` beside init: its dirs and the scenario's environment,
    /// tagged as this target's, killed if dropped.
    fn gateway_command(&self, args: &[String]) -> Command {
        let mut cmd = self.command(&self.gateway);
        cmd.args(args)
            // Flags beat the environment, and `gateway kill` takes no dirs: the
            // environment serves every command.
            .env("GATEWAY_DATA", &self.data)
            .env("GATEWAY_RUN", &self.run)
            .envs(self.spec.env.iter().map(|(k, v)| (k, v)))
            .env(TAG_ENV, &self.root)
            .kill_on_drop(true);
        cmd
    }

    fn signal_init(&self, sig: Signal) -> BackendResult<()> {
        let pid = self
            .init
            .as_ref()
            .and_then(Child::id)
            .ok_or(BackendError::InitNotRunning)?;
        kill(Pid::from_raw(pid as i32), sig)
            .map_err(|e| BackendError::process(format!("{sig} to init {pid}"), e.into()))
    }

    fn path(&self, rel: &Path) -> BackendResult<PathBuf> {
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(BackendError::BadPath {
                path: rel.to_owned(),
                why: "is not a plain path relative to the data dir: give one without `/` at \
                      its start, `.` or `..`",
            });
        }
        Ok(self.view(&self.data.join(rel)))
    }
}

#[async_trait]
impl Sandbox for ProcessSandbox {
    fn kind(&self) -> BackendKind {
        BackendKind::Process
    }

    async fn boot(&mut self) -> BackendResult<()> {
        self.boot_again().await
    }

    async fn gateway(&mut self, args: &[String]) -> BackendResult<CmdOutput> {
        let cmd = self.gateway_command(args);
        command_output(cmd, args, &self.gateway).await
    }

    async fn gateway_detached(&mut self, args: &[String]) -> BackendResult<Detached> {
        let cmd = self.gateway_command(args);
        let (args, program) = (args.to_vec(), self.gateway.clone());
        Ok(Detached::spawn(async move {
            command_output(cmd, &args, &program).await
        }))
    }

    async fn write_file(&mut self, rel: &Path, bytes: &[u8]) -> BackendResult<()> {
        use std::io::Write;
        let path = self.path(rel)?;
        if let Some(dir) = path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| BackendError::io("creating", dir, e))?;
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| BackendError::io("writing", &path, e))?;
        f.write_all(bytes)
            .map_err(|e| BackendError::io("writing", &path, e))
    }

    async fn read_file(&mut self, rel: &Path) -> BackendResult<Option<Vec<u8>>> {
        let path = self.path(rel)?;
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(_) if path.is_dir() => Err(BackendError::NotAFile {
                path: path.display().to_string(),
            }),
            Err(e) => Err(BackendError::io("reading", path, e)),
        }
    }

    async fn list_dir(&mut self, rel: &Path) -> BackendResult<Vec<String>> {
        let path = self.path(rel)?;
        let rd = match std::fs::read_dir(&path) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(BackendError::io("listing", path, e)),
        };
        let mut names: Vec<String> = rd
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        Ok(names)
    }

    async fn ask_gateway(&mut self, args: &[String]) -> BackendResult<Option<String>> {
        let mut cmd = self.gateway_command(args);
        let argv: Vec<String> = std::iter::once(self.gateway.display().to_string())
            .chain(args.iter().cloned())
            .collect();
        let shown = argv.join(" ");
        let kept = argv.clone();
        self.sessions
            .ask(&argv, || async move {
                let mut child = cmd
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .map_err(|source| BackendError::Spawn {
                        program: format!("`{shown}`"),
                        hint: "",
                        source,
                    })?;
                let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
                    // Both were asked for just above: only a broken runtime has none.
                    let none = std::io::Error::other("it has no stdin or stdout pipe");
                    return Err(BackendError::process(format!("starting `{shown}`"), none));
                };
                Ok(Session::new(
                    kept,
                    Box::pin(stdin),
                    chunks(stdout, shown),
                    Box::new(child),
                ))
            })
            .await
    }

    async fn container_restart(&mut self, stop_timeout: Option<Duration>) -> BackendResult<()> {
        // As in a container: the stop ends every command run beside init.
        self.sessions.close();
        self.signal_init(Signal::SIGTERM)?;
        self.wait_init_exit(
            stop_timeout.unwrap_or(DEFAULT_STOP_TIMEOUT),
            OnTimeout::Kill,
        )
        .await?;
        self.wait_all_gone()
            .await
            .map_err(|left| BackendError::LeftBehind {
                when: "after init exited".to_owned(),
                left: describe_procs(&left),
            })?;
        self.boot_again().await
    }

    async fn supervisor_sigterm(&mut self) -> BackendResult<()> {
        self.sessions.close();
        self.signal_init(Signal::SIGTERM)?;
        self.wait_init_exit(WAIT_DEADLINE, OnTimeout::Fail).await?;
        self.wait_all_gone()
            .await
            .map_err(|left| BackendError::LeftBehind {
                when: "after init exited".to_owned(),
                left: describe_procs(&left),
            })
    }

    async fn container_kill(&mut self) -> BackendResult<()> {
        self.sessions.close();
        self.signal_init(Signal::SIGKILL)?;
        self.wait_init_exit(WAIT_DEADLINE, OnTimeout::Kill).await?;
        self.wait_all_gone()
            .await
            .map_err(|left| BackendError::LeftBehind {
                when: "after init was SIGKILLed (do its gateways lack a parent-death signal?)"
                    .to_owned(),
                left: describe_procs(&left),
            })?;
        self.boot_again().await
    }

    async fn oom(&mut self, _profile: &str) -> BackendResult<()> {
        Err(BackendError::Unsupported {
            backend: BackendKind::Process,
            what: "make the kernel OOM-kill a gateway (no memory-limited container)".to_owned(),
        })
    }

    async fn facts(&mut self) -> BackendResult<ContainerFacts> {
        Ok(self.facts.clone())
    }

    async fn logs(&mut self) -> BackendResult<String> {
        Ok(self.logs.lock().map(|l| l.clone()).unwrap_or_default())
    }

    async fn fs_fault(&mut self, profile: &str, fault: &super::FsFault) -> BackendResult<()> {
        let home = self.data.join("profiles").join(profile);
        self.fs_faults.apply(&home, fault, mounts_of(&self.ns))
    }

    async fn fs_restore(&mut self, profile: &str) -> BackendResult<()> {
        let home = self.data.join("profiles").join(profile);
        self.fs_faults.restore(&home, mounts_of(&self.ns))
    }

    async fn destroy(&mut self) -> BackendResult<()> {
        self.sessions.close();
        if let Some(mut child) = self.init.take() {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(WAIT_DEADLINE, child.wait()).await;
        }
        let left = self.wait_all_gone().await;
        if let Err(left) = &left {
            for (pid, _) in left {
                let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
            }
        }
        self.fs_faults.undo(mounts_of(&self.ns))?;
        if let Some(mut ns) = self.ns.take() {
            ns.stop();
        }
        if let Some(dir) = self.dir.take() {
            let path = dir.path().to_owned();
            dir.close()
                .map_err(|e| BackendError::io("removing", path, e))?;
        }
        left.map_err(|left| BackendError::LeftBehind {
            when: "after destroy (killed now)".to_owned(),
            left: describe_procs(&left),
        })
    }
}

/// Runs `gateway <args>` (the `program`) to its end, with no stdin, within
/// the command deadline.
async fn command_output(
    mut cmd: Command,
    args: &[String],
    program: &Path,
) -> BackendResult<CmdOutput> {
    cmd.stdin(Stdio::null());
    let out = tokio::time::timeout(COMMAND_DEADLINE, cmd.output())
        .await
        .map_err(|_| BackendError::Timeout {
            awaited: format!("`gateway {}` to finish", args.join(" ")),
            waited: COMMAND_DEADLINE,
            last_seen: "still running (killed)".to_owned(),
        })?
        .map_err(|source| BackendError::Spawn {
            program: format!("`{} {}`", program.display(), args.join(" ")),
            hint: "",
            source,
        })?;
    Ok(CmdOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_docker() {
        use std::process::ExitStatus;
        assert_eq!(exit_code_of(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code_of(ExitStatus::from_raw(9)), 137);
        assert_eq!(exit_code_of(ExitStatus::from_raw(1 << 8)), 1);
    }

    #[test]
    fn finds_processes_by_their_tag() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .env(TAG_ENV, dir.path())
            .spawn()
            .unwrap();
        // Until it has exec'd, the child's environment is still ours: poll.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut found = processes_mentioning(dir.path());
        while found.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
            found = processes_mentioning(dir.path());
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, child.id() as i32);
        assert!(processes_mentioning(dir.path()).is_empty());
    }
}
