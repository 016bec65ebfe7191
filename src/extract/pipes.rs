//! A child's standard streams and its exit, followed on the calling thread by one `poll`
//! loop: the input written as the child takes it, standard output and error read as they
//! come (output past its limit is read and dropped, so a chatty child never blocks on a full
//! pipe), the exit seen through a pidfd. No helper thread per pipe: a bulk import runs two
//! children per file, and three thread starts and joins each cost more than the loop.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;

/// How long the pipes are still read after the child exited, for what it left in them. The
/// rest of its process group is killed at its exit; a descendant that left the group and
/// holds a pipe open is not waited for longer than this.
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(1);
/// Without a pidfd (a kernel before Linux 5.3), how often the child's exit is looked for.
const EXIT_CHECK: Duration = Duration::from_millis(10);
/// Bytes read from a pipe at a time.
const CHUNK: usize = 64 * 1024;

/// What a child printed, each stream up to its limit.
#[derive(Debug, Default)]
pub(super) struct Streams {
    pub stdout: Vec<u8>,
    /// Whether it printed more on standard output than the limit.
    pub stdout_truncated: bool,
    pub stderr: Vec<u8>,
}

/// How following a child ended.
#[derive(Debug)]
pub(super) enum Ended {
    /// It exited (and is reaped), having printed this.
    Exited(ExitStatus, Streams),
    /// The timeout passed while it ran: the caller kills its group and reaps it.
    TimedOut,
}

/// Feeds `input` to `child`'s standard input (when piped), reads its standard output up to
/// `stdout_limit` bytes and its standard error up to `stderr_limit`, until it exits or
/// `timeout` passes. At its exit, what is left of its process group is killed (the child is
/// then a zombie, so its group id cannot have been taken by another process yet).
pub(super) fn follow(
    child: &mut Child,
    input: Vec<u8>,
    (stdout_limit, stderr_limit): (usize, usize),
    timeout: Duration,
) -> std::io::Result<Ended> {
    let mut deadline = Instant::now() + timeout;
    let pid = Pid::from_raw(i32::try_from(child.id()).map_err(std::io::Error::other)?);
    let pidfd = pidfd_open(pid);
    let mut feed = Feed::new(child.stdin.take().map(OwnedFd::from), input)?;
    let mut out = Capture::new(child.stdout.take().map(OwnedFd::from), stdout_limit)?;
    let mut err = Capture::new(child.stderr.take().map(OwnedFd::from), stderr_limit)?;
    let mut chunk = vec![0u8; CHUNK];
    let mut exited = false;
    let mut look_for_exit = true;
    loop {
        if !exited && (look_for_exit || pidfd.is_none()) && has_exited(pid) {
            exited = true;
            let _ = nix::sys::signal::killpg(pid, nix::sys::signal::SIGKILL);
            feed.file = None;
            deadline = deadline.min(Instant::now() + DRAIN_AFTER_EXIT);
        }
        if exited && out.file.is_none() && err.file.is_none() {
            break;
        }
        let now = Instant::now();
        if now >= deadline {
            if exited {
                break; // kept what was read; the rest went with whoever held the pipe
            }
            return Ok(Ended::TimedOut);
        }
        let mut wait = deadline - now;
        if pidfd.is_none() && !exited {
            wait = wait.min(EXIT_CHECK);
        }
        let exit_fd = pidfd.as_ref().filter(|_| !exited).map(AsFd::as_fd);
        let [writable, out_ready, err_ready, exit_ready] =
            wait_for([feed.fd(), out.fd(), err.fd(), exit_fd], wait)?;
        if writable {
            feed.give();
        }
        if out_ready {
            out.take(&mut chunk);
        }
        if err_ready {
            err.take(&mut chunk);
        }
        look_for_exit = exit_ready;
    }
    let status = child.wait()?;
    Ok(Ended::Exited(
        status,
        Streams {
            stdout: out.kept,
            stdout_truncated: out.truncated,
            stderr: err.kept,
        },
    ))
}

