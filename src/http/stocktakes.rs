//! Stock-takes (庫檢) of a storage room or of one of its places.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Json, Path, Query};
use crate::app::App;
use crate::services::rooms::{
    NewStocktake, ReportFormat, ReportQuery, Sightings, StocktakeList, StocktakeListQuery,
    StocktakeView,
};

/// Begins a stock-take of a room, or of a place and the places inside it: the records the
/// catalogue keeps there are its expected items (archivists, admins).
#[utoipa::path(post, path = "/api/v1/stocktakes", tag = "rooms", request_body = NewStocktake,
    responses((status = 201, body = StocktakeView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_stocktake(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<NewStocktake>,
) -> Result<(StatusCode, axum::Json<StocktakeView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.rooms.begin_stocktake(&actor, input).await?),
    ))
}

/// The latest stock-takes, newest first, without their items.
#[utoipa::path(get, path = "/api/v1/stocktakes", tag = "rooms", params(StocktakeListQuery),
    responses((status = 200, body = StocktakeList), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_stocktakes(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(query): Query<StocktakeListQuery>,
) -> Result<axum::Json<StocktakeList>, ApiError> {
    Ok(axum::Json(app.rooms.stocktakes(&actor, query.room).await?))
}

/// A stock-take's report: each item found, pending, missing, misplaced or unexpected;
/// `?format=pdf` prints it on A4.
#[utoipa::path(get, path = "/api/v1/stocktakes/{id}", tag = "rooms", params(("id" = Uuid, Path), ReportQuery),
    responses((status = 200, description = "the report, or with `format=pdf` a download",
            content((StocktakeView = "application/json"), (Vec<u8> = "application/pdf"))),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_stocktake(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Query(query): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    Ok(match query.format {
        ReportFormat::Json => axum::Json(app.rooms.stocktake(&actor, id).await?).into_response(),
        ReportFormat::Pdf => super::export::attachment(app.rooms.stocktake_pdf(&actor, id).await?),
    })
}

/// Notes items as seen in a place: scanned codes (archival codes or record ids) or ticks.
/// Seen again, the later place counts; at most 1000 items a request.
#[utoipa::path(post, path = "/api/v1/stocktakes/{id}/sightings", tag = "rooms", params(("id" = Uuid, Path)),
    request_body = Sightings,
    responses((status = 200, body = StocktakeView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn add_sightings(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(input): Json<Sightings>,
) -> Result<axum::Json<StocktakeView>, ApiError> {
    Ok(axum::Json(
        app.rooms.note_sightings(&actor, id, input).await?,
    ))
}

/// Closes a stock-take: what was not seen is missing; findings open a reminder to the keepers.
#[utoipa::path(post, path = "/api/v1/stocktakes/{id}/finish", tag = "rooms", params(("id" = Uuid, Path)),
    responses((status = 200, body = StocktakeView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn finish_stocktake(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<StocktakeView>, ApiError> {
    Ok(axum::Json(app.rooms.finish_stocktake(&actor, id).await?))
}
