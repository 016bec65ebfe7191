//! Parties (員工, 客戶), their folders and events.

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Json, OptionalJson, Path, Query};
use crate::app::App;
use crate::services::parties::{
    EventInput, EventView, HandoverInput, HandoverView, NewParty, PartyFilter, PartyFolder,
    PartyPage, PartyPatch, PartyView, SignOffInput, SignOffView,
};

/// Creates an employee or customer, with its (empty) folder.
#[utoipa::path(post, path = "/api/v1/parties", tag = "parties", request_body = NewParty,
    responses((status = 201, body = PartyView), (status = 400, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_party(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<NewParty>,
) -> Result<(StatusCode, axum::Json<PartyView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.parties.create(&actor, input).await?),
    ))
}

/// Lists parties.
#[utoipa::path(get, path = "/api/v1/parties", tag = "parties", params(PartyFilter),
    responses((status = 200, body = PartyPage), (status = 400, body = Problem)), security(("bearer" = [])))]
pub async fn list_parties(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(filter): Query<PartyFilter>,
) -> Result<axum::Json<PartyPage>, ApiError> {
    Ok(axum::Json(app.parties.list(&actor, filter).await?))
}

/// The party, its folder's records in document-date order, and the missing checklist items.
#[utoipa::path(get, path = "/api/v1/parties/{id}", tag = "parties", params(("id" = Uuid, Path)),
    responses((status = 200, body = PartyFolder), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_party(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<PartyFolder>, ApiError> {
    Ok(axum::Json(app.parties.folder(&actor, id).await?))
}

/// The folder printed for binding: its cover (案卷封面) and notes sheet (備考表) on two A4
/// pages, summed up from the folder's records the caller may see.
#[utoipa::path(get, path = "/api/v1/parties/{id}/cover", tag = "parties", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn folder_cover(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::response::Response, ApiError> {
    Ok(super::export::attachment(
        app.parties.folder_cover(&actor, id).await?,
    ))
}

/// Changes a party's details.
#[utoipa::path(patch, path = "/api/v1/parties/{id}", tag = "parties", params(("id" = Uuid, Path)), request_body = PartyPatch,
    responses((status = 200, body = PartyView), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_party(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(patch): Json<PartyPatch>,
) -> Result<axum::Json<PartyView>, ApiError> {
    Ok(axum::Json(app.parties.update(&actor, id, patch).await?))
}

/// Records an event (`employment_ended`, `regularised`, …); retention clocks move with it.
#[utoipa::path(post, path = "/api/v1/parties/{id}/events", tag = "parties", params(("id" = Uuid, Path)),
    request_body = EventInput,
    responses((status = 201, body = EventView), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "`employment_ended` while the employee still keeps records: hand them over first", body = Problem)),
    security(("bearer" = [])))]
pub async fn add_party_event(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(input): Json<EventInput>,
) -> Result<(StatusCode, axum::Json<EventView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.parties.add_event(&actor, id, input).await?),
    ))
}

/// Hands every live record in the employee's custody over to a named successor (R14);
/// needed before `employment_ended` can be recorded.
#[utoipa::path(post, path = "/api/v1/parties/{id}/handover", tag = "parties", params(("id" = Uuid, Path)),
    request_body = HandoverInput,
    responses((status = 200, body = HandoverView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn hand_over_records(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(input): Json<HandoverInput>,
) -> Result<axum::Json<HandoverView>, ApiError> {
    Ok(axum::Json(app.parties.hand_over(&actor, id, input).await?))
}

/// Signs off a new folder (R5): the role its category's access rule names as `sign_off`
/// (the general manager for customer folders); once.
#[utoipa::path(post, path = "/api/v1/parties/{id}/sign-off", tag = "parties", params(("id" = Uuid, Path)),
    request_body(content = Option<SignOffInput>),
    responses((status = 200, body = SignOffView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "already signed off, or the folder needs none", body = Problem)),
    security(("bearer" = [])))]
pub async fn sign_off_folder(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    OptionalJson(input): OptionalJson<SignOffInput>,
) -> Result<axum::Json<SignOffView>, ApiError> {
    Ok(axum::Json(
        app.parties
            .sign_off(&actor, id, input.unwrap_or_default())
            .await?,
    ))
}
