//! The due list and appraisals (鑒定) of records.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use super::access::visibility_json;
use crate::domain::permissions::Visibility;

/// One active record on the due list.
#[derive(Debug, Clone)]
pub struct DueRow {
    pub id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    pub doc_date: NaiveDate,
    pub category: Option<String>,
    pub retention: Option<String>,
    pub department: Option<String>,
    pub party_id: Option<Uuid>,
    pub retention_due_on: NaiveDate,
    pub retention_reason: Option<String>,
}

/// Where a page of the due list starts: after this due date, archival code and id.
#[derive(Debug, Clone)]
pub struct DueKey {
    pub due_on: NaiveDate,
    /// The archival code, empty when the record has none.
    pub code: String,
    pub id: Uuid,
}

/// Selects a page of the due list.
#[derive(Debug, Clone, Copy)]
pub struct DueQuery<'a> {
    pub as_of: NaiveDate,
    pub category: Option<&'a str>,
    pub department: Option<&'a str>,
    pub after: Option<&'a DueKey>,
    pub limit: i64,
    /// Only the records the caller may see are listed.
    pub visibility: &'a Visibility,
}

/// Active records due on or before `as_of`, by due date, then archival code (records without
/// one first), then id.
pub async fn due(conn: &mut PgConnection, query: DueQuery<'_>) -> Result<Vec<DueRow>, DbError> {
    let after = query.after;
    Ok(sqlx::query_as!(
        DueRow,
        r#"select r.id, r.archival_code, r.title, r.doc_date, c.code as "category?",
                  rp.code as "retention?", d.code as "department?", r.party_id,
                  r.retention_due_on as "retention_due_on!", r.retention_reason
           from records r
           left join categories c on c.id = r.category_id
           left join retention_policies rp on rp.id = r.retention_policy_id
           left join departments d on d.id = r.department_id
           where r.status = 'active' and r.retention_due_on <= $1
             and ($2::text is null or c.code = $2)
             and ($3::text is null or d.code = $3)
             and ($4::date is null
                  or (r.retention_due_on, coalesce(r.archival_code, ''), r.id) > ($4, $5::text, $6::uuid))
             and record_visible(r, $8)
           order by r.retention_due_on, coalesce(r.archival_code, ''), r.id
           limit $7"#,
        query.as_of,
        query.category,
        query.department,
        after.map(|key| key.due_on),
        after.map(|key| key.code.as_str()),
        after.map(|key| key.id),
        query.limit,
        visibility_json(query.visibility),
    )
    .fetch_all(conn)
    .await?)
}

/// One appraisal decision.
#[derive(Debug, Clone)]
pub struct AppraisalRow {
    pub id: Uuid,
    pub record_id: Uuid,
    pub decision: String,
    pub years: Option<i32>,
    pub reason: String,
    pub decided_by: Option<Uuid>,
    pub decided_at: DateTime<Utc>,
}

pub async fn insert_appraisal(conn: &mut PgConnection, row: &AppraisalRow) -> Result<(), DbError> {
    sqlx::query!(
        "insert into appraisals (id, record_id, decision, years, reason, decided_by, decided_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
        row.id,
        row.record_id,
        row.decision,
        row.years,
        row.reason,
        row.decided_by,
        row.decided_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The latest appraisal of each of `record_ids` that has one.
pub async fn latest_appraisals(
    conn: &mut PgConnection,
    record_ids: &[Uuid],
) -> Result<Vec<AppraisalRow>, DbError> {
    Ok(sqlx::query_as!(
        AppraisalRow,
        "select distinct on (record_id) id, record_id, decision, years, reason, decided_by, decided_at
         from appraisals where record_id = any($1)
         order by record_id, decided_at desc, id desc",
        record_ids
    )
    .fetch_all(conn)
    .await?)
}

/// Keeps the record at least until `min_due_on`, whatever recomputation says.
pub async fn set_min_due_on(
    conn: &mut PgConnection,
    record_id: Uuid,
    min_due_on: NaiveDate,
) -> Result<(), DbError> {
    sqlx::query!(
        "update records set retention_min_due_on = $2, updated_at = now() where id = $1",
        record_id,
        min_due_on
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes the record permanent for good.
pub async fn set_permanent(conn: &mut PgConnection, record_id: Uuid) -> Result<(), DbError> {
    sqlx::query!(
        "update records set retention_permanent = true, updated_at = now() where id = $1",
        record_id
    )
    .execute(conn)
    .await?;
    Ok(())
}
