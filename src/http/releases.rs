//! Release review (R18): proposals to open records or lower their level, and decisions.

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Json, Path, Query};
use crate::app::App;
use crate::services::releases::{
    NewRelease, ReleaseFilter, ReleaseView, ReviewDue, ReviewDueFilter,
};

/// Proposes to open records or lower their security level (archivists and admins).
#[utoipa::path(post, path = "/api/v1/releases", tag = "releases", request_body = NewRelease,
    responses((status = 201, body = ReleaseView), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "a record is destroyed or on legal hold", body = Problem)),
    security(("bearer" = [])))]
pub async fn propose_release(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<NewRelease>,
) -> Result<(StatusCode, axum::Json<ReleaseView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.releases.propose(&actor, input).await?),
    ))
}

/// Releases, newest first (proposers and reviewers).
#[utoipa::path(get, path = "/api/v1/releases", tag = "releases", params(ReleaseFilter),
    responses((status = 200, body = Vec<ReleaseView>), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_releases(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(filter): Query<ReleaseFilter>,
) -> Result<axum::Json<Vec<ReleaseView>>, ApiError> {
    Ok(axum::Json(app.releases.list(&actor, filter).await?))
}

/// Records that have reached the review age and are still controlled or classified.
#[utoipa::path(get, path = "/api/v1/releases/due", tag = "releases", params(ReviewDueFilter),
    responses((status = 200, body = Vec<ReviewDue>), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_review_due(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(filter): Query<ReviewDueFilter>,
) -> Result<axum::Json<Vec<ReviewDue>>, ApiError> {
    Ok(axum::Json(app.releases.due(&actor, filter).await?))
}

/// One release.
#[utoipa::path(get, path = "/api/v1/releases/{id}", tag = "releases", params(("id" = Uuid, Path)),
    responses((status = 200, body = ReleaseView), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_release(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<ReleaseView>, ApiError> {
    Ok(axum::Json(app.releases.get(&actor, id).await?))
}

/// Approves a release (a director or general manager other than its proposer): every
/// record changes at once.
#[utoipa::path(post, path = "/api/v1/releases/{id}/approve", tag = "releases", params(("id" = Uuid, Path)),
    responses((status = 200, body = ReleaseView), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn approve_release(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<ReleaseView>, ApiError> {
    Ok(axum::Json(app.releases.approve(&actor, id).await?))
}

/// Rejects a release; nothing changes.
#[utoipa::path(post, path = "/api/v1/releases/{id}/reject", tag = "releases", params(("id" = Uuid, Path)),
    responses((status = 200, body = ReleaseView), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn reject_release(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<ReleaseView>, ApiError> {
    Ok(axum::Json(app.releases.reject(&actor, id).await?))
}
