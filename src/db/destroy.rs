//! The set-based steps of destroying a chunk of a batch's items in one transaction: lock the
//! parties and records, mark them destroyed, release blob references, audit and settle the
//! items, each one statement for the whole chunk.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use super::records::{FileRow, RecordRow};
use crate::domain::audit::AuditAction;
use crate::domain::catalogue::{Carrier, OpenStatus, SecurityLevel};
use crate::domain::record::RecordStatus;

/// Up to `limit` pending items of a batch in order, locked: `(position, record_id)`.
pub async fn pending_chunk(
    conn: &mut PgConnection,
    batch_id: Uuid,
    limit: i64,
) -> Result<Vec<(i32, Uuid)>, DbError> {
    Ok(sqlx::query!(
        "select position, record_id from batch_items
         where batch_id = $1 and outcome = 'pending'
         order by position limit $2 for update",
        batch_id,
        limit
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|row| (row.position, row.record_id))
    .collect())
}

/// Takes share locks on the parties of the records, then update locks on the records, each
/// in id order: the order hold placement takes them, so the two never deadlock.
pub async fn lock_records_and_parties(
    conn: &mut PgConnection,
    record_ids: &[Uuid],
) -> Result<(), DbError> {
    sqlx::query_scalar!(
        "select p.id from parties p
         where p.id in (select party_id from records where id = any($1))
         order by p.id for share",
        record_ids
    )
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query_scalar!(
        "select id from records where id = any($1) order by id for update",
        record_ids
    )
    .fetch_all(conn)
    .await?;
    Ok(())
}

/// The records with the codes of their classification.
pub async fn records(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<RecordRow>, DbError> {
    Ok(sqlx::query_as!(
        RecordRow,
        r#"select r.id as "id!", r.title as "title!", r.doc_date as "doc_date!", r.year as "year!",
                  f.code as "fonds?", c.code as "category?", rp.code as "retention?",
                  d.code as "department?", r.party_id, r.custodian_id, r.doc_number, r.responsible,
                  r.pages, r.security_level as "security_level!: SecurityLevel",
                  r.open_status as "open_status!: OpenStatus", r.carrier as "carrier!: Carrier",
                  r.location, r.description, r.translated_title, r.doc_type,
                  r.custom as "custom!", r.archival_code, r.status as "status!: RecordStatus",
                  r.retention_due_on, r.retention_reason, r.created_by,
                  r.created_at as "created_at!", r.updated_at as "updated_at!"
           from records r
           left join fonds f on f.id = r.fonds_id
           left join categories c on c.id = r.category_id
           left join retention_policies rp on rp.id = r.retention_policy_id
           left join departments d on d.id = r.department_id
           where r.id = any($1)"#,
        ids
    )
    .fetch_all(conn)
    .await?)
}

/// The files of the records, by record and upload order.
pub async fn files(conn: &mut PgConnection, record_ids: &[Uuid]) -> Result<Vec<FileRow>, DbError> {
    Ok(sqlx::query_as!(
        FileRow,
        "select id, record_id, position, sha256, size, media_type, filename, created_at, copy,
                copy_note, replaced_by, replaced_at, replace_reason
         from record_files where record_id = any($1) order by record_id, position",
        record_ids
    )
    .fetch_all(conn)
    .await?)
}

/// Marks the records destroyed and deletes the extracted text of their files.
pub async fn mark_destroyed(conn: &mut PgConnection, record_ids: &[Uuid]) -> Result<(), DbError> {
    sqlx::query!(
        "delete from file_texts where record_id = any($1)",
        record_ids
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update records set status = 'destroyed', updated_at = now() where id = any($1)",
        record_ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Releases one reference per listed digest (a digest listed twice loses two); returns the
/// digests no record references any more.
pub async fn release_references(
    conn: &mut PgConnection,
    digests: &[Vec<u8>],
) -> Result<Vec<Vec<u8>>, DbError> {
    Ok(sqlx::query_scalar!(
        r#"update blobs b set refcount = greatest(b.refcount - r.count, 0)
           from (select sha256, count(*)::int4 as count from unnest($1::bytea[]) as t (sha256)
                 group by sha256) r
           where b.sha256 = r.sha256
           returning case when b.refcount = 0 then b.sha256 end as "sha256?""#,
        digests
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .flatten()
    .collect())
}

/// One audit event per record, all by the system (no actor).
pub async fn audit(
    conn: &mut PgConnection,
    action: AuditAction,
    record_ids: &[Uuid],
    details: &[Value],
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into audit_events (actor_id, action, record_id, details)
         select null, $1, record_id, details
         from unnest($2::uuid[], $3::jsonb[]) with ordinality as t (record_id, details, n)
         order by n",
        action.as_str(),
        record_ids,
        details
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What became of one item.
pub struct Settled {
    pub position: i32,
    pub outcome: &'static str,
    pub detail: Option<String>,
    pub tombstone: Option<Value>,
}

/// Settles the items of a batch.
pub async fn settle_items(
    conn: &mut PgConnection,
    batch_id: Uuid,
    items: &[Settled],
) -> Result<(), DbError> {
    let positions: Vec<i32> = items.iter().map(|item| item.position).collect();
    let outcomes: Vec<&str> = items.iter().map(|item| item.outcome).collect();
    let details: Vec<Option<String>> = items.iter().map(|item| item.detail.clone()).collect();
    let tombstones: Vec<Option<Value>> = items.iter().map(|item| item.tombstone.clone()).collect();
    sqlx::query!(
        "update batch_items i set outcome = t.outcome, detail = t.detail, tombstone = t.tombstone,
                                  done_at = now()
         from unnest($2::int4[], $3::text[], $4::text[], $5::jsonb[])
              as t (position, outcome, detail, tombstone)
         where i.batch_id = $1 and i.position = t.position",
        batch_id,
        &positions,
        &outcomes as &[&str],
        &details as &[Option<String>],
        &tombstones as &[Option<Value>],
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks those of the blobs that nothing references, until the transaction ends; returns
/// them. While locked, an upload of the same content waits.
pub async fn lock_unreferenced(
    conn: &mut PgConnection,
    digests: &[Vec<u8>],
) -> Result<Vec<Vec<u8>>, DbError> {
    Ok(sqlx::query_scalar!(
        "select sha256 from blobs where sha256 = any($1) and refcount = 0
         order by sha256 for update",
        digests
    )
    .fetch_all(conn)
    .await?)
}
