//! Corrections (issue 19): files replaced in a filed record, and withdrawals (作廢) of
//! records filed by mistake.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use super::access::visibility_json;
use crate::domain::permissions::Visibility;
use crate::domain::proposal::ProposalStatus;

/// The position after the record's last file.
pub async fn next_position(conn: &mut PgConnection, record_id: Uuid) -> Result<i32, DbError> {
    Ok(sqlx::query_scalar!(
        r#"select coalesce(max(position) + 1, 0) as "position!" from record_files
           where record_id = $1"#,
        record_id
    )
    .fetch_one(conn)
    .await?)
}

/// Marks file `old` replaced by `new`, which takes its position. Returns whether `old` was
/// still current (a concurrent replacement loses).
pub async fn mark_replaced(
    conn: &mut PgConnection,
    old: Uuid,
    new: Uuid,
    reason: &str,
) -> Result<bool, DbError> {
    Ok(sqlx::query!(
        "update record_files set replaced_by = $2, replaced_at = now(), replace_reason = $3
         where id = $1 and replaced_by is null",
        old,
        new,
        reason
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Marks the record changed now (its index document follows).
pub async fn touch(conn: &mut PgConnection, record_id: Uuid) -> Result<(), DbError> {
    sqlx::query!(
        "update records set updated_at = now() where id = $1",
        record_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A withdrawal as stored, with its record's code and title.
#[derive(Debug, Clone)]
pub struct WithdrawalRow {
    pub id: Uuid,
    pub record_id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    pub reason: String,
    pub status: ProposalStatus,
    pub proposed_by: Uuid,
    pub proposed_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// Inserts a proposal; [`Conflict::OpenWithdrawal`](super::Conflict::OpenWithdrawal) when one is already open.
pub async fn propose(
    conn: &mut PgConnection,
    id: Uuid,
    record_id: Uuid,
    reason: &str,
    proposed_by: Uuid,
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into withdrawals (id, record_id, reason, proposed_by) values ($1, $2, $3, $4)",
        id,
        record_id,
        reason,
        proposed_by
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One withdrawal.
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<WithdrawalRow>, DbError> {
    Ok(sqlx::query_as!(
        WithdrawalRow,
        r#"select w.id, w.record_id, r.archival_code, r.title, w.reason,
                  w.status as "status: ProposalStatus", w.proposed_by, w.proposed_at,
                  w.decided_by, w.decided_at, w.note
           from withdrawals w join records r on r.id = w.record_id
           where w.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// The approved withdrawal of a withdrawn record.
pub async fn withdrawal_of(
    conn: &mut PgConnection,
    record_id: Uuid,
) -> Result<Option<WithdrawalRow>, DbError> {
    Ok(sqlx::query_as!(
        WithdrawalRow,
        r#"select w.id, w.record_id, r.archival_code, r.title, w.reason,
                  w.status as "status: ProposalStatus", w.proposed_by, w.proposed_at,
                  w.decided_by, w.decided_at, w.note
           from withdrawals w join records r on r.id = w.record_id
           where w.record_id = $1 and w.status = 'approved'"#,
        record_id
    )
    .fetch_optional(conn)
    .await?)
}

/// One withdrawal, locked for a decision.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<WithdrawalRow>, DbError> {
    Ok(sqlx::query_as!(
        WithdrawalRow,
        r#"select w.id, w.record_id, r.archival_code, r.title, w.reason,
                  w.status as "status: ProposalStatus", w.proposed_by, w.proposed_at,
                  w.decided_by, w.decided_at, w.note
           from withdrawals w join records r on r.id = w.record_id
           where w.id = $1 for update of w"#,
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// Withdrawals of records `visibility` admits, newest first: of one status and one record
/// if given.
pub async fn list(
    conn: &mut PgConnection,
    status: Option<ProposalStatus>,
    record_id: Option<Uuid>,
    visibility: &Visibility,
    limit: i64,
) -> Result<Vec<WithdrawalRow>, DbError> {
    Ok(sqlx::query_as!(
        WithdrawalRow,
        r#"select w.id, w.record_id, r.archival_code, r.title, w.reason,
                  w.status as "status: ProposalStatus", w.proposed_by, w.proposed_at,
                  w.decided_by, w.decided_at, w.note
           from withdrawals w join records r on r.id = w.record_id
           where ($1::text is null or w.status = $1) and ($2::uuid is null or w.record_id = $2)
             and record_visible(r, $3)
           order by w.proposed_at desc, w.id desc limit $4"#,
        status.map(ProposalStatus::as_str),
        record_id,
        visibility_json(visibility),
        limit
    )
    .fetch_all(conn)
    .await?)
}

/// Records the decision on a proposal.
pub async fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    status: ProposalStatus,
    decided_by: Uuid,
    note: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query!(
        "update withdrawals set status = $2, decided_by = $3, decided_at = now(), note = $4
         where id = $1",
        id,
        status.as_str(),
        decided_by,
        note
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the record withdrawn: it keeps its row, archival code and files, and leaves the
/// index, the due lists and every list of active records.
pub async fn mark_withdrawn(conn: &mut PgConnection, record_id: Uuid) -> Result<(), DbError> {
    sqlx::query!(
        "update records set status = 'withdrawn', updated_at = now()
         where id = $1 and status = 'active'",
        record_id
    )
    .execute(conn)
    .await?;
    Ok(())
}
