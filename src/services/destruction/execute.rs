//! Running an approved batch, exactly once per item: items are settled a chunk at a time,
//! each chunk in one transaction (records locked, holds and appraisals re-checked per item,
//! tombstones written, records marked destroyed, extracted text deleted, blob references
//! released, audit events), and objects whose blob no record references any more are
//! deleted after that commit.
//!
//! Blob rows are kept at refcount 0 (destroyed records' file rows still name them). A crash
//! between a chunk's commit and the object deletion leaves an object with refcount 0; every
//! run of the batch first deletes the objects of its destroyed items whose refcount is 0, so
//! a resumed run cleans up after the killed one. An object is deleted only while its blob
//! row is locked at refcount 0, so an upload of the same content waits and then stores it
//! again.

use std::collections::HashMap;

use chrono::Utc;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{DestructionService, batch_not_found, shredding_key};
use crate::db::destruction::{ApprovalRow, BatchRow};
use crate::db::records::{FileRow, RecordRow};
use crate::db::{self, DbError, PgConnection};
use crate::domain::Sha256Digest;
use crate::domain::audit::AuditAction;
use crate::domain::disposition::BatchStatus;
use crate::domain::record::RecordStatus;
use crate::domain::reminder::ReminderKind;
use crate::services::holds::holds_covering;
use crate::services::reminders::decisions::{Waiting, supervisors};
use crate::services::{ServiceError, ServiceResult};

/// Object deletions in flight at once.
const OBJECT_DELETIONS_AT_ONCE: usize = 16;

/// Where a batch run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Every item is settled; the batch can be marked done once search has caught up.
    Settled,
    /// The batch was done already.
    Done,
}

impl DestructionService {
    /// Settles every pending item of an approved batch. Safe to run again after a crash:
    /// settled items are never touched twice.
    #[tracing::instrument(skip_all, fields(batch.id = %id))]
    pub async fn execute(&self, id: Uuid) -> ServiceResult<Progress> {
        let batch = {
            let mut conn = db::acquire(&self.pool).await?;
            let batch = db::destruction::find_batch(&mut conn, id)
                .await?
                .ok_or_else(|| batch_not_found(id))?;
            match batch.status {
                BatchStatus::Done | BatchStatus::AwaitingShredding => return Ok(Progress::Done),
                BatchStatus::AwaitingApproval => {
                    return Err(ServiceError::Conflict(format!(
                        "batch {id} is not approved; it cannot run"
                    )));
                }
                BatchStatus::Approved => {
                    db::destruction::set_status(&mut conn, id, BatchStatus::Running).await?;
                }
                BatchStatus::Running => {}
            }
            batch
        };
        self.collect_unreferenced(id).await?;
        let approvers = {
            let mut conn = db::acquire(&self.pool).await?;
            db::destruction::approvals(&mut conn, id).await?
        };
        while let Some(unreferenced) = self.settle_next(&batch, &approvers).await? {
            self.delete_objects(&unreferenced).await?;
        }
        Ok(Progress::Settled)
    }

    /// Marks a settled batch done, or `awaiting_shredding` while physical items are not yet
    /// confirmed shredded; search must have caught up by then.
    pub async fn finish(&self, id: Uuid) -> ServiceResult<()> {
        let mut tx = db::begin(&self.pool).await?;
        let batch = db::destruction::lock_batch(&mut tx, id)
            .await?
            .ok_or_else(|| batch_not_found(id))?;
        if batch.status == BatchStatus::Running {
            let to_shred = db::destruction::awaiting_shredding(&mut tx, id).await?;
            if to_shred.is_empty() {
                db::destruction::set_status(&mut tx, id, BatchStatus::Done).await?;
                let details = json!({ "batch_id": id });
                db::audit::append(&mut tx, None, AuditAction::BatchDone, None, &details).await?;
            } else {
                db::destruction::set_status(&mut tx, id, BatchStatus::AwaitingShredding).await?;
                let details = json!({ "batch_id": id, "to_shred": to_shred.len() });
                db::audit::append(
                    &mut tx,
                    None,
                    AuditAction::BatchAwaitingShredding,
                    None,
                    &details,
                )
                .await?;
                let recipients = supervisors(&mut tx, &batch.supervisors).await?;
                Waiting {
                    kind: ReminderKind::Shredding,
                    key: shredding_key(id),
                    subject: format!(
                        "銷毀批次待監銷 {} physical items await shredding before your eyes (監銷人: {})",
                        to_shred.len(),
                        batch.supervisors.join("、")
                    ),
                    due_on: self.today(),
                    record_id: None,
                    details: json!({ "batch_id": id, "to_shred": to_shred.len(),
                                     "link": format!("/api/v1/disposition/batches/{id}") }),
                }
                .raise(&mut tx, &recipients)
                .await?;
            }
        }
        tx.commit().await.map_err(DbError::from)?;
        Ok(())
    }

