//! The gateway's shutdown signals: installed first, never uninstalled, and the
//! first one delivered wins.
//!
//! A plain `sigaction` handler rather than `tokio::signal`: tokio keeps one
//! "pending" flag per signal kind, so when two different signals arrive before
//! the runtime polls, their order is lost. Here the handler itself records the
//! first signal with a compare-and-swap (async-signal-safe), then writes a byte to
//! a self-pipe to wake the runtime. The handlers stay installed until the process
//! exits, so a second signal is recorded nowhere and kills nothing.

use std::io;
use std::os::fd::IntoRawFd;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;
use nix::sys::signal::{
    pthread_sigmask, sigaction, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal,
};
use restart_contract::state::ShutdownSignal;
use tokio::io::AsyncReadExt;

/// The number of the first shutdown signal delivered; 0 until one is.
static FIRST: AtomicI32 = AtomicI32::new(0);
/// The write end of the self-pipe; -1 until installed.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(signo: libc::c_int) {
    // Only the first delivery decides the cause; later ones change nothing.
    let _ = FIRST.compare_exchange(0, signo, Ordering::SeqCst, Ordering::SeqCst);
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        // write(2) is async-signal-safe; errno is saved because the interrupted
        // code may be about to read it. A full pipe (EAGAIN) loses nothing: the
        // runtime only needs one byte to look at FIRST.
        let saved = Errno::last_raw();
        let byte = [signo as u8];
        // SAFETY: `fd` is the non-blocking write end leaked by `install` and never
        // closed; `byte` is a live 1-byte buffer.
        let _ = unsafe { libc::write(fd, byte.as_ptr().cast(), 1) };
        Errno::set_raw(saved);
    }
}

fn nix_signal(sig: ShutdownSignal) -> Signal {
    match sig {
        ShutdownSignal::Term => Signal::SIGTERM,
        ShutdownSignal::Int => Signal::SIGINT,
        ShutdownSignal::Hup => Signal::SIGHUP,
        ShutdownSignal::Usr1 => Signal::SIGUSR1,
    }
}

/// The first shutdown signal delivered so far, if any.
pub fn first_delivered() -> Option<ShutdownSignal> {
    let n = FIRST.load(Ordering::SeqCst);
    ShutdownSignal::ALL.into_iter().find(|s| s.number() == n)
}

/// The installed handlers and the read end of their self-pipe.
#[derive(Debug)]
pub struct Signals {
    wake: StdUnixStream,
}

/// Installs the handlers of SIGTERM, SIGINT, SIGHUP and SIGUSR1 and unblocks them.
///
/// Call it before anything else, and before any thread is started: threads
/// inherit the signal mask, and a supervisor may have spawned us with these
/// signals blocked (e.g. one that reads its own signals from a signalfd).
pub fn install() -> io::Result<Signals> {
    let (wake, notify) = StdUnixStream::pair()?;
    wake.set_nonblocking(true)?;
    notify.set_nonblocking(true)?;
    // The write end lives as long as the process: a handler may run at any time.
    WAKE_FD.store(notify.into_raw_fd(), Ordering::SeqCst);

    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        // Restart interrupted syscalls: a signal must not turn a file write into EINTR.
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    let mut mask = SigSet::empty();
    for sig in ShutdownSignal::ALL {
        let sig = nix_signal(sig);
        // SAFETY: `on_signal` only touches atomics and calls write(2), both
        // async-signal-safe.
        unsafe { sigaction(sig, &action) }.map_err(io::Error::from)?;
        mask.add(sig);
    }
    pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&mask), None).map_err(io::Error::from)?;
    Ok(Signals { wake })
}

impl Signals {
    /// Moves the self-pipe into the runtime (needs a tokio runtime context).
    pub fn into_async(self) -> io::Result<AsyncSignals> {
        Ok(AsyncSignals {
            wake: tokio::net::UnixStream::from_std(self.wake)?,
        })
    }
}

/// [`Signals`] inside the runtime.
#[derive(Debug)]
pub struct AsyncSignals {
    wake: tokio::net::UnixStream,
}

impl AsyncSignals {
    /// Resolves with the first shutdown signal, at once if one was already delivered.
    pub async fn first(&mut self) -> ShutdownSignal {
        let mut buf = [0u8; 64];
        loop {
            if let Some(sig) = first_delivered() {
                return sig;
            }
            // FIRST is set before the byte is written, so after any byte (or an
            // error, which a socketpair end we own never gives) FIRST is looked
            // at again. On EOF or error, stop reading and poll: never spin.
            match self.wake.read(&mut buf).await {
                Ok(n) if n > 0 => {}
                _ => loop {
                    if let Some(sig) = first_delivered() {
                        return sig;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                },
            }
        }
    }
}
