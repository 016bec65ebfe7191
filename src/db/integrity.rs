//! Integrity checks: fixity sweeps with their preservation events, four-properties results,
//! and the audit chain of a record.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use super::jobs::{CHANNEL, NewJob};
use crate::domain::integrity::{CheckKind, CheckStatus, Stage};
use crate::domain::record::TextStatus;

/// A check as stored.
#[derive(Debug, Clone)]
pub struct CheckRow {
    pub id: Uuid,
    pub kind: CheckKind,
    pub stage: Option<Stage>,
    pub record_ids: Option<Vec<Uuid>>,
    pub status: CheckStatus,
    pub requested_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub checked: i64,
    pub ok: i64,
    pub bytes: i64,
    pub mismatched: Value,
    pub missing: Value,
    pub unreferenced: Value,
    pub error: Option<String>,
}

/// Inserts a check and, with `job`, queues the job that runs it, in one statement.
pub async fn insert_check(
    conn: &mut PgConnection,
    id: Uuid,
    kind: CheckKind,
    stage: Option<Stage>,
    record_ids: Option<&[Uuid]>,
    requested_by: Option<Uuid>,
    job: Option<&NewJob<'_>>,
) -> Result<(), DbError> {
    sqlx::query!(
        r#"with checked as (
               insert into integrity_checks (id, kind, stage, record_ids, requested_by)
               values ($1, $2, $3, $4, $5)
               returning id)
           select enqueue_job($6, $7, $8, $9, $10, $11) as "job_id"
           from checked where $6::text is not null"#,
        id,
        kind.as_str(),
        stage.map(Stage::as_str),
        record_ids as Option<&[Uuid]>,
        requested_by,
        job.map(|job| job.kind),
        job.map(|job| &job.payload),
        job.and_then(|job| job.dedupe_key.as_deref()),
        job.map(|job| job.max_attempts),
        job.and_then(|job| job.run_at),
        CHANNEL,
    )
    .fetch_optional(conn)
    .await?;
    Ok(())
}

