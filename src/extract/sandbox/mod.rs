//! Every parser of uploaded content runs in a child process: `dangan sandbox`, the same
//! binary, started with an address-space limit, a CPU-time limit, a wall clock and no core
//! file, in a process group of its own that is killed when the clock runs out.
//!
//! Why a child process rather than bounds inside the parsers: a hostile file can make
//! calamine, lopdf or zip allocate without limit or recurse past the stack, and in one
//! process an allocation failure or a stack overflow aborts the whole server, with every
//! upload and download in flight. A child that dies takes nothing with it: its death is
//! read back as "ran out of memory", "ran out of time" or "crashed" on this file. The same
//! goes for the PDF inspection of the four-properties check and for watermarking, which
//! parse the file with lopdf. The cost is one process start per file (a few milliseconds),
//! except for a PDF's text layer: beside pdftotext's 12 ms for a page the child added 6 ms
//! (measured on a release build), and the text layer needs no parser of dangan's, so a PDF
//! whose text layer is all its text is read by pdftotext alone under the same limits.
//!
//! The child is started without forking the server (posix_spawn), its limits are set from
//! the server, and only then is the task written to its standard input as one line of JSON;
//! the answer comes back as one line of JSON behind [`ANSWER_PREFIX`] on standard output, so
//! a program that is not dangan's sandbox is recognised instead of misread.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::command::{BACKGROUND_NICE, Failure, Limits, Tool, path_arg, run_fed, run_limited};
use super::error::Resource;
use super::{
    ContentReport, ExtractError, ExtractOptions, Extracted, Kind, Method, Overlay,
    parse_media_type, pdf, text_server,
};

/// Starts the answer line, with the protocol version.
const ANSWER_PREFIX: &str = "dangan-sandbox/1 ";

/// The largest thumbnail kept (a page of 256 pixels is some tens of KiB as PNG).
const THUMBNAIL_BYTES: usize = 4 << 20;

/// The media types a watermarked copy comes back as.
const MARKED_TYPES: [&str; 2] = ["application/pdf", "text/plain; charset=utf-8"];

/// Where and with which limits uploaded files are parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    /// The dangan binary to run as `PROGRAM sandbox`.
    program: PathBuf,
    /// `dangan-pdftext`, which reads PDF text layers ([`super::text_server`]), beside
    /// `program` or this program's binary; without it pdftotext does.
    text_reader: Option<PathBuf>,
    /// Address space of the child.
    memory_bytes: u64,
    /// CPU time of the child itself; tools it starts have their own limits.
    cpu: Duration,
    /// Scratch copies of files to parse and watermarked copies.
    scratch_dir: PathBuf,
}

/// The binary that holds only the child's side (src/bin/sandbox.rs).
const SANDBOX_BINARY: &str = "dangan-sandbox";

/// The binary `name` in the directory of `exe`, when it is there and may be run.
fn beside(exe: &Path, name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let sibling = exe.parent()?.join(name);
    std::fs::metadata(&sibling)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .then_some(sibling)
}

/// One thing the child does.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
enum Task {
    Extract {
        path: PathBuf,
        media_type: String,
        options: ExtractOptions,
    },
    Inspect {
        path: PathBuf,
        media_type: String,
    },
    /// As `Inspect`, of the content that follows the task on standard input.
    InspectContent {
        media_type: String,
    },
    Watermark {
        input: PathBuf,
        output: PathBuf,
        media_type: String,
        overlay: Overlay,
    },
}

/// What the child answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum Answer {
    Extracted { extracted: Extracted },
    Inspected { report: ContentReport },
    Marked { media_type: String },
    Unsupported { media_type: String },
    Failed { message: String, permanent: bool },
    Panicked { message: String },
}

impl Sandbox {
    /// A sandbox running `program` (the dangan binary) with `memory_bytes` of address space
    /// and `cpu` of CPU time, with scratch files under `scratch_dir`.
    pub fn new(program: PathBuf, memory_bytes: u64, cpu: Duration, scratch_dir: PathBuf) -> Self {
        let text_reader = beside(&program, text_server::BINARY).or_else(|| {
            let exe = std::env::current_exe().ok()?;
            beside(&exe, text_server::BINARY)
        });
        Self {
            program,
            text_reader,
            memory_bytes,
            cpu,
            scratch_dir,
        }
    }

