//! Lending (借閱): requests, approvals, rejections and returns.

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Json, OptionalJson, Path, Query};
use crate::app::App;
use crate::services::loans::{
    ApprovalInput, LoanFilter, LoanPage, LoanView, NewLoanInput, RegisterPeriod,
};

/// Requests a loan of a record (or registers one for `borrower`, by the records office).
#[utoipa::path(post, path = "/api/v1/loans", tag = "loans", request_body = NewLoanInput,
    responses((status = 201, body = LoanView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "the record is destroyed, or the borrower has an open loan of it", body = Problem)),
    security(("bearer" = [])))]
pub async fn request_loan(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<NewLoanInput>,
) -> Result<(StatusCode, axum::Json<LoanView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.loans.request(&actor, input).await?),
    ))
}

/// Loans, newest first: the caller's own, or anyone's for the records office.
#[utoipa::path(get, path = "/api/v1/loans", tag = "loans", params(LoanFilter),
    responses((status = 200, body = LoanPage), (status = 400, body = Problem)), security(("bearer" = [])))]
pub async fn list_loans(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(filter): Query<LoanFilter>,
) -> Result<axum::Json<LoanPage>, ApiError> {
    Ok(axum::Json(app.loans.list(&actor, filter).await?))
}

/// The lending register (借閱登記簿) of a year, or of one month of it, printed on A4: every
/// loan requested in the period of a record the caller may see (the records office).
#[utoipa::path(get, path = "/api/v1/loans/register", tag = "loans", params(RegisterPeriod),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 400, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn loan_register(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(period): Query<RegisterPeriod>,
) -> Result<axum::response::Response, ApiError> {
    Ok(super::export::attachment(
        app.loans.register(&actor, period).await?,
    ))
}

/// One loan.
#[utoipa::path(get, path = "/api/v1/loans/{id}", tag = "loans", params(("id" = Uuid, Path)),
    responses((status = 200, body = LoanView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_loan(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<LoanView>, ApiError> {
    Ok(axum::Json(app.loans.get(&actor, id).await?))
}

/// Approves a requested loan (the approver the record's category names: the office
/// director, or the general manager for customer files and confidential records; never the
/// borrower). The loan runs for its days from today; `copy_allowed` (optional body) lets
/// its downloads go unmarked.
#[utoipa::path(post, path = "/api/v1/loans/{id}/approve", tag = "loans", params(("id" = Uuid, Path)),
    request_body(content = Option<ApprovalInput>, description = "optional"),
    responses((status = 200, body = LoanView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "not a requested loan, or the physical item is out", body = Problem)),
    security(("bearer" = [])))]
pub async fn approve_loan(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    OptionalJson(input): OptionalJson<ApprovalInput>,
) -> Result<axum::Json<LoanView>, ApiError> {
    Ok(axum::Json(
        app.loans
            .approve(&actor, id, input.unwrap_or_default())
            .await?,
    ))
}

/// Rejects a requested loan; the same people decide as for approval.
#[utoipa::path(post, path = "/api/v1/loans/{id}/reject", tag = "loans", params(("id" = Uuid, Path)),
    responses((status = 200, body = LoanView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn reject_loan(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<LoanView>, ApiError> {
    Ok(axum::Json(app.loans.reject(&actor, id).await?))
}

/// Registers the return of an approved loan (records office; the borrower for an
/// electronic loan). Access through the loan ends.
#[utoipa::path(post, path = "/api/v1/loans/{id}/return", tag = "loans", params(("id" = Uuid, Path)),
    responses((status = 200, body = LoanView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn return_loan(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<LoanView>, ApiError> {
    Ok(axum::Json(app.loans.return_loan(&actor, id).await?))
}
