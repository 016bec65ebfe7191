//! Shredding confirmation (R17): after the digital part of a batch ran, each destroyed
//! item with a physical carrier (paper, photo, object, media) is confirmed shredded for one
//! of the batch's named supervisors (監銷人); the batch is done once all are.

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{BatchView, DestructionService, batch_not_found, batch_view, shredding_key};
use crate::db::{self, DbError};
use crate::domain::audit::AuditAction;
use crate::domain::disposition::BatchStatus;
use crate::domain::permissions::Capability;
use crate::services::reminders::decisions::decided;
use crate::services::{Actor, ServiceError, ServiceResult};

/// `POST /api/v1/disposition/batches/{id}/shredded`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShreddingInput {
    /// The items confirmed; default every physical item still waiting.
    #[serde(default)]
    pub record_ids: Option<Vec<Uuid>>,
    /// The supervisor who saw the shredding, one of the batch's; default the caller, who
    /// must then be a named supervisor.
    #[serde(default)]
    pub supervisor: Option<String>,
    #[serde(default)]
    pub remarks: Option<String>,
}

impl DestructionService {
    /// Confirms physical items shredded. The caller is a named supervisor, or a disposition
    /// role entering the confirmation of a named `supervisor`. When no item is left waiting,
    /// the batch is done.
    #[tracing::instrument(skip_all, fields(batch.id = %id))]
    pub async fn confirm_shredded(
        &self,
        actor: &Actor,
        id: Uuid,
        input: ShreddingInput,
    ) -> ServiceResult<BatchView> {
        let mut tx = db::begin(&self.pool).await?;
        let batch = db::destruction::lock_batch(&mut tx, id)
            .await?
            .ok_or_else(|| batch_not_found(id))?;
        let supervisor = match input.supervisor.as_deref().map(str::trim) {
            Some(name)
                if batch.supervisors.iter().any(|s| s == name)
                    && actor.role.may(Capability::Dispose) =>
            {
                name.to_owned()
            }
            Some(name) if batch.supervisors.iter().any(|s| s == name) => {
                return Err(ServiceError::Forbidden(
                    "only a named supervisor or a disposition role confirms shredding".into(),
                ));
            }
            Some(name) => {
                return Err(ServiceError::Validation(format!(
                    "supervisor: {name:?} is not a supervisor of batch {id} ({})",
                    batch.supervisors.join(", ")
                )));
            }
            None if batch.supervisors.contains(&actor.username) => actor.username.clone(),
            None => {
                return Err(ServiceError::Forbidden(format!(
                    "{} is not a supervisor of batch {id}; name the supervisor who saw the shredding",
                    actor.username
                )));
            }
        };
        if batch.status != BatchStatus::AwaitingShredding {
            return Err(ServiceError::Conflict(format!(
                "batch {id} is {}; shredding is confirmed once its digital part has run",
                batch.status
            )));
        }
        let waiting = db::destruction::awaiting_shredding(&mut tx, id).await?;
        let listed = match input.record_ids {
            Some(ids) => {
                if let Some(stray) = ids.iter().find(|record| !waiting.contains(record)) {
                    return Err(ServiceError::Conflict(format!(
                        "record {stray} is not a physical item of batch {id} waiting to be shredded"
                    )));
                }
                ids
            }
            None => waiting.clone(),
        };
        let remarks = input.remarks.filter(|text| !text.trim().is_empty());
        let confirmed = db::destruction::confirm_shredded(
            &mut tx,
            id,
            &listed,
            actor.user_id,
            &supervisor,
            remarks.as_deref(),
        )
        .await?;
        for record_id in &confirmed {
            let details = json!({ "batch_id": id, "supervisor": supervisor, "remarks": remarks });
            db::audit::append(
                &mut tx,
                Some(actor.user_id),
                AuditAction::RecordShredded,
                Some(*record_id),
                &details,
            )
            .await?;
        }
        let mut batch = batch;
        if db::destruction::awaiting_shredding(&mut tx, id)
            .await?
            .is_empty()
        {
            db::destruction::set_status(&mut tx, id, BatchStatus::Done).await?;
            decided(&mut tx, &shredding_key(id), Some(actor.user_id)).await?;
            db::audit::append(
                &mut tx,
                Some(actor.user_id),
                AuditAction::BatchDone,
                None,
                &json!({ "batch_id": id }),
            )
            .await?;
            batch = db::destruction::lock_batch(&mut tx, id)
                .await?
                .ok_or_else(|| batch_not_found(id))?;
        }
        let view = batch_view(&mut tx, actor, batch).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(view)
    }
}
