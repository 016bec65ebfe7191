//! Outside borrowers (外單位利用者), registered by the records office.

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Json, Path, Query};
use crate::app::App;
use crate::services::loans::{NewOutsideBorrower, OutsideBorrowerFilter, OutsideBorrowerView};

/// Registers an outside borrower with their organisation, identity document and letter of
/// introduction (the records office); their loans name them as `outside_borrower`.
#[utoipa::path(post, path = "/api/v1/borrowers", tag = "loans", request_body = NewOutsideBorrower,
    responses((status = 201, body = OutsideBorrowerView), (status = 400, body = Problem),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn register_borrower(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<NewOutsideBorrower>,
) -> Result<(StatusCode, axum::Json<OutsideBorrowerView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.loans.register_outside(&actor, input).await?),
    ))
}

/// Outside borrowers by organisation and name (the records office).
#[utoipa::path(get, path = "/api/v1/borrowers", tag = "loans", params(OutsideBorrowerFilter),
    responses((status = 200, body = Vec<OutsideBorrowerView>), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_borrowers(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(filter): Query<OutsideBorrowerFilter>,
) -> Result<axum::Json<Vec<OutsideBorrowerView>>, ApiError> {
    Ok(axum::Json(
        app.loans.outside_borrowers(&actor, filter).await?,
    ))
}

/// One outside borrower.
#[utoipa::path(get, path = "/api/v1/borrowers/{id}", tag = "loans", params(("id" = Uuid, Path)),
    responses((status = 200, body = OutsideBorrowerView), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_borrower(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<OutsideBorrowerView>, ApiError> {
    Ok(axum::Json(app.loans.outside_borrower(&actor, id).await?))
}
