//! The filing stamp (歸檔章) on a derived copy: the item's fonds, year, item number,
//! organisation, retention and pages in a box at the top right of its first page. The stored
//! original is never touched; the copy is made for the download, in the sandbox.

use uuid::Uuid;

use super::{FileView, RecordService};
use crate::domain::audit::AuditAction;
use crate::domain::permissions::Capability;
use crate::extract::{Marked, Overlay};
use crate::print::stamp::FilingStamp;
use crate::services::{Actor, ServiceError, ServiceResult, require};

/// What the stamp is laid on: PDFs and scans (a scan comes back as a PDF page).
const STAMPABLE: [&str; 4] = ["application/pdf", "image/jpeg", "image/jpg", "image/png"];

/// The largest file a stamped copy is made of (it is made in memory).
const MAX_STAMPED_BYTES: u64 = 512 * 1024 * 1024;

impl RecordService {
    /// A copy of the file with the filing stamp on its first page, for the records office;
    /// a record the caller may not see answers as a missing one.
    pub async fn stamped(
        &self,
        actor: &Actor,
        record_id: Uuid,
        file_id: Uuid,
    ) -> ServiceResult<(FileView, Marked)> {
        let (file, access) = self.file(actor, record_id, file_id).await?;
        require(actor, Capability::FileRecords)?;
        if access.marked_loan().is_some() {
            return Err(ServiceError::Forbidden(
                "a borrowed file comes only as a watermarked copy".into(),
            ));
        }
        if !STAMPABLE.contains(&file.media_type.as_str()) {
            return Err(ServiceError::UnsupportedMediaType(format!(
                "the filing stamp is laid on PDFs and scans (JPEG, PNG), not on {}",
                file.media_type
            )));
        }
        if file.size > MAX_STAMPED_BYTES {
            return Err(ServiceError::Validation(format!(
                "a stamped copy is made of files up to {MAX_STAMPED_BYTES} bytes"
            )));
        }
        let record = self.get(actor, record_id).await?;
        let item = record
            .archival_code
            .as_deref()
            .and_then(|code| code.rsplit('-').next())
            .unwrap_or_default()
            .to_owned();
        let stamp = FilingStamp {
            fonds: record.fonds.unwrap_or_default(),
            year: record.year.to_string(),
            item,
            organisation: record.department.unwrap_or_default(),
            retention: record.retention.unwrap_or_default(),
            pages: record
                .pages
                .map(|pages| pages.to_string())
                .unwrap_or_default(),
        };
        let details = serde_json::json!({ "file_id": file.id, "stamp": &stamp });
        let marked = self
            .watermark(&file, Overlay::FilingStamp { stamp })
            .await?;
        self.audit(actor, AuditAction::FileStamped, record_id, &details)
            .await?;
        Ok((file, marked))
    }
}
