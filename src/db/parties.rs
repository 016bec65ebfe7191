//! Parties (當事人): employees and customers, and dated events of parties and records.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use super::access::visibility_json;
use crate::domain::party::{PartyKind, PartyStatus};
use crate::domain::permissions::Visibility;

/// A party as stored, with its department's code.
#[derive(Debug, Clone)]
pub struct PartyRow {
    pub id: Uuid,
    pub kind: PartyKind,
    pub identifier: String,
    pub name: String,
    pub department: Option<String>,
    pub status: PartyStatus,
    pub industry: Option<String>,
    pub nature: Option<String>,
    pub region: Option<String>,
    pub customer_type: Option<String>,
    pub grade: Option<String>,
    pub credit_limit: Option<f64>,
    pub contacts: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The stored values of a party.
pub struct PartyValues<'a> {
    pub name: &'a str,
    pub department_id: Option<Uuid>,
    pub status: PartyStatus,
    pub industry: Option<&'a str>,
    pub nature: Option<&'a str>,
    pub region: Option<&'a str>,
    pub customer_type: Option<&'a str>,
    pub grade: Option<&'a str>,
    pub credit_limit: Option<f64>,
    pub contacts: &'a Value,
}

/// A dated event.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: Uuid,
    pub party_id: Option<Uuid>,
    pub record_id: Option<Uuid>,
    pub r#type: String,
    pub date: NaiveDate,
    pub note: Option<String>,
    pub outcome: Option<String>,
    pub next_step: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// Inserts a party; a taken identifier fails with [`Conflict::PartyIdentifier`](super::Conflict::PartyIdentifier).
