//! The sign-off (審核簽字) of a new folder (R5: "created within a week by the person in
//! contact, reviewed by their supervisor"): the role its category's access rule names
//! (`sign_off`) signs it once; until then a deadline rule reminds them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::PartyService;
use crate::db::{self, PgConnection};
use crate::domain::audit::AuditAction;
use crate::domain::validation::short_text;
use crate::services::access::{Rules, require_folder};
use crate::services::{Actor, ServiceError, ServiceResult};

/// `POST /api/v1/parties/{id}/sign-off` (the body may be left out).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOffInput {
    #[serde(default)]
    pub note: Option<String>,
}

/// Whether a folder needs a sign-off, who gives it and whether it was given.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignOffView {
    /// The role that signs off the folder (`director`, `general_manager`); null: none needed.
    pub by_role: Option<String>,
    pub signed_off_by: Option<Uuid>,
    pub signed_off_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

impl PartyService {
    /// Signs off folder `id`: the role its category names, once; audited, and its sign-off
    /// reminders close. A folder the caller does not see is missing.
    pub async fn sign_off(
        &self,
        actor: &Actor,
        id: Uuid,
        input: SignOffInput,
    ) -> ServiceResult<SignOffView> {
        let note = short_text("note", input.note)?;
        let mut tx = db::begin(&self.pool).await?;
        require_folder(&mut tx, actor, id).await?;
        let current = sign_off_of(&mut tx, id).await?;
        let Some(role) = current.by_role.as_deref() else {
            return Err(ServiceError::Conflict(
                "this kind of folder needs no sign-off".into(),
            ));
        };
        if actor.role.as_str() != role {
            return Err(ServiceError::Forbidden(format!(
                "this folder is signed off by the {role}"
            )));
        }
        if current.signed_off_at.is_some() {
            return Err(ServiceError::Conflict(
                "the folder is already signed off".into(),
            ));
        }
        if !db::parties::sign_off(&mut tx, id, actor.user_id, note.as_deref()).await? {
            return Err(ServiceError::Conflict(
                "the folder is already signed off".into(),
            ));
        }
        db::reminders::close_signed_off(&mut tx, id, actor.user_id).await?;
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::PartySignedOff,
            None,
            &serde_json::json!({ "party_id": id, "note": note }),
        )
        .await?;
        let view = sign_off_of(&mut tx, id).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(view)
    }
}

/// The sign-off state of folder `id`.
pub(super) async fn sign_off_of(conn: &mut PgConnection, id: Uuid) -> ServiceResult<SignOffView> {
    let state = db::parties::sign_off_state(conn, id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("party {id} not found")))?;
    let rules = Rules::load(conn).await?;
    let by_role = rules
        .folder_category(&state.kind)
        .and_then(|category| rules.in_force(Some(category)).0.sign_off)
        .map(|approver| approver.role().as_str().to_owned());
    Ok(SignOffView {
        by_role,
        signed_off_by: state.signed_off_by,
        signed_off_at: state.signed_off_at,
        note: state.note,
    })
}