    /// Settles the next chunk of pending items in one transaction; returns the digests no
    /// record references any more, or `None` when no item was pending.
    async fn settle_next(
        &self,
        batch: &BatchRow,
        approvers: &[ApprovalRow],
    ) -> ServiceResult<Option<Vec<Sha256Digest>>> {
        let mut tx = db::begin(&self.pool).await?;
        let chunk = db::destroy::pending_chunk(&mut tx, batch.id, self.chunk).await?;
        if chunk.is_empty() {
            return Ok(None);
        }
        let record_ids: Vec<Uuid> = chunk.iter().map(|(_, id)| *id).collect();
        let settled = destroy_records(&mut tx, batch, approvers, &chunk).await?;
        let unreferenced = settled.unreferenced;
        db::destroy::settle_items(&mut tx, batch.id, &settled.items).await?;
        tx.commit().await.map_err(DbError::from)?;
        tracing::debug!(items = record_ids.len(), "chunk settled");
        Ok(Some(unreferenced))
    }

    /// Deletes the objects of the batch's destroyed records that nothing references.
    async fn collect_unreferenced(&self, id: Uuid) -> ServiceResult<()> {
        let digests = {
            let mut conn = db::acquire(&self.pool).await?;
            db::destruction::unreferenced_blobs_of_batch(&mut conn, id).await?
        };
        let digests: Vec<Sha256Digest> = digests
            .iter()
            .filter_map(|bytes| Sha256Digest::from_slice(bytes))
            .collect();
        self.delete_objects(&digests).await
    }

    /// Deletes the objects of blobs nothing references, a chunk at a time, while their rows
    /// are locked at refcount 0; the deletions of a chunk run side by side.
    async fn delete_objects(&self, digests: &[Sha256Digest]) -> ServiceResult<()> {
        for chunk in digests.chunks(usize::try_from(self.chunk).unwrap_or(500).max(1)) {
            let mut tx = db::begin(&self.pool).await?;
            let bytes: Vec<Vec<u8>> = chunk
                .iter()
                .map(|digest| digest.as_bytes().to_vec())
                .collect();
            let locked: Vec<Sha256Digest> = db::destroy::lock_unreferenced(&mut tx, &bytes)
                .await?
                .iter()
                .filter_map(|bytes| Sha256Digest::from_slice(bytes))
                .collect();
            for group in locked.chunks(OBJECT_DELETIONS_AT_ONCE) {
                let deletions: Vec<_> = group
                    .iter()
                    .map(|digest| self.blobs.delete(*digest))
                    .collect();
                futures::future::try_join_all(deletions).await?;
            }
            tx.commit().await.map_err(DbError::from)?;
        }
        Ok(())
    }
}

/// What a chunk came to: each item settled, and the blobs left without references.
struct ChunkOutcome {
    items: Vec<db::destroy::Settled>,
    unreferenced: Vec<Sha256Digest>,
}

