//! Bulk import (`dangan import DIR --manifest FILE.csv`): files the records a manifest
//! describes through [`IngestService`], so they get archival codes, retention and audit
//! exactly as uploads do.
//!
//! A bad row never stops the run: it is reported with its row number, path and reason, and
//! the rest are filed. Records are filed one after another in manifest order, so item
//! numbers follow the manifest. Resume: every row has a key (see
//! [`row_key`](crate::domain::manifest::row_key): the import directory's canonical path and
//! the file's relative path) that commits into `import_rows` with its record; a re-run skips
//! rows already there, so after a crash or after fixing bad rows it files only what is
//! missing. Only an unreachable database or object store stops the run early.

mod entry;

use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::ingest::IngestService;
use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, Pool};
use crate::domain::ErrorCode;
use crate::domain::manifest::{Manifest, ManifestEntry};
use crate::domain::user::Role;

/// Files the records of import manifests.
#[derive(Clone)]
pub struct ImportService {
    pool: Pool,
    ingest: IngestService,
}

/// What to import and on whose behalf.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The directory the manifest's paths are relative to.
    pub dir: PathBuf,
    /// The CSV manifest.
    pub manifest: PathBuf,
    /// The user the records are filed by (audit trail, default department).
    pub username: String,
}

/// A manifest that was read and checked, ready to run.
pub struct ImportPlan {
    actor: Actor,
    dir: PathBuf,
    /// The directory's identity in row keys.
    source: String,
    entries: Vec<ManifestEntry>,
    rows: usize,
    encoding: &'static str,
}

impl ImportPlan {
    /// How many rows (files) the manifest lists.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The encoding the manifest was written in.
    pub fn encoding(&self) -> &'static str {
        self.encoding
    }

    /// The import directory, canonical.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// What happened to one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    /// Filed now, as this record.
    Imported {
        record_id: Uuid,
        archival_code: Option<String>,
    },
    /// Filed by an earlier run, as this record.
    Skipped { record_id: Uuid },
    /// Not filed, and why.
    Failed { reason: String },
}

/// One row's outcome, as progress reports it.
#[derive(Debug, Clone)]
pub struct RowReport {
    /// The row number a spreadsheet shows (the heading is row 1).
    pub line: u64,
    /// The path cell as written.
    pub path: String,
    /// The record key cell, if rows were grouped.
    pub record_key: Option<String>,
    pub outcome: RowOutcome,
}

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct ImportSummary {
    pub records_imported: usize,
    pub rows_imported: usize,
    pub rows_skipped: usize,
    /// The rows that failed, by row number.
    pub failures: Vec<RowReport>,
}

impl ImportService {
    pub fn new(pool: Pool, ingest: IngestService) -> Self {
        Self { pool, ingest }
    }

    /// Checks the request before anything is filed: the user exists and is active, the
    /// directory exists, the manifest is readable and its headings are all known.
    #[tracing::instrument(skip_all, fields(manifest = %request.manifest.display()))]
    pub async fn plan(&self, request: ImportRequest) -> ServiceResult<ImportPlan> {
        let actor = self.actor(&request.username).await?;
        let dir = tokio::fs::canonicalize(&request.dir)
            .await
            .map_err(|error| {
                ServiceError::Validation(format!(
                    "import directory {}: {error}",
                    request.dir.display()
                ))
            })?;
        if !dir.is_dir() {
            return Err(ServiceError::Validation(format!(
                "import directory {} is not a directory",
                dir.display()
            )));
        }
        let bytes = tokio::fs::read(&request.manifest).await.map_err(|error| {
            ServiceError::Validation(format!(
                "cannot read the manifest {}: {error}",
                request.manifest.display()
            ))
        })?;
        let manifest_path = request.manifest.display().to_string();
        // Decoding and splitting a large manifest is CPU work: off the async threads.
        let (manifest, entries) = tokio::task::spawn_blocking(move || {
            let manifest = Manifest::parse(&bytes)?;
            let entries = manifest.entries();
            Ok::<_, crate::domain::manifest::ManifestError>((manifest, entries))
        })
        .await
        .map_err(|error| ServiceError::Internal(format!("manifest reader: {error}")))?
        .map_err(|error| ServiceError::Validation(format!("manifest {manifest_path}: {error}")))?;
        Ok(ImportPlan {
            actor,
            source: dir.to_string_lossy().into_owned(),
            dir,
            rows: manifest.row_count(),
            encoding: manifest.encoding,
            entries,
        })
    }

    /// Files every entry of `plan` in manifest order, calling `progress` once per row.
    /// Returns an error only when the database or object store is unreachable; what was
    /// filed until then stays filed, and a re-run resumes.
    pub async fn run<F>(&self, plan: ImportPlan, mut progress: F) -> ServiceResult<ImportSummary>
    where
        F: FnMut(&RowReport) + Send,
    {
        let mut summary = ImportSummary::default();
        for entry in &plan.entries {
            let reports = match self.import_entry(&plan, entry).await {
                Ok(reports) => reports,
                Err(error) if error.code() == ErrorCode::Unavailable => return Err(error),
                Err(error) => entry::failed(entry, None, &error.to_string()),
            };
            if matches!(reports.first(), Some(report) if matches!(report.outcome, RowOutcome::Imported { .. }))
            {
                summary.records_imported += 1;
            }
            for report in reports {
                match report.outcome {
                    RowOutcome::Imported { .. } => summary.rows_imported += 1,
                    RowOutcome::Skipped { .. } => summary.rows_skipped += 1,
                    RowOutcome::Failed { .. } => summary.failures.push(report.clone()),
                }
                progress(&report);
            }
        }
        summary.failures.sort_by_key(|report| report.line);
        Ok(summary)
    }

    /// The active user `username`, as the actor of the import.
    async fn actor(&self, username: &str) -> ServiceResult<Actor> {
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        let user = db::users::find_by_username(&mut conn, username)
            .await?
            .ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "there is no user {username:?}; name an existing user with --as, or create one with `dangan user add`"
                ))
            })?;
        if !user.active {
            return Err(ServiceError::Forbidden(format!(
                "user {username:?} is deactivated; import as another user with --as"
            )));
        }
        Ok(Actor {
            user_id: user.id,
            role: Role::parse(&user.role)?,
            username: user.username,
            department_id: user.department_id,
            party_id: user.party_id,
        })
    }
}
