//! What the server and `dangan-pdftext` say to each other over its standard input and
//! output: a greeting line when it is ready, then one request and one reply at a time, each
//! a header of little-endian `u64`s followed by bytes.

use std::io::{self, Read, Write};
use std::time::Duration;

use super::super::command::Limits;

/// The greeting of a ready reader; raise its number when the frames change.
pub(super) const GREETING: &[u8] = b"dangan-pdftext/1\n";

/// The largest PDF a request may carry (the server sends at most 16 MiB).
const MAX_PDF_BYTES: u64 = 256 << 20;

/// One PDF to read, with the bounds of the child that reads it.
#[derive(Debug)]
pub(super) struct Request {
    pub limits: Limits,
    pub pdf: Vec<u8>,
}

impl Request {
    /// Header: PDF length, timeout (ms), output limit, address space, CPU seconds, niceness.
    pub(super) fn write_header(pdf_len: usize, limits: &Limits, out: &mut Vec<u8>) {
        let timeout_ms = u64::try_from(limits.timeout.as_millis()).unwrap_or(u64::MAX);
        let fields = [
            pdf_len as u64,
            timeout_ms,
            limits.stdout_limit as u64,
            limits.memory_bytes,
            limits.cpu.as_secs(),
            u64::try_from(limits.nice.max(0)).unwrap_or(0),
        ];
        for field in fields {
            out.extend_from_slice(&field.to_le_bytes());
        }
    }

    /// The next request, or `None` at the end of the input (the server has gone).
    pub(super) fn read(input: &mut impl Read) -> io::Result<Option<Self>> {
        let mut header = [0u8; 48];
        match input.read_exact(&mut header) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(error) => return Err(error),
        }
        let [length, timeout_ms, output, memory, cpu, nice] = fields(&header);
        if length > MAX_PDF_BYTES {
            return Err(io::Error::other(format!("a request of {length} bytes")));
        }
        let mut pdf = vec![0u8; usize::try_from(length).map_err(io::Error::other)?];
        input.read_exact(&mut pdf)?;
        let limits = Limits {
            timeout: Duration::from_millis(timeout_ms),
            stdout_limit: usize::try_from(output).unwrap_or(usize::MAX),
            memory_bytes: memory,
            cpu: Duration::from_secs(cpu),
            nice: i32::try_from(nice).unwrap_or(0),
        };
        Ok(Some(Self { limits, pdf }))
    }
}

/// How reading one PDF ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every page was read; the text may have been cut at the output limit.
    Read { truncated: bool },
    /// poppler could not open the document.
    Damaged,
    /// The document needs a password.
    Locked,
    /// The child died: a crash, or a limit of memory or CPU time.
    Died,
    /// The child ran past the timeout and was killed.
    TimedOut,
}

impl Outcome {
    fn code(self) -> u64 {
        match self {
            Outcome::Read { truncated: false } => 0,
            Outcome::Read { truncated: true } => 1,
            Outcome::Damaged => 2,
            Outcome::Locked => 3,
            Outcome::Died => 4,
            Outcome::TimedOut => 5,
        }
    }

    fn of_code(code: u64) -> Option<Self> {
        Some(match code {
            0 => Outcome::Read { truncated: false },
            1 => Outcome::Read { truncated: true },
            2 => Outcome::Damaged,
            3 => Outcome::Locked,
            4 => Outcome::Died,
            5 => Outcome::TimedOut,
            _ => return None,
        })
    }
}

/// The answer to a request: how it ended and the text read.
#[derive(Debug)]
pub(super) struct Reply {
    pub outcome: Outcome,
    pub text: Vec<u8>,
}

impl Reply {
    pub(super) fn write(&self, output: &mut impl Write) -> io::Result<()> {
        output.write_all(&self.outcome.code().to_le_bytes())?;
        output.write_all(&(self.text.len() as u64).to_le_bytes())?;
        output.write_all(&self.text)?;
        output.flush()
    }

    /// The reply's header: its outcome and the length of the text that follows.
    pub(super) fn parse_header(header: &[u8; 16]) -> io::Result<(Outcome, usize)> {
        let [code, length] = fields(header);
        let outcome = Outcome::of_code(code)
            .ok_or_else(|| io::Error::other(format!("an unknown outcome {code}")))?;
        let length = usize::try_from(length).map_err(io::Error::other)?;
        Ok((outcome, length))
    }
}

/// The little-endian `u64`s of `bytes`.
fn fields<const N: usize>(bytes: &[u8]) -> [u64; N] {
    let mut fields = [0u64; N];
    for (field, chunk) in fields.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        *field = u64::from_le_bytes(word);
    }
    fields
}
