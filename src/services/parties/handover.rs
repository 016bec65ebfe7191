//! Handover (R14): before an employee's leave completes, every live record in their care
//! passes to a named successor, in one transaction, audited per record.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::PartyService;
use crate::db;
use crate::domain::audit::AuditAction;
use crate::domain::party::{PartyKind, PartyStatus};
use crate::domain::permissions::Capability;
use crate::services::require;
use crate::services::{Actor, ServiceError, ServiceResult};

/// `POST /api/v1/parties/{id}/handover`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverInput {
    /// The employee (party id) who takes the records over.
    pub successor: Uuid,
    #[serde(default)]
    pub remarks: Option<String>,
}

/// What a handover moved.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HandoverView {
    pub from: Uuid,
    pub successor: Uuid,
    pub count: usize,
    pub record_ids: Vec<Uuid>,
    pub handed_over_at: DateTime<Utc>,
}

impl PartyService {
    /// Hands every live record in the custody of employee `id` to `successor`.
    #[tracing::instrument(skip_all, fields(party.id = %id))]
    pub async fn hand_over(
        &self,
        actor: &Actor,
        id: Uuid,
        input: HandoverInput,
    ) -> ServiceResult<HandoverView> {
        require(actor, Capability::KeepFolders)?;
        if input.successor == id {
            return Err(ServiceError::Validation(
                "successor: name someone other than the leaving employee".into(),
            ));
        }
        let mut tx = db::begin(&self.pool).await?;
        crate::services::access::require_folder(&mut tx, actor, id).await?;
        let leaving = db::parties::find(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("party {id} not found")))?;
        if leaving.kind != PartyKind::Employee {
            return Err(ServiceError::Validation(format!(
                "party {id} is a {}; only employees keep records in custody",
                leaving.kind.as_str()
            )));
        }
        let successor = db::parties::find(&mut tx, input.successor).await?;
        if !successor.is_some_and(|party| {
            party.kind == PartyKind::Employee && party.status == PartyStatus::Active
        }) {
            return Err(ServiceError::Validation(format!(
                "successor: {} is not an active employee",
                input.successor
            )));
        }
        let record_ids = db::parties::hand_over(&mut tx, id, input.successor).await?;
        let remarks = input.remarks.filter(|text| !text.trim().is_empty());
        let details = serde_json::json!({
            "from": id, "successor": input.successor, "remarks": remarks,
        });
        for record_id in &record_ids {
            db::audit::append(
                &mut tx,
                Some(actor.user_id),
                AuditAction::RecordHandedOver,
                Some(*record_id),
                &details,
            )
            .await?;
        }
        let summary = serde_json::json!({
            "from": id, "successor": input.successor, "records": record_ids.len(), "remarks": remarks,
        });
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::PartyHandover,
            None,
            &summary,
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(HandoverView {
            from: id,
            successor: input.successor,
            count: record_ids.len(),
            record_ids,
            handed_over_at: Utc::now(),
        })
    }
}
