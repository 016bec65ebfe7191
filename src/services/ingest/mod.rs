//! Filing: an upload's files are staged while they stream in, then the record, its files,
//! the blob references and the audit event commit in one transaction. Content that never
//! commits is removed, here on failure or by the staging collector after a crash.

use std::sync::Arc;

use bytes::Bytes;
use chrono::{SubsecRound, Utc};
use futures::Stream;
use uuid::Uuid;

use super::records::{RecordView, record_view};
use super::{Actor, ServiceError, ServiceResult, filing};
use crate::blobs::{BlobStore, Promotion, StageError, StagedBlob};
use crate::db::{self, Pool, Tx};
use crate::domain::Sha256Digest;
use crate::domain::audit::AuditAction;
use crate::domain::media::media_type;
use crate::domain::permissions::Capability;
use crate::domain::record::{RecordMetadata, RecordMetadataInput, clean_filename};
use crate::metrics::Metrics;
use crate::services::require;

mod commit;
pub(super) use commit::NewContent;

/// Creates records from uploads.
#[derive(Clone)]
pub struct IngestService {
    pool: Pool,
    blobs: BlobStore,
    timezone: chrono_tz::Tz,
    metrics: Arc<Metrics>,
}

/// A file that is staged and waits for its record to commit.
pub(super) struct PendingFile {
    pub(super) staged: StagedBlob,
    pub(super) filename: String,
    pub(super) media_type: String,
    /// Why the file is filed as a copy (複印件); `None`: the original.
    pub(super) copy_note: Option<String>,
}

impl PendingFile {
    /// The file's row in `record_id` at `position`, filed at `now`: a new, current file.
    pub(super) fn row(
        &self,
        record_id: Uuid,
        position: i32,
        now: chrono::DateTime<Utc>,
    ) -> db::records::FileRow {
        db::records::FileRow {
            id: Uuid::now_v7(),
            record_id,
            position,
            sha256: self.staged.digest.as_bytes().to_vec(),
            size: i64::try_from(self.staged.size).unwrap_or(i64::MAX),
            media_type: self.media_type.clone(),
            filename: self.filename.clone(),
            created_at: now,
            copy: self.copy_note.is_some(),
            copy_note: self.copy_note.clone(),
            replaced_by: None,
            replaced_at: None,
            replace_reason: None,
        }
    }
}

/// One upload in progress: files are added as they arrive, then [`Upload::commit`] files the
/// record. Dropped without committing, it removes what it staged.
pub struct Upload {
    service: IngestService,
    actor: Actor,
    metadata: Option<RecordMetadata>,
    files: Vec<PendingFile>,
    /// Keys of the manifest rows this upload files (`dangan import`), stored with the record.
    import_rows: Vec<String>,
    /// Why each file (by position) is filed as a copy; `None`: an original.
    copy_notes: Vec<Option<String>>,
}

impl IngestService {
    pub fn new(
        pool: Pool,
        blobs: BlobStore,
        timezone: chrono_tz::Tz,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            pool,
            blobs,
            timezone,
            metrics,
        }
    }

    /// Removes staging objects older than `max_age`: uploads that never committed.
    pub async fn collect_staging(&self, max_age: std::time::Duration) -> ServiceResult<usize> {
        Ok(self.blobs.collect_staging(max_age).await?)
    }

    /// Starts an upload on behalf of `actor`.
    pub fn begin(&self, actor: Actor) -> Upload {
        Upload {
            service: self.clone(),
            actor,
            metadata: None,
            files: Vec::new(),
            import_rows: Vec::new(),
            copy_notes: Vec::new(),
        }
    }
}

/// The most files one record takes (a personnel file of single-page scans fits many times
/// over); each file is a row, a staged object and a text job, so there is a bound.
pub const MAX_FILES_PER_RECORD: usize = 500;

impl Upload {
    /// Checks and keeps the record's metadata; a second metadata part is an error.
    pub fn set_metadata(&mut self, mut input: RecordMetadataInput) -> ServiceResult<()> {
        require(&self.actor, Capability::FileRecords)?;
        if self.metadata.is_some() {
            return Err(ServiceError::Validation(
                "metadata: sent more than once".into(),
            ));
        }
        let filed_on = Utc::now()
            .with_timezone(&self.service.timezone)
            .date_naive();
        self.copy_notes = std::mem::take(&mut input.files)
            .into_iter()
            .enumerate()
            .map(|(at, origin)| origin.validate(at))
            .collect::<Result<_, _>>()?;
        self.metadata = Some(input.validate(filed_on)?);
        Ok(())
    }

