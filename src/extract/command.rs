//! Running the external tools (poppler, Tesseract) with a timeout, bounded output and no stdin,
//! and dangan's own parsing child, which is fed its task on standard input.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use super::ExtractError;
use super::pipes::{self, Ended};

/// How much of a tool's standard error is kept for the error message.
const STDERR_LIMIT: usize = 8 * 1024;

/// An external program the extractors run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    /// poppler's `pdftotext`: the text layer of a PDF.
    Pdftotext,
    /// poppler's `pdftoppm`: PDF pages as images for OCR.
    Pdftoppm,
    /// The Tesseract OCR command line.
    Tesseract,
    /// dangan itself, parsing an uploaded file in a child process (`dangan sandbox`).
    Sandbox,
}

impl Tool {
    /// Every tool, in the order diagnostics list them.
    pub const ALL: [Tool; 3] = [Tool::Pdftotext, Tool::Pdftoppm, Tool::Tesseract];

    /// The program name looked up on `PATH`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Pdftotext => "pdftotext",
            Tool::Pdftoppm => "pdftoppm",
            Tool::Tesseract => "tesseract",
            Tool::Sandbox => "dangan sandbox",
        }
    }

    /// The argument that makes the tool print its version and exit successfully.
    fn version_flag(self) -> &'static str {
        match self {
            Tool::Pdftotext | Tool::Pdftoppm => "-v",
            Tool::Tesseract | Tool::Sandbox => "--version",
        }
    }

    /// A command for this tool with the environment it should always run with.
    pub(crate) fn command(self) -> Command {
        let mut command = Command::new(self.as_str());
        if self == Tool::Tesseract {
            // OpenMP made tesseract 3x slower on two cores (stack.md §5); we parallelise by job.
            command.env("OMP_THREAD_LIMIT", "1");
        }
        command
    }

    /// Whether the tool can be started here.
    pub fn is_available(self) -> bool {
        let mut command = self.command();
        command.arg(self.version_flag());
        run(self, command, Duration::from_secs(10), 64 * 1024).is_ok()
    }
}

impl std::fmt::Display for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a tool printed on standard output, up to the limit asked for.
pub(crate) struct CommandOutput {
    /// Standard output, at most the limit.
    pub stdout: Vec<u8>,
    /// Whether the tool printed more than the limit (the rest was read and dropped).
    pub stdout_truncated: bool,
}

/// A tool's non-zero exit, with what it said; callers decide whether it is the file's fault.
pub(crate) struct Failure {
    pub status: ExitStatus,
    /// The last lines of standard error, for a message.
    pub stderr: String,
    /// Standard error as read (its first 8 KiB), for telling causes apart.
    pub full_stderr: String,
}

impl Failure {
    /// The generic error for a failure the caller could not attribute to the file.
    pub fn into_error(self, tool: Tool) -> ExtractError {
        ExtractError::ToolFailed {
            tool,
            status: self.status.to_string(),
            stderr: self.stderr,
        }
    }
}

/// Runs `command` to completion, killing it when `timeout` passes. Standard output is kept up
/// to `stdout_limit` bytes; a non-zero exit is an error whose message holds the end of stderr.
pub(crate) fn run(
    tool: Tool,
    command: Command,
    timeout: Duration,
    stdout_limit: usize,
) -> Result<CommandOutput, ExtractError> {
    match run_checked(tool, command, timeout, stdout_limit)? {
        Ok(output) => Ok(output),
        Err(failure) => Err(failure.into_error(tool)),
    }
}

/// Address space an external tool may use: a hostile or huge scan makes tesseract or
/// pdftoppm fail with an out-of-memory error instead of pushing the server into swap.
const TOOL_MEMORY_BYTES: u64 = 2 << 30;

/// What a child process may use: wall clock, standard output kept, address space and CPU
/// time. Every child also runs in its own process group (a kill reaches what it started),
/// may not write a core file, and is killed when the thread that started it dies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time before the process group is killed.
    pub timeout: Duration,
    /// Bytes of standard output kept; the rest is read and dropped.
    pub stdout_limit: usize,
    /// Address space (RLIMIT_AS); an allocation past it fails inside the child.
    pub memory_bytes: u64,
    /// CPU seconds of the child itself (RLIMIT_CPU): SIGXCPU at the limit, SIGKILL shortly
    /// after.
    pub cpu: Duration,
    /// Niceness of the child, when above 0: background work (extracting, inspecting) yields
    /// the cores to requests waiting on them. The tools a child starts inherit it.
    pub nice: i32,
}

