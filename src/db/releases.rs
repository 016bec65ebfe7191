//! Release reviews (R18): proposals to open records or lower their level, their items, and
//! the records that have come of age for review.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use super::access::visibility_json;
use crate::domain::permissions::Visibility;
use crate::domain::proposal::ProposalStatus;
use crate::domain::record::RecordStatus;

/// A release as stored.
#[derive(Debug, Clone)]
pub struct ReleaseRow {
    pub id: Uuid,
    pub open_status: Option<String>,
    pub security_level: Option<String>,
    pub reason: String,
    pub status: ProposalStatus,
    pub proposed_by: Uuid,
    pub proposed_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// One item of a release with its record's state now.
#[derive(Debug, Clone)]
pub struct ReleaseItemRow {
    pub record_id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    pub level_before: String,
    pub open_before: String,
    pub security_level: String,
    pub open_status: String,
    pub status: RecordStatus,
}

/// A record that came of age for release review.
#[derive(Debug, Clone)]
pub struct DueRow {
    pub id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    pub year: i32,
    pub security_level: String,
    pub open_status: String,
}

/// A release to insert.
pub struct NewRelease<'a> {
    pub id: Uuid,
    pub open_status: Option<&'a str>,
    pub security_level: Option<&'a str>,
    pub reason: &'a str,
    pub proposed_by: Uuid,
}

pub async fn insert(conn: &mut PgConnection, release: &NewRelease<'_>) -> Result<(), DbError> {
    sqlx::query!(
        "insert into releases (id, open_status, security_level, reason, proposed_by)
         values ($1, $2, $3, $4, $5)",
        release.id,
        release.open_status,
        release.security_level,
        release.reason,
        release.proposed_by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds the records to the release with their current level and open status.
pub async fn insert_items(
    conn: &mut PgConnection,
    release_id: Uuid,
    record_ids: &[Uuid],
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into release_items (release_id, record_id, level_before, open_before)
         select $1, r.id, r.security_level, r.open_status from records r where r.id = any($2)",
        release_id,
        record_ids,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One release, locked for a decision when `lock`.
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<ReleaseRow>, DbError> {
    Ok(sqlx::query_as!(
        ReleaseRow,
        r#"select id, open_status, security_level, reason, status as "status: ProposalStatus",
                  proposed_by, proposed_at, decided_by, decided_at
           from releases where id = $1 for update"#,
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// Releases newest first, of one status if given.
pub async fn list(
    conn: &mut PgConnection,
    status: Option<ProposalStatus>,
    limit: i64,
) -> Result<Vec<ReleaseRow>, DbError> {
    Ok(sqlx::query_as!(
        ReleaseRow,
        r#"select id, open_status, security_level, reason, status as "status: ProposalStatus",
                  proposed_by, proposed_at, decided_by, decided_at
           from releases where ($1::text is null or status = $1)
           order by proposed_at desc, id desc limit $2"#,
        status.map(ProposalStatus::as_str),
        limit
    )
    .fetch_all(conn)
    .await?)
}

/// The items of a release.
pub async fn items(conn: &mut PgConnection, id: Uuid) -> Result<Vec<ReleaseItemRow>, DbError> {
    Ok(sqlx::query_as!(
        ReleaseItemRow,
        r#"select i.record_id, r.archival_code, r.title, i.level_before, i.open_before,
                  r.security_level, r.open_status, r.status as "status: RecordStatus"
           from release_items i join records r on r.id = i.record_id
           where i.release_id = $1 order by r.archival_code, r.id"#,
        id
    )
    .fetch_all(conn)
    .await?)
}

/// Locks the release's records in id order; returns their ids.
pub async fn lock_records(conn: &mut PgConnection, id: Uuid) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar!(
        "select r.id from records r join release_items i on i.record_id = r.id
         where i.release_id = $1 order by r.id for update of r",
        id
    )
    .fetch_all(conn)
    .await?)
}

/// Applies the release to its records: their open status and/or level.
pub async fn apply(conn: &mut PgConnection, release: &ReleaseRow) -> Result<u64, DbError> {
    Ok(sqlx::query!(
        "update records r set open_status = coalesce($2, r.open_status),
                security_level = coalesce($3, r.security_level), updated_at = now()
         from release_items i where i.release_id = $1 and i.record_id = r.id",
        release.id,
        release.open_status,
        release.security_level,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Records a decision.
pub async fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    status: ProposalStatus,
    decided_by: Uuid,
) -> Result<(), DbError> {
    sqlx::query!(
        "update releases set status = $2, decided_by = $3, decided_at = now() where id = $1",
        id,
        status.as_str(),
        decided_by
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Active records formed in `formed_by` or earlier that are still controlled or above
/// public, and that `visibility` admits; oldest first.
pub async fn due(
    conn: &mut PgConnection,
    formed_by: i32,
    visibility: &Visibility,
    limit: i64,
) -> Result<Vec<DueRow>, DbError> {
    Ok(sqlx::query_as!(
        DueRow,
        "select r.id, r.archival_code, r.title, r.year, r.security_level, r.open_status
         from records r
         where r.status = 'active' and r.year <= $1
           and (r.open_status <> 'open' or r.security_level <> 'public')
           and record_visible(r, $2)
         order by r.year, r.archival_code, r.id limit $3",
        formed_by,
        visibility_json(visibility),
        limit
    )
    .fetch_all(conn)
    .await?)
}
