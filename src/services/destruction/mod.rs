//! Destruction batches (銷毀): created from records appraised "destroy", approved by two
//! distinct approvers other than the creator, then run by the `destroy_batch` job
//! (`execute`); the destruction list (銷毀清冊) is in `list`.

mod execute;
mod list;
mod shredding;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::holds::holds_covering;
use super::jobs::new_job;
use super::records::record_not_found;
use super::reminders::decisions::{DECIDERS, Waiting, decided, recipient_key};
use super::{Actor, ServiceError, ServiceResult};
use crate::blobs::BlobStore;
use crate::db::destruction::{BatchRow, ItemRow};
use crate::db::{self, DbError, PgConnection, Pool};
use crate::domain::audit::AuditAction;
use crate::domain::disposition::{APPROVALS_NEEDED, BatchStatus, Decision};
use crate::domain::job::Job;
use crate::domain::permissions::Capability;
use crate::domain::record::RecordStatus;
use crate::domain::reminder::{Recipient, ReminderKind};
use crate::services::require;

pub use execute::Progress;
pub use list::{BatchQuery, ListFormat};
pub use shredding::ShreddingInput;

/// The key of the reminders asking for a batch's approval.
fn approval_key(batch: Uuid) -> String {
    format!("batch_approval:{batch}")
}

/// The key of the reminders asking a batch's supervisors to see its items shredded.
fn shredding_key(batch: Uuid) -> String {
    format!("batch_shredding:{batch}")
}

/// A batch to create: `POST /api/v1/disposition/batches`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBatch {
    /// Every record must be due on or before this date (`YYYY-MM-DD`).
    pub as_of: NaiveDate,
    pub record_ids: Vec<Uuid>,
    /// The supervisors (監銷人) by name; at least one. A supervisor who is a user of dangan
    /// is named by username, so they can confirm shredding themselves.
    pub supervisors: Vec<String>,
    /// When the approved batch runs (RFC 3339); absent or past: as soon as it is approved.
    #[serde(default)]
    pub run_at: Option<DateTime<Utc>>,
}

/// One approval of a batch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovalView {
    pub user_id: Uuid,
    pub username: String,
    pub at: DateTime<Utc>,
}

/// One item of a batch and what became of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemView {
    pub record_id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    /// `pending`, `destroyed`, `skipped_hold`, `skipped_gone` or `skipped_reappraised`.
    pub outcome: String,
    pub detail: Option<String>,
    /// What is kept of a destroyed record.
    #[schema(value_type = Option<Object>)]
    pub tombstone: Option<Value>,
    pub done_at: Option<DateTime<Utc>>,
    /// Destroyed, with a physical carrier (paper, photo, object, media): to be shredded.
    pub physical: bool,
    /// Who entered the shredding confirmation, when, for which supervisor.
    pub shredded_by: Option<String>,
    pub shredded_at: Option<DateTime<Utc>>,
    pub shred_supervisor: Option<String>,
    pub shred_remarks: Option<String>,
}

/// A batch as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchView {
    pub id: Uuid,
    pub as_of: NaiveDate,
    /// `awaiting_approval`, `approved`, `running`, `awaiting_shredding` (digital part done,
    /// physical items to be confirmed shredded) or `done`.
    pub status: BatchStatus,
    pub supervisors: Vec<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// When the batch runs once approved; absent: at once.
    pub run_at: Option<DateTime<Utc>>,
    pub approvals: Vec<ApprovalView>,
    pub items: Vec<ItemView>,
}

/// Destruction batches.
#[derive(Clone)]
pub struct DestructionService {
    pool: Pool,
    blobs: BlobStore,
    /// Items settled per transaction.
    chunk: i64,
    /// Where the reminders of waiting decisions fall due.
    timezone: chrono_tz::Tz,
}

impl DestructionService {
    /// `chunk` items are settled per transaction (at least one).
    pub fn new(pool: Pool, blobs: BlobStore, chunk: usize, timezone: chrono_tz::Tz) -> Self {
        let chunk = i64::try_from(chunk.max(1)).unwrap_or(i64::MAX);
        Self {
            pool,
            blobs,
            chunk,
            timezone,
        }
    }

    fn today(&self) -> chrono::NaiveDate {
        Utc::now().with_timezone(&self.timezone).date_naive()
    }

