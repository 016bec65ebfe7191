//! Reading records and their files back.

mod access;
mod stamp;
mod view;

pub use view::{FileTextView, FileView, FixityView, RecordView};
pub(in crate::services) use view::{file_view, record_view, stored_metadata};

/// A borrowed file's watermarked copy.
pub use crate::extract::Marked as BorrowedCopy;
pub use access::Access;

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::parties::{EventInput, EventView};
use super::{Actor, ServiceError, ServiceResult, filing, holds};
use crate::blobs::BlobStore;
use crate::db::{self, Pool};
use crate::domain::audit::AuditAction;
use crate::domain::disposition;
use crate::domain::permissions::{Capability, ChangeRefusal, check_change};
use crate::domain::record::{RecordMetadata, RecordPatch, RecordStatus};
use crate::extract::Sandbox;
use crate::services::access::require_record;

/// Looks records up and streams their files.
#[derive(Clone)]
pub struct RecordService {
    pool: Pool,
    blobs: BlobStore,
    /// Where loans' due dates fall.
    timezone: chrono_tz::Tz,
    /// Where borrowed copies are watermarked: a child process.
    sandbox: Arc<Sandbox>,
}

impl RecordService {
    pub fn new(
        pool: Pool,
        blobs: BlobStore,
        timezone: chrono_tz::Tz,
        sandbox: Arc<Sandbox>,
    ) -> Self {
        Self {
            pool,
            blobs,
            timezone,
            sandbox,
        }
    }

