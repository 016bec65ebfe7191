//! Running an approved batch, exactly once per item: each item is settled in one transaction
//! (record locked, holds re-checked, tombstone written, record marked destroyed, extracted
//! text deleted, blob references released, audit event), and objects whose blob no record
//! references any more are deleted after that commit.
//!
//! Blob rows are kept at refcount 0 (destroyed records' file rows still name them). A crash
//! between an item's commit and the object deletion leaves an object with refcount 0; every
//! run of the batch first deletes the objects of its destroyed items whose refcount is 0, so
//! a resumed run cleans up after the killed one. An object is deleted only while its blob
//! row is locked at refcount 0, so an upload of the same content waits and then stores it
//! again.

use chrono::Utc;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{DestructionService, batch_not_found};
use crate::db::destruction::{ApprovalRow, BatchRow};
use crate::db::{self, DbError, PgConnection};
use crate::domain::Sha256Digest;
use crate::services::holds::holds_covering;
use crate::services::{ServiceError, ServiceResult};

/// Where a batch run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Every item is settled; the batch can be marked done once search has caught up.
    Settled,
    /// The batch was done already.
    Done,
}

/// What became of one item.
enum Outcome {
    Destroyed {
        tombstone: Value,
        unreferenced: Vec<Sha256Digest>,
    },
    Skipped {
        outcome: &'static str,
        detail: String,
    },
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
            match batch.status.as_str() {
                "done" | "awaiting_shredding" => return Ok(Progress::Done),
                "awaiting_approval" => {
                    return Err(ServiceError::Conflict(format!(
                        "batch {id} is not approved; it cannot run"
                    )));
                }
                "approved" => db::destruction::set_status(&mut conn, id, "running").await?,
                _ => {}
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
        if batch.status == "running" {
            let to_shred = db::destruction::awaiting_shredding(&mut tx, id).await?;
            if to_shred.is_empty() {
                db::destruction::set_status(&mut tx, id, "done").await?;
                let details = json!({ "batch_id": id });
                db::audit::append(&mut tx, None, "batch.done", None, &details).await?;
            } else {
                db::destruction::set_status(&mut tx, id, "awaiting_shredding").await?;
                let details = json!({ "batch_id": id, "to_shred": to_shred.len() });
                db::audit::append(&mut tx, None, "batch.awaiting_shredding", None, &details)
                    .await?;
            }
        }
        tx.commit().await.map_err(DbError::from)?;
        Ok(())
    }

    /// Settles the first pending item in one transaction; returns the digests no record
    /// references any more, or `None` when no item was pending.
    async fn settle_next(
        &self,
        batch: &BatchRow,
        approvers: &[ApprovalRow],
    ) -> ServiceResult<Option<Vec<Sha256Digest>>> {
        let mut tx = db::begin(&self.pool).await?;
        let Some((position, record_id)) = db::destruction::next_pending(&mut tx, batch.id).await?
        else {
            return Ok(None);
        };
        let outcome = destroy_record(&mut tx, batch, approvers, record_id).await?;
        let unreferenced = match outcome {
            Outcome::Destroyed {
                tombstone,
                unreferenced,
            } => {
                db::destruction::settle_item(
                    &mut tx,
                    batch.id,
                    position,
                    "destroyed",
                    None,
                    Some(&tombstone),
                )
                .await?;
                unreferenced
            }
            Outcome::Skipped { outcome, detail } => {
                tracing::info!(record.id = %record_id, outcome, "{detail}");
                db::destruction::settle_item(
                    &mut tx,
                    batch.id,
                    position,
                    outcome,
                    Some(&detail),
                    None,
                )
                .await?;
                Vec::new()
            }
        };
        tx.commit().await.map_err(DbError::from)?;
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

    /// Deletes each object while its blob row is locked at refcount 0.
    async fn delete_objects(&self, digests: &[Sha256Digest]) -> ServiceResult<()> {
        for digest in digests {
            let mut tx = db::begin(&self.pool).await?;
            if db::blobs::lock_unreferenced(&mut tx, digest.as_bytes()).await? {
                self.blobs.delete(*digest).await?;
            }
            tx.commit().await.map_err(DbError::from)?;
        }
        Ok(())
    }
}

/// Destroys one record inside the item's transaction, or says why it is skipped.
async fn destroy_record(
    tx: &mut PgConnection,
    batch: &BatchRow,
    approvers: &[ApprovalRow],
    record_id: Uuid,
) -> ServiceResult<Outcome> {
    // the party's lock before the record's, in the order hold placement takes them
    db::holds::share_party_of_record(tx, record_id).await?;
    db::records::lock(tx, record_id).await?;
    let record = match db::records::find(tx, record_id).await? {
        Some(record) if record.status == "active" => record,
        Some(record) => {
            return Ok(Outcome::Skipped {
                outcome: "skipped_gone",
                detail: format!("record {record_id} is already {}", record.status),
            });
        }
        None => {
            return Ok(Outcome::Skipped {
                outcome: "skipped_gone",
                detail: format!("record {record_id} no longer exists"),
            });
        }
    };
    if let Some(holds) = holds_covering(tx, &[record_id]).await?.remove(&record_id) {
        let holds: Vec<String> = holds.iter().map(Uuid::to_string).collect();
        return Ok(Outcome::Skipped {
            outcome: "skipped_hold",
            detail: format!("record {record_id} is on legal hold ({})", holds.join(", ")),
        });
    }
    let latest = db::disposition::latest_appraisals(tx, &[record_id]).await?;
    if let Some(appraisal) = latest.first().filter(|row| row.decision != "destroy") {
        return Ok(Outcome::Skipped {
            outcome: "skipped_reappraised",
            detail: format!(
                "record {record_id} was appraised {} after the batch was created",
                appraisal.decision
            ),
        });
    }
    let files = db::records::files(tx, record_id).await?;
    let tombstone = json!({
        "record_id": record_id,
        "archival_code": record.archival_code,
        "title": record.title,
        "doc_date": record.doc_date,
        "category": record.category,
        "retention": record.retention,
        "department": record.department,
        "retention_due_on": record.retention_due_on,
        "files": files.iter().map(|file| json!({
            "filename": file.filename, "sha256": hex::encode(&file.sha256), "size": file.size,
        })).collect::<Vec<_>>(),
        "batch_id": batch.id,
        "approvers": approvers.iter().map(|a| json!({ "user_id": a.user_id, "username": a.username })).collect::<Vec<_>>(),
        "supervisors": batch.supervisors,
        "destroyed_at": Utc::now(),
    });
    db::destruction::mark_destroyed(tx, record_id).await?;
    let mut unreferenced = Vec::new();
    for file in &files {
        if db::blobs::release_reference(tx, &file.sha256).await?
            && let Some(digest) = Sha256Digest::from_slice(&file.sha256)
            && !unreferenced.contains(&digest)
        {
            unreferenced.push(digest);
        }
    }
    db::audit::append(tx, None, "record.destroyed", Some(record_id), &tombstone).await?;
    Ok(Outcome::Destroyed {
        tombstone,
        unreferenced,
    })
}
