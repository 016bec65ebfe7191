//! The four-properties check (四性檢測, DA/T 70-2018) of records: authenticity (content
//! hashes to its address; size, format and filename agree; archival code well-formed and
//! unique), integrity (mandatory metadata; item numbers continuous in the class; files
//! present), usability (content opens, not encrypted; text extracted) and security (media
//! type matches content, no programs or active content; audit trail intact). At filing (GD)
//! the content was hashed as it arrived, so it is not read again for the hash.

use std::collections::HashMap;

use uuid::Uuid;

mod checks;

use checks::{
    all_ok, archival_code, audit_trail, file_properties, item_numbers, mandatory_metadata,
    media_type, no_active_content, opens, text_available,
};

use super::IntegrityService;
use crate::db::integrity::ResultRow;
use crate::db::records::FileRow;
use crate::db::{self, PgConnection};
use crate::domain::Sha256Digest;
use crate::domain::integrity::{CheckKind, Property, Stage};
use crate::domain::job::Job;
use crate::domain::record::{RecordStatus, TextStatus};
use crate::extract::{ContentReport, Sandbox};
use crate::services::jobs::new_job;
use crate::services::{ServiceError, ServiceResult};

/// When a filing check looks again at texts still being extracted, if no extraction woke it
/// first (the extraction that leaves the record without pending text does).
pub const FILING_CHECK_FALLBACK: std::time::Duration = std::time::Duration::from_secs(600);

/// Queues the filing (GD) check of a new record inside its filing transaction, after its
/// files' extractions: it waits for them (they wake it), or runs at once if none is pending.
/// `extracting`: this transaction queued extractions of the record's files, so one is
/// pending and no look is needed.
pub(crate) async fn queue_filing_check(
    conn: &mut PgConnection,
    record_id: Uuid,
    extracting: bool,
) -> ServiceResult<()> {
    let id = Uuid::now_v7();
    let mut job = new_job(
        &Job::FourProperties {
            check_id: id,
            record_id: Some(record_id),
        },
        Some(id.to_string()),
    );
    job.run_at = Some(chrono::Utc::now() + FILING_CHECK_FALLBACK);
    db::integrity::insert_check(
        conn,
        id,
        CheckKind::FourProperties,
        Some(Stage::Gd),
        Some(&[record_id]),
        None,
        Some(&job),
    )
    .await?;
    if !extracting {
        db::jobs::wake_filing_checks(conn, record_id).await?;
    }
    Ok(())
}

/// What a run of a four-properties check came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FourCheckRun {
    /// Its results are stored and it is done.
    Done,
    /// Texts of its records are still being extracted; nothing was written.
    AwaitsExtraction,
}

/// The results of one record's checks as they are gathered.
struct Results {
    record_id: Uuid,
    rows: Vec<ResultRow>,
}

impl Results {
    fn add(&mut self, property: Property, test: &str, outcome: Result<String, String>) {
        let (passed, reason) = match outcome {
            Ok(reason) => (true, reason),
            Err(reason) => (false, reason),
        };
        self.rows.push(ResultRow {
            record_id: self.record_id,
            property: property.as_str().to_owned(),
            test: test.to_owned(),
            passed,
            reason,
        });
    }
}