/// The niceness of background parsing: requests go first on a busy machine.
pub(crate) use crate::priority::BACKGROUND_NICE;

impl Limits {
    /// The limits of an external tool run: its timeout bounds its CPU time as well.
    pub fn tool(timeout: Duration, stdout_limit: usize) -> Self {
        Self {
            timeout,
            stdout_limit,
            memory_bytes: TOOL_MEMORY_BYTES,
            cpu: timeout,
            nice: 0,
        }
    }
}

/// Seconds of CPU past the soft limit (SIGXCPU) before the kernel sends SIGKILL.
const CPU_GRACE_SECS: u64 = 5;

/// [`Limits`] as resource limits, soft and hard, each clamped to this process's hard limit:
/// limits are inherited, and a tool started inside the sandbox may not raise a hard limit
/// above the sandbox's own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    memory: (u64, u64),
    cpu: (u64, u64),
    nice: i32,
}

impl Bounds {
    pub(crate) fn of(limits: &Limits) -> Self {
        use nix::sys::resource::{Resource, getrlimit};
        let clamp = |resource, soft: u64, hard: u64| {
            let ceiling = getrlimit(resource).map_or(u64::MAX, |(_, hard)| hard);
            let hard = hard.min(ceiling);
            (soft.min(hard), hard)
        };
        let cpu_secs = limits.cpu.as_secs().max(1);
        Self {
            memory: clamp(
                Resource::RLIMIT_AS,
                limits.memory_bytes,
                limits.memory_bytes,
            ),
            cpu: clamp(
                Resource::RLIMIT_CPU,
                cpu_secs,
                cpu_secs.saturating_add(CPU_GRACE_SECS),
            ),
            nice: limits.nice,
        }
    }

    /// The limits and priority of process `pid`, 0 for this one: address space, CPU time, no
    /// core file.
    #[expect(
        unsafe_code,
        reason = "prlimit and setpriority have no safe binding for another process; the \
                  calls pass plain values and are async-signal-safe (also used before exec)"
    )]
    pub(crate) fn apply(&self, pid: libc::pid_t) -> std::io::Result<()> {
        let limits = [
            (libc::RLIMIT_AS, self.memory),
            (libc::RLIMIT_CPU, self.cpu),
            (libc::RLIMIT_CORE, (0, 0)),
        ];
        for (resource, (soft, hard)) in limits {
            let limit = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            // SAFETY: `limit` outlives the call; no old value is asked for.
            if unsafe { libc::prlimit(pid, resource, &limit, std::ptr::null_mut()) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        if self.nice > 0 {
            // best effort: a child at the parent's priority still works
            // SAFETY: plain values.
            unsafe { libc::setpriority(libc::PRIO_PROCESS, pid as libc::id_t, self.nice) };
        }
        Ok(())
    }
}

#[expect(
    unsafe_code,
    reason = "pre_exec is unsafe; the closure only calls prlimit, setpriority and prctl, \
              which are async-signal-safe"
)]
fn apply_limits(command: &mut Command, limits: &Limits) {
    let bounds = Bounds::of(limits);
    // SAFETY: runs in the forked child before exec and only makes async-signal-safe
    // system calls.
    unsafe {
        command.pre_exec(move || {
            bounds.apply(0)?;
            // a worker killed mid-job takes its parsers and their tools with it
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(std::io::Error::from)
        });
    }
}

/// Like [`run`], but hands a non-zero exit back to the caller to interpret.
pub(crate) fn run_checked(
    tool: Tool,
    command: Command,
    timeout: Duration,
    stdout_limit: usize,
) -> Result<Result<CommandOutput, Failure>, ExtractError> {
    run_limited(tool, command, &Limits::tool(timeout, stdout_limit))
}

