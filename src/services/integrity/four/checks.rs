//! The single tests of the four-properties check: each gives `Ok(reason)` when it passes
//! and `Err(reason)` when it fails, the reason written for the archivist reading the report.

use std::collections::HashMap;

use uuid::Uuid;

use crate::db::records::{FileRow, RecordRow};
use crate::db::{self, PgConnection};
use crate::domain::archival_code::ArchivalCode;
use crate::domain::integrity::{Stage, item_gaps};
use crate::domain::record::TextStatus;
use crate::extract::ContentReport;
use crate::services::ServiceResult;

/// Passes when every file passes; the reason names the files that fail.
pub(super) fn all_ok(
    files: &[FileRow],
    outcomes: &[Result<String, String>],
) -> Result<String, String> {
    if files.is_empty() {
        return Ok("no electronic files".into());
    }
    let failures: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().err())
        .map(String::as_str)
        .collect();
    if failures.is_empty() {
        let notes: Vec<&str> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok())
            .map(String::as_str)
            .filter(|note| !note.is_empty())
            .collect();
        return Ok(if notes.is_empty() {
            format!("{} files", files.len())
        } else {
            notes.join("; ")
        });
    }
    Err(failures.join("; "))
}

pub(super) fn file_properties(
    files: &[FileRow],
    reports: &[Option<ContentReport>],
) -> Result<String, String> {
    let outcomes: Vec<Result<String, String>> = files
        .iter()
        .zip(reports)
        .map(|(file, _)| {
            let guesses: Vec<String> = mime_guess::from_path(&file.filename)
                .iter()
                .map(|m| m.to_string())
                .collect();
            if file.filename.trim().is_empty() {
                return Err("a file has no filename".into());
            }
            if guesses.is_empty() || guesses.iter().any(|guess| guess == &file.media_type) {
                Ok(String::new())
            } else {
                Err(format!(
                    "{}: the name says {}, the record says {}",
                    file.filename, guesses[0], file.media_type
                ))
            }
        })
        .collect();
    all_ok(files, &outcomes)
}

pub(super) async fn archival_code(
    conn: &mut PgConnection,
    record: &RecordRow,
) -> ServiceResult<Result<String, String>> {
    let Some(code) = record.archival_code.as_deref() else {
        return Ok(Err(
            "no archival code: fonds, category or retention is missing".into(),
        ));
    };
    if let Err(error) = ArchivalCode::parse(code) {
        return Ok(Err(error.to_string()));
    }
    let count = db::integrity::code_count(conn, code).await?;
    Ok(if count == 1 {
        Ok(code.to_owned())
    } else {
        Err(format!("{code} is carried by {count} records"))
    })
}

pub(super) fn mandatory_metadata(record: &RecordRow) -> Result<String, String> {
    let missing: Vec<&str> = [
        ("title", record.title.trim().is_empty()),
        ("fonds", record.fonds.is_none()),
        ("category", record.category.is_none()),
        ("retention", record.retention.is_none()),
    ]
    .into_iter()
    .filter(|(_, absent)| *absent)
    .map(|(field, _)| field)
    .collect();
    if missing.is_empty() {
        Ok("title, date, fonds, category, retention".into())
    } else {
        Err(format!("missing: {}", missing.join(", ")))
    }
}

/// Whether the record's class has no gap in its item numbers. At filing (GD) the record's
/// own place is looked up: item 1, or the item before it there (one index lookup, where
/// reading the class grew with every item filed into it). Every filing checks its own, so a
/// class filed here stays continuous; a class whose predecessor is not found, and every
/// other stage, is read whole, once per class and check (`classes`).
pub(super) async fn item_numbers(
    conn: &mut PgConnection,
    record: &RecordRow,
    stage: Stage,
    classes: &mut HashMap<String, Result<String, String>>,
) -> ServiceResult<Result<String, String>> {
    let Some(code) = record
        .archival_code
        .as_deref()
        .and_then(|code| ArchivalCode::parse(code).ok())
    else {
        return Ok(Err(
            "no archival code to place the record in its class".into()
        ));
    };
    let prefix = code.class_prefix();
    if stage == Stage::Gd {
        if code.item <= 1 {
            return Ok(Ok(format!("item {:04} opens {prefix}…", code.item)));
        }
        let before = ArchivalCode {
            item: code.item - 1,
            ..code.clone()
        };
        if db::integrity::code_count(conn, &before.to_string()).await? > 0 {
            return Ok(Ok(format!(
                "item {:04} follows {:04} in {prefix}…",
                code.item, before.item
            )));
        }
    }
    if let Some(known) = classes.get(&prefix) {
        return Ok(known.clone());
    }
    let outcome = class_continuity(conn, &prefix).await?;
    classes.insert(prefix, outcome.clone());
    Ok(outcome)
}