pub async fn find_check(conn: &mut PgConnection, id: Uuid) -> Result<Option<CheckRow>, DbError> {
    Ok(sqlx::query_as!(
        CheckRow,
        r#"select id, kind as "kind: CheckKind", stage as "stage: Stage", record_ids,
                status as "status: CheckStatus", requested_by, created_at, started_at,
                finished_at, checked, ok, bytes, mismatched, missing, unreferenced, error
         from integrity_checks where id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// The latest checks, newest first.
pub async fn list_checks(conn: &mut PgConnection, limit: i64) -> Result<Vec<CheckRow>, DbError> {
    Ok(sqlx::query_as!(
        CheckRow,
        r#"select id, kind as "kind: CheckKind", stage as "stage: Stage", record_ids,
                status as "status: CheckStatus", requested_by, created_at, started_at,
                finished_at, checked, ok, bytes, mismatched, missing, unreferenced, error
         from integrity_checks order by created_at desc limit $1"#,
        limit
    )
    .fetch_all(conn)
    .await?)
}

/// Marks a check running (its first start is kept).
pub async fn start_check(conn: &mut PgConnection, id: Uuid) -> Result<(), DbError> {
    sqlx::query!(
        "update integrity_checks set status = 'running', started_at = coalesce(started_at, now())
         where id = $1",
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The figures of a check so far.
pub struct CheckFigures<'a> {
    pub checked: i64,
    pub ok: i64,
    pub bytes: i64,
    pub mismatched: &'a Value,
    pub missing: &'a Value,
    pub unreferenced: &'a Value,
}

/// Stores a check's figures; `finished` marks it done.
pub async fn update_check(
    conn: &mut PgConnection,
    id: Uuid,
    figures: &CheckFigures<'_>,
    finished: bool,
) -> Result<(), DbError> {
    sqlx::query!(
        "update integrity_checks
         set checked = $2, ok = $3, bytes = $4, mismatched = $5, missing = $6, unreferenced = $7,
             status = case when $8 then 'done' else status end,
             finished_at = case when $8 then now() else finished_at end
         where id = $1",
        id,
        figures.checked,
        figures.ok,
        figures.bytes,
        figures.mismatched,
        figures.missing,
        figures.unreferenced,
        finished,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn fail_check(conn: &mut PgConnection, id: Uuid, error: &str) -> Result<(), DbError> {
    sqlx::query!(
        "update integrity_checks set status = 'failed', error = $2, finished_at = now() where id = $1",
        id,
        error
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A blob to verify.
#[derive(Debug, Clone)]
pub struct BlobToVerify {
    pub sha256: Vec<u8>,
    pub size: i64,
    pub created_at: DateTime<Utc>,
}

/// Live blobs (referenced by a record) not verified since `since`, recently ingested first,
/// after the keyset position `after`.
pub async fn blobs_to_verify(
    conn: &mut PgConnection,
    since: DateTime<Utc>,
    after: Option<(DateTime<Utc>, Vec<u8>)>,
    limit: i64,
) -> Result<Vec<BlobToVerify>, DbError> {
    let (after_at, after_sha) = after.unzip();
    Ok(sqlx::query_as!(
        BlobToVerify,
        "select sha256, size, created_at from blobs
         where refcount > 0 and (verified_at is null or verified_at < $1)
           and ($2::timestamptz is null or (created_at, sha256) < ($2, $3::bytea))
         order by created_at desc, sha256 desc
         limit $4",
        since,
        after_at,
        after_sha,
        limit,
    )
    .fetch_all(conn)
    .await?)
}

/// Records the verification of blobs: their outcome and a preservation event each.
pub async fn record_verifications(
    conn: &mut PgConnection,
    check_id: Option<Uuid>,
    digests: &[Vec<u8>],
    outcomes: &[&str],
    details: &[Option<String>],
) -> Result<(), DbError> {
    sqlx::query!(
        "update blobs b set verified_at = now(), verify_outcome = t.outcome
         from unnest($1::bytea[], $2::text[]) as t (sha256, outcome)
         where b.sha256 = t.sha256",
        digests,
        outcomes as &[&str],
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "insert into preservation_events (sha256, check_id, outcome, detail)
         select sha256, $1, outcome, detail
         from unnest($2::bytea[], $3::text[], $4::text[]) as t (sha256, outcome, detail)",
        check_id,
        digests,
        outcomes as &[&str],
        details as &[Option<String>],
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The live records whose files have this content.
pub async fn records_of_blob(conn: &mut PgConnection, sha256: &[u8]) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar!(
        "select distinct f.record_id from record_files f join records r on r.id = f.record_id
         where f.sha256 = $1 and r.status = 'active' order by f.record_id",
        sha256
    )
    .fetch_all(conn)
    .await?)
}

/// Those of the digests that no live blob row stands for (no row, or refcount 0).
pub async fn unreferenced_digests(
    conn: &mut PgConnection,
    digests: &[Vec<u8>],
) -> Result<Vec<Vec<u8>>, DbError> {
    Ok(sqlx::query_scalar!(
        r#"select t.sha256 as "sha256!" from unnest($1::bytea[]) as t (sha256)
           left join blobs b on b.sha256 = t.sha256
           where b.sha256 is null or b.refcount = 0"#,
        digests
    )
    .fetch_all(conn)
    .await?)
}

/// One result of a four-properties check.
#[derive(Debug, Clone)]
pub struct ResultRow {
    pub record_id: Uuid,
    pub property: String,
    pub test: String,
    pub passed: bool,
    pub reason: String,
}

/// Stores the results of a four-properties check and marks it done with its figures, in
/// one statement: results and figures appear together.
pub async fn finish_four_check(
    conn: &mut PgConnection,
    check_id: Uuid,
    checked: i64,
    ok: i64,
    results: &[ResultRow],
) -> Result<(), DbError> {
    let records: Vec<Uuid> = results.iter().map(|row| row.record_id).collect();
    let properties: Vec<&str> = results.iter().map(|row| row.property.as_str()).collect();
    let tests: Vec<&str> = results.iter().map(|row| row.test.as_str()).collect();
    let passed: Vec<bool> = results.iter().map(|row| row.passed).collect();
    let reasons: Vec<&str> = results.iter().map(|row| row.reason.as_str()).collect();
    sqlx::query!(
        "with stored as (
             insert into integrity_record_results (check_id, record_id, tests)
             select $1, record_id,
                    jsonb_agg(jsonb_build_object('property', property, 'test', test,
                                                 'passed', passed, 'reason', reason)
                              order by n)
             from unnest($2::uuid[], $3::text[], $4::text[], $5::bool[], $6::text[])
                  with ordinality as result (record_id, property, test, passed, reason, n)
             group by record_id
             on conflict (check_id, record_id) do update set tests = excluded.tests)
         update integrity_checks
         set checked = $7, ok = $8, status = 'done', finished_at = now(),
             started_at = coalesce(started_at, now())
         where id = $1",
        check_id,
        &records,
        &properties as &[&str],
        &tests as &[&str],
        &passed,
        &reasons as &[&str],
        checked,
        ok,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn results(conn: &mut PgConnection, check_id: Uuid) -> Result<Vec<ResultRow>, DbError> {
    Ok(sqlx::query_as!(
        ResultRow,
        r#"select r.record_id, t.property as "property!", t.test as "test!",
                  t.passed as "passed!", t.reason as "reason!"
         from integrity_record_results r,
              jsonb_to_recordset(r.tests) as t (property text, test text, passed boolean,
                                                reason text)
         where r.check_id = $1
         order by record_id,
                  array_position(array['authenticity', 'integrity', 'usability', 'security'], property),
                  test"#,
        check_id
    )
    .fetch_all(conn)
    .await?)
}

/// How many records carry this archival code.
pub async fn code_count(conn: &mut PgConnection, code: &str) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "count!" from records where archival_code = $1"#,
        code
    )
    .fetch_one(conn)
    .await?)
}

/// The codes starting with `prefix` are those from `prefix` up to (not including) the
/// prefix with its last character's successor, in byte order.
fn prefix_range(prefix: &str) -> (String, String) {
    let mut end: Vec<char> = prefix.chars().collect();
    if let Some(last) = end.pop() {
        end.push(char::from_u32(last as u32 + 1).unwrap_or(char::MAX));
    }
    (prefix.to_owned(), end.into_iter().collect())
}

/// The archival codes of a class: those starting with `class_prefix` (the code without its
/// item number).
pub async fn codes_in_class(
    conn: &mut PgConnection,
    class_prefix: &str,
) -> Result<Vec<String>, DbError> {
    let (from, to) = prefix_range(class_prefix);
    Ok(sqlx::query_scalar!(
        r#"select archival_code as "code!" from records
           where archival_code collate "C" >= $1 and archival_code collate "C" < $2"#,
        from,
        to,
    )
    .fetch_all(conn)
    .await?)
}

/// How many distinct item numbers (≥ 1) the codes of a class carry, and the highest: when
/// they are equal, the class has no gaps, without reading its codes.
pub async fn class_items(
    conn: &mut PgConnection,
    class_prefix: &str,
) -> Result<(i64, i64), DbError> {
    let (from, to) = prefix_range(class_prefix);
    let item_from = i32::try_from(class_prefix.chars().count() + 1).unwrap_or(i32::MAX);
    let row = sqlx::query!(
        r#"select count(distinct item) as "items!", coalesce(max(item), 0) as "highest!"
           from (select case when substr(archival_code, $3) ~ '^[0-9]{1,10}$'
                             then substr(archival_code, $3)::bigint end as item
                 from records
                 where archival_code collate "C" >= $1 and archival_code collate "C" < $2) c
           where item > 0"#,
        from,
        to,
        item_from,
    )
    .fetch_one(conn)
    .await?;
    Ok((row.items, row.highest))
}

/// The extraction status of one file (`pending` until it has a text row).
#[derive(Debug, Clone)]
pub struct RecordTextStatus {
    pub record_id: Uuid,
    pub status: TextStatus,
}

/// The extraction status of each file of the records, in file order; none for a destroyed
/// record, whose texts went with it.
pub async fn text_statuses(
    conn: &mut PgConnection,
    record_ids: &[Uuid],
) -> Result<Vec<RecordTextStatus>, DbError> {
    Ok(sqlx::query_as!(
        RecordTextStatus,
        r#"select f.record_id, coalesce(t.status, 'pending') as "status!: TextStatus"
           from record_files f
           join records r on r.id = f.record_id
           left join file_texts t on t.file_id = f.id
           where f.record_id = any($1) and r.status <> 'destroyed'
           order by f.record_id, f.position"#,
        record_ids
    )
    .fetch_all(conn)
    .await?)
}

/// The last verification of each checked file of a record: `(file_id, outcome, at)`.
pub async fn file_fixity(
    conn: &mut PgConnection,
    record_id: Uuid,
) -> Result<Vec<(Uuid, String, DateTime<Utc>)>, DbError> {
    Ok(sqlx::query!(
        r#"select f.id, b.verify_outcome as "outcome!", b.verified_at as "verified_at!"
           from record_files f join blobs b on b.sha256 = f.sha256
           where f.record_id = $1 and b.verified_at is not null and b.verify_outcome is not null
           order by f.position"#,
        record_id
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| (row.id, row.outcome, row.verified_at))
    .collect())
}

/// How many live blobs have not been verified since `since`.
pub async fn blobs_left_to_verify(
    conn: &mut PgConnection,
    since: DateTime<Utc>,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "count!" from blobs
           where refcount > 0 and (verified_at is null or verified_at < $1)"#,
        since
    )
    .fetch_one(conn)
    .await?)
}