/// Runs `command` within `limits`; a non-zero exit or a death by signal is handed back.
pub(crate) fn run_limited(
    tool: Tool,
    command: Command,
    limits: &Limits,
) -> Result<Result<CommandOutput, Failure>, ExtractError> {
    run_bounded(tool, command, limits, None)
}

/// Like [`run_limited`] for a program that reads `input` on standard input before it does
/// anything else (`dangan sandbox`). It is started without a fork of this process (by
/// posix_spawn: a fork of the server would copy its page tables and make each of its later
/// writes fault), its limits are set from here before the input is written, and it sets its
/// own death signal ([`die_with_parent`]).
pub(crate) fn run_fed(
    tool: Tool,
    command: Command,
    limits: &Limits,
    input: Vec<u8>,
) -> Result<Result<CommandOutput, Failure>, ExtractError> {
    run_bounded(tool, command, limits, Some(input))
}

/// Environment variable telling a fed child its parent's process id.
pub(crate) const PARENT_VAR: &str = "DANGAN_SANDBOX_PARENT";

/// In a child started by [`run_fed`]: dies with the thread that started it, or exits at once
/// when that has ended already.
pub(crate) fn die_with_parent() {
    let parent = std::env::var(PARENT_VAR)
        .ok()
        .and_then(|pid| pid.parse::<u32>().ok());
    if nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL).is_err()
        || parent.is_some_and(|parent| parent != std::os::unix::process::parent_id())
    {
        std::process::exit(3);
    }
}

fn run_bounded(
    tool: Tool,
    mut command: Command,
    limits: &Limits,
    input: Option<Vec<u8>>,
) -> Result<Result<CommandOutput, Failure>, ExtractError> {
    command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // its own process group, so that a kill on timeout reaches anything it started too
        .process_group(0);
    if input.is_some() {
        command.env(PARENT_VAR, std::process::id().to_string());
    } else {
        apply_limits(&mut command, limits);
    }
    let mut child = command.spawn().map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => ExtractError::ToolMissing { tool },
        _ => ExtractError::io(format!("start {tool}"), error),
    })?;
    if input.is_some()
        && let Err(error) = libc::pid_t::try_from(child.id())
            .map_err(std::io::Error::other)
            .and_then(|pid| Bounds::of(limits).apply(pid))
    {
        kill(&mut child);
        return Err(ExtractError::io(format!("limit {tool}"), error));
    }
    let streams = pipes::follow(
        &mut child,
        input.unwrap_or_default(),
        (limits.stdout_limit, STDERR_LIMIT),
        limits.timeout,
    );
    let (status, streams) = match streams {
        Ok(Ended::Exited(status, streams)) => (status, streams),
        Ok(Ended::TimedOut) => {
            kill(&mut child);
            return Err(ExtractError::Timeout {
                tool,
                after: limits.timeout,
            });
        }
        Err(error) => {
            kill(&mut child);
            return Err(ExtractError::io(format!("wait for {tool}"), error));
        }
    };
    if !status.success() {
        return Ok(Err(Failure {
            status,
            stderr: last_lines(&streams.stderr),
            full_stderr: String::from_utf8_lossy(&streams.stderr).into_owned(),
        }));
    }
    Ok(Ok(CommandOutput {
        stdout: streams.stdout,
        stdout_truncated: streams.stdout_truncated,
    }))
}

/// Kills the process group led by `leader`; an error means the group is gone already.
pub(super) fn kill_group(leader: u32) {
    if let Ok(group) = i32::try_from(leader) {
        let _ =
            nix::sys::signal::killpg(nix::unistd::Pid::from_raw(group), nix::sys::signal::SIGKILL);
    }
}

fn kill(child: &mut Child) {
    // Errors here mean the group already exited; reaping the child is all that is left to do.
    kill_group(child.id());
    let _ = child.kill();
    let _ = child.wait();
}

/// The last few non-empty lines of a tool's stderr, for an error message.
fn last_lines(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    lines[lines.len().saturating_sub(3)..].join(" / ")
}

/// A path as a command-line argument that no tool can mistake for an option.
pub(crate) fn path_arg(path: &Path) -> OsString {
    if path.is_relative() {
        Path::new(".").join(path).into_os_string()
    } else {
        path.as_os_str().to_owned()
    }
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