pub async fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    kind: PartyKind,
    identifier: &str,
    values: &PartyValues<'_>,
    created_by: Option<Uuid>,
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into parties (id, kind, identifier, name, department_id, status, industry, nature, region,
           customer_type, grade, credit_limit, contacts, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::float8, $13, $14)",
        id,
        kind.as_str(),
        identifier,
        values.name,
        values.department_id,
        values.status.as_str(),
        values.industry,
        values.nature,
        values.region,
        values.customer_type,
        values.grade,
        values.credit_limit,
        values.contacts,
        created_by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    values: &PartyValues<'_>,
) -> Result<(), DbError> {
    sqlx::query!(
        "update parties set name = $2, department_id = $3, status = $4, industry = $5, nature = $6,
           region = $7, customer_type = $8, grade = $9, credit_limit = $10::float8, contacts = $11, updated_at = now()
         where id = $1",
        id,
        values.name,
        values.department_id,
        values.status.as_str(),
        values.industry,
        values.nature,
        values.region,
        values.customer_type,
        values.grade,
        values.credit_limit,
        values.contacts,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: PartyStatus,
) -> Result<(), DbError> {
    sqlx::query!(
        "update parties set status = $2, updated_at = now() where id = $1",
        id,
        status.as_str()
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<PartyRow>, DbError> {
    Ok(sqlx::query_as!(
        PartyRow,
        r#"select p.id, p.kind as "kind: PartyKind", p.identifier, p.name, d.code as "department?",
                  p.status as "status: PartyStatus", p.industry, p.nature,
                  p.region, p.customer_type, p.grade, p.credit_limit::float8 as credit_limit, p.contacts, p.created_at, p.updated_at
           from parties p left join departments d on d.id = p.department_id
           where p.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// Parties, filtered by kind, status and department code, in (kind, identifier) order
/// after the `after` position.
pub async fn list(
    conn: &mut PgConnection,
    visibility: &Visibility,
    kind: Option<&str>,
    status: Option<&str>,
    department: Option<&str>,
    limit: i64,
    after: Option<(&str, &str)>,
) -> Result<Vec<PartyRow>, DbError> {
    let (after_kind, after_identifier) = after.unzip();
    Ok(sqlx::query_as!(
        PartyRow,
        r#"select p.id, p.kind as "kind: PartyKind", p.identifier, p.name, d.code as "department?",
                  p.status as "status: PartyStatus", p.industry, p.nature,
                  p.region, p.customer_type, p.grade, p.credit_limit::float8 as credit_limit, p.contacts, p.created_at, p.updated_at
           from parties p left join departments d on d.id = p.department_id
           where ($1::text is null or p.kind = $1)
             and ($2::text is null or p.status = $2)
             and ($3::text is null or d.code = $3)
             and ($5::text is null or (p.kind, p.identifier) > ($5, $6))
             and party_visible(p, $7)
           order by p.kind, p.identifier
           limit $4"#,
        kind,
        status,
        department,
        limit,
        after_kind,
        after_identifier,
        visibility_json(visibility),
    )
    .fetch_all(conn)
    .await?)
}

pub async fn insert_event(conn: &mut PgConnection, event: &EventRow) -> Result<(), DbError> {
    sqlx::query!(
        "insert into events (id, party_id, record_id, type, date, note, outcome, next_step,
                             created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        event.id,
        event.party_id,
        event.record_id,
        event.r#type,
        event.date,
        event.note,
        event.outcome,
        event.next_step,
        event.created_by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A party's events, oldest first.
pub async fn events(conn: &mut PgConnection, party_id: Uuid) -> Result<Vec<EventRow>, DbError> {
    Ok(sqlx::query_as!(
        EventRow,
        r#"select id, party_id, record_id, type as "type", date, note, outcome, next_step,
                  created_by, created_at
           from events where party_id = $1 order by date, created_at"#,
        party_id
    )
    .fetch_all(conn)
    .await?)
}

/// The parties with this employee number or customer code (of `kind`, if given): at most
/// one per kind.
pub async fn find_by_identifier(
    conn: &mut PgConnection,
    identifier: &str,
    kind: Option<&str>,
) -> Result<Vec<(Uuid, String)>, DbError> {
    let rows = sqlx::query!(
        "select id, kind from parties
         where identifier = $1 and ($2::text is null or kind = $2)
         order by kind",
        identifier,
        kind
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|row| (row.id, row.kind)).collect())
}

/// How many live records are in the custody of employee `party_id`.
pub async fn custody_count(conn: &mut PgConnection, party_id: Uuid) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "count!" from records
           where custodian_id = $1 and status = 'active'"#,
        party_id
    )
    .fetch_one(conn)
    .await?)
}

/// Moves the live records in the custody of `from` to `to`; returns them by id.
pub async fn hand_over(
    conn: &mut PgConnection,
    from: Uuid,
    to: Uuid,
) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar!(
        "update records set custodian_id = $2, updated_at = now()
         where custodian_id = $1 and status = 'active'
         returning id",
        from,
        to
    )
    .fetch_all(conn)
    .await?)
}

/// What a folder's cover and notes sheet (案卷封面, 備考表) sum up from its records.
#[derive(Debug, Clone)]
pub struct FolderSheetFacts {
    pub fonds: Vec<String>,
    pub fonds_names: Vec<String>,
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
    pub items: i64,
    pub pages: i64,
    pub copies: i64,
    pub retention: Vec<String>,
}

/// The facts of the live records `record_ids` of a folder.
pub async fn folder_sheet(
    conn: &mut PgConnection,
    record_ids: &[Uuid],
) -> Result<FolderSheetFacts, DbError> {
    Ok(sqlx::query_as!(
        FolderSheetFacts,
        r#"select coalesce(array_agg(distinct f.code) filter (where f.code is not null), '{}')
                      as "fonds!",
                  coalesce(array_agg(distinct f.name) filter (where f.name is not null), '{}')
                      as "fonds_names!",
                  min(r.doc_date) as first_date, max(r.doc_date) as last_date,
                  count(*) as "items!", coalesce(sum(r.pages), 0)::int8 as "pages!",
                  (select count(distinct rf.record_id) from record_files rf
                    where rf.record_id = any($1) and rf.copy) as "copies!",
                  coalesce(array_agg(distinct rp.code) filter (where rp.code is not null), '{}')
                      as "retention!"
           from records r
           left join fonds f on f.id = r.fonds_id
           left join retention_policies rp on rp.id = r.retention_policy_id
           where r.id = any($1) and r.status = 'active'"#,
        record_ids
    )
    .fetch_one(conn)
    .await?)
}

/// A folder's kind and sign-off.
#[derive(Debug, Clone)]
pub struct SignOffState {
    pub kind: String,
    pub signed_off_by: Option<Uuid>,
    pub signed_off_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

pub async fn sign_off_state(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<SignOffState>, DbError> {
    Ok(sqlx::query_as!(
        SignOffState,
        "select kind, signed_off_by, signed_off_at, sign_off_note as note from parties
         where id = $1",
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// Signs the folder off; false when it already was.
pub async fn sign_off(
    conn: &mut PgConnection,
    id: Uuid,
    by: Uuid,
    note: Option<&str>,
) -> Result<bool, DbError> {
    Ok(sqlx::query!(
        "update parties set signed_off_by = $2, signed_off_at = now(), sign_off_note = $3,
                updated_at = now()
         where id = $1 and signed_off_at is null",
        id,
        by,
        note
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}