    /// The program to run as the child when none is configured: `dangan-sandbox` beside this
    /// program's binary (it starts in a third of the time: a child runs for every file
    /// inspected), else this very program.
    pub fn default_program() -> PathBuf {
        std::env::current_exe()
            .ok()
            .and_then(|exe| beside(&exe, SANDBOX_BINARY))
            .unwrap_or_else(Self::this_program)
    }

    /// This very program: `/proc/self/exe` runs the binary that is running even when its
    /// file was replaced or deleted since (an upgrade in place).
    fn this_program() -> PathBuf {
        let proc_self = PathBuf::from("/proc/self/exe");
        if proc_self.exists() {
            return proc_self;
        }
        std::env::current_exe().unwrap_or_else(|_| PathBuf::from("dangan"))
    }

    /// Where scratch copies are written.
    pub fn scratch_dir(&self) -> &Path {
        &self.scratch_dir
    }

    /// A new empty scratch file, removed when dropped.
    pub fn scratch_file(&self, prefix: &str) -> Result<tempfile::NamedTempFile, ExtractError> {
        std::fs::create_dir_all(&self.scratch_dir).map_err(|error| {
            ExtractError::io(format!("create {}", self.scratch_dir.display()), error)
        })?;
        tempfile::Builder::new()
            .prefix(prefix)
            .tempfile_in(&self.scratch_dir)
            .map_err(|error| {
                ExtractError::io(
                    format!("create a file in {}", self.scratch_dir.display()),
                    error,
                )
            })
    }

    /// [`super::extract_file`] in the child. Blocking.
    pub fn extract(
        &self,
        path: &Path,
        media_type: &str,
        options: &ExtractOptions,
    ) -> Result<Extracted, ExtractError> {
        if is_pdf(media_type)
            && let Some(extracted) = self.text_layer_alone(path, options)?
        {
            return Ok(extracted);
        }
        self.extract_in_child(path, media_type, options)
    }

    /// [`super::extract_file`] in the child, without first trying the text layer alone (the
    /// caller did). Blocking.
    pub fn extract_in_child(
        &self,
        path: &Path,
        media_type: &str,
        options: &ExtractOptions,
    ) -> Result<Extracted, ExtractError> {
        let kind =
            Kind::of(&parse_media_type(media_type).0).ok_or_else(|| ExtractError::Unsupported {
                media_type: media_type.to_owned(),
            })?;
        // each tool run inside is bounded by the timeout; the clock covers them all
        let tool_runs: u32 = match kind {
            Kind::Pdf => options.max_ocr_pages.saturating_add(3),
            Kind::Image => 3,
            _ => 1,
        };
        let mut limits = self.limits(
            options.timeout.saturating_mul(tool_runs),
            options
                .max_text_bytes
                .saturating_mul(6)
                .saturating_add(1 << 20),
        );
        // a background job's: requests go first (OCR and pdftotext inherit it)
        limits.nice = BACKGROUND_NICE;
        let task = Task::Extract {
            path: absolute(path),
            media_type: media_type.to_owned(),
            options: options.clone(),
        };
        match self.run(&task, &limits)? {
            Answer::Extracted { extracted } => Ok(extracted),
            other => Err(unexpected(other)),
        }
    }

    /// A PDF's text layer read by pdftotext under this sandbox's limits, without a child of
    /// dangan's: see [`pdf::text_layer_alone`]. `None`: the full extraction runs in the child.
    fn text_layer_alone(
        &self,
        path: &Path,
        options: &ExtractOptions,
    ) -> Result<Option<Extracted>, ExtractError> {
        let fits = std::fs::metadata(path).is_ok_and(|meta| Self::fits_in_memory(meta.len()));
        let Some(bytes) = fits.then(|| std::fs::read(path).ok()).flatten() else {
            return Ok(None);
        };
        self.text_layer(bytes, options)
    }

    /// Whether a file of this media type and size is to be tried with [`Sandbox::text_layer`]
    /// first: a PDF small enough to hold in memory.
    pub fn text_layer_first(media_type: &str, size: u64) -> bool {
        is_pdf(media_type) && Self::fits_in_memory(size)
    }

