//! Filing one manifest entry (a row, or the rows of one record): skip it if an earlier run
//! filed it, resolve its party and custom fields, check its files, then stream them into an
//! upload whose commit also records the rows' keys.

use std::path::PathBuf;

use futures::TryStreamExt;
use tokio_util::io::ReaderStream;
use tracing::Instrument;
use uuid::Uuid;

use super::{ImportPlan, ImportService, RowOutcome, RowReport};
use crate::db::{self, PgConnection};
use crate::domain::ErrorCode;
use crate::domain::catalogue::FieldDefinition;
use crate::domain::manifest::{ManifestEntry, PartyRef, RecordDraft, row_key, typed_custom};
use crate::domain::record::RecordMetadataInput;
use crate::services::records::RecordView;
use crate::services::{ServiceError, ServiceResult};

/// Read buffer of a file streamed into staging.
const READ_BYTES: usize = 1024 * 1024;

/// An error and the row to blame; `None` blames the entry's first row.
type Blamed = (Option<u64>, ServiceError);

impl ImportService {
    /// Files `entry`, or reports why not. Errors only when a store is unreachable.
    pub(super) async fn import_entry(
        &self,
        plan: &ImportPlan,
        entry: &ManifestEntry,
    ) -> ServiceResult<Vec<RowReport>> {
        let (line, path) = entry
            .rows
            .first()
            .map_or((0, ""), |row| (row.line, row.path_text.as_str()));
        let span = tracing::info_span!("import", row = line, path = %path);
        async move {
            let keys: Option<Vec<String>> = entry
                .rows
                .iter()
                .map(|row| row.path.as_ref().map(|path| row_key(&plan.source, path)))
                .collect();
            if let Some(keys) = &keys {
                let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
                let imported = db::imports::imported(&mut conn, keys).await?;
                if !imported.is_empty() {
                    return Ok(already_imported(entry, keys, &imported));
                }
            }
            let draft = match &entry.draft {
                Ok(draft) => draft,
                Err(error) => return Ok(failed(entry, Some(error.line), &error.reason)),
            };
            match self
                .file_entry(plan, entry, draft, keys.unwrap_or_default())
                .await
            {
                Ok(record) => Ok(imported(entry, &record)),
                Err((_, error)) if error.code() == ErrorCode::Unavailable => Err(error),
                Err((line, error)) => Ok(failed(entry, line, &error.to_string())),
            }
        }
        .instrument(span)
        .await
    }

    async fn file_entry(
        &self,
        plan: &ImportPlan,
        entry: &ManifestEntry,
        draft: &RecordDraft,
        keys: Vec<String>,
    ) -> Result<RecordView, Blamed> {
        let metadata = self.resolve(draft).await.map_err(|error| (None, error))?;
        // Every file is checked before any is staged, so a missing one costs no copying.
        let mut files: Vec<(u64, PathBuf, &str)> = Vec::with_capacity(entry.rows.len());
        for row in &entry.rows {
            let Some(path) = &row.path else {
                return Err((
                    Some(row.line),
                    ServiceError::Validation("path: is invalid".into()),
                ));
            };
            let full = path
                .components()
                .fold(plan.dir.clone(), |full, part| full.join(part));
            let found = match tokio::fs::metadata(&full).await {
                Ok(found) if found.is_file() => Ok(()),
                Ok(_) => Err(format!("path: {path} is not a file")),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Err(format!(
                    "path: there is no file {path} in {}",
                    plan.dir.display()
                )),
                Err(error) => Err(format!("path: cannot read {}: {error}", full.display())),
            };
            found.map_err(|reason| (Some(row.line), ServiceError::Validation(reason)))?;
            files.push((row.line, full, path.file_name()));
        }
        let mut upload = self.ingest.begin(plan.actor.clone());
        upload.set_import_rows(keys);
        upload
            .set_metadata(metadata)
            .map_err(|error| (None, error))?;
        for (line, full, name) in files {
            let unreadable = |error: std::io::Error| {
                ServiceError::Validation(format!("path: cannot read {}: {error}", full.display()))
            };
            let file = tokio::fs::File::open(&full)
                .await
                .map_err(|error| (Some(line), unreadable(error)))?;
            let body = ReaderStream::with_capacity(file, READ_BYTES).map_err(unreadable);
            upload
                .add_file(Some(name), None, body)
                .await
                .map_err(|error| (Some(line), error))?;
        }
        upload.commit().await.map_err(|error| (None, error))
    }

