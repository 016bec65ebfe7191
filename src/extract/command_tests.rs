//! Tests of running tools and the sandbox child within their limits.

use super::*;

fn shell(script: &str) -> Command {
    let mut command = Command::new("sh");
    command.arg("-c").arg(script);
    command
}

#[test]
fn output_beyond_the_limit_is_dropped_but_drained() {
    let script = "head -c 1000000 /dev/zero";
    let output = run(Tool::Pdftotext, shell(script), Duration::from_secs(10), 100).expect("runs");
    assert_eq!(output.stdout.len(), 100);
    assert!(output.stdout_truncated);
}

#[test]
fn a_child_past_its_timeout_is_killed_and_the_error_is_transient() {
    let started = std::time::Instant::now();
    let error = run(
        Tool::Tesseract,
        shell("sleep 5"),
        Duration::from_millis(50),
        10,
    )
    .err()
    .expect("times out");
    assert!(matches!(error, ExtractError::Timeout { .. }), "{error}");
    assert!(!error.is_permanent());
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn a_missing_program_is_a_transient_tool_missing_error() {
    let command = Command::new("dangan-no-such-tool-xyz");
    let error = run(Tool::Pdftoppm, command, Duration::from_secs(1), 10)
        .err()
        .expect("fails");
    assert!(matches!(error, ExtractError::ToolMissing { .. }), "{error}");
    assert!(!error.is_permanent());
}

#[test]
fn a_failing_program_reports_the_end_of_its_stderr() {
    let script = "echo one >&2; echo two >&2; echo three >&2; echo four >&2; exit 3";
    let failure = run_checked(Tool::Pdftotext, shell(script), Duration::from_secs(5), 10)
        .expect("ran")
        .err()
        .expect("non-zero exit");
    assert_eq!(failure.status.code(), Some(3));
    assert_eq!(failure.stderr, "two / three / four");
}

#[test]
fn a_fed_child_has_its_limits_before_it_reads_its_input() {
    let limits = Limits {
        timeout: Duration::from_secs(10),
        stdout_limit: 4096,
        memory_bytes: 512 << 20,
        cpu: Duration::from_secs(7),
        nice: BACKGROUND_NICE,
    };
    // `cat` ends when the input does, which is written after the limits are set
    let script = "cat; ulimit -v; ulimit -t; ulimit -c; nice";
    let output = run_fed(Tool::Sandbox, shell(script), &limits, b"task\n".to_vec()).expect("ran");
    let Ok(output) = output else {
        panic!("the child failed");
    };
    let text = String::from_utf8(output.stdout).expect("text");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[..4], ["task", "524288", "7", "0"], "{text}");
    let nice: i32 = lines[4].parse().expect("a niceness");
    assert!(nice >= BACKGROUND_NICE, "{text}");
}

fn fed_limits(stdout_limit: usize) -> Limits {
    Limits {
        timeout: Duration::from_secs(20),
        stdout_limit,
        memory_bytes: 512 << 20,
        cpu: Duration::from_secs(20),
        nice: 0,
    }
}

#[test]
fn a_fed_child_echoing_more_than_a_pipe_holds_gets_all_its_input_back() {
    // cat writes while it is still being fed: the input and the output are both far larger
    // than a pipe's buffer, so a runner that wrote all before reading would never end
    let input: Vec<u8> = (0..3 << 20).map(|at: u32| (at % 251) as u8).collect();
    let output = run_fed(
        Tool::Sandbox,
        shell("cat"),
        &fed_limits(4 << 20),
        input.clone(),
    )
    .expect("ran")
    .ok()
    .expect("cat succeeds");
    assert!(!output.stdout_truncated);
    assert!(output.stdout == input, "the output differs from the input");
}

#[test]
fn a_fed_child_that_reads_none_of_its_input_is_not_waited_on() {
    let output = run_fed(
        Tool::Sandbox,
        shell("echo refused; exit 0"),
        &fed_limits(100),
        vec![b'x'; 4 << 20],
    )
    .expect("ran")
    .ok()
    .expect("exit 0");
    assert_eq!(output.stdout, b"refused\n");
}

#[test]
fn what_a_child_leaves_running_is_killed_and_not_waited_for() {
    // the background sleep holds standard output open after the shell has exited
    let started = std::time::Instant::now();
    let output = run(
        Tool::Pdftotext,
        shell("sleep 30 & echo $!"),
        Duration::from_secs(20),
        100,
    )
    .expect("runs");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "waited for the sleep"
    );
    let pid: i32 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("the pid of the sleep");
    let pid = nix::unistd::Pid::from_raw(pid);
    let gone = (0..200).any(|_| {
        // a killed orphan is reaped by init; until then it is a zombie
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = state
            .rsplit(") ")
            .next()
            .is_some_and(|rest| rest.starts_with('Z'));
        if nix::sys::signal::kill(pid, None).is_err() || zombie {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
        false
    });
    assert!(gone, "the sleep it left is still running");
}

#[test]
fn relative_paths_cannot_look_like_options() {
    assert_eq!(path_arg(Path::new("-x.pdf")), OsString::from("./-x.pdf"));
    assert_eq!(
        path_arg(Path::new("/tmp/a.pdf")),
        OsString::from("/tmp/a.pdf")
    );
}