    /// The text of the PDF `bytes` when its text layer is the whole of it, read by pdftotext
    /// alone under this sandbox's limits (no scratch file, no child of dangan's); `None` when
    /// the full extraction must run ([`Sandbox::extract_in_child`]): a damaged or encrypted
    /// file, a page to OCR, output cut at its limit.
    pub fn text_layer(
        &self,
        bytes: Vec<u8>,
        options: &ExtractOptions,
    ) -> Result<Option<Extracted>, ExtractError> {
        let mut limits = Limits::tool(options.timeout, options.tool_output_limit());
        limits.memory_bytes = limits.memory_bytes.min(self.memory_bytes);
        limits.nice = BACKGROUND_NICE;
        Ok(
            pdf::text_layer_alone(bytes, &limits, self.text_reader.as_deref())?
                .map(|raw| super::finish(raw, Method::PdfText, options)),
        )
    }

    /// [`super::inspect`] of the file at `path` in the child. Blocking.
    pub fn inspect(&self, path: &Path, media_type: &str) -> Result<ContentReport, ExtractError> {
        let task = Task::Inspect {
            path: absolute(path),
            media_type: media_type.to_owned(),
        };
        let mut limits = self.limits(self.cpu, 1 << 20);
        limits.nice = BACKGROUND_NICE;
        match self.run(&task, &limits)? {
            Answer::Inspected { report } => Ok(report),
            other => Err(unexpected(other)),
        }
    }

    /// [`super::inspect`] of `content` in the child, which reads it from its standard input
    /// after the task: no scratch copy is written and read back. Blocking.
    pub fn inspect_content(
        &self,
        content: &[u8],
        media_type: &str,
    ) -> Result<ContentReport, ExtractError> {
        let task = Task::InspectContent {
            media_type: media_type.to_owned(),
        };
        let mut limits = self.limits(self.cpu, 1 << 20);
        limits.nice = BACKGROUND_NICE;
        match self.run_with(&task, &limits, content)? {
            Answer::Inspected { report } => Ok(report),
            other => Err(unexpected(other)),
        }
    }

    /// Whether a file of `size` bytes may be held in memory to be fed to a child
    /// ([`Sandbox::inspect_content`], [`Sandbox::text_layer`]); a larger one is copied to a
    /// scratch file for the child to read.
    pub fn fits_in_memory(size: u64) -> bool {
        size <= pdf::TEXT_LAYER_ALONE_BYTES
    }

