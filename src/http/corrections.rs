//! Corrections of filed records: files added or replaced, withdrawals (作廢).

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Json, OptionalJson, Path, Query};
use super::records::{content_length, read_parts};
use crate::app::App;
use crate::domain::ErrorCode;
use crate::domain::correction::{FileAdditionInput, NewWithdrawal, WithdrawalDecision};
use crate::services::ServiceError;
use crate::services::corrections::{WithdrawalFilter, WithdrawalView};
use crate::services::records::RecordView;

/// The multipart form of a correction (for the OpenAPI description).
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "describes the multipart body in the OpenAPI document only"
)]
pub struct FileAdditionForm {
    /// Optional JSON: `{replaces, reason, files[]}`.
    metadata: Option<FileAdditionInput>,
    /// The files to add, or the one replacement.
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<Vec<u8>>,
}

/// Adds files to a filed record, or replaces one of its files (the records office). The
/// replaced file stays in `earlier_files` with its content and hash; the new one is
/// extracted and indexed, and the change is audited.
#[utoipa::path(
    post, path = "/api/v1/records/{id}/files", tag = "records", params(("id" = Uuid, Path)),
    request_body(content = FileAdditionForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "the record with its files", body = RecordView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, description = "no such record (or not visible), or no such file", body = Problem),
        (status = 409, description = "the record is destroyed or withdrawn, the file was already replaced, or the record is on legal hold", body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn add_record_files(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, axum::Json<RecordView>), ApiError> {
    let limit = app.limits.max_upload_bytes;
    if content_length(&headers).is_some_and(|length| length > limit) {
        return Err(ServiceError::PayloadTooLarge { limit }.into());
    }
    // refused before any content streams in
    app.corrections.may_correct(&actor, id).await?;
    let mut multipart = multipart.map_err(|rejection| {
        ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "send the files as multipart/form-data: {}",
                rejection.body_text()
            ),
        )
    })?;
    let mut upload = app.ingest.begin(actor);
    let mut input: Option<FileAdditionInput> = None;
    read_parts(&mut multipart, &mut upload, limit, |_, metadata| {
        if input.replace(metadata).is_some() {
            return Err(ApiError::validation("metadata: sent more than once"));
        }
        Ok(())
    })
    .await?;
    let record = app
        .corrections
        .add_files(upload, id, input.unwrap_or_default())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(record)))
}

/// Proposes withdrawing (作廢) a record filed by mistake (the records office); a director
/// or general manager other than the proposer decides.
#[utoipa::path(post, path = "/api/v1/records/{id}/withdrawals", tag = "records",
    params(("id" = Uuid, Path)), request_body = NewWithdrawal,
    responses((status = 201, body = WithdrawalView), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "not active, on legal hold, or a proposal is open", body = Problem)),
    security(("bearer" = [])))]
pub async fn propose_withdrawal(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(input): Json<NewWithdrawal>,
) -> Result<(StatusCode, axum::Json<WithdrawalView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(
            app.corrections
                .propose_withdrawal(&actor, id, input)
                .await?,
        ),
    ))
}

/// Withdrawals of records the caller sees, newest first (the records office and approvers).
#[utoipa::path(get, path = "/api/v1/withdrawals", tag = "records", params(WithdrawalFilter),
    responses((status = 200, body = Vec<WithdrawalView>), (status = 400, body = Problem),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_withdrawals(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(filter): Query<WithdrawalFilter>,
) -> Result<axum::Json<Vec<WithdrawalView>>, ApiError> {
    Ok(axum::Json(
        app.corrections.withdrawals(&actor, filter).await?,
    ))
}

/// One withdrawal.
#[utoipa::path(get, path = "/api/v1/withdrawals/{id}", tag = "records",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = WithdrawalView), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_withdrawal(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<WithdrawalView>, ApiError> {
    Ok(axum::Json(app.corrections.withdrawal(&actor, id).await?))
}

/// Approves a withdrawal (a director or general manager other than its proposer): the
/// record becomes a tombstone that keeps its archival code.
#[utoipa::path(post, path = "/api/v1/withdrawals/{id}/approve", tag = "records",
    params(("id" = Uuid, Path)), request_body(content = Option<WithdrawalDecision>),
    responses((status = 200, body = WithdrawalView), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn approve_withdrawal(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    OptionalJson(decision): OptionalJson<WithdrawalDecision>,
) -> Result<axum::Json<WithdrawalView>, ApiError> {
    let decision = decision.unwrap_or_default();
    Ok(axum::Json(
        app.corrections
            .approve_withdrawal(&actor, id, decision)
            .await?,
    ))
}

/// Rejects a withdrawal; the record stays.
#[utoipa::path(post, path = "/api/v1/withdrawals/{id}/reject", tag = "records",
    params(("id" = Uuid, Path)), request_body(content = Option<WithdrawalDecision>),
    responses((status = 200, body = WithdrawalView), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn reject_withdrawal(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    OptionalJson(decision): OptionalJson<WithdrawalDecision>,
) -> Result<axum::Json<WithdrawalView>, ApiError> {
    let decision = decision.unwrap_or_default();
    Ok(axum::Json(
        app.corrections
            .reject_withdrawal(&actor, id, decision)
            .await?,
    ))
}
