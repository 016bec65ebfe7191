//! Reading records and their files back.

mod access;
mod stamp;

/// A borrowed file's watermarked copy.
pub use crate::extract::Marked as BorrowedCopy;
pub use access::Access;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::parties::{EventInput, EventView};
use super::{Actor, ServiceError, ServiceResult, filing, holds};
use crate::blobs::BlobStore;
use crate::db::{self, Pool};
use crate::domain::Sha256Digest;
use crate::domain::catalogue::{Carrier, Location, OpenStatus, SecurityLevel};
use crate::domain::disposition;
use crate::domain::permissions::{Capability, ChangeRefusal, check_change};
use crate::domain::record::{RecordMetadata, RecordPatch};
use crate::extract::Sandbox;
use crate::services::access::require_record;

/// A record as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordView {
    pub id: Uuid,
    /// 檔號, e.g. `Z109-WS·2024-D30-BGS-0007`; null until fonds, category, retention and
    /// department are all known.
    pub archival_code: Option<String>,
    pub title: String,
    pub doc_date: NaiveDate,
    pub year: i32,
    pub fonds: Option<String>,
    pub category: Option<String>,
    pub retention: Option<String>,
    pub department: Option<String>,
    pub party_id: Option<Uuid>,
    /// The employee (party id) who keeps the record in their care.
    pub custodian: Option<Uuid>,
    pub doc_number: Option<String>,
    pub responsible: Option<String>,
    pub pages: Option<i32>,
    pub security_level: SecurityLevel,
    pub open_status: OpenStatus,
    pub carrier: Carrier,
    pub location: Option<Location>,
    pub description: Option<String>,
    pub translated_title: Option<String>,
    pub doc_type: Option<String>,
    #[schema(value_type = Object)]
    pub custom: Value,
    /// `active` or `destroyed`.
    pub status: String,
    /// Legal holds on the record.
    pub holds: Vec<Uuid>,
    pub retention_due_on: Option<NaiveDate>,
    /// The rule that produced `retention_due_on`.
    pub retention_reason: Option<String>,
    pub files: Vec<FileView>,
    /// `damaged` when the last fixity sweep found a file's content changed or missing,
    /// else `intact`; shown when the record is read on its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity: Option<String>,
    /// For a destroyed record: what its destruction batch kept (archival code, title, dates,
    /// category, retention, files' SHA-256 and size, batch, approvers, supervisors).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub tombstone: Option<Value>,
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
    /// A copy (複印件) rather than the original (原件).
    pub copy: bool,
    /// Why a copy was filed instead of the original.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_note: Option<String>,
    /// Text extraction for search: shown when the record is read on its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<FileTextView>,
    /// The last fixity check of the stored content: shown when the record is read on its
    /// own and the content has been checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixity: Option<FixityView>,
}

/// The last time a file's stored content was re-hashed, and what that found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FixityView {
    /// `ok`, `mismatch` (the content no longer hashes to its SHA-256) or `missing`.
    pub outcome: String,
    pub verified_at: DateTime<Utc>,
}

/// How far the text extraction of a file got.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileTextView {
    /// `pending`, `done`, `failed` or `unsupported`.
    pub status: String,
    /// `pdf_text`, `pdf_ocr`, `image_ocr`, `plain_text`, `html`, `docx`, `odt`, `spreadsheet`.
    pub method: Option<String>,
    pub pages: Option<i32>,
    /// Characters of text found.
    pub chars: Option<i32>,
    /// Why there is no text, or what was left out.
    pub error: Option<String>,
}

/// Looks records up and streams their files.
#[derive(Clone)]
pub struct RecordService {
    pool: Pool,
    blobs: BlobStore,
    /// Where loans' due dates fall.
    timezone: chrono_tz::Tz,
    /// Where borrowed copies are watermarked: a child process.
    sandbox: Arc<Sandbox>,
}