    /// [`super::overlay`] of the file at `input` into `output` in the child (a watermark
    /// or the filing stamp); the media type of the marked copy. Blocking.
    pub fn watermark(
        &self,
        input: &Path,
        output: &Path,
        media_type: &str,
        overlay: &Overlay,
    ) -> Result<&'static str, ExtractError> {
        let task = Task::Watermark {
            input: absolute(input),
            output: absolute(output),
            media_type: media_type.to_owned(),
            overlay: overlay.clone(),
        };
        match self.run(&task, &self.limits(self.cpu, 1 << 20))? {
            Answer::Marked { media_type } => MARKED_TYPES
                .into_iter()
                .find(|known| *known == media_type)
                .ok_or_else(|| unexpected(Answer::Marked { media_type })),
            other => Err(unexpected(other)),
        }
    }

    /// The first page of the PDF at `path` as a PNG at most `size` pixels on its longer side,
    /// rendered by poppler's `pdftoppm` under the sandbox's memory and CPU limits. Blocking.
    pub fn pdf_thumbnail(&self, path: &Path, size: u32) -> Result<Vec<u8>, ExtractError> {
        let mut command = Tool::Pdftoppm.command();
        command
            .args(["-png", "-f", "1", "-l", "1", "-singlefile", "-scale-to"])
            .arg(size.to_string())
            .arg(path_arg(path));
        match run_limited(
            Tool::Pdftoppm,
            command,
            &self.limits(self.cpu, THUMBNAIL_BYTES),
        )? {
            Ok(output) if output.stdout_truncated || output.stdout.is_empty() => {
                Err(ExtractError::Reported {
                    message: "pdftoppm gave no usable first page".into(),
                    permanent: true,
                })
            }
            Ok(output) => Ok(output.stdout),
            Err(failure) => Err(failure.into_error(Tool::Pdftoppm)),
        }
    }

    fn limits(&self, timeout: Duration, stdout_limit: usize) -> Limits {
        Limits {
            timeout: timeout.max(self.cpu),
            stdout_limit,
            memory_bytes: self.memory_bytes,
            cpu: self.cpu,
            nice: 0,
        }
    }

    /// Runs `task` in a child and reads its answer; failures of the child become errors.
    fn run(&self, task: &Task, limits: &Limits) -> Result<Answer, ExtractError> {
        self.run_with(task, limits, &[])
    }

    /// As [`Sandbox::run`], feeding `content` after the task's line.
    fn run_with(
        &self,
        task: &Task,
        limits: &Limits,
        content: &[u8],
    ) -> Result<Answer, ExtractError> {
        let mut input = serde_json::to_vec(task).map_err(|error| ExtractError::Reported {
            message: format!("cannot encode the sandbox task: {error}"),
            permanent: true,
        })?;
        input.reserve_exact(content.len() + 1);
        input.push(b'\n');
        input.extend_from_slice(content);
        let mut command = Command::new(&self.program);
        // a panic's or an allocation failure's message, not a backtrace, is what is read back
        command
            .arg("sandbox")
            .env("RUST_BACKTRACE", "0")
            .env_remove("RUST_LIB_BACKTRACE");
        let output = match run_fed(Tool::Sandbox, command, limits, input) {
            Ok(Ok(output)) => output,
            Ok(Err(failure)) => return Err(self.classify(failure)),
            Err(ExtractError::Timeout { after, .. }) => {
                return Err(ExtractError::OutOfResources {
                    resource: Resource::Time,
                    detail: format!("stopped after {} s", after.as_secs()),
                    permanent: false,
                });
            }
            Err(ExtractError::ToolMissing { .. }) => {
                return Err(ExtractError::Reported {
                    message: format!(
                        "cannot start the sandbox program {}; set extract.sandbox_program",
                        self.program.display()
                    ),
                    permanent: false,
                });
            }
            Err(other) => return Err(other),
        };
        let text = String::from_utf8_lossy(&output.stdout);
        let answer = text
            .lines()
            .find_map(|line| line.strip_prefix(ANSWER_PREFIX))
            .ok_or_else(|| ExtractError::Reported {
                message: format!(
                    "{} did not answer as dangan's sandbox; set extract.sandbox_program to the \
                     dangan binary",
                    self.program.display()
                ),
                permanent: false,
            })?;
        let answer: Answer =
            serde_json::from_str(answer).map_err(|error| ExtractError::Reported {
                message: format!("the sandbox answered in a form this dangan cannot read: {error}"),
                permanent: false,
            })?;
        match answer {
            Answer::Unsupported { media_type } => Err(ExtractError::Unsupported { media_type }),
            Answer::Failed { message, permanent } => {
                Err(ExtractError::Reported { message, permanent })
            }
            Answer::Panicked { message } => Err(ExtractError::Crashed { detail: message }),
            answer => Ok(answer),
        }
    }

    /// What the death or failure of the child says about the file.
    fn classify(&self, failure: Failure) -> ExtractError {
        let Failure {
            status,
            stderr,
            full_stderr,
        } = failure;
        let out_of_memory = ["memory allocation of", "capacity overflow", "out of memory"]
            .iter()
            .any(|sign| full_stderr.contains(sign));
        if out_of_memory {
            return ExtractError::OutOfResources {
                resource: Resource::Memory,
                detail: format!("address space limit of {} MiB", self.memory_bytes >> 20),
                permanent: true,
            };
        }
        match status.signal() {
            Some(signal)
                if signal == nix::sys::signal::SIGXCPU as i32
                    || signal == nix::sys::signal::SIGKILL as i32 =>
            {
                ExtractError::OutOfResources {
                    resource: Resource::Time,
                    detail: format!("CPU time limit of {} s", self.cpu.as_secs()),
                    permanent: true,
                }
            }
            Some(signal) if stderr.is_empty() => ExtractError::Crashed {
                detail: format!("signal {signal}"),
            },
            Some(signal) => ExtractError::Crashed {
                detail: format!("signal {signal}: {stderr}"),
            },
            None if full_stderr.contains("panicked") => ExtractError::Crashed { detail: stderr },
            None => ExtractError::Reported {
                message: format!(
                    "{} sandbox failed ({status}): {stderr}; set extract.sandbox_program to the \
                     dangan binary",
                    self.program.display()
                ),
                permanent: false,
            },
        }
    }
}

fn is_pdf(media_type: &str) -> bool {
    Kind::of(&parse_media_type(media_type).0) == Some(Kind::Pdf)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

fn unexpected(answer: Answer) -> ExtractError {
    ExtractError::Reported {
        message: format!("the sandbox gave an answer to another task: {answer:?}"),
        permanent: false,
    }
}

mod child;
#[cfg(test)]
mod tests;

pub use child::child_main;
