//! PDF text layers read by `dangan-pdftext` (src/bin/pdftext), a reader kept running beside
//! the server, instead of by a `pdftotext` process per file. A one-page PDF costs
//! `pdftotext` about 10 ms of CPU, two thirds of it starting up (exec, loading and
//! relocating poppler, reading its configuration); the reader forks a warmed-up child per
//! file instead, within the same limits, and prints the same text byte for byte.
//!
//! Readers are started on first use, one per extraction running at once, and kept in a
//! pool; one whose answer does not come in time is killed with its child. Each exits when
//! its standard input ends, so none outlives the server. When the reader is missing or was
//! built without poppler-cpp, [`read`] answers `None` and the caller runs `pdftotext`.

mod protocol;
mod serve;

use std::fs::File;
use std::io::{self, ErrorKind, Read as _, Write};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

pub use protocol::Outcome;
pub use serve::{NOT_BUILT, Read, Reader, Sink, serve};

use super::command::{Limits, kill_group};
use super::pipes::non_blocking;

/// The reader's binary, beside the sandbox's.
pub const BINARY: &str = "dangan-pdftext";

/// How long a new reader may take to greet.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How much longer than its child's timeout a reader may take to answer.
const ANSWER_GRACE: Duration = Duration::from_secs(5);

/// Readers waiting for work, with their binary.
static IDLE: Mutex<Vec<(PathBuf, ReaderProcess)>> = Mutex::new(Vec::new());
/// Binaries that could not be started as a reader: not tried again.
static UNUSABLE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// What a reader answered: how reading ended and the text, at most the output limit.
#[derive(Debug)]
pub struct Answer {
    pub outcome: Outcome,
    pub text: Vec<u8>,
}

/// Reads `pdf`'s text layer with the reader `program`, its child bounded by `limits`.
/// `None` when no reader can be had: the caller reads it another way.
pub fn read(program: &Path, pdf: &[u8], limits: &Limits) -> Option<Answer> {
    if lock(&UNUSABLE).iter().any(|unusable| unusable == program) {
        return None;
    }
    // an idle reader may have died meanwhile (killed from outside): a new one is asked then
    let mut idle = take_idle(program);
    loop {
        let was_idle = idle.is_some();
        let mut reader = match idle.take() {
            Some(reader) => reader,
            None => match ReaderProcess::start(program) {
                Ok(reader) => reader,
                Err(error) => {
                    tracing::warn!(%error, program = %program.display(), "the PDF text reader did not start; pdftotext runs instead");
                    lock(&UNUSABLE).push(program.to_owned());
                    return None;
                }
            },
        };
        match reader.ask(pdf, limits) {
            Ok(answer) => {
                lock(&IDLE).push((program.to_owned(), reader));
                return Some(answer);
            }
            Err(error) => {
                tracing::warn!(%error, "a PDF text reader failed; it is replaced");
                reader.kill();
                if !was_idle || error.kind() == ErrorKind::TimedOut {
                    return None;
                }
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn take_idle(program: &Path) -> Option<ReaderProcess> {
    let mut idle = lock(&IDLE);
    let at = idle.iter().rposition(|(binary, _)| binary == program)?;
    Some(idle.swap_remove(at).1)
}

/// A running `dangan-pdftext`, its pipes non-blocking.
struct ReaderProcess {
    child: Child,
    input: File,
    output: File,
}

impl ReaderProcess {
    /// Starts `program` in a process group of its own and waits for its greeting.
    fn start(program: &Path) -> io::Result<Self> {
        let mut child = Command::new(program)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let (Some(input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(io::Error::other("no pipes"));
        };
        let mut reader = Self {
            child,
            input: non_blocking(input.into())?,
            output: non_blocking(output.into())?,
        };
        let mut greeting = vec![0u8; protocol::GREETING.len()];
        let greeted = reader.read_exact(&mut greeting, Instant::now() + START_TIMEOUT);
        if greeted.is_err() || greeting != protocol::GREETING {
            let status = reader.kill();
            return Err(io::Error::other(match status {
                Some(code) if code == i32::from(NOT_BUILT) => {
                    "it was built without poppler-cpp".to_owned()
                }
                _ => format!("it did not greet ({greeted:?}, exit {status:?})"),
            }));
        }
        Ok(reader)
    }

    /// Sends one request and waits for its answer.
    fn ask(&mut self, pdf: &[u8], limits: &Limits) -> io::Result<Answer> {
        let deadline = Instant::now() + limits.timeout + ANSWER_GRACE;
        let mut header = Vec::with_capacity(48);
        protocol::Request::write_header(pdf.len(), limits, &mut header);
        self.write_all(&header, deadline)?;
        self.write_all(pdf, deadline)?;
        let mut head = [0u8; 16];
        self.read_exact(&mut head, deadline)?;
        let (outcome, length) = protocol::Reply::parse_header(&head)?;
        if length > limits.stdout_limit {
            return Err(io::Error::other("an answer past the output limit"));
        }
        let mut text = vec![0u8; length];
        self.read_exact(&mut text, deadline)?;
        Ok(Answer { outcome, text })
    }

    fn write_all(&mut self, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
        while !bytes.is_empty() {
            wait_for(self.input.as_fd(), PollFlags::POLLOUT, deadline)?;
            match self.input.write(bytes) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => bytes = &bytes[n..],
                Err(error) if retry(&error) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    fn read_exact(&mut self, mut buf: &mut [u8], deadline: Instant) -> io::Result<()> {
        while !buf.is_empty() {
            wait_for(self.output.as_fd(), PollFlags::POLLIN, deadline)?;
            match self.output.read(buf) {
                Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
                Ok(n) => buf = &mut buf[n..],
                Err(error) if retry(&error) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// Kills the reader with its child and reaps it; its exit code, if it had exited.
    fn kill(mut self) -> Option<i32> {
        kill_group(self.child.id());
        self.child.wait().ok().and_then(|status| status.code())
    }
}

fn retry(error: &io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted)
}

/// Waits until `fd` is ready for `events`, or fails with a timeout at `deadline`.
fn wait_for(
    fd: std::os::fd::BorrowedFd<'_>,
    events: PollFlags,
    deadline: Instant,
) -> io::Result<()> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        let mut fds = [PollFd::new(fd, events)];
        match poll(
            &mut fds,
            PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => {}
            Ok(_) => return Ok(()),
            Err(error) => return Err(error.into()),
        }
    }
}
