//! Tests of the sandbox's limits and of its reading of a child's death.

use std::os::unix::fs::PermissionsExt;
use std::time::Instant;

use super::child::perform;
use super::*;

/// A sandbox whose "program" is a shell script, so the parent's limits and its reading
/// of a child's death are tested on their own.
fn scripted(dir: &Path, script: &str, cpu: Duration) -> Sandbox {
    let program = dir.join("fake-dangan");
    std::fs::write(
        &program,
        format!("#!/bin/sh\n[ \"$1\" = ready ] && exit 0\n{script}\n"),
    )
    .expect("script");
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    wait_until_executable(&program);
    Sandbox::new(program, 256 << 20, cpu, dir.join("scratch"))
}

/// Waits until the script just written can be run. A child another test thread started
/// while the script was open for writing holds that descriptor until its own exec, and
/// meanwhile running the script fails with ETXTBSY ("Text file busy").
fn wait_until_executable(program: &Path) {
    for _ in 0..200 {
        match std::process::Command::new(program).arg("ready").status() {
            Err(error) if error.raw_os_error() == Some(libc::ETXTBSY) => {
                std::thread::sleep(Duration::from_millis(10));
            }
            outcome => {
                let status = outcome.expect("the script runs");
                assert!(status.success(), "the script answers ready: {status}");
                return;
            }
        }
    }
    panic!("{} stayed busy for 2 s", program.display());
}

fn extract_with(sandbox: &Sandbox, timeout: Duration) -> ExtractError {
    let options = ExtractOptions {
        timeout,
        ..ExtractOptions::default()
    };
    sandbox
        .extract(Path::new("/nonexistent.txt"), "text/plain", &options)
        .expect_err("the child fails")
}

#[test]
fn an_allocation_failure_in_the_child_is_out_of_memory_for_good() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = "echo 'memory allocation of 549755813888 bytes failed' >&2; kill -ABRT $$";
    let error = extract_with(
        &scripted(dir.path(), script, Duration::from_secs(5)),
        Duration::from_secs(5),
    );
    assert!(
        matches!(
            error,
            ExtractError::OutOfResources {
                resource: Resource::Memory,
                ..
            }
        ) && error.is_permanent(),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .starts_with("the extractor ran out of memory on this file")
    );
}

#[test]
fn an_allocation_failure_followed_by_a_backtrace_is_still_out_of_memory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = "echo 'memory allocation of 64 bytes failed' >&2; \
                  for n in 1 2 3 4 5 6 7 8; do echo \"  $n: frame\" >&2; done; kill -ABRT $$";
    let error = extract_with(
        &scripted(dir.path(), script, Duration::from_secs(5)),
        Duration::from_secs(5),
    );
    assert!(
        matches!(
            error,
            ExtractError::OutOfResources {
                resource: Resource::Memory,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn a_child_past_its_cpu_limit_is_out_of_time_for_good() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = scripted(dir.path(), "while :; do :; done", Duration::from_secs(1));
    let error = extract_with(&sandbox, Duration::from_secs(60));
    assert!(
        matches!(
            error,
            ExtractError::OutOfResources {
                resource: Resource::Time,
                permanent: true,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("CPU time limit of 1 s"),
        "{error}"
    );
}

#[test]
fn a_child_past_its_wall_clock_is_killed_and_may_be_tried_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = scripted(dir.path(), "sleep 30", Duration::from_secs(1));
    let started = Instant::now();
    let error = extract_with(&sandbox, Duration::from_millis(100));
    assert!(
        matches!(
            error,
            ExtractError::OutOfResources {
                resource: Resource::Time,
                permanent: false,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "killed, not waited for"
    );
}

#[test]
fn a_crash_by_signal_is_permanent_and_a_stranger_program_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let crash = scripted(dir.path(), "kill -SEGV $$", Duration::from_secs(5));
    let error = extract_with(&crash, Duration::from_secs(5));
    assert!(
        matches!(error, ExtractError::Crashed { .. }) && error.is_permanent(),
        "{error}"
    );
    let stranger = scripted(dir.path(), "echo hello", Duration::from_secs(5));
    let error = extract_with(&stranger, Duration::from_secs(5));
    assert!(
        !error.is_permanent()
            && error
                .to_string()
                .contains("did not answer as dangan's sandbox"),
        "{error}"
    );
}

#[test]
fn a_failure_the_child_reports_keeps_its_message_and_permanence() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = r#"echo 'dangan-sandbox/1 {"outcome":"failed","message":"docx file is corrupt: no body","permanent":true}'"#;
    let error = extract_with(
        &scripted(dir.path(), script, Duration::from_secs(5)),
        Duration::from_secs(5),
    );
    assert_eq!(error.to_string(), "docx file is corrupt: no body");
    assert!(error.is_permanent());
}

#[test]
fn the_child_side_answers_a_task_it_was_given_as_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "庫房　溫濕度").expect("write");
    let task = Task::Extract {
        path: path.clone(),
        media_type: "text/plain".into(),
        options: ExtractOptions::default(),
    };
    let json = serde_json::to_string(&task).expect("encode");
    let task: Task = serde_json::from_str(&json).expect("decode");
    match perform(task, &[]) {
        Answer::Extracted { extracted } => assert_eq!(extracted.text, "庫房溫濕度"),
        other => panic!("unexpected {other:?}"),
    }
    let missing = Task::Inspect {
        path: dir.path().join("gone.pdf"),
        media_type: "application/pdf".into(),
    };
    assert!(matches!(
        perform(missing, &[]),
        Answer::Failed {
            permanent: false,
            ..
        }
    ));
}

#[test]
fn content_to_inspect_is_fed_after_the_task_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    // answers with what followed its task's line, as the report's sniffed type
    let script = r#"read -r task
content=$(cat)
case "$task" in *'"task":"inspect_content"'*) ;; *) exit 3 ;; esac
printf 'dangan-sandbox/1 {"outcome":"inspected","report":{"sniffed":"%s","unreadable":null,"encrypted":false,"active_content":[],"executable":false}}\n' "$content""#;
    let sandbox = scripted(dir.path(), script, Duration::from_secs(5));
    let report = sandbox
        .inspect_content(b"%PDF-1.7 fed, not copied", "application/pdf")
        .expect("inspected");
    assert_eq!(report.sniffed.as_deref(), Some("%PDF-1.7 fed, not copied"));
    assert!(
        !dir.path().join("scratch").exists(),
        "no scratch copy was written"
    );
}

#[test]
fn the_small_sandbox_binary_beside_dangan_is_preferred_when_it_may_be_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = dir.path().join("dangan");
    assert_eq!(beside(&exe, SANDBOX_BINARY), None, "nothing beside dangan");
    let sibling = dir.path().join(SANDBOX_BINARY);
    std::fs::write(&sibling, "#!/bin/sh\n").expect("file");
    std::fs::set_permissions(&sibling, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    assert_eq!(
        beside(&exe, SANDBOX_BINARY),
        None,
        "a file that may not be run"
    );
    std::fs::set_permissions(&sibling, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    assert_eq!(beside(&exe, SANDBOX_BINARY), Some(sibling));
}