impl RecordService {
    pub fn new(
        pool: Pool,
        blobs: BlobStore,
        timezone: chrono_tz::Tz,
        sandbox: Arc<Sandbox>,
    ) -> Self {
        Self {
            pool,
            blobs,
            timezone,
            sandbox,
        }
    }

    /// Today in the configured zone: loans run through their due date.
    pub(super) fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.timezone).date_naive()
    }

    /// The record with its files, to a caller who may see it by role or through a loan.
    pub async fn get(&self, actor: &Actor, id: Uuid) -> ServiceResult<RecordView> {
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        require_record(&mut conn, actor, id, self.today()).await?;
        let record = db::records::find(&mut conn, id)
            .await?
            .ok_or_else(|| record_not_found(id))?;
        let files = db::records::files(&mut conn, id).await?;
        let destroyed = record.status == "destroyed";
        let mut view = record_view(record, files)?;
        for state in db::texts::states(&mut conn, id).await? {
            if let Some(file) = view.files.iter_mut().find(|file| file.id == state.file_id) {
                file.text = Some(FileTextView {
                    status: state.status,
                    method: state.method,
                    pages: state.pages,
                    chars: state.chars,
                    error: state.error,
                });
            }
        }
        for (file_id, outcome, verified_at) in db::integrity::file_fixity(&mut conn, id).await? {
            if let Some(file) = view.files.iter_mut().find(|file| file.id == file_id) {
                file.fixity = Some(FixityView {
                    outcome,
                    verified_at,
                });
            }
        }
        let damaged = view.files.iter().any(|file| {
            file.fixity
                .as_ref()
                .is_some_and(|fixity| fixity.outcome != "ok")
        });
        view.integrity =
            (!destroyed).then(|| if damaged { "damaged" } else { "intact" }.to_owned());
        if destroyed {
            view.tombstone = db::destruction::tombstone(&mut conn, id).await?;
        }
        view.holds = holds::holds_covering(&mut conn, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        Ok(view)
    }

    /// The files of record `id` whose content is also filed with another record the caller
    /// sees: filename and that record (a hint to the filer that it was already archived).
    pub async fn shared_content(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> ServiceResult<Vec<(String, Uuid)>> {
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        require_record(&mut conn, actor, id, self.today()).await?;
        let shared = db::records::shared_content(&mut conn, id).await?;
        let others: Vec<Uuid> = shared.iter().map(|(_, other)| *other).collect();
        let visibility =
            crate::services::access::visibility(&mut conn, actor, self.today()).await?;
        let visible = db::access::visible_records(&mut conn, &others, &visibility).await?;
        Ok(shared
            .into_iter()
            .filter(|(_, other)| visible.contains(other))
            .collect())
    }

    /// Changes metadata. Parts of an assigned archival code cannot change; a record whose
    /// code was incomplete gets one as soon as its classification is. Audited with the
    /// fields' values before and after.
    #[tracing::instrument(skip_all, fields(record.id = %id))]
    pub async fn patch(
        &self,
        actor: &Actor,
        id: Uuid,
        patch: RecordPatch,
    ) -> ServiceResult<RecordView> {
        let mut tx = db::begin(&self.pool).await?;
        if !db::records::lock(&mut tx, id).await? {
            return Err(record_not_found(id));
        }
        require_record(&mut tx, actor, id, self.today()).await?;
        let row = db::records::find(&mut tx, id)
            .await?
            .ok_or_else(|| record_not_found(id))?;
        if row.status != "active" {
            return Err(ServiceError::Conflict(format!(
                "record {id} is {}; it cannot change",
                row.status
            )));
        }
        let files = db::records::files(&mut tx, id).await?;
        let before = record_view(row, files.clone())?;
        let current = stored_metadata(&before);
        let classified = filing::classify(
            &mut tx,
            patch.apply_to(current.clone())?,
            actor,
            !files.is_empty(),
        )
        .await?;
        let after = &classified.metadata;
        check_change(actor.role, &current, after).map_err(|refusal| match refusal {
            ChangeRefusal::Forbidden(why) => ServiceError::Forbidden(why),
            ChangeRefusal::NeedsReview(why) => ServiceError::Conflict(why),
        })?;
        if let Some(code) = &before.archival_code {
            let frozen = [
                ("fonds", &current.fonds, &after.fonds),
                ("category", &current.category, &after.category),
                ("retention", &current.retention, &after.retention),
                ("department", &current.department, &after.department),
            ];
            for (field, old, new) in frozen {
                if old != new {
                    return Err(ServiceError::Conflict(format!(
                        "{field} is part of the archival code {code} and cannot change after filing"
                    )));
                }
            }
            if current.year != after.year {
                return Err(ServiceError::Conflict(format!(
                    "year is part of the archival code {code} and cannot change after filing"
                )));
            }
        }
        db::records::update(&mut tx, id, &classified.values()?).await?;
        if current.location != after.location {
            crate::services::rooms::note_edited_location(&mut tx, actor, id, &current, after)
                .await?;
        }
        let assigned = match before.archival_code {
            Some(_) => None,
            None => filing::assign_archival_code(&mut tx, id, &classified).await?,
        };
        filing::recompute_retention(&mut tx, Some(id), None, None).await?;
        ensure_not_shortened_while_held(&mut tx, id, before.retention_due_on).await?;
        let changes = changed_fields(&current, after)?;
        if !changes.is_empty() || assigned.is_some() {
            db::audit::append(
                &mut tx,
                Some(actor.user_id),
                "record.updated",
                Some(id),
                &serde_json::json!({ "changes": changes, "archival_code_assigned": assigned }),
            )
            .await?;
        }
        tx.commit().await.map_err(db::DbError::from)?;
        self.get(actor, id).await
    }

    /// Records a dated event of the record (e.g. `asset_disposed`) and recomputes its due date.
    pub async fn add_event(
        &self,
        actor: &Actor,
        id: Uuid,
        input: EventInput,
    ) -> ServiceResult<EventView> {
        let event = input.validate()?;
        let mut tx = db::begin(&self.pool).await?;
        if !db::records::lock(&mut tx, id).await? {
            return Err(record_not_found(id));
        }
        require_record(&mut tx, actor, id, self.today()).await?;
        super::require(actor, Capability::RecordEvents)?;
        let row = db::parties::EventRow {
            id: Uuid::now_v7(),
            party_id: None,
            record_id: Some(id),
            r#type: event.r#type.clone(),
            date: event.date,
            note: event.note.clone(),
            created_by: Some(actor.user_id),
            created_at: Utc::now(),
        };
        db::parties::insert_event(&mut tx, &row).await?;
        filing::recompute_retention(&mut tx, Some(id), None, None).await?;
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            "record.event",
            Some(id),
            &serde_json::json!({ "type": row.r#type, "date": row.date, "note": row.note }),
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(EventView::from(row))
    }
}

/// A held record's retention may not be shortened: `on_hold` when the recomputed due date
/// is earlier than `due_before` (or exists where there was none).
async fn ensure_not_shortened_while_held(
    conn: &mut db::PgConnection,
    id: Uuid,
    due_before: Option<NaiveDate>,
) -> ServiceResult<()> {
    let due_after = db::records::find(conn, id)
        .await?
        .ok_or_else(|| record_not_found(id))?
        .retention_due_on;
    if disposition::shortens(due_before, due_after) {
        holds::ensure_not_held(conn, id, "its retention cannot be shortened").await?;
    }
    Ok(())
}

/// `{field: {before, after}}` for every field that differs.
fn changed_fields(
    before: &RecordMetadata,
    after: &RecordMetadata,
) -> ServiceResult<serde_json::Map<String, Value>> {
    let to_object = |metadata: &RecordMetadata| match serde_json::to_value(metadata) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(ServiceError::Internal(
            "metadata does not serialize to an object".into(),
        )),
    };
    let (before, after) = (to_object(before)?, to_object(after)?);
    Ok(after
        .into_iter()
        .filter_map(|(field, new)| {
            let old = before.get(&field).cloned().unwrap_or(Value::Null);
            (old != new).then(|| (field, serde_json::json!({ "before": old, "after": new })))
        })
        .collect())
}

pub(crate) fn record_not_found(id: Uuid) -> ServiceError {
    ServiceError::NotFound(format!("record {id} not found"))
}

pub(super) fn record_view(
    record: db::records::RecordRow,
    files: Vec<db::records::FileRow>,
) -> ServiceResult<RecordView> {
    let stored = |what: &str, value: &str| {
        ServiceError::Internal(format!(
            "record {} has a stored {what} {value:?}",
            record.id
        ))
    };
    Ok(RecordView {
        id: record.id,
        archival_code: record.archival_code.clone(),
        title: record.title.clone(),
        doc_date: record.doc_date,
        year: record.year,
        fonds: record.fonds.clone(),
        category: record.category.clone(),
        retention: record.retention.clone(),
        department: record.department.clone(),
        party_id: record.party_id,
        custodian: record.custodian_id,
        doc_number: record.doc_number.clone(),
        responsible: record.responsible.clone(),
        pages: record.pages,
        security_level: SecurityLevel::parse(&record.security_level)
            .ok_or_else(|| stored("security level", &record.security_level))?,
        open_status: OpenStatus::parse(&record.open_status)
            .ok_or_else(|| stored("open status", &record.open_status))?,
        carrier: Carrier::parse(&record.carrier)
            .ok_or_else(|| stored("carrier", &record.carrier))?,
        location: record
            .location
            .clone()
            .and_then(|value| serde_json::from_value(value).ok()),
        description: record.description.clone(),
        translated_title: record.translated_title.clone(),
        doc_type: record.doc_type.clone(),
        custom: record.custom.clone(),
        status: record.status.clone(),
        holds: Vec::new(),
        retention_due_on: record.retention_due_on,
        retention_reason: record.retention_reason.clone(),
        files: files
            .into_iter()
            .map(file_view)
            .collect::<ServiceResult<_>>()?,
        integrity: None,
        tombstone: None,
        created_by: record.created_by,
        created_at: record.created_at,
        updated_at: record.updated_at,
    })
}

/// The metadata of a stored record, as a patch applies to it.
pub(super) fn stored_metadata(view: &RecordView) -> RecordMetadata {
    RecordMetadata {
        title: view.title.clone(),
        doc_date: view.doc_date,
        year: view.year,
        fonds: view.fonds.clone(),
        category: view.category.clone(),
        retention: view.retention.clone(),
        department: view.department.clone(),
        party_id: view.party_id,
        custodian: view.custodian,
        doc_number: view.doc_number.clone(),
        responsible: view.responsible.clone(),
        pages: view.pages.and_then(|pages| u32::try_from(pages).ok()),
        security_level: Some(view.security_level),
        open_status: Some(view.open_status),
        carrier: Some(view.carrier),
        location: view.location.clone(),
        description: view.description.clone(),
        translated_title: view.translated_title.clone(),
        doc_type: view.doc_type.clone(),
        custom: view.custom.as_object().cloned().unwrap_or_default(),
    }
}

pub(super) fn file_view(file: db::records::FileRow) -> ServiceResult<FileView> {
    Ok(FileView {
        id: file.id,
        sha256: Sha256Digest::from_slice(&file.sha256).ok_or_else(|| {
            ServiceError::Internal(format!("file {} has a malformed digest", file.id))
        })?,
        size: u64::try_from(file.size).unwrap_or_default(),
        media_type: file.media_type,
        filename: file.filename,
        created_at: file.created_at,
        copy: file.copy,
        copy_note: file.copy_note,
        text: None,
        fixity: None,
    })
}
