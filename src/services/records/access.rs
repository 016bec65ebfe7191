//! Access to records (R11–R13): a record is seen by role (the permission policy) or through
//! an approved loan that has not run out; a borrowed file is watermarked with borrower, loan
//! and time unless the loan permits copies. Viewing a record and reading its files are
//! recorded in the record's audit trail, so a leak can be traced to the person who saw it.

use std::ops::Range;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use uuid::Uuid;

use super::{FileView, RecordService, RecordView, file_view, record_not_found};
use crate::db;
use crate::domain::audit::AuditAction;
use crate::domain::loan::watermark_line;
use crate::domain::record::RecordStatus;
use crate::extract::{self, ExtractError, Marked, Overlay};
use crate::services::access::require_record;
use crate::services::{Actor, ServiceError, ServiceResult};

/// The largest file a borrowed copy is made of (it is marked in memory).
const MAX_MARKED_BYTES: u64 = 512 * 1024 * 1024;

pub use crate::services::access::Access;

impl RecordService {
    /// How `actor` may see record `id`; a record they may not see is absent (404), so its
    /// existence does not leak.
    pub(super) async fn access(
        &self,
        conn: &mut db::PgConnection,
        actor: &Actor,
        id: Uuid,
    ) -> ServiceResult<Access> {
        require_record(conn, actor, id, self.today()).await
    }

    /// The record as [`RecordService::get`] gives it, with the view recorded in its trail.
    pub async fn view(&self, actor: &Actor, id: Uuid) -> ServiceResult<RecordView> {
        let view = self.get(actor, id).await?;
        self.audit(actor, AuditAction::RecordViewed, id, &serde_json::json!({}))
            .await?;
        Ok(view)
    }

    /// One file's description, without its content, and how the caller may see it.
    pub async fn file(
        &self,
        actor: &Actor,
        record_id: Uuid,
        file_id: Uuid,
    ) -> ServiceResult<(FileView, Access)> {
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        let access = self.access(&mut conn, actor, record_id).await?;
        if let Access::Loan { physical: true, .. } = access {
            return Err(ServiceError::Forbidden(
                "a physical loan lends the paper, not a download; ask for an electronic loan"
                    .into(),
            ));
        }
        if let Access::Loan {
            reading_room: true, ..
        } = access
        {
            return Err(ServiceError::Forbidden(
                "a reading-room loan is read in the reading room: no copy, no download".into(),
            ));
        }
        let record = db::records::find(&mut conn, record_id)
            .await?
            .ok_or_else(|| record_not_found(record_id))?;
        if record.status == RecordStatus::Destroyed {
            return Err(ServiceError::Gone(format!(
                "record {record_id} was destroyed; its files are gone"
            )));
        }
        let file = db::records::file(&mut conn, record_id, file_id)
            .await?
            .ok_or_else(|| {
                ServiceError::NotFound(format!("record {record_id} has no file {file_id}"))
            })?;
        Ok((file_view(file)?, access))
    }

