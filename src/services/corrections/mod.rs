//! Corrections of filed records (issue 19, item 1): the records office adds a file to a
//! filed record or replaces one (a bad scan), keeping the earlier file with its content,
//! hash and audit; and withdraws (作廢) a record filed by mistake with a director's
//! approval (`withdrawals`).

mod withdrawals;

pub use withdrawals::{WithdrawalFilter, WithdrawalView};

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use super::access::{Access, require_record};
use super::ingest::{IngestService, NewContent, PendingFile, Upload};
use super::records::{RecordService, RecordView, record_not_found};
use super::{Actor, ServiceError, ServiceResult, holds, require};
use crate::db::{self, Pool, Tx};
use crate::domain::Sha256Digest;
use crate::domain::audit::AuditAction;
use crate::domain::correction::{FileAddition, FileAdditionInput};
use crate::domain::permissions::Capability;
use crate::domain::record::RecordStatus;

/// Corrections of filed records.
#[derive(Clone)]
pub struct CorrectionService {
    pool: Pool,
    ingest: IngestService,
    records: RecordService,
    timezone: chrono_tz::Tz,
}

impl CorrectionService {
    pub fn new(
        pool: Pool,
        ingest: IngestService,
        records: RecordService,
        timezone: chrono_tz::Tz,
    ) -> Self {
        Self {
            pool,
            ingest,
            records,
            timezone,
        }
    }

    fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.timezone).date_naive()
    }

    /// Refuses early, before any content streams in, a caller who may not correct record
    /// `id` (a record the caller does not see is missing).
    pub async fn may_correct(&self, actor: &Actor, id: Uuid) -> ServiceResult<()> {
        let mut conn = db::acquire(&self.pool).await?;
        self.require_corrector(&mut conn, actor, id).await
    }

    async fn require_corrector(
        &self,
        conn: &mut db::PgConnection,
        actor: &Actor,
        id: Uuid,
    ) -> ServiceResult<()> {
        let access = require_record(conn, actor, id, self.today()).await?;
        require(actor, Capability::CorrectRecords)?;
        if access != Access::Policy {
            return Err(ServiceError::Forbidden(
                "a loan lets one read a record, not correct it".into(),
            ));
        }
        Ok(())
    }

    /// Adds the upload's files to record `id`, or replaces one of its files with the one
    /// file sent. The earlier file stays in the record's history (`earlier_files`) with its
    /// content; the new ones are extracted and indexed like a filing's.
    #[tracing::instrument(skip_all, fields(record.id = %id))]
    pub async fn add_files(
        &self,
        mut upload: Upload,
        id: Uuid,
        input: FileAdditionInput,
    ) -> ServiceResult<RecordView> {
        let actor = upload.actor().clone();
        let files = upload.take_files();
        let staging_ids: Vec<Uuid> = files.iter().map(|file| file.staged.id).collect();
        let result = self.write_files(&actor, id, input, files).await;
        self.ingest.discard_staged(staging_ids).await;
        result?;
        self.records.get(&actor, id).await
    }

    async fn write_files(
        &self,
        actor: &Actor,
        id: Uuid,
        input: FileAdditionInput,
        mut files: Vec<PendingFile>,
    ) -> ServiceResult<()> {
        let addition = input.validate()?;
        addition.check_count(files.len())?;
        for (file, note) in files.iter_mut().zip(addition.copy_notes.iter()) {
            file.copy_note = note.clone();
        }
        let mut tx = db::begin(&self.pool).await?;
        let xact = db::xact_id(&mut tx).await?;
        let mut created = Vec::new();
        let written = self
            .write_in(&mut tx, actor, id, &addition, &files, &mut created)
            .await
            .map(|file_id| (file_id, xact));
        self.ingest.settle(tx, written, created).await?;
        Ok(())
    }

    /// The correction inside `tx`; returns the id of the first new file.
    async fn write_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        id: Uuid,
        addition: &FileAddition,
        files: &[PendingFile],
        created: &mut Vec<NewContent>,
    ) -> ServiceResult<Uuid> {
        if !db::records::lock(tx, id).await? {
            return Err(record_not_found(id));
        }
        self.require_corrector(tx, actor, id).await?;
        let record = db::records::find(tx, id)
            .await?
            .ok_or_else(|| record_not_found(id))?;
        if record.status != RecordStatus::Active {
            return Err(ServiceError::Conflict(format!(
                "record {id} is {}; its files no longer change",
                record.status
            )));
        }
        let replaced = match &addition.replaces {
            Some((file_id, _)) => {
                let file = db::records::file(tx, id, *file_id).await?.ok_or_else(|| {
                    ServiceError::NotFound(format!("file {file_id} of record {id} not found"))
                })?;
                if file.replaced_by.is_some() {
                    return Err(ServiceError::Conflict(format!(
                        "file {file_id} was already replaced; replace the current file instead"
                    )));
                }
                holds::ensure_not_held(tx, id, "its files are not replaced while held").await?;
                Some(file)
            }
            None => None,
        };
        self.ingest.store_contents(tx, files, created).await?;
        let mut position = match &replaced {
            Some(file) => file.position,
            None => db::corrections::next_position(tx, id).await?,
        };
        let now = Utc::now();
        let mut new_files = Vec::with_capacity(files.len());
        let mut first_new = None;
        for file in files {
            let row = file.row(id, position, now);
            if let (Some(old), Some((_, reason))) = (&replaced, &addition.replaces) {
                // the earlier file leaves its position before the new one takes it
                if !db::corrections::mark_replaced(tx, old.id, row.id, reason).await? {
                    return Err(ServiceError::Conflict(format!(
                        "file {} was replaced meanwhile",
                        old.id
                    )));
                }
            }
            super::extraction::insert_file_to_extract(tx, &row).await?;
            first_new.get_or_insert(row.id);
            new_files.push(serde_json::json!({
                "file_id": row.id,
                "sha256": file.staged.digest,
                "size": file.staged.size,
                "filename": file.filename,
                "copy_note": file.copy_note,
            }));
            position += 1;
        }
        db::corrections::touch(tx, id).await?;
        super::integrity::queue_filing_check(tx, id, first_new.is_some()).await?;
        let (action, details) = match (&replaced, &addition.replaces) {
            (Some(old), Some((_, reason))) => (
                AuditAction::RecordFileReplaced,
                serde_json::json!({
                    "replaced": {
                        "file_id": old.id,
                        "sha256": Sha256Digest::from_slice(&old.sha256),
                        "size": old.size,
                        "filename": old.filename,
                    },
                    "file": new_files.first(),
                    "reason": reason,
                }),
            ),
            _ => (
                AuditAction::RecordFilesAdded,
                serde_json::json!({ "files": new_files, "reason": addition.reason }),
            ),
        };
        db::audit::append(tx, Some(actor.user_id), action, Some(id), &details).await?;
        first_new.ok_or_else(|| ServiceError::Internal("a correction without a file".into()))
    }
}
