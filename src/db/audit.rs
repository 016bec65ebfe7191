//! The audit trail: who did what to which record, and when.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use crate::domain::audit::{AuditAction, ChainedEvent, SealedEvent};

/// Appends one event to the trail.
pub async fn append(
    conn: &mut PgConnection,
    actor_id: Option<Uuid>,
    action: AuditAction,
    record_id: Option<Uuid>,
    details: &Value,
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into audit_events (actor_id, action, record_id, details) values ($1, $2, $3, $4)",
        actor_id,
        action.as_str(),
        record_id,
        details
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// As [`append`], in a write that must tell a lost commit reply from a lost commit: returns
/// the transaction's id in the same round trip (see [`super::xact_id`]).
pub async fn append_with_xact_id(
    conn: &mut PgConnection,
    actor_id: Option<Uuid>,
    action: AuditAction,
    record_id: Option<Uuid>,
    details: &Value,
) -> Result<super::XactId, DbError> {
    let xact = sqlx::query_scalar!(
        r#"insert into audit_events (actor_id, action, record_id, details) values ($1, $2, $3, $4)
           returning pg_current_xact_id()::text::bigint as "xact!""#,
        actor_id,
        action.as_str(),
        record_id,
        details
    )
    .fetch_one(conn)
    .await?;
    Ok(super::XactId(xact))
}

/// An event of the trail as listed.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor: Option<String>,
    pub action: String,
    pub record_id: Option<Uuid>,
    pub details: Value,
}

/// Events newest first, optionally of one record, actor or action, below the id `before`.
pub async fn list(
    conn: &mut PgConnection,
    record_id: Option<Uuid>,
    actor_id: Option<Uuid>,
    action: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRow>, DbError> {
    Ok(sqlx::query_as!(
        AuditRow,
        r#"select e.id, e.at, e.actor_id, u.username as "actor?", e.action, e.record_id, e.details
           from audit_events e left join users u on u.id = e.actor_id
           where ($1::uuid is null or e.record_id = $1) and ($2::uuid is null or e.actor_id = $2)
             and ($3::text is null or e.action = $3) and ($4::bigint is null or e.id < $4)
           order by e.id desc
           limit $5"#,
        record_id,
        actor_id,
        action,
        before,
        limit
    )
    .fetch_all(conn)
    .await?)
}

/// Chained events (those of records) in (record, id) order after the position `after`,
/// of one record or of all.
pub async fn chain_page(
    conn: &mut PgConnection,
    record_id: Option<Uuid>,
    after: Option<(Uuid, i64)>,
    limit: i64,
) -> Result<Vec<ChainedEvent>, DbError> {
    let (after_record, after_id) = after.unzip();
    // two statements, not one with optional parameters: a prepared statement's generic plan
    // cannot use the (record_id, id) index for "$1 is null or record_id = $1"
    if let Some(record_id) = record_id {
        return Ok(sqlx::query_as!(
            ChainedEvent,
            r#"select id, action, record_id as "record_id!", actor_id, details::text as "details!", hash
               from audit_events
               where record_id = $1 and id > coalesce($2::bigint, 0)
               order by id
               limit $3"#,
            record_id,
            after_id,
            limit
        )
        .fetch_all(conn)
        .await?);
    }
    Ok(sqlx::query_as!(
        ChainedEvent,
        r#"select id, action, record_id as "record_id!", actor_id, details::text as "details!", hash
           from audit_events
           where record_id is not null
             and ($1::uuid is null or (record_id, id) > ($1, $2::bigint))
           order by record_id, id
           limit $3"#,
        after_record,
        after_id,
        limit
    )
    .fetch_all(conn)
    .await?)
}

/// The last sealed event: its seal number and chain hash.
pub async fn seal_head(conn: &mut PgConnection) -> Result<Option<(i64, i64, Vec<u8>)>, DbError> {
    let row = sqlx::query!(
        r#"select seal_seq as "seal_seq!", id, chain_hash as "chain_hash!" from audit_events
           where seal_seq is not null order by seal_seq desc limit 1"#
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| (row.seal_seq, row.id, row.chain_hash)))
}

/// Unsealed events whose writing transaction has ended, in id order: the next to seal.
pub async fn to_seal(conn: &mut PgConnection, limit: i64) -> Result<Vec<SealedEvent>, DbError> {
    Ok(sqlx::query_as!(
        SealedEvent,
        r#"select 0::int8 as "seal_seq!", id, action, record_id, actor_id,
                  details::text as "details!", null::bytea as chain_hash
           from audit_events
           where seal_seq is null
             and coalesce(tx < pg_snapshot_xmin(pg_current_snapshot()), true)
           order by id
           limit $1"#,
        limit
    )
    .fetch_all(conn)
    .await?)
}

/// Stores the seals of events: `ids[n]` gets `seal_seqs[n]` and `chain_hashes[n]`, all in
/// one statement.
pub async fn seal(
    conn: &mut PgConnection,
    ids: &[i64],
    seal_seqs: &[i64],
    chain_hashes: &[Vec<u8>],
) -> Result<(), DbError> {
    sqlx::query!(
        "update audit_events e set seal_seq = t.seal_seq, chain_hash = t.chain_hash
         from unnest($1::int8[], $2::int8[], $3::bytea[]) as t (id, seal_seq, chain_hash)
         where e.id = t.id",
        ids,
        seal_seqs,
        chain_hashes
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sealed events after seal number `after`, in seal order.
pub async fn sealed_page(
    conn: &mut PgConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<SealedEvent>, DbError> {
    Ok(sqlx::query_as!(
        SealedEvent,
        r#"select seal_seq as "seal_seq!", id, action, record_id, actor_id,
                  details::text as "details!", chain_hash
           from audit_events
           where seal_seq > $1
           order by seal_seq
           limit $2"#,
        after,
        limit
    )
    .fetch_all(conn)
    .await?)
}

/// Takes the sealer's lock for the transaction: one sealer at a time.
pub async fn lock_sealer(conn: &mut PgConnection) -> Result<(), DbError> {
    sqlx::query!("select pg_advisory_xact_lock(hashtextextended('dangan_audit_seal', 0))")
        .execute(conn)
        .await?;
    Ok(())
}
