//! Access to records (R13): viewing a record and reading its files are recorded in the
//! record's audit trail, so a leak can be traced to the person who saw the content.

use std::ops::Range;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use uuid::Uuid;

use super::{FileView, RecordService, RecordView, ensure_visible, file_view, record_not_found};
use crate::db;
use crate::services::{Actor, ServiceError, ServiceResult};

impl RecordService {
    /// The record as [`RecordService::get`] gives it, with the view recorded in its trail.
    pub async fn view(&self, actor: &Actor, id: Uuid) -> ServiceResult<RecordView> {
        let view = self.get(actor, id).await?;
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        db::audit::append(
            &mut conn,
            Some(actor.user_id),
            "record.viewed",
            Some(id),
            &serde_json::json!({}),
        )
        .await?;
        Ok(view)
    }

    /// One file's description, without its content.
    pub async fn file(
        &self,
        actor: &Actor,
        record_id: Uuid,
        file_id: Uuid,
    ) -> ServiceResult<FileView> {
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        ensure_visible(&mut conn, actor, record_id).await?;
        let record = db::records::find(&mut conn, record_id)
            .await?
            .ok_or_else(|| record_not_found(record_id))?;
        if record.status == "destroyed" {
            return Err(ServiceError::Gone(format!(
                "record {record_id} was destroyed; its files are gone"
            )));
        }
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
