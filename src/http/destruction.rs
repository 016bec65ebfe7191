//! Destruction batches (銷毀): creation, approval, and the batch or its destruction list.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::export::attachment;
use super::extract::{CurrentUser, Json, Path, Query};
use crate::app::App;
use crate::services::destruction::{BatchQuery, BatchView, NewBatch, ShreddingInput};

/// Creates a batch awaiting approval from due records appraised "destroy".
#[utoipa::path(post, path = "/api/v1/disposition/batches", tag = "disposition", request_body = NewBatch,
    responses((status = 201, body = BatchView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "a record not due, not appraised destroy, destroyed, in another batch (`conflict`) or held (`on_hold`)", body = Problem)),
    security(("bearer" = [])))]
pub async fn create_batch(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<NewBatch>,
) -> Result<(StatusCode, axum::Json<BatchView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.destruction.create(&actor, input).await?),
    ))
}

/// Query of `GET /api/v1/disposition/batches`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchFilter {
    /// `awaiting_approval`, `approved`, `running`, `awaiting_shredding`, `done` or `failed`.
    pub status: Option<String>,
}

/// Destruction batches, newest first, e.g. those awaiting approval or shredding.
#[utoipa::path(get, path = "/api/v1/disposition/batches", tag = "disposition", params(BatchFilter),
    responses((status = 200, body = Vec<BatchView>), (status = 400, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_batches(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(filter): Query<BatchFilter>,
) -> Result<axum::Json<Vec<BatchView>>, ApiError> {
    Ok(axum::Json(
        app.destruction
            .list_batches(&actor, filter.status.as_deref())
            .await?,
    ))
}

/// One approval; the second distinct approver (never the creator) starts the batch.
#[utoipa::path(post, path = "/api/v1/disposition/batches/{id}/approve", tag = "disposition",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = BatchView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "the creator, a second approval by the same user, or not awaiting approval", body = Problem)),
    security(("bearer" = [])))]
pub async fn approve_batch(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<BatchView>, ApiError> {
    Ok(axum::Json(app.destruction.approve(&actor, id).await?))
}

/// The batch with approvals and per-item outcomes; `format=csv|xlsx|pdf` is the destruction
/// list (the PDF printed with signature lines).
#[utoipa::path(get, path = "/api/v1/disposition/batches/{id}", tag = "disposition",
    params(("id" = Uuid, Path), BatchQuery),
    responses((status = 200, description = "the batch, or with `format` the destruction list as an attachment",
            content((BatchView = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (Vec<u8> = "application/pdf"))),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_batch(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Query(query): Query<BatchQuery>,
) -> Result<Response, ApiError> {
    match query.format {
        Some(format) => Ok(attachment(app.destruction.list(&actor, id, format).await?)),
        None => Ok(axum::Json(app.destruction.get(&actor, id).await?).into_response()),
    }
}

/// Confirms physical items (paper, photos, objects, media) of a batch shredded, for one of
/// its named supervisors; default every item still waiting. The batch is done once all are.
#[utoipa::path(post, path = "/api/v1/disposition/batches/{id}/shredded", tag = "disposition",
    params(("id" = Uuid, Path)), request_body = ShreddingInput,
    responses((status = 200, body = BatchView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn confirm_shredding(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(input): Json<ShreddingInput>,
) -> Result<axum::Json<BatchView>, ApiError> {
    Ok(axum::Json(
        app.destruction.confirm_shredded(&actor, id, input).await?,
    ))
}
