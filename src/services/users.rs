//! User administration (admins, and the command line): role, department, e-mail, whether
//! the account is active, the link to the user's own employee folder; password resets; and
//! one's own password change. Disabling a user, changing their role or department, or
//! setting their password ends their sessions at once.

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::{
    AuthService, UserView, hash_password, is_plausible_email, token_hash, user_view,
    verify_password,
};
use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, PgConnection};
use crate::domain::audit::AuditAction;
use crate::domain::patch::Patch;
use crate::domain::permissions::Capability;
use crate::domain::user::{Role, check_new_password};

/// `PATCH /api/v1/users/{id}`: absent fields stay, `null` clears.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    pub role: Option<Role>,
    /// Department code, e.g. `BGS`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub department: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub email: Patch<String>,
    /// `false` disables the account: its sessions end and it cannot log in.
    #[serde(default)]
    pub active: Option<bool>,
    /// The user's own employee party: they never see or borrow from that folder.
    #[serde(default)]
    #[schema(value_type = Option<Uuid>)]
    pub party_id: Patch<Uuid>,
}

/// `POST /api/v1/users/{id}/password` (admin reset).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    pub password: String,
}

/// `POST /api/v1/auth/password` (one's own).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

impl AuthService {
    /// Changes a user; `actor` is `None` for the command line, which is trusted.
    pub async fn update_user(
        &self,
        actor: Option<&Actor>,
        id: Uuid,
        patch: UserPatch,
    ) -> ServiceResult<UserView> {
        require_admin(actor)?;
        let mut tx = db::begin(self.pool()).await?;
        let before = db::users::find(&mut tx, id)
            .await?
            .ok_or_else(|| user_not_found(id))?;
        let role = patch.role.unwrap_or(Role::parse(&before.role)?);
        let department_id = match patch.department {
            Patch::Unchanged => before.department_id,
            Patch::Clear => None,
            Patch::Set(code) => Some(
                db::users::department_id(&mut tx, code.trim())
                    .await?
                    .ok_or_else(|| {
                        ServiceError::Validation(format!(
                            "department: no department with code {code:?}"
                        ))
                    })?,
            ),
        };
        let email = patch
            .email
            .apply(before.email.clone())
            .map(|email| email.trim().to_owned())
            .filter(|email| !email.is_empty());
        if let Some(email) = &email
            && !is_plausible_email(email)
        {
            return Err(ServiceError::Validation(format!(
                "email: {email:?} is not an e-mail address"
            )));
        }
        let party_id = patch.party_id.apply(before.party_id);
        if let Some(party) = party_id
            && party_id != before.party_id
        {
            check_own_folder(&mut tx, party).await?;
        }
        let active = patch.active.unwrap_or(before.active);
        let was_admin = before.active && before.role == Role::Admin.as_str();
        if was_admin
            && (!active || role != Role::Admin)
            && db::users::active_admins(&mut tx).await? <= 1
        {
            return Err(ServiceError::Conflict(
                "this is the last active admin; make another user admin first".into(),
            ));
        }
        db::users::update(
            &mut tx,
            id,
            &db::users::UserChange {
                role: role.as_str(),
                department_id,
                email: email.as_deref(),
                active,
                party_id,
            },
        )
        .await
        .map_err(|error| match error.conflict() {
            Some(db::Conflict::UserParty) => ServiceError::Conflict(
                "party_id: another user is linked to that employee folder".into(),
            ),
            _ => error.into(),
        })?;
        let standing_changed = !active
            || role.as_str() != before.role
            || department_id != before.department_id
            || party_id != before.party_id;
        let sessions_ended = if standing_changed {
            db::tokens::revoke_user(&mut tx, id, None).await?
        } else {
            0
        };
        let after = db::users::find(&mut tx, id)
            .await?
            .ok_or_else(|| user_not_found(id))?;
        let (before_view, after_view) = (user_view(before)?, user_view(after)?);
        db::audit::append(
            &mut tx,
            actor.map(|actor| actor.user_id),
            AuditAction::UserUpdated,
            None,
            &serde_json::json!({
                "user_id": id, "before": before_view, "after": after_view,
                "sessions_ended": sessions_ended,
            }),
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(after_view)
    }

    /// Sets a user's password (an admin's reset); every session of theirs ends.
    pub async fn reset_password(
        &self,
        actor: Option<&Actor>,
        id: Uuid,
        input: PasswordReset,
    ) -> ServiceResult<()> {
        require_admin(actor)?;
        check_new_password(&input.password)?;
        let hash = hash_password(input.password).await?;
        let mut tx = db::begin(self.pool()).await?;
        db::users::find(&mut tx, id)
            .await?
            .ok_or_else(|| user_not_found(id))?;
        db::users::set_password(&mut tx, id, &hash).await?;
        let ended = db::tokens::revoke_user(&mut tx, id, None).await?;
        db::audit::append(
            &mut tx,
            actor.map(|actor| actor.user_id),
            AuditAction::UserPasswordReset,
            None,
            &serde_json::json!({ "user_id": id, "sessions_ended": ended }),
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(())
    }

    /// Changes the caller's own password after checking the current one; their other
    /// sessions end, the one making the change stays.
    pub async fn change_password(
        &self,
        actor: &Actor,
        token: &str,
        input: PasswordChange,
    ) -> ServiceResult<()> {
        check_new_password(&input.new)?;
        let mut conn = db::acquire(self.pool()).await?;
        let user = db::users::find(&mut conn, actor.user_id)
            .await?
            .ok_or_else(|| user_not_found(actor.user_id))?;
        drop(conn);
        if !verify_password(input.current, Some(user.password_hash)).await? {
            return Err(ServiceError::Validation(
                "current: that is not your current password".into(),
            ));
        }
        let hash = hash_password(input.new).await?;
        let mut tx = db::begin(self.pool()).await?;
        db::users::set_password(&mut tx, actor.user_id, &hash).await?;
        let kept = token_hash(token);
        let ended = db::tokens::revoke_user(&mut tx, actor.user_id, Some(&kept)).await?;
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::UserPasswordChanged,
            None,
            &serde_json::json!({ "user_id": actor.user_id, "other_sessions_ended": ended }),
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(())
    }

    /// The id of user `username`, for the command line.
    pub async fn user_id(&self, username: &str) -> ServiceResult<Uuid> {
        let mut conn = db::acquire(self.pool()).await?;
        Ok(db::users::find_by_username(&mut conn, username)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("there is no user {username:?}")))?
            .id)
    }
}

/// A user's own folder must be an employee's.
async fn check_own_folder(conn: &mut PgConnection, party: Uuid) -> ServiceResult<()> {
    match db::access::party_facts(conn, party).await? {
        Some((kind, _)) if kind == "employee" => Ok(()),
        Some((kind, _)) => Err(ServiceError::Validation(format!(
            "party_id: {party} is a {kind}; a user is linked to their own employee folder"
        ))),
        None => Err(ServiceError::Validation(format!(
            "party_id: no party {party}"
        ))),
    }
}

fn require_admin(actor: Option<&Actor>) -> ServiceResult<()> {
    match actor {
        Some(actor) => super::require(actor, Capability::Administer),
        None => Ok(()),
    }
}

fn user_not_found(id: Uuid) -> ServiceError {
    ServiceError::NotFound(format!("user {id} not found"))
}
