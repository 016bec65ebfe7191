//! Records and files as clients see them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::super::{ServiceError, ServiceResult};
use crate::db;
use crate::domain::Sha256Digest;
use crate::domain::catalogue::{Carrier, Location, OpenStatus, SecurityLevel};
use crate::domain::record::{RecordMetadata, RecordStatus, TextStatus};

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
    /// `withdrawn` is 作廢: filed by mistake.
    pub status: RecordStatus,
    /// Legal holds on the record.
    pub holds: Vec<Uuid>,
    pub retention_due_on: Option<NaiveDate>,
    /// The rule that produced `retention_due_on`.
    pub retention_reason: Option<String>,
    /// The current files, in order.
    pub files: Vec<FileView>,
    /// Files that were replaced (corrections), each with the file that replaced it, when
    /// and why; their content stays stored and downloadable.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub earlier_files: Vec<FileView>,
    /// `damaged` when the last fixity sweep found a file's content changed or missing,
    /// else `intact`; shown when the record is read on its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity: Option<String>,
    /// For a destroyed record: what its destruction batch kept (archival code, title, dates,
    /// category, retention, files' SHA-256 and size, batch, approvers, supervisors). For a
    /// withdrawn one: its withdrawal (reason, proposer, approver, when).
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
    /// For an earlier file: the file that replaced it, when and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replace_reason: Option<String>,
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
    pub status: TextStatus,
    /// `pdf_text`, `pdf_ocr`, `image_ocr`, `plain_text`, `html`, `docx`, `odt`, `spreadsheet`.
    pub method: Option<String>,
    pub pages: Option<i32>,
    /// Characters of text found.
    pub chars: Option<i32>,
    /// Why there is no text, or what was left out.
    pub error: Option<String>,
}

pub(in crate::services) fn record_view(
    record: db::records::RecordRow,
    files: Vec<db::records::FileRow>,
) -> ServiceResult<RecordView> {
    let (mut current, mut earlier) = (Vec::new(), Vec::new());
    for file in files {
        let view = file_view(file)?;
        if view.replaced_by.is_some() {
            earlier.push(view);
        } else {
            current.push(view);
        }
    }
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
        security_level: record.security_level,
        open_status: record.open_status,
        carrier: record.carrier,
        location: record
            .location
            .clone()
            .and_then(|value| serde_json::from_value(value).ok()),
        description: record.description.clone(),
        translated_title: record.translated_title.clone(),
        doc_type: record.doc_type.clone(),
        custom: record.custom.clone(),
        status: record.status,
        holds: Vec::new(),
        retention_due_on: record.retention_due_on,
        retention_reason: record.retention_reason.clone(),
        files: current,
        earlier_files: earlier,
        integrity: None,
        tombstone: None,
        created_by: record.created_by,
        created_at: record.created_at,
        updated_at: record.updated_at,
    })
}

/// The metadata of a stored record, as a patch applies to it.
pub(in crate::services) fn stored_metadata(view: &RecordView) -> RecordMetadata {
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

pub(in crate::services) fn file_view(file: db::records::FileRow) -> ServiceResult<FileView> {
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
        replaced_by: file.replaced_by,
        replaced_at: file.replaced_at,
        replace_reason: file.replace_reason,
    })
}