    /// Today in the configured zone: loans run through their due date.
    pub(super) fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.timezone).date_naive()
    }

    /// The record with its files, to a caller who may see it by role or through a loan.
    pub async fn get(&self, actor: &Actor, id: Uuid) -> ServiceResult<RecordView> {
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        require_record(&mut conn, actor, id, self.today()).await?;
        let record = db::records::find(&mut conn, id)
            .await?
            .ok_or_else(|| record_not_found(id))?;
        let files = db::records::files(&mut conn, id).await?;
        let destroyed = record.status == RecordStatus::Destroyed;
        let mut view = record_view(record, files)?;
        for state in db::texts::states(&mut conn, id).await? {
            let mut files = view.files.iter_mut().chain(view.earlier_files.iter_mut());
            if let Some(file) = files.find(|file| file.id == state.file_id) {
                file.text = Some(FileTextView {
                    status: state.status,
                    method: state.method,
                    pages: state.pages,
                    chars: state.chars,
                    error: state.error,
                });
            }
        }
        for (file_id, outcome, verified_at) in db::integrity::file_fixity(&mut conn, id).await? {
            if let Some(file) = view.files.iter_mut().find(|file| file.id == file_id) {
                file.fixity = Some(FixityView {
                    outcome,
                    verified_at,
                });
            }
        }
        let damaged = view.files.iter().any(|file| {
            file.fixity
                .as_ref()
                .is_some_and(|fixity| fixity.outcome != "ok")
        });
        view.integrity =
            (!destroyed).then(|| if damaged { "damaged" } else { "intact" }.to_owned());
        if destroyed {
            view.tombstone = db::destruction::tombstone(&mut conn, id).await?;
        } else if view.status == RecordStatus::Withdrawn {
            view.tombstone =
                db::corrections::withdrawal_of(&mut conn, id)
                    .await?
                    .map(|withdrawal| {
                        serde_json::json!({
                            "withdrawal_id": withdrawal.id,
                            "reason": withdrawal.reason,
                            "proposed_by": withdrawal.proposed_by,
                            "proposed_at": withdrawal.proposed_at,
                            "approved_by": withdrawal.decided_by,
                            "withdrawn_at": withdrawal.decided_at,
                            "note": withdrawal.note,
                        })
                    });
        }
        view.holds = holds::holds_covering(&mut conn, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        Ok(view)
    }

    /// The files of record `id` whose content is also filed with another record the caller
    /// sees: filename and that record (a hint to the filer that it was already archived).
    pub async fn shared_content(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> ServiceResult<Vec<(String, Uuid)>> {
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        require_record(&mut conn, actor, id, self.today()).await?;
        let shared = db::records::shared_content(&mut conn, id).await?;
        let others: Vec<Uuid> = shared.iter().map(|(_, other)| *other).collect();
        let visibility =
            crate::services::access::visibility(&mut conn, actor, self.today()).await?;
        let visible = db::access::visible_records(&mut conn, &others, &visibility).await?;
        Ok(shared
            .into_iter()
            .filter(|(_, other)| visible.contains(other))
            .collect())
    }

    /// Changes metadata. Parts of an assigned archival code cannot change; a record whose
    /// code was incomplete gets one as soon as its classification is. Audited with the
    /// fields' values before and after.
    #[tracing::instrument(skip_all, fields(record.id = %id))]
    pub async fn patch(
        &self,
        actor: &Actor,
        id: Uuid,
        patch: RecordPatch,
    ) -> ServiceResult<RecordView> {
        let mut tx = db::begin(&self.pool).await?;
        if !db::records::lock(&mut tx, id).await? {
            return Err(record_not_found(id));
        }
        require_record(&mut tx, actor, id, self.today()).await?;
        let row = db::records::find(&mut tx, id)
            .await?
            .ok_or_else(|| record_not_found(id))?;
        if row.status != RecordStatus::Active {
            return Err(ServiceError::Conflict(format!(
                "record {id} is {}; it cannot change",
                row.status
            )));
        }
        let files = db::records::files(&mut tx, id).await?;
        let before = record_view(row, files.clone())?;
        let current = stored_metadata(&before);
        let classified = filing::classify(
            &mut tx,
            patch.apply_to(current.clone())?,
            actor,
            !files.is_empty(),
        )
        .await?;
        let after = &classified.metadata;
        check_change(actor.role, &current, after).map_err(|refusal| match refusal {
            ChangeRefusal::Forbidden(why) => ServiceError::Forbidden(why),
            ChangeRefusal::NeedsReview(why) => ServiceError::Conflict(why),
        })?;
        if let Some(code) = &before.archival_code {
            let frozen = [
                ("fonds", &current.fonds, &after.fonds),
                ("category", &current.category, &after.category),
                ("retention", &current.retention, &after.retention),
                ("department", &current.department, &after.department),
            ];
            for (field, old, new) in frozen {
                if old != new {
                    return Err(ServiceError::Conflict(format!(
                        "{field} is part of the archival code {code} and cannot change after filing"
                    )));
                }
            }
            if current.year != after.year {
                return Err(ServiceError::Conflict(format!(
                    "year is part of the archival code {code} and cannot change after filing"
                )));
            }
        }
        db::records::update(&mut tx, id, &classified.values()?).await?;
        if current.location != after.location {
            crate::services::rooms::note_edited_location(&mut tx, actor, id, &current, after)
                .await?;
        }
        let assigned = match before.archival_code {
            Some(_) => None,
            None => filing::assign_archival_code(&mut tx, id, &classified, None).await?,
        };
        filing::recompute_retention(&mut tx, filing::RetentionScope::Record(id)).await?;
        ensure_not_shortened_while_held(&mut tx, id, before.retention_due_on).await?;
        let changes = changed_fields(&current, after)?;
        if !changes.is_empty() || assigned.is_some() {
            db::audit::append(
                &mut tx,
                Some(actor.user_id),
                AuditAction::RecordUpdated,
                Some(id),
                &serde_json::json!({ "changes": changes, "archival_code_assigned": assigned }),
            )
            .await?;
        }
        tx.commit().await.map_err(db::DbError::from)?;
        self.get(actor, id).await
    }

    /// Records a dated event of the record (e.g. `asset_disposed`) and recomputes its due date.
    pub async fn add_event(
        &self,
        actor: &Actor,
        id: Uuid,
        input: EventInput,
    ) -> ServiceResult<EventView> {
        let event = input.validate()?;
        let mut tx = db::begin(&self.pool).await?;
        if !db::records::lock(&mut tx, id).await? {
            return Err(record_not_found(id));
        }
        require_record(&mut tx, actor, id, self.today()).await?;
        super::require(actor, Capability::RecordEvents)?;
        let row = db::parties::EventRow {
            id: Uuid::now_v7(),
            party_id: None,
            record_id: Some(id),
            r#type: event.r#type.clone(),
            date: event.date,
            note: event.note.clone(),
            outcome: event.outcome.clone(),
            next_step: event.next_step.clone(),
            created_by: Some(actor.user_id),
            created_at: Utc::now(),
        };
        db::parties::insert_event(&mut tx, &row).await?;
        filing::recompute_retention(&mut tx, filing::RetentionScope::Record(id)).await?;
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::RecordEvent,
            Some(id),
            &serde_json::json!({ "type": row.r#type, "date": row.date, "note": row.note }),
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(EventView::from(row))
    }
}

/// A held record's retention may not be shortened: `on_hold` when the recomputed due date
/// is earlier than `due_before` (or exists where there was none).
async fn ensure_not_shortened_while_held(
    conn: &mut db::PgConnection,
    id: Uuid,
    due_before: Option<NaiveDate>,
) -> ServiceResult<()> {
    let due_after = db::records::find(conn, id)
        .await?
        .ok_or_else(|| record_not_found(id))?
        .retention_due_on;
    if disposition::shortens(due_before, due_after) {
        holds::ensure_not_held(conn, id, "its retention cannot be shortened").await?;
    }
    Ok(())
}

/// `{field: {before, after}}` for every field that differs.
fn changed_fields(
    before: &RecordMetadata,
    after: &RecordMetadata,
) -> ServiceResult<serde_json::Map<String, Value>> {
    let to_object = |metadata: &RecordMetadata| match serde_json::to_value(metadata) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(ServiceError::Internal(
            "metadata does not serialize to an object".into(),
        )),
    };
    let (before, after) = (to_object(before)?, to_object(after)?);
    Ok(after
        .into_iter()
        .filter_map(|(field, new)| {
            let old = before.get(&field).cloned().unwrap_or(Value::Null);
            (old != new).then(|| (field, serde_json::json!({ "before": old, "after": new })))
        })
        .collect())
}

pub(crate) fn record_not_found(id: Uuid) -> ServiceError {
    ServiceError::NotFound(format!("record {id} not found"))
}
