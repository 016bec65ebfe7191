//! Records (件) and their files.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;

/// A record as stored.
#[derive(Debug, Clone)]
pub struct RecordRow {
    pub id: Uuid,
    pub title: String,
    pub doc_date: NaiveDate,
    pub category: Option<String>,
    pub description: Option<String>,
    pub status: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A record to insert.
pub struct NewRecord<'a> {
    pub id: Uuid,
    pub title: &'a str,
    pub doc_date: NaiveDate,
    pub category: Option<&'a str>,
    pub description: Option<&'a str>,
    pub created_by: Uuid,
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
}

pub async fn insert(conn: &mut PgConnection, record: &NewRecord<'_>) -> Result<RecordRow, DbError> {
    Ok(sqlx::query_as!(
        RecordRow,
        "insert into records (id, title, doc_date, category, description, created_by)
         values ($1, $2, $3, $4, $5, $6)
         returning id, title, doc_date, category, description, status, created_by, created_at, updated_at",
        record.id,
        record.title,
        record.doc_date,
        record.category,
        record.description,
        record.created_by,
    )
    .fetch_one(conn)
    .await?)
}

pub async fn insert_file(conn: &mut PgConnection, file: &FileRow) -> Result<(), DbError> {
    sqlx::query!(
        "insert into record_files (id, record_id, position, sha256, size, media_type, filename, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
        file.id,
        file.record_id,
        file.position,
        file.sha256,
        file.size,
        file.media_type,
        file.filename,
        file.created_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<RecordRow>, DbError> {
    Ok(sqlx::query_as!(
        RecordRow,
        "select id, title, doc_date, category, description, status, created_by, created_at, updated_at
         from records where id = $1",
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// The files of a record, in upload order.
pub async fn files(conn: &mut PgConnection, record_id: Uuid) -> Result<Vec<FileRow>, DbError> {
    Ok(sqlx::query_as!(
        FileRow,
        "select id, record_id, position, sha256, size, media_type, filename, created_at
         from record_files where record_id = $1 order by position",
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
        "select id, record_id, position, sha256, size, media_type, filename, created_at
         from record_files where record_id = $1 and id = $2",
        record_id,
        file_id
    )
    .fetch_optional(conn)
    .await?)
}