impl IntegrityService {
    /// Creates a four-properties check of `record_ids` at `stage`.
    pub(crate) async fn new_four_check(
        &self,
        record_ids: &[Uuid],
        stage: Stage,
        requested_by: Option<Uuid>,
        queued: bool,
    ) -> ServiceResult<Uuid> {
        let id = Uuid::now_v7();
        let mut tx = db::begin(&self.pool).await?;
        for record_id in record_ids {
            if db::records::find(&mut tx, *record_id).await?.is_none() {
                return Err(ServiceError::Validation(format!(
                    "record_id: no record {record_id}"
                )));
            }
        }
        let job = queued.then(|| {
            new_job(
                &Job::FourProperties {
                    check_id: id,
                    record_id: None,
                },
                Some(id.to_string()),
            )
        });
        db::integrity::insert_check(
            &mut tx,
            id,
            CheckKind::FourProperties,
            Some(stage),
            Some(record_ids),
            requested_by,
            job.as_ref(),
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(id)
    }

    /// Runs a four-properties check and keeps its results. With `wait_for_texts`, a check
    /// whose records still have texts being extracted does not run yet (their usability
    /// cannot be judged): it says so and writes nothing.
    #[tracing::instrument(skip_all, fields(check.id = %id))]
    pub async fn run_four_check(
        &self,
        id: Uuid,
        wait_for_texts: bool,
    ) -> ServiceResult<FourCheckRun> {
        let (check, statuses) = {
            let mut conn = db::acquire(&self.pool).await?;
            let check = db::integrity::find_check(&mut conn, id)
                .await?
                .ok_or_else(|| ServiceError::NotFound(format!("no integrity check {id}")))?;
            let record_ids = check.record_ids.clone().unwrap_or_default();
            let statuses = db::integrity::text_statuses(&mut conn, &record_ids).await?;
            if wait_for_texts
                && statuses
                    .iter()
                    .any(|text| text.status == TextStatus::Pending)
            {
                return Ok(FourCheckRun::AwaitsExtraction);
            }
            if record_ids.len() > 1 {
                // a check of one record is over in moments; a longer one shows it runs
                db::integrity::start_check(&mut conn, id).await?;
            }
            (check, statuses)
        };
        let stage = check.stage.unwrap_or(Stage::Cq);
        let (mut checked, mut ok) = (0i64, 0i64);
        let mut results = Vec::new();
        // the continuity of each class read, for the other records of the check in it
        let mut classes = HashMap::new();
        for record_id in check.record_ids.unwrap_or_default() {
            let texts: Vec<TextStatus> = statuses
                .iter()
                .filter(|text| text.record_id == record_id)
                .map(|text| text.status)
                .collect();
            // a record destroyed since the check was asked for has nothing left to check
            let Some(rows) = self
                .check_record(record_id, stage, &texts, &mut classes)
                .await?
            else {
                continue;
            };
            checked += 1;
            ok += i64::from(rows.iter().all(|row| row.passed));
            results.extend(rows);
        }
        let mut conn = db::acquire(&self.pool).await?;
        db::integrity::finish_four_check(&mut conn, id, checked, ok, &results).await?;
        Ok(FourCheckRun::Done)
    }

    async fn check_record(
        &self,
        record_id: Uuid,
        stage: Stage,
        texts: &[TextStatus],
        classes: &mut HashMap<String, Result<String, String>>,
    ) -> ServiceResult<Option<Vec<ResultRow>>> {
        let mut conn = db::acquire(&self.pool).await?;
        let record = db::records::find(&mut conn, record_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no record {record_id}")))?;
        if record.status == RecordStatus::Destroyed {
            return Ok(None);
        }
        let files = db::records::files(&mut conn, record_id).await?;
        let mut results = Results {
            record_id,
            rows: Vec::new(),
        };
        let mut reports = Vec::with_capacity(files.len());
        let mut hashes = Vec::with_capacity(files.len());
        for file in &files {
            hashes.push(self.content_hash(file, stage).await?);
            reports.push(self.inspect_file(file).await?);
        }
        results.add(
            Property::Authenticity,
            "content_hash",
            all_ok(&files, &hashes),
        );
        results.add(
            Property::Authenticity,
            "file_properties",
            file_properties(&files, &reports),
        );
        results.add(
            Property::Authenticity,
            "archival_code",
            archival_code(&mut conn, &record).await?,
        );
        results.add(
            Property::Integrity,
            "mandatory_metadata",
            mandatory_metadata(&record),
        );
        results.add(
            Property::Integrity,
            "item_numbers",
            item_numbers(&mut conn, &record, stage, classes).await?,
        );
        let present: Vec<Result<String, String>> = hashes
            .iter()
            .map(|hash| match hash {
                Err(reason) if reason.contains("missing") => Err(reason.clone()),
                _ => Ok(String::new()),
            })
            .collect();
        results.add(
            Property::Integrity,
            "files_present",
            all_ok(&files, &present),
        );
        let opens: Vec<Result<String, String>> = reports.iter().map(opens).collect();
        results.add(Property::Usability, "content_opens", all_ok(&files, &opens));
        results.add(Property::Usability, "text_available", text_available(texts));
        let types: Vec<Result<String, String>> = files
            .iter()
            .zip(&reports)
            .map(|(file, report)| media_type(file, report))
            .collect();
        results.add(
            Property::Security,
            "media_type_matches",
            all_ok(&files, &types),
        );
        let active: Vec<Result<String, String>> = reports.iter().map(no_active_content).collect();
        results.add(
            Property::Security,
            "no_active_content",
            all_ok(&files, &active),
        );
        results.add(
            Property::Security,
            "audit_trail",
            audit_trail(&mut conn, record_id).await?,
        );
        Ok(Some(results.rows))
    }

    /// Whether the stored content hashes to its address (not re-read at filing).
    async fn content_hash(
        &self,
        file: &FileRow,
        stage: Stage,
    ) -> ServiceResult<Result<String, String>> {
        let Some(digest) = Sha256Digest::from_slice(&file.sha256) else {
            return Ok(Err(format!(
                "{}: the stored digest is malformed",
                file.filename
            )));
        };
        if stage == Stage::Gd {
            return Ok(Ok(
                "hashed as it was filed; stored under that SHA-256".into()
            ));
        }
        Ok(match self.blobs.fixity(digest).await? {
            None => Err(format!(
                "{}: the content is missing from the store",
                file.filename
            )),
            Some(found) if found.sha256 == digest && found.size == file.size as u64 => {
                Ok(String::new())
            }
            Some(found) => Err(format!(
                "{}: the content hashes to {} ({} bytes), not {digest} ({} bytes)",
                file.filename, found.sha256, found.size, file.size
            )),
        })
    }

    /// Reads a file (up to the inspection limit) and looks inside it.
    async fn inspect_file(&self, file: &FileRow) -> ServiceResult<Option<ContentReport>> {
        let Some(digest) = Sha256Digest::from_slice(&file.sha256) else {
            return Ok(None);
        };
        if file.size as u64 > self.max_inspect_bytes {
            return Ok(None);
        }
        let sandbox = self.sandbox.clone();
        let media_type = file.media_type.clone();
        // opened in a child process: a hostile PDF or zip ends that child, not the worker
        let report = if Sandbox::fits_in_memory(file.size as u64) {
            let content = match self.blobs.read_all(digest).await {
                Ok(content) => content,
                Err(crate::blobs::BlobError::NotFound(_)) => return Ok(None),
                Err(error) => return Err(error.into()),
            };
            blocking(move || sandbox.inspect_content(&content, &media_type)).await?
        } else {
            let scratch = {
                let sandbox = sandbox.clone();
                blocking(move || sandbox.scratch_file("inspect-")).await?
            }
            .map_err(|error| ServiceError::Internal(error.to_string()))?;
            match self.blobs.copy_to_file(digest, scratch.path()).await {
                Ok(_) => {}
                Err(crate::blobs::BlobError::NotFound(_)) => return Ok(None),
                Err(error) => return Err(error.into()),
            }
            blocking(move || sandbox.inspect(scratch.path(), &media_type)).await?
        };
        let report = match report {
            Ok(report) => report,
            // a file that crashes or exhausts its inspector does not open: that is the finding
            Err(error) if error.is_permanent() => ContentReport {
                unreadable: Some(error.to_string()),
                ..ContentReport::default()
            },
            Err(error) => {
                return Err(ServiceError::Internal(format!(
                    "content inspection did not finish: {error}"
                )));
            }
        };
        Ok(Some(report))
    }
}

/// Runs blocking `work` (a child's run, a scratch file) off the executor.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> ServiceResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ServiceError::Internal(format!("content inspection: {error}")))
}
