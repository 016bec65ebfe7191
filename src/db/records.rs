//! Records (件), their files, archival code sequences and retention due dates.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use crate::domain::catalogue::{Carrier, OpenStatus, SecurityLevel};
use crate::domain::record::RecordStatus;

/// A record as stored, with the codes of its classification.
#[derive(Debug, Clone)]
pub struct RecordRow {
    pub id: Uuid,
    pub title: String,
    pub doc_date: NaiveDate,
    pub year: i32,
    pub fonds: Option<String>,
    pub category: Option<String>,
    pub retention: Option<String>,
    pub department: Option<String>,
    pub party_id: Option<Uuid>,
    pub custodian_id: Option<Uuid>,
    pub doc_number: Option<String>,
    pub responsible: Option<String>,
    pub pages: Option<i32>,
    pub security_level: SecurityLevel,
    pub open_status: OpenStatus,
    pub carrier: Carrier,
    pub location: Option<Value>,
    pub description: Option<String>,
    pub translated_title: Option<String>,
    pub doc_type: Option<String>,
    pub custom: Value,
    pub archival_code: Option<String>,
    pub status: RecordStatus,
    pub retention_due_on: Option<NaiveDate>,
    pub retention_reason: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The stored values of a record's metadata, by id: what inserts and updates write.
pub struct RecordValues<'a> {
    pub title: &'a str,
    pub doc_date: NaiveDate,
    pub year: i32,
    pub fonds_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub retention_policy_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub party_id: Option<Uuid>,
    pub custodian_id: Option<Uuid>,
    pub doc_number: Option<&'a str>,
    pub responsible: Option<&'a str>,
    pub pages: Option<i32>,
    pub security_level: &'a str,
    pub open_status: &'a str,
    pub carrier: &'a str,
    pub location: Option<Value>,
    pub description: Option<&'a str>,
    pub translated_title: Option<&'a str>,
    pub doc_type: Option<&'a str>,
    pub custom: &'a Value,
}

/// One electronic file of a record.
#[derive(Debug, Clone)]
pub struct FileRow {
    pub id: Uuid,
    pub record_id: Uuid,
    pub position: i32,
    pub sha256: Vec<u8>,
    pub size: i64,
    pub media_type: String,
    pub filename: String,
    pub created_at: DateTime<Utc>,
    /// A copy (複印件) rather than the original, and why it is filed.
    pub copy: bool,
    pub copy_note: Option<String>,
    /// The file that replaced this one (a correction), when and why; `None`: current.
    pub replaced_by: Option<Uuid>,
    pub replaced_at: Option<DateTime<Utc>>,
    pub replace_reason: Option<String>,
}

/// Inserts a record; the row as [`find`] reads it, in the same round trip.
pub async fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    values: &RecordValues<'_>,
    created_by: Uuid,
) -> Result<RecordRow, DbError> {
    Ok(sqlx::query_as!(
        RecordRow,
        r#"with r as (
             insert into records (id, title, doc_date, year, fonds_id, category_id,
               retention_policy_id, department_id, party_id, doc_number, responsible, pages,
               security_level, open_status, carrier, location, description, translated_title,
               doc_type, custom, created_by, custodian_id)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19, $20, $21, $22)
             returning *)
           select r.id, r.title, r.doc_date, r.year, f.code as "fonds?", c.code as "category?",
                  rp.code as "retention?", d.code as "department?", r.party_id, r.custodian_id,
                  r.doc_number, r.responsible,
                  r.pages, r.security_level as "security_level: SecurityLevel",
                  r.open_status as "open_status: OpenStatus", r.carrier as "carrier: Carrier",
                  r.location, r.description, r.translated_title, r.doc_type, r.custom,
                  r.archival_code, r.status as "status: RecordStatus", r.retention_due_on,
                  r.retention_reason, r.created_by, r.created_at, r.updated_at
           from r
           left join fonds f on f.id = r.fonds_id
           left join categories c on c.id = r.category_id
           left join retention_policies rp on rp.id = r.retention_policy_id
           left join departments d on d.id = r.department_id"#,
        id,
        values.title,
        values.doc_date,
        values.year,
        values.fonds_id,
        values.category_id,
        values.retention_policy_id,
        values.department_id,
        values.party_id,
        values.doc_number,
        values.responsible,
        values.pages,
        values.security_level,
        values.open_status,
        values.carrier,
        values.location,
        values.description,
        values.translated_title,
        values.doc_type,
        values.custom,
        created_by,
        values.custodian_id,
    )
    .fetch_one(conn)
    .await?)
}

pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    values: &RecordValues<'_>,
) -> Result<(), DbError> {
    sqlx::query!(
        "update records set title = $2, doc_date = $3, year = $4, fonds_id = $5, category_id = $6,
           retention_policy_id = $7, department_id = $8, party_id = $9, doc_number = $10, responsible = $11,
           pages = $12, security_level = $13, open_status = $14, carrier = $15, location = $16,
           description = $17, translated_title = $18, doc_type = $19, custom = $20,
           custodian_id = $21, updated_at = now()
         where id = $1",
        id,
        values.title,
        values.doc_date,
        values.year,
        values.fonds_id,
        values.category_id,
        values.retention_policy_id,
        values.department_id,
        values.party_id,
        values.doc_number,
        values.responsible,
        values.pages,
        values.security_level,
        values.open_status,
        values.carrier,
        values.location,
        values.description,
        values.translated_title,
        values.doc_type,
        values.custom,
        values.custodian_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The record with the codes of its classification.
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<RecordRow>, DbError> {
    Ok(sqlx::query_as!(
        RecordRow,
        r#"select r.id, r.title, r.doc_date, r.year, f.code as "fonds?", c.code as "category?",
                  rp.code as "retention?", d.code as "department?", r.party_id, r.custodian_id,
                  r.doc_number, r.responsible,
                  r.pages, r.security_level as "security_level: SecurityLevel",
                  r.open_status as "open_status: OpenStatus", r.carrier as "carrier: Carrier",
                  r.location, r.description, r.translated_title, r.doc_type, r.custom,
                  r.archival_code, r.status as "status: RecordStatus", r.retention_due_on,
                  r.retention_reason, r.created_by, r.created_at, r.updated_at
           from records r
           left join fonds f on f.id = r.fonds_id
           left join categories c on c.id = r.category_id
           left join retention_policies rp on rp.id = r.retention_policy_id
           left join departments d on d.id = r.department_id
           where r.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// The records of a party, in order of document date (卷內文件目錄 order).
pub async fn of_party(conn: &mut PgConnection, party_id: Uuid) -> Result<Vec<RecordRow>, DbError> {
    Ok(sqlx::query_as!(
        RecordRow,
        r#"select r.id, r.title, r.doc_date, r.year, f.code as "fonds?", c.code as "category?",
                  rp.code as "retention?", d.code as "department?", r.party_id, r.custodian_id,
                  r.doc_number, r.responsible,
                  r.pages, r.security_level as "security_level: SecurityLevel",
                  r.open_status as "open_status: OpenStatus", r.carrier as "carrier: Carrier",
                  r.location, r.description, r.translated_title, r.doc_type, r.custom,
                  r.archival_code, r.status as "status: RecordStatus", r.retention_due_on,
                  r.retention_reason, r.created_by, r.created_at, r.updated_at
           from records r
           left join fonds f on f.id = r.fonds_id
           left join categories c on c.id = r.category_id
           left join retention_policies rp on rp.id = r.retention_policy_id
           left join departments d on d.id = r.department_id
           where r.party_id = $1
           order by r.doc_date, r.created_at"#,
        party_id
    )
    .fetch_all(conn)
    .await?)
}

/// Locks the record's row for an update; returns whether it exists.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<bool, DbError> {
    Ok(
        sqlx::query_scalar!("select id from records where id = $1 for update", id)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

/// The files of a record, current and replaced, in position order (a replaced file before
/// the one that replaced it).
pub async fn files(conn: &mut PgConnection, record_id: Uuid) -> Result<Vec<FileRow>, DbError> {
    Ok(sqlx::query_as!(
        FileRow,
        "select id, record_id, position, sha256, size, media_type, filename, created_at, copy,
                copy_note, replaced_by, replaced_at, replace_reason
         from record_files where record_id = $1 order by position, created_at",
        record_id
    )
    .fetch_all(conn)
    .await?)
}

pub async fn file(
    conn: &mut PgConnection,
    record_id: Uuid,
    file_id: Uuid,
) -> Result<Option<FileRow>, DbError> {
    Ok(sqlx::query_as!(
        FileRow,
        "select id, record_id, position, sha256, size, media_type, filename, created_at, copy,
                copy_note, replaced_by, replaced_at, replace_reason
         from record_files where record_id = $1 and id = $2",
        record_id,
        file_id
    )
    .fetch_optional(conn)
    .await?)
}

/// The ids that make up an archival class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchivalClass {
    pub fonds_id: Uuid,
    pub category_id: Uuid,
    pub year: i32,
    pub retention_policy_id: Uuid,
    pub department_id: Option<Uuid>,
}

/// Takes the next item number of a class. The sequence row stays locked until the
/// transaction ends: concurrent filings wait, and a rollback gives the number back.
pub async fn next_item_number(
    conn: &mut PgConnection,
    class: ArchivalClass,
) -> Result<i32, DbError> {
    Ok(sqlx::query_scalar!(
        "insert into archival_sequences (fonds_id, category_id, year, retention_policy_id, department_id, last_item)
         values ($1, $2, $3, $4, $5, 1)
         on conflict (fonds_id, category_id, year, retention_policy_id, coalesce(department_id, '00000000-0000-0000-0000-000000000000'::uuid))
         do update set last_item = archival_sequences.last_item + 1
         returning last_item",
        class.fonds_id,
        class.category_id,
        class.year,
        class.retention_policy_id,
        class.department_id,
    )
    .fetch_one(conn)
    .await?)
}

pub async fn set_archival_code(
    conn: &mut PgConnection,
    id: Uuid,
    code: &str,
    item: i32,
) -> Result<(), DbError> {
    sqlx::query!(
        "update records set archival_code = $2, item_number = $3 where id = $1",
        id,
        code,
        item
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a record's archival code and its retention in one update.
pub async fn set_archival_code_and_retention(
    conn: &mut PgConnection,
    id: Uuid,
    (code, item): (&str, i32),
    due_on: Option<NaiveDate>,
    reason: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query!(
        "update records set archival_code = $2, item_number = $3, retention_due_on = $4,
                            retention_reason = $5
         where id = $1",
        id,
        code,
        item,
        due_on,
        reason
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What retention arithmetic needs of one record.
#[derive(Debug, Clone)]
pub struct RetentionFacts {
    pub id: Uuid,
    pub doc_date: NaiveDate,
    pub min_due_on: Option<NaiveDate>,
    /// Made permanent by appraisal.
    pub permanent: bool,
    pub policy_code: Option<String>,
    pub years: Option<i32>,
    pub trigger: Option<String>,
    /// The latest event of the policy's trigger type, of the record or of its party.
    pub event_date: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub reason: Option<String>,
}

/// Which active records a retention recomputation covers.
#[derive(Debug, Clone, Copy)]
pub enum RetentionScope {
    Record(Uuid),
    /// Every record of a party (its events move their clocks).
    Party(Uuid),
    /// Every record under a retention policy (its terms changed).
    Policy(Uuid),
}

/// Retention facts of the active records in `scope`.
pub async fn retention_facts(
    conn: &mut PgConnection,
    scope: RetentionScope,
) -> Result<Vec<RetentionFacts>, DbError> {
    let (record_id, party_id, policy_id) = match scope {
        RetentionScope::Record(id) => (Some(id), None, None),
        RetentionScope::Party(id) => (None, Some(id), None),
        RetentionScope::Policy(id) => (None, None, Some(id)),
    };
    Ok(sqlx::query_as!(
        RetentionFacts,
        r#"select r.id, r.doc_date, r.retention_min_due_on as min_due_on,
                  r.retention_permanent as permanent, p.code as "policy_code?",
                  p.years as "years?", p.trigger as "trigger?",
                  (select max(e.date) from events e
                    where e.type = p.trigger and (e.record_id = r.id or e.party_id = r.party_id)) as event_date,
                  r.retention_due_on as due_on, r.retention_reason as reason
           from records r
           left join retention_policies p on p.id = r.retention_policy_id
           where r.status = 'active'
             -- one branch per scope, each skipped by a one-time filter when its parameter is
             -- null: a generic plan still finds one record by its key, not by a scan
             and r.id in (select id from records where $1::uuid is not null and id = $1
                          union all
                          select id from records where $2::uuid is not null and party_id = $2
                          union all
                          select id from records
                          where $3::uuid is not null and retention_policy_id = $3)
           order by r.id"#,
        record_id,
        party_id,
        policy_id
    )
    .fetch_all(conn)
    .await?)
}

pub async fn set_retention(
    conn: &mut PgConnection,
    id: Uuid,
    due_on: Option<NaiveDate>,
    reason: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query!(
        "update records set retention_due_on = $2, retention_reason = $3 where id = $1",
        id,
        due_on,
        reason
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// For each file of record `id`, the other active records holding the same content.
pub async fn shared_content(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Vec<(String, Uuid)>, DbError> {
    let rows = sqlx::query!(
        r#"select mine.filename, other.record_id as "record_id!"
           from record_files mine
           join record_files other on other.sha256 = mine.sha256 and other.record_id <> mine.record_id
           join records r on r.id = other.record_id and r.status = 'active'
           where mine.record_id = $1
           order by mine.position, other.record_id"#,
        id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.filename, row.record_id))
        .collect())
}
