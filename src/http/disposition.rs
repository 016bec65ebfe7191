//! Disposition: the due list, appraisals (鑒定) and legal holds.

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Json, Path, Query};
use crate::app::App;
use crate::services::disposition::{AppraisalView, DueFilter, DuePage, NewAppraisal};
use crate::services::holds::{HoldList, HoldView, NewHold};

/// Active records whose retention runs out on or before `as_of`, with the rule behind each
/// due date, their holds and latest appraisal; by due date, then archival code.
#[utoipa::path(get, path = "/api/v1/disposition/due", tag = "disposition", params(DueFilter),
    responses((status = 200, body = DuePage), (status = 400, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_due_records(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(filter): Query<DueFilter>,
) -> Result<axum::Json<DuePage>, ApiError> {
    Ok(axum::Json(app.disposition.due(&actor, filter).await?))
}

/// Records an appraisal: `destroy` (record due and not held), `extend` by `years`, or
/// `permanent`; returns the decision and the record's new due date.
#[utoipa::path(post, path = "/api/v1/disposition/appraisals", tag = "disposition", request_body = NewAppraisal,
    responses((status = 201, body = AppraisalView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "not due (`conflict`) or held (`on_hold`)", body = Problem)),
    security(("bearer" = [])))]
pub async fn create_appraisal(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<NewAppraisal>,
) -> Result<(StatusCode, axum::Json<AppraisalView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.disposition.appraise(&actor, input).await?),
    ))
}

/// Places a legal hold on `record_ids` or on the whole folder of `party_id`.
#[utoipa::path(post, path = "/api/v1/holds", tag = "disposition", request_body = NewHold,
    responses((status = 201, body = HoldView), (status = 400, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_hold(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<NewHold>,
) -> Result<(StatusCode, axum::Json<HoldView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.holds.create(&actor, input).await?),
    ))
}

/// The active legal holds.
#[utoipa::path(get, path = "/api/v1/holds", tag = "disposition",
    responses((status = 200, body = HoldList), (status = 403, body = Problem)), security(("bearer" = [])))]
pub async fn list_holds(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
) -> Result<axum::Json<HoldList>, ApiError> {
    Ok(axum::Json(app.holds.list(&actor).await?))
}

/// Releases a legal hold; a hold already released is 409 `conflict`.
#[utoipa::path(delete, path = "/api/v1/holds/{id}", tag = "disposition", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn release_hold(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    app.holds.release(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
