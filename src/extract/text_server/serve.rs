//! `dangan-pdftext`'s side: warm poppler up once, greet, then for each request fork a child
//! that reads the PDF within the request's limits and writes its text into a pipe, collect
//! that text up to the output limit, and reply. A hostile file can only kill or stall its
//! child: the reader itself parses nothing.

use std::fs::File;
use std::io::{self, BufReader, Read as _, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;
use std::time::Instant;

use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork, pipe2};

use super::protocol::{GREETING, Outcome, Reply, Request};
use crate::extract::command::Bounds;

/// Takes the text of a PDF as it is read.
pub trait Sink {
    /// Takes the next piece of text; `false` when no more is wanted.
    fn take(&mut self, text: &[u8]) -> bool;
}

/// How a reader ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Every page went to the sink (or the sink wanted no more).
    Whole,
    /// The document could not be opened.
    Damaged,
    /// The document needs a password.
    Locked,
    /// Reading failed otherwise (memory ran out).
    Failed,
}

/// A reader of PDF text layers: poppler's, in `dangan-pdftext`.
pub type Reader = fn(&[u8], &mut dyn Sink) -> Read;

/// The exit status of a `dangan-pdftext` built without a reader.
pub const NOT_BUILT: u8 = 2;

/// A one-page PDF read once before the greeting, so that each forked child finds poppler's
/// tables set up and pays only for its own document.
const WARM_UP: &[u8] = include_bytes!("warm.pdf");

/// The exit statuses of a child, by how its reader ended.
const fn exit_code(read: Read) -> i32 {
    match read {
        Read::Whole => 0,
        Read::Damaged => 10,
        Read::Locked => 11,
        Read::Failed => 12,
    }
}

/// Serves requests on standard input until it ends (the server closed it, or died).
pub fn serve(read: Reader) -> ExitCode {
    let _ = read(WARM_UP, &mut Discard);
    let mut input = BufReader::new(io::stdin().lock());
    let mut output = io::stdout().lock();
    if output
        .write_all(GREETING)
        .and_then(|()| output.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    loop {
        let request = match Request::read(&mut input) {
            Ok(Some(request)) => request,
            Ok(None) => return ExitCode::SUCCESS,
            Err(_) => return ExitCode::FAILURE,
        };
        let reply = answer(&request, read).unwrap_or(Reply {
            outcome: Outcome::Died,
            text: Vec::new(),
        });
        if reply.write(&mut output).is_err() {
            return ExitCode::FAILURE;
        }
    }
}

/// Reads `request`'s PDF in a forked child and collects what it wrote.
#[expect(
    unsafe_code,
    reason = "fork: this process has one thread, so the child may run anything; it ends \
              with _exit, running no destructors of the parent's state"
)]
fn answer(request: &Request, read: Reader) -> io::Result<Reply> {
    let (from_child, to_parent) = pipe2(OFlag::O_CLOEXEC)?;
    // SAFETY: see the reason above; nothing here holds a lock another thread could own.
    match unsafe { fork() }? {
        ForkResult::Child => {
            drop(from_child);
            let code = read_in_child(request, read, to_parent);
            // SAFETY: ends the child at once, as a forked child should.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(to_parent);
            collect(child, from_child, request)
        }
    }
}

/// The child: its limits, then the reader, writing into the pipe up to one byte past the
/// output limit (so that the parent sees the text was cut).
fn read_in_child(request: &Request, read: Reader, pipe: OwnedFd) -> i32 {
    if Bounds::of(&request.limits).apply(0).is_err() {
        return exit_code(Read::Failed);
    }
    let mut sink = PipeSink {
        pipe: File::from(pipe),
        left: request.limits.stdout_limit.saturating_add(1),
    };
    exit_code(read(&request.pdf, &mut sink))
}

/// Reads what the child writes until it ends, killing it when the request's time is up.
fn collect(child: Pid, pipe: OwnedFd, request: &Request) -> io::Result<Reply> {
    let deadline = Instant::now() + request.limits.timeout;
    let limit = request.limits.stdout_limit;
    let mut pipe = File::from(pipe);
    let mut text = Vec::new();
    let mut truncated = false;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let _ = kill(child, Signal::SIGKILL);
            let _ = waitpid(child, None);
            return Ok(Reply {
                outcome: Outcome::TimedOut,
                text: Vec::new(),
            });
        }
        let wait = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(pipe.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, wait) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => {}
            Err(error) => return Err(error.into()),
        }
        let n = match pipe.read(&mut chunk) {
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if n == 0 {
            break;
        }
        let room = limit.saturating_sub(text.len());
        text.extend_from_slice(&chunk[..n.min(room)]);
        truncated |= n > room;
    }
    let outcome = match waitpid(child, None)? {
        WaitStatus::Exited(_, 0) => Outcome::Read { truncated },
        WaitStatus::Exited(_, code) if code == exit_code(Read::Damaged) => Outcome::Damaged,
        WaitStatus::Exited(_, code) if code == exit_code(Read::Locked) => Outcome::Locked,
        _ => Outcome::Died,
    };
    if !matches!(outcome, Outcome::Read { .. }) {
        text.clear();
    }
    Ok(Reply { outcome, text })
}

/// The child's end of the pipe, with the bytes it may still write.
struct PipeSink {
    pipe: File,
    left: usize,
}

impl Sink for PipeSink {
    fn take(&mut self, text: &[u8]) -> bool {
        let part = &text[..text.len().min(self.left)];
        if self.pipe.write_all(part).is_err() {
            return false;
        }
        self.left -= part.len();
        self.left > 0
    }
}

/// Drops what it is given (the warm-up's text).
struct Discard;

impl Sink for Discard {
    fn take(&mut self, _: &[u8]) -> bool {
        true
    }
}