    /// The text extracted from a file, cut to `limit` bytes, for a reader of the record; the
    /// read is audited like a view of the file.
    pub async fn file_text(
        &self,
        actor: &Actor,
        record_id: Uuid,
        file_id: Uuid,
        limit: usize,
    ) -> ServiceResult<Option<String>> {
        let (_, access) = self.file(actor, record_id, file_id).await?;
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        let Some(mut text) = db::texts::text_of(&mut conn, record_id, file_id).await? else {
            return Ok(None);
        };
        if text.len() > limit {
            let mut cut = limit;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        let details = serde_json::json!({
            "file_id": file_id, "text": true, "loan_id": access.marked_loan(),
        });
        self.audit(actor, AuditAction::FileRead, record_id, &details)
            .await?;
        Ok(Some(text))
    }

    /// The first page of a PDF file as a PNG thumbnail of at most `size` pixels, rendered in
    /// a limited child process; recorded as a read of the file.
    pub async fn thumbnail(
        &self,
        actor: &Actor,
        record_id: Uuid,
        file_id: Uuid,
        size: u32,
    ) -> ServiceResult<Vec<u8>> {
        let (file, access) = self.file(actor, record_id, file_id).await?;
        if file.media_type != "application/pdf" {
            return Err(ServiceError::NotFound(format!(
                "file {file_id} is not a PDF; it has no page thumbnail"
            )));
        }
        let stopped =
            |error: tokio::task::JoinError| ServiceError::Internal(format!("thumbnail: {error}"));
        let sandbox = self.sandbox.clone();
        let scratch = tokio::task::spawn_blocking(move || sandbox.scratch_file("thumb-"))
            .await
            .map_err(stopped)?
            .map_err(|error| ServiceError::Internal(error.to_string()))?;
        self.blobs.copy_to_file(file.sha256, scratch.path()).await?;
        let sandbox = self.sandbox.clone();
        let png = tokio::task::spawn_blocking(move || sandbox.pdf_thumbnail(scratch.path(), size))
            .await
            .map_err(stopped)?
            .map_err(|error| {
                ServiceError::Conflict(format!("no thumbnail of this PDF could be made ({error})"))
            })?;
        let details = serde_json::json!({
            "file_id": file_id, "thumbnail": true, "loan_id": access.marked_loan(),
        });
        self.audit(actor, AuditAction::FileRead, record_id, &details)
            .await?;
        Ok(png)
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
        let details =
            serde_json::json!({ "file_id": file.id, "range": range.map(|r| [r.start, r.end]) });
        self.audit(actor, AuditAction::FileRead, record_id, &details)
            .await?;
        Ok(stream.map_err(ServiceError::from).boxed())
    }

    /// The borrowed copy of a file: its content with the watermark of `loan_id` naming the
    /// caller and the time; recorded as a read. Formats that cannot be marked are refused.
    pub async fn read_marked(
        &self,
        actor: &Actor,
        record_id: Uuid,
        file: &FileView,
        loan_id: Uuid,
    ) -> ServiceResult<Marked> {
        if file.size > MAX_MARKED_BYTES {
            return Err(ServiceError::Forbidden(format!(
                "a borrowed copy is made of files up to {MAX_MARKED_BYTES} bytes; this one is \
                 {} bytes: ask for a loan that permits copies",
                file.size
            )));
        }
        if !extract::can_watermark(&file.media_type) {
            return Err(not_markable(&file.media_type));
        }
        let line = watermark_line(
            &actor.username,
            loan_id,
            chrono::Utc::now().with_timezone(&self.timezone),
        );
        let marked = self.watermark(file, Overlay::Line { line }).await?;
        let details =
            serde_json::json!({ "file_id": file.id, "loan_id": loan_id, "watermarked": true });
        self.audit(actor, AuditAction::FileRead, record_id, &details)
            .await?;
        Ok(marked)
    }

    /// Marks a copy of the file in a child process (`extract::Sandbox`): a hostile PDF can
    /// end that child, never the server.
    pub(super) async fn watermark(
        &self,
        file: &FileView,
        overlay: Overlay,
    ) -> ServiceResult<Marked> {
        let stopped = |error: tokio::task::JoinError| {
            ServiceError::Internal(format!("watermarking: {error}"))
        };
        let sandbox = self.sandbox.clone();
        let (input, output) = tokio::task::spawn_blocking(move || {
            Ok::<_, ExtractError>((
                sandbox.scratch_file("mark-in-")?,
                sandbox.scratch_file("mark-out-")?,
            ))
        })
        .await
        .map_err(stopped)?
        .map_err(|error| ServiceError::Internal(error.to_string()))?;
        self.blobs.copy_to_file(file.sha256, input.path()).await?;
        let sandbox = self.sandbox.clone();
        let media_type = file.media_type.clone();
        tokio::task::spawn_blocking(move || {
            let media_type =
                sandbox.watermark(input.path(), output.path(), &media_type, &overlay)?;
            let content = std::fs::read(output.path())
                .map_err(|error| ExtractError::io("read the marked copy", error))?;
            Ok(Marked {
                content,
                media_type,
            })
        })
        .await
        .map_err(stopped)?
        .map_err(|error| match error {
            ExtractError::Unsupported { media_type } => not_markable(&media_type),
            other => ServiceError::Conflict(format!(
                "the marked copy could not be made ({other}); ask the records office"
            )),
        })
    }

    /// Records an access to the record in its audit trail.
    pub(super) async fn audit(
        &self,
        actor: &Actor,
        action: AuditAction,
        record_id: Uuid,
        details: &serde_json::Value,
    ) -> ServiceResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        db::audit::append(
            &mut conn,
            Some(actor.user_id),
            action,
            Some(record_id),
            details,
        )
        .await?;
        Ok(())
    }
}

/// The refusal of a borrowed file that cannot carry a watermark.
fn not_markable(media_type: &str) -> ServiceError {
    ServiceError::Forbidden(format!(
        "a borrowed {media_type} file cannot be watermarked; it is downloaded under a loan \
         that permits copies (copy_allowed)"
    ))
}