/// Destroys the records of a chunk inside its transaction, each re-checked: gone, held or
/// re-appraised records are skipped and say why.
async fn destroy_records(
    tx: &mut PgConnection,
    batch: &BatchRow,
    approvers: &[ApprovalRow],
    chunk: &[(i32, Uuid)],
) -> ServiceResult<ChunkOutcome> {
    let ids: Vec<Uuid> = chunk.iter().map(|(_, id)| *id).collect();
    db::destroy::lock_records_and_parties(tx, &ids).await?;
    let records: HashMap<Uuid, RecordRow> = db::destroy::records(tx, &ids)
        .await?
        .into_iter()
        .map(|record| (record.id, record))
        .collect();
    let held = holds_covering(tx, &ids).await?;
    let appraisals: HashMap<Uuid, String> = db::disposition::latest_appraisals(tx, &ids)
        .await?
        .into_iter()
        .map(|row| (row.record_id, row.decision))
        .collect();
    let mut files: HashMap<Uuid, Vec<FileRow>> = HashMap::new();
    for file in db::destroy::files(tx, &ids).await? {
        files.entry(file.record_id).or_default().push(file);
    }
    let approvers_json: Vec<Value> = approvers
        .iter()
        .map(|a| json!({ "user_id": a.user_id, "username": a.username }))
        .collect();
    let destroyed_at = Utc::now();
    let mut items = Vec::with_capacity(chunk.len());
    let (mut destroyed, mut tombstones, mut released) = (Vec::new(), Vec::new(), Vec::new());
    for (position, record_id) in chunk {
        let skip = |outcome: &'static str, detail: String| {
            tracing::info!(record.id = %record_id, outcome, "{detail}");
            db::destroy::Settled {
                position: *position,
                outcome,
                detail: Some(detail),
                tombstone: None,
            }
        };
        let record = match records.get(record_id) {
            Some(record) if record.status == RecordStatus::Active => record,
            Some(record) => {
                items.push(skip(
                    "skipped_gone",
                    format!("record {record_id} is already {}", record.status),
                ));
                continue;
            }
            None => {
                items.push(skip(
                    "skipped_gone",
                    format!("record {record_id} no longer exists"),
                ));
                continue;
            }
        };
        if let Some(holds) = held.get(record_id).filter(|holds| !holds.is_empty()) {
            let holds: Vec<String> = holds.iter().map(Uuid::to_string).collect();
            let detail = format!("record {record_id} is on legal hold ({})", holds.join(", "));
            items.push(skip("skipped_hold", detail));
            continue;
        }
        if let Some(decision) = appraisals
            .get(record_id)
            .filter(|decision| *decision != "destroy")
        {
            let detail =
                format!("record {record_id} was appraised {decision} after the batch was created");
            items.push(skip("skipped_reappraised", detail));
            continue;
        }
        let record_files = files.get(record_id).map(Vec::as_slice).unwrap_or_default();
        let tombstone = json!({
            "record_id": record_id,
            "archival_code": record.archival_code,
            "title": record.title,
            "doc_date": record.doc_date,
            "category": record.category,
            "retention": record.retention,
            "department": record.department,
            "retention_due_on": record.retention_due_on,
            "carrier": record.carrier,
            "files": record_files.iter().map(|file| json!({
                "filename": file.filename, "sha256": hex::encode(&file.sha256), "size": file.size,
            })).collect::<Vec<_>>(),
            "batch_id": batch.id,
            "approvers": approvers_json,
            "supervisors": batch.supervisors,
            "destroyed_at": destroyed_at,
        });
        released.extend(record_files.iter().map(|file| file.sha256.clone()));
        destroyed.push(*record_id);
        tombstones.push(tombstone.clone());
        items.push(db::destroy::Settled {
            position: *position,
            outcome: "destroyed",
            detail: None,
            tombstone: Some(tombstone),
        });
    }
    let mut unreferenced = Vec::new();
    if !destroyed.is_empty() {
        db::destroy::mark_destroyed(tx, &destroyed).await?;
        for bytes in db::destroy::release_references(tx, &released).await? {
            if let Some(digest) = Sha256Digest::from_slice(&bytes) {
                unreferenced.push(digest);
            }
        }
        db::destroy::audit(tx, AuditAction::RecordDestroyed, &destroyed, &tombstones).await?;
    }
    Ok(ChunkOutcome {
        items,
        unreferenced,
    })
}
