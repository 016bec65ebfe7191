//! The audit trail and the check of its hash chain.

use axum::extract::State;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Query};
use crate::app::App;
use crate::services::audit::{AuditFilter, AuditPage, ChainReport, VerifyScope};

/// Audit events newest first, of a record (`record_id`), a user (`actor`: username or id)
/// or an action; `next_cursor` pages on. Administrators, archivists and auditors.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditFilter),
    responses((status = 200, body = AuditPage), (status = 400, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_audit(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(filter): Query<AuditFilter>,
) -> Result<axum::Json<AuditPage>, ApiError> {
    Ok(axum::Json(app.audit.list(&actor, filter).await?))
}

/// Checks the hash chain of every record's trail (or of `record_id`'s): `ok`, the records
/// and events checked, and the events that do not follow, by record.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", params(VerifyScope),
    responses((status = 200, body = ChainReport), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn verify_audit(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(scope): Query<VerifyScope>,
) -> Result<axum::Json<ChainReport>, ApiError> {
    Ok(axum::Json(app.audit.verify(&actor, scope).await?))
}