/// Waits up to `wait` until one of `fds` is ready: the first for writing, the others for
/// reading (an end of stream or an error counts as ready; the read or write tells which).
fn wait_for(fds: [Option<BorrowedFd<'_>>; 4], wait: Duration) -> std::io::Result<[bool; 4]> {
    let mut polled = Vec::with_capacity(fds.len());
    let mut slots = Vec::with_capacity(fds.len());
    for (slot, fd) in fds.into_iter().enumerate() {
        if let Some(fd) = fd {
            let events = if slot == 0 {
                PollFlags::POLLOUT
            } else {
                PollFlags::POLLIN
            };
            polled.push(PollFd::new(fd, events));
            slots.push(slot);
        }
    }
    // whole milliseconds, rounded up: a deadline a fraction of one away must not spin
    let millis = wait.as_micros().div_ceil(1000);
    let timeout = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
    let mut ready = [false; 4];
    match poll(&mut polled, timeout) {
        Ok(_) => {}
        Err(Errno::EINTR) => return Ok(ready),
        Err(error) => return Err(error.into()),
    }
    for (fd, slot) in polled.iter().zip(slots) {
        // flags nix does not know count as ready: the read or write tells what happened
        ready[slot] = fd.revents().is_none_or(|events| !events.is_empty());
    }
    Ok(ready)
}

/// Whether the child has exited, without reaping it.
fn has_exited(pid: Pid) -> bool {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(pid), flags) {
        Ok(WaitStatus::StillAlive) | Err(Errno::EINTR) => false,
        // exited, or not our child to wait for (then `wait` says why)
        Ok(_) | Err(_) => true,
    }
}

/// A descriptor that becomes readable when process `pid` exits; `None` where the kernel has
/// no pidfds (the exit is then looked for every few milliseconds).
#[expect(
    unsafe_code,
    reason = "pidfd_open has no binding in std (unstable) or nix; the call passes plain \
              values and the descriptor it returns is owned by nothing else"
)]
fn pidfd_open(pid: Pid) -> Option<OwnedFd> {
    // SAFETY: a system call with plain arguments. `pid` is our child, not yet reaped, so it
    // cannot name another process.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: `fd` was just opened for us and nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The pipe end `fd`, set not to block.
pub(super) fn non_blocking(fd: OwnedFd) -> std::io::Result<File> {
    fcntl(&fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
    Ok(File::from(fd))
}

/// The input on its way into the child's standard input.
struct Feed {
    file: Option<File>,
    input: Vec<u8>,
    written: usize,
}

impl Feed {
    fn new(pipe: Option<OwnedFd>, input: Vec<u8>) -> std::io::Result<Self> {
        let file = pipe
            .map(non_blocking)
            .transpose()?
            .filter(|_| !input.is_empty());
        Ok(Self {
            file,
            input,
            written: 0,
        })
    }

    fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.file.as_ref().map(AsFd::as_fd)
    }

    /// Writes what the pipe takes; closes it when all is written or the child stopped
    /// reading (a child that ends without reading has said what it had to on its way out).
    fn give(&mut self) {
        let Some(file) = &mut self.file else {
            return;
        };
        match file.write(&self.input[self.written..]) {
            Ok(n) => {
                self.written += n;
                if self.written >= self.input.len() {
                    self.file = None;
                }
            }
            Err(error)
                if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(_) => self.file = None,
        }
    }
}

/// One of the child's output streams, kept up to a limit.
struct Capture {
    file: Option<File>,
    kept: Vec<u8>,
    limit: usize,
    truncated: bool,
}

impl Capture {
    fn new(pipe: Option<OwnedFd>, limit: usize) -> std::io::Result<Self> {
        Ok(Self {
            file: pipe.map(non_blocking).transpose()?,
            kept: Vec::new(),
            limit,
            truncated: false,
        })
    }

    fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.file.as_ref().map(AsFd::as_fd)
    }

    /// Reads what is there, keeping it up to the limit; closes at the end of the stream.
    fn take(&mut self, chunk: &mut [u8]) {
        let Some(file) = &mut self.file else {
            return;
        };
        match file.read(chunk) {
            Ok(0) => self.file = None,
            Ok(n) => {
                let room = self.limit.saturating_sub(self.kept.len());
                if n > room {
                    self.truncated = true;
                }
                self.kept.extend_from_slice(&chunk[..n.min(room)]);
            }
            Err(error)
                if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(_) => self.file = None,
        }
    }
}
