//! Integrity checks: fixity sweeps and four-properties checks (四性檢測).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::export::attachment;
use super::extract::{CurrentUser, Json, Path, Query};
use crate::app::App;
use crate::domain::integrity::CheckStatus;
use crate::services::integrity::{CheckFormat, CheckList, CheckView, NewCheck};

/// `?format=csv|xlsx` of a check.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    /// `csv` or `xlsx` for the results as a download; absent for JSON.
    pub format: Option<CheckFormat>,
}

/// Starts a check: `{scope: "all"}` queues a fixity sweep over every stored blob (202);
/// `{record_id}` (or `record_ids`, with `stage` GD, YJ or CQ) runs a four-properties check
/// of those records and returns it done (201); more than 20 records are checked by a job
/// (202 with the queued check; `GET` it until `status` is `done`).
#[utoipa::path(post, path = "/api/v1/integrity/checks", tag = "integrity", request_body = NewCheck,
    responses((status = 201, body = CheckView), (status = 202, body = CheckView), (status = 400, body = Problem),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_check(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<NewCheck>,
) -> Result<(StatusCode, axum::Json<CheckView>), ApiError> {
    let check = app.integrity.start(&actor, input).await?;
    let status = if check.status == CheckStatus::Done {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, axum::Json(check)))
}

/// A check: `{status, checked, ok, mismatched[], missing[], results[]}` and more;
/// `format=csv|xlsx` downloads its results.
#[utoipa::path(get, path = "/api/v1/integrity/checks/{id}", tag = "integrity",
    params(("id" = Uuid, Path), CheckQuery),
    responses((status = 200, description = "the check, or with `format` its results as an attachment",
            content((CheckView = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_check(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Query(query): Query<CheckQuery>,
) -> Result<Response, ApiError> {
    match query.format {
        Some(format) => Ok(attachment(app.integrity.export(&actor, id, format).await?)),
        None => Ok(axum::Json(app.integrity.get(&actor, id).await?).into_response()),
    }
}

/// The latest hundred checks, newest first, without per-record results.
#[utoipa::path(get, path = "/api/v1/integrity/checks", tag = "integrity",
    responses((status = 200, body = CheckList), (status = 403, body = Problem)), security(("bearer" = [])))]
pub async fn list_checks(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
) -> Result<axum::Json<CheckList>, ApiError> {
    Ok(axum::Json(app.integrity.list(&actor).await?))
}