    /// Marks the upload as filing these manifest rows: their keys go into `import_rows` in
    /// the record's transaction, so a re-run of the import skips exactly what committed.
    pub fn set_import_rows(&mut self, keys: Vec<String>) {
        self.import_rows = keys;
    }

    /// Streams one file to staging. `filename` and `declared_type` are what the client sent.
    /// A record takes at most [`MAX_FILES_PER_RECORD`] files.
    pub async fn add_file<S>(
        &mut self,
        filename: Option<&str>,
        declared_type: Option<&str>,
        body: S,
    ) -> ServiceResult<()>
    where
        S: Stream<Item = Result<Bytes, ServiceError>> + Unpin,
    {
        if self.files.len() >= MAX_FILES_PER_RECORD {
            return Err(ServiceError::Validation(format!(
                "file: a record takes at most {MAX_FILES_PER_RECORD} files; file the rest as \
                 further records, or join page scans into one PDF"
            )));
        }
        let filename = filename
            .and_then(clean_filename)
            .unwrap_or_else(|| format!("file-{}", self.files.len() + 1));
        let staged = self
            .service
            .blobs
            .stage(body)
            .await
            .map_err(|error| match error {
                StageError::Source(error) => error,
                StageError::Store(error) => error.into(),
            })?;
        let media_type = media_type(&staged.head, &filename, declared_type);
        tracing::debug!(%filename, digest = %staged.digest, size = staged.size, "file staged");
        self.files.push(PendingFile {
            staged,
            filename,
            media_type,
            copy_note: None,
        });
        Ok(())
    }

    /// The user the upload is for.
    pub(super) fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Takes the staged files out of the upload; the caller discards their staging copies
    /// (with [`IngestService::discard_staged`]) when done with them.
    pub(super) fn take_files(&mut self) -> Vec<PendingFile> {
        std::mem::take(&mut self.files)
    }

    /// Files the record with the staged files. Nothing is visible until this commits.
    #[tracing::instrument(skip_all, fields(user.id = %self.actor.user_id, files = self.files.len()))]
    pub async fn commit(mut self) -> ServiceResult<RecordView> {
        let service = self.service.clone();
        let metadata = self.metadata.take().ok_or_else(|| {
            ServiceError::Validation("metadata: the metadata part is missing".into())
        })?;
        if self.copy_notes.len() > self.files.len() {
            // refused before the files are taken: dropping the upload discards what it staged
            return Err(ServiceError::Validation(format!(
                "metadata.files: describes {} files, but {} were sent",
                self.copy_notes.len(),
                self.files.len()
            )));
        }
        let mut files = std::mem::take(&mut self.files);
        for (file, note) in files.iter_mut().zip(std::mem::take(&mut self.copy_notes)) {
            file.copy_note = note;
        }
        let staging_ids: Vec<Uuid> = files.iter().map(|file| file.staged.id).collect();
        let import_rows = std::mem::take(&mut self.import_rows);
        let result = service
            .file_record(&self.actor, &metadata, &files, &import_rows)
            .await;
        service.discard_staged(staging_ids).await;
        result
    }
}

impl IngestService {
    /// Removes staging copies: whatever happened, they are no longer needed once a write
    /// ended (promoted content moved away from staging, and a failed write's must not stay).
    pub(super) async fn discard_staged(&self, staging_ids: Vec<Uuid>) {
        for id in staging_ids {
            if let Err(error) = self.blobs.discard(id).await {
                tracing::warn!(%error, staging.id = %id, "staging object left for the collector");
            }
        }
    }

    async fn file_record(
        &self,
        actor: &Actor,
        metadata: &RecordMetadata,
        files: &[PendingFile],
        import_rows: &[String],
    ) -> ServiceResult<RecordView> {
        let mut tx = db::begin(&self.pool).await?;
        let mut created = Vec::new();
        // what the transaction wrote, as it will read once committed: no read-back after
        let mut filed = None;
        let written = self
            .write_record(&mut tx, actor, metadata, files, &mut created)
            .await
            .map(|(record, files, xact)| {
                let id = record.id;
                filed = Some((record, files));
                (id, xact)
            });
        let written = match written {
            Ok((record_id, xact)) if !import_rows.is_empty() => {
                db::imports::insert(&mut tx, import_rows, record_id)
                    .await
                    .map(|()| (record_id, xact))
                    .map_err(|error| match error.conflict() {
                        Some(db::Conflict::ImportRow) => {
                            ServiceError::Conflict("another run imported this row meanwhile".into())
                        }
                        _ => error.into(),
                    })
            }
            other => other,
        };
        let record_id = self.settle(tx, written, created).await?;
        let (record, files) = filed
            .ok_or_else(|| ServiceError::Internal("a filing committed nothing to show".into()))?;
        tracing::info!(record.id = %record_id, "record filed");
        record_view(record, files)
    }