/// Reads a class's item numbers: continuous, or which are missing.
async fn class_continuity(
    conn: &mut PgConnection,
    prefix: &str,
) -> ServiceResult<Result<String, String>> {
    // most classes run on: their count says so without reading every code
    let (count, highest) = db::integrity::class_items(conn, prefix).await?;
    if count == highest {
        return Ok(Ok(format!("items 1–{highest} of {prefix}… continuous")));
    }
    let items: Vec<u32> = db::integrity::codes_in_class(conn, prefix)
        .await?
        .iter()
        .filter_map(|other| ArchivalCode::parse(other).ok())
        .filter(|other| other.class_prefix() == *prefix)
        .map(|other| other.item)
        .collect();
    let gaps = item_gaps(&items, 20);
    Ok(if gaps.is_empty() {
        Ok(format!(
            "items 1–{} of {prefix}… continuous",
            items.iter().max().copied().unwrap_or(0)
        ))
    } else {
        let gaps: Vec<String> = gaps.iter().map(|n| format!("{n:04}")).collect();
        Err(format!(
            "item numbers missing in {prefix}…: {}",
            gaps.join(", ")
        ))
    })
}

pub(super) fn opens(report: &Option<ContentReport>) -> Result<String, String> {
    match report {
        None => Ok("too large to open in the check, or not stored".into()),
        Some(report) if report.encrypted => Err("the document is encrypted".into()),
        Some(report) => match &report.unreadable {
            Some(reason) => Err(reason.clone()),
            None => Ok(String::new()),
        },
    }
}

/// `texts`: the extraction status of each of the record's files.
pub(super) fn text_available(texts: &[TextStatus]) -> Result<String, String> {
    if texts.is_empty() {
        return Ok("no electronic files".into());
    }
    let failed = texts
        .iter()
        .filter(|status| **status == TextStatus::Failed)
        .count();
    let pending = texts
        .iter()
        .filter(|status| **status == TextStatus::Pending)
        .count();
    match (failed, pending) {
        (0, 0) => Ok(format!(
            "{} files extracted or not text-bearing",
            texts.len()
        )),
        (0, pending) => Err(format!("{pending} files not extracted yet")),
        (failed, _) => Err(format!("text extraction failed for {failed} files")),
    }
}

pub(super) fn media_type(file: &FileRow, report: &Option<ContentReport>) -> Result<String, String> {
    let Some(report) = report else {
        return Ok(String::new());
    };
    if report.executable {
        return Err(format!("{}: the content is a program", file.filename));
    }
    let Some(sniffed) = report.sniffed.as_deref() else {
        return Ok(String::new());
    };
    let office_zip = sniffed == "application/zip"
        && (file
            .media_type
            .starts_with("application/vnd.openxmlformats-officedocument")
            || file
                .media_type
                .starts_with("application/vnd.oasis.opendocument"));
    if sniffed == file.media_type || office_zip || file.media_type == "application/octet-stream" {
        Ok(String::new())
    } else {
        Err(format!(
            "{}: recorded as {}, the content is {sniffed}",
            file.filename, file.media_type
        ))
    }
}

pub(super) fn no_active_content(report: &Option<ContentReport>) -> Result<String, String> {
    match report {
        Some(report) if !report.active_content.is_empty() => Err(format!(
            "active content: {}",
            report.active_content.join(", ")
        )),
        _ => Ok(String::new()),
    }
}

pub(super) async fn audit_trail(
    conn: &mut PgConnection,
    record_id: Uuid,
) -> ServiceResult<Result<String, String>> {
    let report = crate::services::audit::verify_chains(conn, Some(record_id)).await?;
    Ok(match (report.events, report.broken.first()) {
        (0, _) => Err("the record has no audit trail".into()),
        (events, None) => Ok(format!("{events} events, hash chain intact")),
        (events, Some(broken)) => Err(format!(
            "{} of {events} audit events do not follow the hash chain (events {:?})",
            broken.event_ids.len(),
            broken.event_ids
        )),
    })
}
