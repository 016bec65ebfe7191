//! Legal holds: on listed records, or on a party's folder resolved at each check.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;

/// A hold as stored.
#[derive(Debug, Clone)]
pub struct HoldRow {
    pub id: Uuid,
    pub reason: String,
    pub party_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub released_by: Option<Uuid>,
    pub released_at: Option<DateTime<Utc>>,
}

/// One (record, hold) pair.
#[derive(Debug, Clone, Copy)]
pub struct Covering {
    pub record_id: Uuid,
    pub hold_id: Uuid,
}

pub async fn insert(conn: &mut PgConnection, hold: &HoldRow) -> Result<(), DbError> {
    sqlx::query!(
        "insert into holds (id, reason, party_id, created_by, created_at) values ($1, $2, $3, $4, $5)",
        hold.id,
        hold.reason,
        hold.party_id,
        hold.created_by,
        hold.created_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Puts the listed records under the hold.
pub async fn add_records(
    conn: &mut PgConnection,
    hold_id: Uuid,
    record_ids: &[Uuid],
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into hold_records (hold_id, record_id) select $1, unnest($2::uuid[])
         on conflict do nothing",
        hold_id,
        record_ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Those of `record_ids` that are active records, locked until the transaction ends.
pub async fn lock_active_records(
    conn: &mut PgConnection,
    record_ids: &[Uuid],
) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar!(
        "select id from records where id = any($1) and status = 'active' order by id for update",
        record_ids
    )
    .fetch_all(conn)
    .await?)
}

/// The hold, locked until the transaction ends.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<HoldRow>, DbError> {
    Ok(sqlx::query_as!(
        HoldRow,
        "select id, reason, party_id, created_by, created_at, released_by, released_at
         from holds where id = $1 for update",
        id
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn release(conn: &mut PgConnection, id: Uuid, by: Uuid) -> Result<(), DbError> {
    sqlx::query!(
        "update holds set released_by = $2, released_at = now() where id = $1",
        id,
        by
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Holds not yet released, oldest first.
pub async fn active(conn: &mut PgConnection) -> Result<Vec<HoldRow>, DbError> {
    Ok(sqlx::query_as!(
        HoldRow,
        "select id, reason, party_id, created_by, created_at, released_by, released_at
         from holds where released_at is null order by created_at, id"
    )
    .fetch_all(conn)
    .await?)
}

/// The listed records of each of `hold_ids` (party holds list none).
pub async fn listed_records(
    conn: &mut PgConnection,
    hold_ids: &[Uuid],
) -> Result<Vec<Covering>, DbError> {
    Ok(sqlx::query_as!(
        Covering,
        "select record_id, hold_id from hold_records where hold_id = any($1)
         order by hold_id, record_id",
        hold_ids
    )
    .fetch_all(conn)
    .await?)
}

/// The active holds covering each of `record_ids`: listed on the hold, or in the folder of a
/// held party.
pub async fn covering(
    conn: &mut PgConnection,
    record_ids: &[Uuid],
) -> Result<Vec<Covering>, DbError> {
    Ok(sqlx::query_as!(
        Covering,
        r#"select hr.record_id as "record_id!", h.id as "hold_id!"
           from hold_records hr join holds h on h.id = hr.hold_id
           where h.released_at is null and hr.record_id = any($1)
           union
           select r.id, h.id
           from records r join holds h on h.party_id = r.party_id
           where h.released_at is null and r.id = any($1)
           order by 1, 2"#,
        record_ids
    )
    .fetch_all(conn)
    .await?)
}

/// Locks a party's row for placing a hold on its folder; returns whether the party exists.
/// A destruction appraisal takes [`share_party_of_record`] first, so it never misses such a hold.
pub async fn lock_party(conn: &mut PgConnection, party_id: Uuid) -> Result<bool, DbError> {
    Ok(
        sqlx::query_scalar!("select id from parties where id = $1 for update", party_id)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

/// Shares the lock on the party of the record (if any) until the transaction ends: a hold
/// on that party's folder being placed meanwhile is waited for, then seen.
pub async fn share_party_of_record(
    conn: &mut PgConnection,
    record_id: Uuid,
) -> Result<(), DbError> {
    sqlx::query_scalar!(
        "select p.id from parties p join records r on r.party_id = p.id
         where r.id = $1 for share of p",
        record_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(())
}
