//! Text extraction of stored files, as the `extract_text` job runs it: copy the content to
//! a temporary file, run the extractors on a blocking thread, store the text (or why there
//! is none) in `file_texts`. The index picks the text up from the change log.

use std::sync::Arc;

use uuid::Uuid;

use super::{ServiceError, ServiceResult};
use crate::blobs::BlobStore;
use crate::db::texts::TextOutcome;
use crate::db::{self, PgConnection, Pool};
use crate::domain::Sha256Digest;
use crate::domain::job::Job;
use crate::domain::record::TextStatus;
use crate::extract::{self, ExtractError, ExtractOptions, Method, Sandbox};

/// Why an extraction did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ExtractionFailure {
    /// Worth trying again: a tool timed out or a store was unreachable.
    #[error("{0}")]
    Transient(String),
    /// The content yields no text and never will (corrupt, encrypted, too large); stored
    /// as failed.
    #[error("{0}")]
    Permanent(String),
    /// The database or object store failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Extracts and stores the text of files.
#[derive(Clone)]
pub struct ExtractionService {
    pool: Pool,
    blobs: BlobStore,
    options: Arc<ExtractOptions>,
    sandbox: Arc<Sandbox>,
}

/// Inserts a newly filed file, its text pending and its extraction queued, inside the
/// filing transaction.
pub(crate) async fn insert_file_to_extract(
    conn: &mut PgConnection,
    file: &db::records::FileRow,
) -> ServiceResult<()> {
    let job = super::jobs::new_job(
        &Job::ExtractText { file_id: file.id },
        Some(file.id.to_string()),
    );
    db::texts::insert_file_to_extract(conn, file, &job).await?;
    Ok(())
}

impl ExtractionService {
    pub fn new(
        pool: Pool,
        blobs: BlobStore,
        options: ExtractOptions,
        sandbox: Arc<Sandbox>,
    ) -> Self {
        Self {
            pool,
            blobs,
            options: Arc::new(options),
            sandbox,
        }
    }

    /// Extracts the text of file `file_id`. A file whose content cannot yield text (corrupt,
    /// encrypted, unsupported) is stored as failed or unsupported and is not an error; a
    /// transient failure is, and on the `last_attempt` it is stored as failed too.
    #[tracing::instrument(skip_all, fields(file.id = %file_id))]
    pub async fn extract(
        &self,
        file_id: Uuid,
        last_attempt: bool,
    ) -> Result<(), ExtractionFailure> {
        let mut conn = db::acquire(&self.pool).await.map_err(ServiceError::from)?;
        let Some(file) = db::texts::file_to_extract(&mut conn, file_id)
            .await
            .map_err(ServiceError::from)?
        else {
            return Ok(()); // never committed, or gone: nothing to do
        };
        if !file.record_active {
            return Ok(());
        }
        if let Some(known) = &file.known {
            let outcome = TextOutcome {
                status: TextStatus::Done,
                method: known.method.as_deref(),
                text: known.text.as_deref(),
                pages: known.pages,
                error: None,
            };
            // the same content was extracted for another file: copy, don't run the tools
            // again (the record's filing check is woken with it)
            save(&mut conn, file_id, file.record_id, &outcome)
                .await
                .map_err(ServiceError::from)?;
            return Ok(());
        }
        drop(conn);
        let digest = Sha256Digest::from_slice(&file.sha256).ok_or_else(|| {
            ServiceError::Internal(format!("file {file_id} has a malformed digest"))
        })?;
        let size = u64::try_from(file.size).unwrap_or(u64::MAX);
        let result = self.run_extractors(digest, &file.media_type, size).await;
        let (stored, failure) = match result {
            Ok(extracted) => (Stored::from_extracted(extracted), None),
            Err(Failed::Extract(ExtractError::Unsupported { media_type })) => (
                Stored::without_text(
                    TextStatus::Unsupported,
                    format!("no text extraction for {media_type}"),
                ),
                None,
            ),
            Err(Failed::Extract(error)) if error.is_permanent() || last_attempt => {
                let message = error.to_string();
                (
                    Stored::without_text(TextStatus::Failed, message.clone()),
                    Some(ExtractionFailure::Permanent(message)),
                )
            }
            Err(Failed::Extract(error)) => {
                return Err(ExtractionFailure::Transient(error.to_string()));
            }
            Err(Failed::Service(error)) => return Err(error.into()),
        };
        let mut conn = db::acquire(&self.pool).await.map_err(ServiceError::from)?;
        // the record's filing check waits for this: it is woken with it
        save(&mut conn, file_id, file.record_id, &stored.outcome())
            .await
            .map_err(ServiceError::from)?;
        tracing::info!(
            status = stored.status.as_str(),
            method = stored.method,
            "text extraction finished"
        );
        failure.map_or(Ok(()), Err)
    }

