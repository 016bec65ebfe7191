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

#[test]
fn relative_paths_cannot_look_like_options() {
    assert_eq!(path_arg(Path::new("-x.pdf")), OsString::from("./-x.pdf"));
    assert_eq!(
        path_arg(Path::new("/tmp/a.pdf")),
        OsString::from("/tmp/a.pdf")
    );
}