    /// Takes a reference to each file's content and moves it from staging into the store,
    /// inside `tx`; `created` collects content that was not stored before.
    pub(super) async fn store_contents(
        &self,
        tx: &mut Tx,
        files: &[PendingFile],
        created: &mut Vec<NewContent>,
    ) -> ServiceResult<()> {
        // Row locks in digest order, so two uploads sharing content cannot deadlock.
        let mut by_digest: Vec<&PendingFile> = files.iter().collect();
        by_digest.sort_by_key(|file| file.staged.digest);
        let mut promoted: Vec<Sha256Digest> = Vec::new();
        for file in by_digest {
            let staged = &file.staged;
            let size = i64::try_from(staged.size)
                .map_err(|_| ServiceError::Validation("file is too large".into()))?;
            let stored = db::blobs::add_reference(tx, staged.digest.as_bytes(), size).await?;
            if stored != size {
                return Err(ServiceError::Internal(format!(
                    "content {} is stored with {stored} bytes but arrived with {size}",
                    staged.digest
                )));
            }
            if promoted.last() != Some(&staged.digest) {
                let promotion = self.blobs.promote(staged).await?;
                if promotion == Promotion::Created {
                    created.push(NewContent {
                        digest: staged.digest,
                        size,
                    });
                }
                self.metrics
                    .record_stored_file(promotion == Promotion::Created, staged.size);
                promoted.push(staged.digest);
            }
        }
        Ok(())
    }

    /// Everything of one filing, inside `tx`, and the transaction's id. `created` collects
    /// content that this call stored, so a failure can remove it again.
    async fn write_record(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        metadata: &RecordMetadata,
        files: &[PendingFile],
        created: &mut Vec<NewContent>,
    ) -> ServiceResult<(
        db::records::RecordRow,
        Vec<db::records::FileRow>,
        db::XactId,
    )> {
        self.store_contents(tx, files, created).await?;
        let record_id = Uuid::now_v7();
        let classified = filing::classify(tx, metadata.clone(), actor, !files.is_empty()).await?;
        // as stored, before the item number is taken (which locks the class until the
        // commit); the code and retention stored after it are set on this value as they are
        let mut record =
            db::records::insert(tx, record_id, &classified.values()?, actor.user_id).await?;
        let retention = filing::new_record_retention(tx, record_id).await?;
        // as PostgreSQL keeps it (microseconds), so the answer shows what a read shows later
        let now = Utc::now().trunc_subsecs(6);
        let mut audit_files = Vec::with_capacity(files.len());
        let mut rows = Vec::with_capacity(files.len());
        for (position, file) in files.iter().enumerate() {
            let position = i32::try_from(position).unwrap_or(i32::MAX);
            let row = file.row(record_id, position, now);
            super::extraction::insert_file_to_extract(tx, &row).await?;
            audit_files.push(serde_json::json!({
                "file_id": row.id,
                "sha256": file.staged.digest,
                "size": file.staged.size,
                "filename": file.filename,
            }));
            rows.push(row);
        }
        super::integrity::queue_filing_check(tx, record_id, !files.is_empty()).await?;
        // the item number last: its sequence row stays locked until the commit, and every
        // filing of the same class waits for it
        let archival_code =
            filing::assign_archival_code(tx, record_id, &classified, Some(&retention)).await?;
        record.archival_code.clone_from(&archival_code);
        record.retention_due_on = retention.due_on;
        record.retention_reason = retention.reason;
        let xact = db::audit::append_with_xact_id(
            tx,
            Some(actor.user_id),
            AuditAction::RecordCreated,
            Some(record_id),
            &serde_json::json!({
                "metadata": classified.metadata,
                "archival_code": archival_code,
                "files": audit_files,
            }),
        )
        .await?;
        Ok((record, rows, xact))
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.files.is_empty() {
            return;
        }
        let blobs = self.service.blobs.clone();
        let ids: Vec<Uuid> = self.files.iter().map(|file| file.staged.id).collect();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // the staging collector removes them later
        };
        runtime.spawn(async move {
            for id in ids {
                let _ = blobs.discard(id).await;
            }
        });
    }
}
