//! Reading records and their files back.

use std::ops::Range;

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Actor, ServiceError, ServiceResult};
use crate::blobs::BlobStore;
use crate::db::{self, Pool};
use crate::domain::Sha256Digest;

/// A record as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordView {
    pub id: Uuid,
    pub title: String,
    pub doc_date: NaiveDate,
    pub category: Option<String>,
    pub description: Option<String>,
    /// `active` or `destroyed`.
    pub status: String,
    pub files: Vec<FileView>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One electronic file of a record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileView {
    pub id: Uuid,
    /// SHA-256 of the content, 64 hex digits; also the download's `ETag`.
    #[schema(value_type = String)]
    pub sha256: Sha256Digest,
    pub size: u64,
    pub media_type: String,
    /// The original filename, e.g. `身份證復印件.jpg`.
    pub filename: String,
    pub created_at: DateTime<Utc>,
}

/// Looks records up and streams their files.
#[derive(Clone)]
pub struct RecordService {
    pool: Pool,
    blobs: BlobStore,
}

impl RecordService {
    pub fn new(pool: Pool, blobs: BlobStore) -> Self {
        Self { pool, blobs }
    }

    /// The record with its files.
    pub async fn get(&self, _actor: &Actor, id: Uuid) -> ServiceResult<RecordView> {
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        let record = db::records::find(&mut conn, id)
            .await?
            .ok_or_else(|| record_not_found(id))?;
        let files = db::records::files(&mut conn, id).await?;
        record_view(record, files)
    }

    /// One file's description, without its content.
    pub async fn file(
        &self,
        _actor: &Actor,
        record_id: Uuid,
        file_id: Uuid,
    ) -> ServiceResult<FileView> {
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        let file = db::records::file(&mut conn, record_id, file_id)
            .await?
            .ok_or_else(|| {
                ServiceError::NotFound(format!("record {record_id} has no file {file_id}"))
            })?;
        file_view(file)
    }

    /// Streams the file's content, or the byte `range` of it, and records the access.
    pub async fn read(
        &self,
        actor: &Actor,
        record_id: Uuid,
        file: &FileView,
        range: Option<Range<u64>>,
    ) -> ServiceResult<BoxStream<'static, Result<Bytes, ServiceError>>> {
        if let Some(range) = &range
            && (range.start >= range.end || range.end > file.size)
        {
            return Err(ServiceError::RangeNotSatisfiable { size: file.size });
        }
        let stream = self.blobs.read(file.sha256, range.clone()).await?;
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        db::audit::append(
            &mut conn,
            Some(actor.user_id),
            "file.read",
            Some(record_id),
            &serde_json::json!({ "file_id": file.id, "range": range.map(|r| [r.start, r.end]) }),
        )
        .await?;
        Ok(stream.map_err(ServiceError::from).boxed())
    }
}

fn record_not_found(id: Uuid) -> ServiceError {
    ServiceError::NotFound(format!("record {id} not found"))
}

pub(super) fn record_view(
    record: db::records::RecordRow,
    files: Vec<db::records::FileRow>,
) -> ServiceResult<RecordView> {
    Ok(RecordView {
        id: record.id,
        title: record.title,
        doc_date: record.doc_date,
        category: record.category,
        description: record.description,
        status: record.status,
        files: files
            .into_iter()
            .map(file_view)
            .collect::<ServiceResult<_>>()?,
        created_by: record.created_by,
        created_at: record.created_at,
        updated_at: record.updated_at,
    })
}

fn file_view(file: db::records::FileRow) -> ServiceResult<FileView> {
    Ok(FileView {
        id: file.id,
        sha256: Sha256Digest::from_slice(&file.sha256).ok_or_else(|| {
            ServiceError::Internal(format!("file {} has a malformed digest", file.id))
        })?,
        size: u64::try_from(file.size).unwrap_or_default(),
        media_type: file.media_type,
        filename: file.filename,
        created_at: file.created_at,
    })
}