    /// Creates a batch awaiting approval. Every record must be active, due by `as_of`, not
    /// held, appraised "destroy" last, and in no other open batch; otherwise 409 naming it.
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, actor: &Actor, input: NewBatch) -> ServiceResult<BatchView> {
        super::require(actor, Capability::Dispose)?;
        let supervisors: Vec<String> = input
            .supervisors
            .iter()
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .collect();
        if supervisors.is_empty() {
            return Err(ServiceError::Validation(
                "supervisors: name at least one supervisor (監銷人)".into(),
            ));
        }
        let mut record_ids = Vec::with_capacity(input.record_ids.len());
        for id in input.record_ids {
            if !record_ids.contains(&id) {
                record_ids.push(id);
            }
        }
        if record_ids.is_empty() {
            return Err(ServiceError::Validation(
                "record_ids: list at least one record".into(),
            ));
        }
        let mut tx = db::begin(&self.pool).await?;
        ensure_destroyable(&mut tx, &record_ids, input.as_of).await?;
        let batch = BatchRow {
            id: Uuid::now_v7(),
            as_of: input.as_of,
            status: BatchStatus::AwaitingApproval,
            supervisors,
            created_by: actor.user_id,
            created_at: Utc::now(),
            approved_at: None,
            finished_at: None,
            run_at: input.run_at,
        };
        db::destruction::insert_batch(&mut tx, &batch).await?;
        db::destruction::insert_items(&mut tx, batch.id, &record_ids)
            .await
            .map_err(|error| match error.conflict() {
                Some(db::Conflict::OpenBatchItem) => ServiceError::Conflict(
                    "a listed record is already in another open destruction batch".into(),
                ),
                _ => error.into(),
            })?;
        let details = json!({ "batch_id": batch.id, "records": record_ids.len() });
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::BatchCreated,
            None,
            &details,
        )
        .await?;
        Waiting {
            kind: ReminderKind::Approval,
            key: approval_key(batch.id),
            subject: format!(
                "銷毀批次待審批 destruction batch awaiting approval: {} records due by {}",
                record_ids.len(),
                batch.as_of
            ),
            due_on: self.today(),
            record_id: None,
            details: json!({ "batch_id": batch.id,
                             "link": format!("/api/v1/disposition/batches/{}", batch.id) }),
        }
        .raise(&mut tx, &DECIDERS)
        .await?;
        let view = batch_view(&mut tx, actor, batch).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(view)
    }

    /// One approval. The creator may not approve, nor anyone twice (409 `conflict`); the
    /// second distinct approval makes the batch `approved` and queues its job in the same
    /// transaction.
    #[tracing::instrument(skip_all, fields(batch.id = %id))]
    pub async fn approve(&self, actor: &Actor, id: Uuid) -> ServiceResult<BatchView> {
        super::require(actor, Capability::ApproveDestruction)?;
        let mut tx = db::begin(&self.pool).await?;
        let mut batch = db::destruction::lock_batch(&mut tx, id)
            .await?
            .ok_or_else(|| batch_not_found(id))?;
        if batch.created_by == actor.user_id {
            return Err(ServiceError::Conflict(format!(
                "batch {id} was created by {}; its creator cannot approve it",
                actor.username
            )));
        }
        if batch.status != BatchStatus::AwaitingApproval {
            return Err(ServiceError::Conflict(format!(
                "batch {id} is {}; it takes no more approvals",
                batch.status
            )));
        }
        if !db::destruction::insert_approval(&mut tx, id, actor.user_id).await? {
            return Err(ServiceError::Conflict(format!(
                "{} already approved batch {id}",
                actor.username
            )));
        }
        let approvals = db::destruction::approvals(&mut tx, id).await?;
        if approvals.len() >= APPROVALS_NEEDED {
            db::destruction::set_status(&mut tx, id, BatchStatus::Approved).await?;
            let mut job = new_job(&Job::DestroyBatch { batch_id: id }, Some(id.to_string()));
            job.run_at = batch.run_at;
            db::jobs::enqueue(&mut tx, &job).await?;
            batch.status = BatchStatus::Approved;
            batch.approved_at = Some(Utc::now());
            decided(&mut tx, &approval_key(id), Some(actor.user_id)).await?;
        } else {
            // this approver's part is done; the other decider is still asked
            let mine = recipient_key(&approval_key(id), Recipient::Role(actor.role));
            db::reminders::close_keyed(&mut tx, &mine, Some(actor.user_id)).await?;
        }
        let details = json!({ "batch_id": id, "approvals": approvals.len() });
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::BatchApproved,
            None,
            &details,
        )
        .await?;
        let view = batch_view(&mut tx, actor, batch).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(view)
    }

    /// The batch with its approvals and items.
    pub async fn get(&self, actor: &Actor, id: Uuid) -> ServiceResult<BatchView> {
        require(actor, Capability::SeeDestruction)?;
        let mut conn = db::acquire(&self.pool).await?;
        let batch = db::destruction::find_batch(&mut conn, id)
            .await?
            .ok_or_else(|| batch_not_found(id))?;
        batch_view(&mut conn, actor, batch).await
    }
}