    /// The draft's metadata with its party looked up and its custom cells typed by the
    /// category the record will be filed in.
    async fn resolve(&self, draft: &RecordDraft) -> ServiceResult<RecordMetadataInput> {
        let mut metadata = draft.metadata.clone();
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        let mut party_kind = None;
        if let Some(party) = &draft.party {
            let (id, kind) = find_party(&mut conn, party).await?;
            metadata.party_id = Some(id);
            party_kind = Some(kind);
        }
        if !draft.custom.is_empty() {
            let category = match (&metadata.category, &party_kind) {
                (Some(code), _) => db::catalogue::find_category(&mut conn, code).await?,
                (None, Some(kind)) => db::catalogue::folder_category(&mut conn, kind).await?,
                (None, None) => None,
            };
            // An unknown category is reported by filing; its fields are then simply text.
            let definitions: Vec<FieldDefinition> = match category {
                Some(category) => serde_json::from_value(category.fields).map_err(|error| {
                    ServiceError::Internal(format!("stored field definitions: {error}"))
                })?,
                None => Vec::new(),
            };
            metadata.custom = Some(typed_custom(&definitions, &draft.custom)?);
        }
        Ok(metadata)
    }
}

/// The one party with this identifier (and kind, if given), with its kind.
async fn find_party(conn: &mut PgConnection, party: &PartyRef) -> ServiceResult<(Uuid, String)> {
    let identifier = party.identifier.as_str();
    let kind = party.kind.map(|kind| kind.as_str());
    let mut found = db::parties::find_by_identifier(conn, identifier, kind).await?;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(ServiceError::Validation(format!(
            "party: there is no {} {identifier:?}; add the party first (POST /api/v1/parties)",
            kind.unwrap_or("employee or customer")
        ))),
        _ => Err(ServiceError::Validation(format!(
            "party: {identifier:?} is both an employee number and a customer code; write employee:{identifier} or customer:{identifier}"
        ))),
    }
}

fn report(entry: &ManifestEntry, index: usize, outcome: RowOutcome) -> RowReport {
    let row = &entry.rows[index];
    RowReport {
        line: row.line,
        path: row.path_text.clone(),
        record_key: entry.record_key.clone(),
        outcome,
    }
}

fn imported(entry: &ManifestEntry, record: &RecordView) -> Vec<RowReport> {
    (0..entry.rows.len())
        .map(|index| {
            let outcome = RowOutcome::Imported {
                record_id: record.id,
                archival_code: record.archival_code.clone(),
            };
            report(entry, index, outcome)
        })
        .collect()
}

/// Every row of `entry` failed: `line` (default: the first row) for `reason`, the others
/// because they belong to the same record.
pub(super) fn failed(entry: &ManifestEntry, line: Option<u64>, reason: &str) -> Vec<RowReport> {
    let blamed = line.or_else(|| entry.rows.first().map(|row| row.line));
    (0..entry.rows.len())
        .map(|index| {
            let reason = if Some(entry.rows[index].line) == blamed {
                reason.to_owned()
            } else {
                format!(
                    "not imported: row {} of the same record failed",
                    blamed.unwrap_or_default()
                )
            };
            report(entry, index, RowOutcome::Failed { reason })
        })
        .collect()
}

/// Some or all rows of `entry` were filed by an earlier run: those are skipped; rows added
/// to the record since cannot be, as import does not add files to a filed record.
fn already_imported(
    entry: &ManifestEntry,
    keys: &[String],
    imported: &[(String, Uuid)],
) -> Vec<RowReport> {
    let filed_as = |key: &String| {
        imported
            .iter()
            .find(|(filed, _)| filed == key)
            .map(|(_, record_id)| *record_id)
    };
    let record_id = imported
        .first()
        .map(|(_, record_id)| *record_id)
        .unwrap_or_default();
    keys.iter()
        .enumerate()
        .map(|(index, key)| {
            let outcome = match filed_as(key) {
                Some(record_id) => RowOutcome::Skipped { record_id },
                None => RowOutcome::Failed {
                    reason: format!(
                        "record: the other rows of this record were filed before as record {record_id}, and import does not add files to a filed record; give this row a record key of its own"
                    ),
                },
            };
            report(entry, index, outcome)
        })
        .collect()
}
