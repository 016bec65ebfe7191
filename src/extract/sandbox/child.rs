//! The child side of the sandbox: `dangan sandbox` runs the one task it reads on standard
//! input (or `dangan sandbox TASK`, by hand) and prints its answer. On standard input the
//! task is the first line; the content of a task that is fed its file follows that line.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use super::{ANSWER_PREFIX, Answer, Task};
use crate::extract::ExtractError;
use crate::extract::command::die_with_parent;

/// The child: runs the task given as JSON (the argument, else standard input) and prints the
/// answer. What `dangan sandbox` runs; never called in the server process.
pub fn child_main(task_json: Option<&str>) -> ExitCode {
    die_with_parent();
    let mut input = Vec::new();
    if task_json.is_none()
        && let Err(error) = std::io::stdin().read_to_end(&mut input)
    {
        eprintln!("dangan sandbox: cannot read the task: {error}");
        return ExitCode::from(2);
    }
    let (line, content) = match task_json {
        Some(json) => (json.as_bytes(), &[][..]),
        None => match input.iter().position(|&byte| byte == b'\n') {
            Some(end) => (&input[..end], &input[end + 1..]),
            None => (&input[..], &[][..]),
        },
    };
    let task: Task = match serde_json::from_slice(line) {
        Ok(task) => task,
        Err(error) => {
            eprintln!("dangan sandbox: the task is not valid: {error}");
            return ExitCode::from(2);
        }
    };
    let answer = match std::panic::catch_unwind(move || perform(task, content)) {
        Ok(answer) => answer,
        Err(payload) => Answer::Panicked {
            message: payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .map_or_else(
                    || "the parser panicked".to_owned(),
                    |text| format!("the parser panicked: {text}"),
                ),
        },
    };
    let line = match serde_json::to_string(&answer) {
        Ok(line) => line,
        Err(error) => {
            eprintln!("dangan sandbox: cannot encode the answer: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{ANSWER_PREFIX}{line}").and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// Runs `task`; `content` is what followed the task on standard input (a fed file).
pub(super) fn perform(task: Task, content: &[u8]) -> Answer {
    let result = match task {
        Task::Extract {
            path,
            media_type,
            options,
        } => crate::extract::extract_file(&path, &media_type, &options)
            .map(|extracted| Answer::Extracted { extracted }),
        Task::Inspect { path, media_type } => read_all(&path).map(|bytes| Answer::Inspected {
            report: crate::extract::inspect(&bytes, &media_type),
        }),
        Task::InspectContent { media_type } => Ok(Answer::Inspected {
            report: crate::extract::inspect(content, &media_type),
        }),
        Task::Watermark {
            input,
            output,
            media_type,
            overlay,
        } => read_all(&input)
            .and_then(|content| crate::extract::overlay(&content, &media_type, &overlay))
            .and_then(|marked| {
                std::fs::write(&output, &marked.content).map_err(|error| {
                    ExtractError::io(format!("write {}", output.display()), error)
                })?;
                Ok(Answer::Marked {
                    media_type: marked.media_type.to_owned(),
                })
            }),
    };
    result.unwrap_or_else(|error| match error {
        ExtractError::Unsupported { media_type } => Answer::Unsupported { media_type },
        error => Answer::Failed {
            permanent: error.is_permanent(),
            message: error.to_string(),
        },
    })
}

fn read_all(path: &Path) -> Result<Vec<u8>, ExtractError> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut file| file.read_to_end(&mut bytes))
        .map_err(|error| ExtractError::io(format!("read {}", path.display()), error))?;
    Ok(bytes)
}