    /// Stores that file `file_id` has no text, and why (its extraction was given up).
    pub async fn record_failure(&self, file_id: Uuid, why: &str) -> ServiceResult<()> {
        let mut conn = db::acquire(&self.pool).await?;
        let Some(file) = db::texts::file_to_extract(&mut conn, file_id).await? else {
            return Ok(());
        };
        let stored = Stored::without_text(TextStatus::Failed, why.to_owned());
        save(&mut conn, file_id, file.record_id, &stored.outcome()).await?;
        Ok(())
    }

    async fn run_extractors(
        &self,
        digest: Sha256Digest,
        media_type: &str,
        size: u64,
    ) -> Result<extract::Extracted, Failed> {
        if Sandbox::text_layer_first(media_type, size) {
            // a small PDF goes to pdftotext straight from the store: no scratch copy on disk
            let bytes = self
                .blobs
                .read_all(digest)
                .await
                .map_err(|error| Failed::Service(error.into()))?;
            let sandbox = self.sandbox.clone();
            let options = self.options.clone();
            let layer = off_executor(move || sandbox.text_layer(bytes.into(), &options)).await?;
            if let Some(extracted) = layer {
                return Ok(extracted);
            }
        }
        let sandbox = self.sandbox.clone();
        let scratch = off_executor(move || sandbox.scratch_file("extract-")).await?;
        self.blobs
            .copy_to_file(digest, scratch.path())
            .await
            .map_err(|error| Failed::Service(error.into()))?;
        let options = self.options.clone();
        let sandbox = self.sandbox.clone();
        let media_type = media_type.to_owned();
        // the parsers run in a child process (extract::Sandbox): a hostile file ends that
        // child, never this one
        off_executor(move || {
            let result = sandbox.extract_in_child(scratch.path(), &media_type, &options);
            drop(scratch);
            result
        })
        .await
    }
}

/// Stores an extraction's outcome, waking the record's filing check when it was the last
/// text it waited for; when other files of the record were pending as the save saw them,
/// the check is looked at again after the commit (their saves may have missed this one).
async fn save(
    conn: &mut PgConnection,
    file_id: Uuid,
    record_id: Uuid,
    outcome: &TextOutcome<'_>,
) -> Result<(), db::DbError> {
    if db::texts::save(conn, file_id, record_id, outcome).await? {
        db::jobs::wake_filing_checks(conn, record_id).await?;
    }
    Ok(())
}

/// Runs blocking extraction work on a blocking thread.
async fn off_executor<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ExtractError> + Send + 'static,
) -> Result<T, Failed> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| {
            Failed::Service(ServiceError::Internal(format!(
                "extraction thread: {error}"
            )))
        })?
        .map_err(Failed::Extract)
}

/// What is stored of one extraction.
struct Stored {
    status: TextStatus,
    method: &'static str,
    text: Option<String>,
    pages: Option<i32>,
    note: Option<String>,
}

impl Stored {
    fn from_extracted(extracted: extract::Extracted) -> Self {
        let mut notes = extracted.warnings;
        if extracted.truncated {
            notes.push("text truncated: limits of pages or size reached".to_owned());
        }
        Self {
            status: if extracted.method == Method::None {
                TextStatus::Unsupported
            } else {
                TextStatus::Done
            },
            method: extracted.method.as_str(),
            text: Some(extracted.text.replace('\0', "")),
            pages: extracted.pages.and_then(|pages| i32::try_from(pages).ok()),
            note: (!notes.is_empty()).then(|| notes.join("; ")),
        }
    }

    fn without_text(status: TextStatus, why: String) -> Self {
        Self {
            status,
            method: Method::None.as_str(),
            text: None,
            pages: None,
            note: Some(why),
        }
    }

    fn outcome(&self) -> TextOutcome<'_> {
        TextOutcome {
            status: self.status,
            method: Some(self.method),
            text: self.text.as_deref(),
            pages: self.pages,
            error: self.note.as_deref(),
        }
    }
}

enum Failed {
    Extract(ExtractError),
    Service(ServiceError),
}
