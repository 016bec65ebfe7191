//! Destruction batches, their approvals and items, and the per-item changes of destruction.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use crate::domain::disposition::BatchStatus;

/// A destruction batch as stored.
#[derive(Debug, Clone)]
pub struct BatchRow {
    pub id: Uuid,
    pub as_of: NaiveDate,
    pub status: BatchStatus,
    pub supervisors: Vec<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub run_at: Option<DateTime<Utc>>,
}

/// One approval of a batch.
#[derive(Debug, Clone)]
pub struct ApprovalRow {
    pub user_id: Uuid,
    pub username: String,
    pub at: DateTime<Utc>,
}

/// One item of a batch, with the record's facts for the destruction list.
#[derive(Debug, Clone)]
pub struct ItemRow {
    pub position: i32,
    pub record_id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    pub outcome: String,
    pub detail: Option<String>,
    pub tombstone: Option<Value>,
    pub done_at: Option<DateTime<Utc>>,
    /// A destroyed item with a physical carrier, to be shredded.
    pub physical: bool,
    pub shredded_by: Option<String>,
    pub shredded_at: Option<DateTime<Utc>>,
    pub shred_supervisor: Option<String>,
    pub shred_remarks: Option<String>,
}

/// Inserts a batch awaiting approval.
pub async fn insert_batch(conn: &mut PgConnection, batch: &BatchRow) -> Result<(), DbError> {
    sqlx::query!(
        "insert into destruction_batches (id, as_of, status, supervisors, created_by, created_at, run_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
        batch.id,
        batch.as_of,
        batch.status.as_str(),
        &batch.supervisors,
        batch.created_by,
        batch.created_at,
        batch.run_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds the records as items in the given order; a record already in an open batch is refused
/// with [`Conflict::OpenBatchItem`](super::Conflict::OpenBatchItem).
pub async fn insert_items(
    conn: &mut PgConnection,
    batch_id: Uuid,
    record_ids: &[Uuid],
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into batch_items (batch_id, position, record_id)
         select $1, (ordinality - 1)::integer, record_id
         from unnest($2::uuid[]) with ordinality as t (record_id, ordinality)",
        batch_id,
        record_ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The batch.
pub async fn find_batch(conn: &mut PgConnection, id: Uuid) -> Result<Option<BatchRow>, DbError> {
    Ok(sqlx::query_as!(
        BatchRow,
        r#"select id, as_of, status as "status: BatchStatus", supervisors, created_by, created_at,
                approved_at, finished_at, run_at
         from destruction_batches where id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// The batch, locked until the transaction ends.
pub async fn lock_batch(conn: &mut PgConnection, id: Uuid) -> Result<Option<BatchRow>, DbError> {
    Ok(sqlx::query_as!(
        BatchRow,
        r#"select id, as_of, status as "status: BatchStatus", supervisors, created_by, created_at,
                approved_at, finished_at, run_at
         from destruction_batches where id = $1 for update"#,
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// Records an approval; `false` when this user already approved the batch.
pub async fn insert_approval(
    conn: &mut PgConnection,
    batch_id: Uuid,
    user_id: Uuid,
) -> Result<bool, DbError> {
    Ok(sqlx::query!(
        "insert into batch_approvals (batch_id, user_id) values ($1, $2) on conflict do nothing",
        batch_id,
        user_id
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// The approvals of a batch, oldest first.
pub async fn approvals(
    conn: &mut PgConnection,
    batch_id: Uuid,
) -> Result<Vec<ApprovalRow>, DbError> {
    Ok(sqlx::query_as!(
        ApprovalRow,
        "select a.user_id, u.username, a.at from batch_approvals a
         join users u on u.id = a.user_id where a.batch_id = $1 order by a.at, a.user_id",
        batch_id
    )
    .fetch_all(conn)
    .await?)
}

/// Moves a batch to `status`, stamping `approved_at` or `finished_at` as it fits; `done`
/// also frees its records for other batches.
pub async fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: BatchStatus,
) -> Result<(), DbError> {
    sqlx::query!(
        "update destruction_batches set status = $2,
             approved_at = case when $2 = 'approved' then now() else approved_at end,
             finished_at = case when $2 = 'done' then now() else finished_at end
         where id = $1",
        id,
        status.as_str()
    )
    .execute(&mut *conn)
    .await?;
    if status == BatchStatus::Done {
        sqlx::query!(
            "update batch_items set open = false where batch_id = $1",
            id
        )
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// The items of a batch in order, with their records' codes and titles.
pub async fn items(conn: &mut PgConnection, batch_id: Uuid) -> Result<Vec<ItemRow>, DbError> {
    Ok(sqlx::query_as!(
        ItemRow,
        r#"select i.position, i.record_id, r.archival_code, r.title, i.outcome, i.detail,
                  i.tombstone, i.done_at,
                  (i.outcome = 'destroyed' and r.carrier <> 'electronic') as "physical!",
                  u.username as "shredded_by?", i.shredded_at, i.shred_supervisor, i.shred_remarks
           from batch_items i join records r on r.id = i.record_id
           left join users u on u.id = i.shredded_by
           where i.batch_id = $1 order by i.position"#,
        batch_id
    )
    .fetch_all(conn)
    .await?)
}

/// The destroyed items of a batch with a physical carrier not yet confirmed shredded.
pub async fn awaiting_shredding(
    conn: &mut PgConnection,
    batch_id: Uuid,
) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar!(
        "select i.record_id from batch_items i join records r on r.id = i.record_id
         where i.batch_id = $1 and i.outcome = 'destroyed' and r.carrier <> 'electronic'
           and i.shredded_at is null
         order by i.position",
        batch_id
    )
    .fetch_all(conn)
    .await?)
}

/// Confirms the listed physical items shredded; returns those confirmed now.
pub async fn confirm_shredded(
    conn: &mut PgConnection,
    batch_id: Uuid,
    record_ids: &[Uuid],
    by: Uuid,
    supervisor: &str,
    remarks: Option<&str>,
) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar!(
        "update batch_items i
         set shredded_by = $3, shredded_at = now(), shred_supervisor = $4, shred_remarks = $5
         from records r
         where r.id = i.record_id and i.batch_id = $1 and i.record_id = any($2)
           and i.outcome = 'destroyed' and r.carrier <> 'electronic' and i.shredded_at is null
         returning i.record_id",
        batch_id,
        record_ids,
        by,
        supervisor,
        remarks,
    )
    .fetch_all(conn)
    .await?)
}

/// Digests of the files of the batch's destroyed records whose blob no live record
/// references any more (refcount 0): objects that may still be in the store.
pub async fn unreferenced_blobs_of_batch(
    conn: &mut PgConnection,
    batch_id: Uuid,
) -> Result<Vec<Vec<u8>>, DbError> {
    Ok(sqlx::query_scalar!(
        "select distinct b.sha256 from batch_items i
         join record_files f on f.record_id = i.record_id
         join blobs b on b.sha256 = f.sha256
         where i.batch_id = $1 and i.outcome = 'destroyed' and b.refcount = 0",
        batch_id
    )
    .fetch_all(conn)
    .await?)
}

/// The tombstone kept when the record was destroyed, if it was.
pub async fn tombstone(conn: &mut PgConnection, record_id: Uuid) -> Result<Option<Value>, DbError> {
    Ok(sqlx::query_scalar!(
        "select tombstone from batch_items
         where record_id = $1 and outcome = 'destroyed' order by done_at desc limit 1",
        record_id
    )
    .fetch_optional(conn)
    .await?
    .flatten())
}

/// Batches newest first, of one status if given.
pub async fn list_batches(
    conn: &mut PgConnection,
    status: Option<BatchStatus>,
    limit: i64,
) -> Result<Vec<BatchRow>, DbError> {
    Ok(sqlx::query_as!(
        BatchRow,
        r#"select id, as_of, status as "status: BatchStatus", supervisors, created_by, created_at,
                approved_at, finished_at, run_at
         from destruction_batches where ($1::text is null or status = $1)
         order by created_at desc, id desc limit $2"#,
        status.map(BatchStatus::as_str),
        limit
    )
    .fetch_all(conn)
    .await?)
}
