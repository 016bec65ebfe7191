//! Extracted text of stored files (`file_texts`): pending at filing, then done, failed or
//! unsupported once the extraction job has run.

use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use super::jobs::{CHANNEL, NewJob};
use super::records::FileRow;
use crate::domain::record::TextStatus;

/// What the extraction job needs to know about a file.
#[derive(Debug, Clone)]
pub struct FileToExtract {
    pub record_id: Uuid,
    pub sha256: Vec<u8>,
    pub size: i64,
    pub media_type: String,
    pub record_active: bool,
    /// The text already extracted from the same content for another file, if any.
    pub known: Option<KnownText>,
}

/// The outcome of one extraction.
#[derive(Debug, Clone)]
pub struct TextOutcome<'a> {
    pub status: TextStatus,
    pub method: Option<&'a str>,
    pub text: Option<&'a str>,
    pub pages: Option<i32>,
    pub error: Option<&'a str>,
}

/// Text already extracted from the same content for another file.
#[derive(Debug, Clone)]
pub struct KnownText {
    pub method: Option<String>,
    pub text: Option<String>,
    pub pages: Option<i32>,
}

/// Inserts a newly filed file with its text pending and queues `job`, its extraction (woken
/// at the commit), in one statement: a filing takes one round trip per file, not three.
pub async fn insert_file_to_extract(
    conn: &mut PgConnection,
    file: &FileRow,
    job: &NewJob<'_>,
) -> Result<(), DbError> {
    sqlx::query!(
        r#"with file as (
               insert into record_files (id, record_id, position, sha256, size, media_type,
                                         filename, created_at, copy, copy_note)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
               returning id, record_id),
           pending as (
               insert into file_texts (file_id, record_id, status)
               select id, record_id, 'pending' from file
               on conflict (file_id) do nothing)
           select enqueue_job($11, $12, $13, $14, $15, $16) as "job_id" from file"#,
        file.id,
        file.record_id,
        file.position,
        file.sha256,
        file.size,
        file.media_type,
        file.filename,
        file.created_at,
        file.copy,
        file.copy_note,
        job.kind,
        job.payload,
        job.dedupe_key,
        job.max_attempts,
        job.run_at,
        CHANNEL,
    )
    .fetch_optional(conn)
    .await?;
    Ok(())
}

/// The file, whether its record is still active, and a finished extraction of the same
/// content for another file, if there is one.
pub async fn file_to_extract(
    conn: &mut PgConnection,
    file_id: Uuid,
) -> Result<Option<FileToExtract>, DbError> {
    let row = sqlx::query!(
        r#"select f.record_id, f.sha256, f.size, f.media_type,
                  (r.status = 'active') as "record_active!",
                  k.method as "known_method?", k.text as "known_text?",
                  k.pages as "known_pages?", (k.file_id is not null) as "known!"
           from record_files f join records r on r.id = f.record_id
           left join lateral (
               select t.file_id, t.method, t.text, t.pages
               from record_files o join file_texts t on t.file_id = o.id
               where o.sha256 = f.sha256 and t.status = 'done'
               limit 1) k on true
           where f.id = $1"#,
        file_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| FileToExtract {
        record_id: row.record_id,
        sha256: row.sha256,
        size: row.size,
        media_type: row.media_type,
        record_active: row.record_active,
        known: row.known.then_some(KnownText {
            method: row.known_method,
            text: row.known_text,
            pages: row.known_pages,
        }),
    }))
}

/// Stores the outcome of an extraction and, when no other file of the record awaits its
/// text, makes the record's waiting filing checks due now (as
/// [`super::jobs::wake_filing_checks`]), in one statement and one commit. Returns whether
/// other files of the record were still pending as this statement saw them: their
/// extractions may be committing meanwhile, each seeing this file pending, so the caller
/// then wakes the checks again after the commit.
pub async fn save(
    conn: &mut PgConnection,
    file_id: Uuid,
    record_id: Uuid,
    outcome: &TextOutcome<'_>,
) -> Result<bool, DbError> {
    // the statement's snapshot shows this file's text still pending: it is left out
    Ok(sqlx::query_scalar!(
        r#"with saved as (
               insert into file_texts (file_id, record_id, status, method, text, pages, error)
               values ($1, $2, $3, $4, $5, $6, $7)
               on conflict (file_id) do update set status = excluded.status,
                   method = excluded.method, text = excluded.text, pages = excluded.pages,
                   error = excluded.error, updated_at = now()),
           others as (
               select exists (select 1 from file_texts t
                              where t.record_id = $2 and t.status = 'pending'
                                and t.file_id <> $1) as pending),
           woken as (
               update jobs set run_at = now()
               where kind = 'four_properties' and status = 'queued'
                 and payload ->> 'record_id' = $2::uuid::text and run_at > now()
                 and $3::text <> 'pending' and not (select pending from others)
               returning id),
           told as (select pg_notify($8, 'four_properties')
                    where exists (select 1 from woken))
           select pending as "others_pending!" from others
           where (select count(*) from told) >= 0"#,
        file_id,
        record_id,
        outcome.status.as_str(),
        outcome.method,
        outcome.text,
        outcome.pages,
        outcome.error,
        CHANNEL,
    )
    .fetch_one(conn)
    .await?)
}

/// Extraction state of one file, for the record's view.
#[derive(Debug, Clone)]
pub struct TextState {
    pub file_id: Uuid,
    pub status: TextStatus,
    pub method: Option<String>,
    pub pages: Option<i32>,
    pub error: Option<String>,
    pub chars: Option<i32>,
}

/// The extraction state of every file of a record.
pub async fn states(conn: &mut PgConnection, record_id: Uuid) -> Result<Vec<TextState>, DbError> {
    Ok(sqlx::query_as!(
        TextState,
        r#"select file_id, status as "status: TextStatus", method, pages, error,
                  length(text) as chars
           from file_texts where record_id = $1"#,
        record_id
    )
    .fetch_all(conn)
    .await?)
}

/// The extracted text of one file of a record, if there is any.
pub async fn text_of(
    conn: &mut PgConnection,
    record_id: Uuid,
    file_id: Uuid,
) -> Result<Option<String>, DbError> {
    Ok(sqlx::query_scalar!(
        "select text from file_texts where record_id = $1 and file_id = $2 and status = 'done'",
        record_id,
        file_id
    )
    .fetch_optional(conn)
    .await?
    .flatten())
}