impl DestructionService {
    /// Batches newest first, of one status if given (e.g. `awaiting_approval`,
    /// `awaiting_shredding`), each with the items the caller may see.
    pub async fn list_batches(
        &self,
        actor: &Actor,
        status: Option<&str>,
    ) -> ServiceResult<Vec<BatchView>> {
        require(actor, Capability::SeeDestruction)?;
        let status = status
            .map(|status| {
                BatchStatus::parse(status).ok_or_else(|| {
                    let statuses: Vec<&str> = BatchStatus::ALL
                        .iter()
                        .map(|status| status.as_str())
                        .collect();
                    ServiceError::Validation(format!(
                        "status: one of {} (not {status:?})",
                        statuses.join(", ")
                    ))
                })
            })
            .transpose()?;
        let mut conn = db::acquire(&self.pool).await?;
        let rows = db::destruction::list_batches(&mut conn, status, 100).await?;
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            views.push(batch_view(&mut conn, actor, row).await?);
        }
        Ok(views)
    }
}

/// Checks every record for a batch, locking them in id order.
async fn ensure_destroyable(
    conn: &mut PgConnection,
    record_ids: &[Uuid],
    as_of: NaiveDate,
) -> ServiceResult<()> {
    let mut sorted = record_ids.to_vec();
    sorted.sort_unstable();
    for id in &sorted {
        if !db::records::lock(conn, *id).await? {
            return Err(record_not_found(*id));
        }
    }
    let appraisals = db::disposition::latest_appraisals(conn, &sorted).await?;
    let held = holds_covering(conn, &sorted).await?;
    if let Some((id, loan)) = db::loans::physical_out(conn, &sorted).await?.first() {
        return Err(ServiceError::Conflict(format!(
            "the physical item of record {id} is out on loan {loan}; it can be destroyed once \
             returned"
        )));
    }
    for id in &sorted {
        let record = db::records::find(conn, *id)
            .await?
            .ok_or_else(|| record_not_found(*id))?;
        if record.status != RecordStatus::Active {
            return Err(ServiceError::Conflict(format!(
                "record {id} is {}; it cannot be destroyed",
                record.status
            )));
        }
        if record.retention_due_on.is_none_or(|due| due > as_of) {
            return Err(ServiceError::Conflict(format!(
                "record {id} is not due by {as_of}; it cannot be destroyed"
            )));
        }
        let decision = appraisals
            .iter()
            .find(|row| row.record_id == *id)
            .and_then(|row| Decision::parse(&row.decision));
        if decision != Some(Decision::Destroy) {
            return Err(ServiceError::Conflict(format!(
                "record {id} is not appraised for destruction"
            )));
        }
        if held.get(id).is_some_and(|holds| !holds.is_empty()) {
            return Err(ServiceError::OnHold(format!(
                "record {id} is on legal hold; it cannot be destroyed"
            )));
        }
    }
    Ok(())
}

/// The batch as `actor` sees it: only the items whose records they may see are listed.
async fn batch_view(
    conn: &mut PgConnection,
    actor: &Actor,
    batch: BatchRow,
) -> ServiceResult<BatchView> {
    let approvals = db::destruction::approvals(conn, batch.id)
        .await?
        .into_iter()
        .map(|row| ApprovalView {
            user_id: row.user_id,
            username: row.username,
            at: row.at,
        })
        .collect();
    let rows = db::destruction::items(conn, batch.id).await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.record_id).collect();
    let visibility = crate::services::access::standing_visibility(conn, actor).await?;
    let visible: std::collections::HashSet<Uuid> =
        db::access::visible_records(conn, &ids, &visibility)
            .await?
            .into_iter()
            .collect();
    let items = rows
        .into_iter()
        .filter(|row| visible.contains(&row.record_id))
        .map(item_view)
        .collect();
    Ok(BatchView {
        id: batch.id,
        as_of: batch.as_of,
        status: batch.status,
        supervisors: batch.supervisors,
        created_by: batch.created_by,
        created_at: batch.created_at,
        approved_at: batch.approved_at,
        finished_at: batch.finished_at,
        run_at: batch.run_at,
        approvals,
        items,
    })
}

fn item_view(row: ItemRow) -> ItemView {
    ItemView {
        record_id: row.record_id,
        archival_code: row.archival_code,
        title: row.title,
        outcome: row.outcome,
        detail: row.detail,
        tombstone: row.tombstone,
        done_at: row.done_at,
        physical: row.physical,
        shredded_by: row.shredded_by,
        shredded_at: row.shredded_at,
        shred_supervisor: row.shred_supervisor,
        shred_remarks: row.shred_remarks,
    }
}

fn batch_not_found(id: Uuid) -> ServiceError {
    ServiceError::NotFound(format!("no destruction batch {id}"))
}
