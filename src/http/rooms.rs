//! Storage rooms: rooms, places, climate targets, readings, inspection plans, inspections.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Json, Path, Query};
use crate::app::App;
use crate::domain::ErrorCode;
use crate::services::export::Download;
use crate::services::rooms::{
    InspectionList, InspectionView, LocationView, LogMonth, MovementView, NewInspection,
    NewLocation, NewMovement, NewPlan, NewRoom, PlaceView, ReadingInput, ReadingSeries,
    ReadingsAccepted, ReadingsPeriod, RoomList, RoomPatch, RoomView, SummaryYear, YearSummary,
};

/// Creates a storage room (archivists, admins). Omitted, its targets are those for paper
/// (14–24 ℃, 45–60 %RH, ±2 ℃ / ±5 %RH a day), its plan the ten protections weekly (the
/// first inspection due at once) and two readings a day are expected.
#[utoipa::path(post, path = "/api/v1/rooms", tag = "rooms", request_body = NewRoom,
    responses((status = 201, body = RoomView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_room(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<NewRoom>,
) -> Result<(StatusCode, axum::Json<RoomView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.rooms.create(&actor, input).await?),
    ))
}

/// The storage rooms, by code.
#[utoipa::path(get, path = "/api/v1/rooms", tag = "rooms",
    responses((status = 200, body = RoomList)), security(("bearer" = [])))]
pub async fn list_rooms(
    State(app): State<App>,
    CurrentUser(_actor): CurrentUser,
) -> Result<axum::Json<RoomList>, ApiError> {
    Ok(axum::Json(app.rooms.list().await?))
}

/// A room with its targets, plan (each item's next due date) and places.
#[utoipa::path(get, path = "/api/v1/rooms/{id}", tag = "rooms", params(("id" = Uuid, Path)),
    responses((status = 200, body = RoomView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_room(
    State(app): State<App>,
    CurrentUser(_actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<RoomView>, ApiError> {
    Ok(axum::Json(app.rooms.get(id).await?))
}

/// Renames a room, changes the readings it expects a day or replaces its targets.
#[utoipa::path(patch, path = "/api/v1/rooms/{id}", tag = "rooms", params(("id" = Uuid, Path)),
    request_body = RoomPatch,
    responses((status = 200, body = RoomView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_room(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(patch): Json<RoomPatch>,
) -> Result<axum::Json<RoomView>, ApiError> {
    Ok(axum::Json(app.rooms.update(&actor, id, patch).await?))
}

/// Replaces a room's inspection plan (八防/十防 items with intervals in days).
#[utoipa::path(put, path = "/api/v1/rooms/{id}/plan", tag = "rooms", params(("id" = Uuid, Path)),
    request_body = NewPlan,
    responses((status = 200, body = RoomView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn set_room_plan(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(plan): Json<NewPlan>,
) -> Result<axum::Json<RoomView>, ApiError> {
    Ok(axum::Json(app.rooms.set_plan(&actor, id, plan).await?))
}

/// Adds a place (cabinet, shelf, box) to a room.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/locations", tag = "rooms", params(("id" = Uuid, Path)),
    request_body = NewLocation,
    responses((status = 201, body = LocationView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_location(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(input): Json<NewLocation>,
) -> Result<(StatusCode, axum::Json<LocationView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.rooms.add_location(&actor, id, input).await?),
    ))
}

/// Stores readings: one `{at, temperature_c, humidity_pct}`, an array of them, or a CSV
/// (`Content-Type: text/csv`, columns `at,temperature_c,humidity_pct[,source]`). A reading
/// out of the room's targets, or a day swinging more than allowed, raises an alert.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/readings", tag = "rooms", params(("id" = Uuid, Path)),
    request_body(content = Vec<ReadingInput>, description = "one reading, an array, or text/csv"),
    responses((status = 201, body = ReadingsAccepted), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 415, body = Problem)),
    security(("bearer" = [])))]
pub async fn add_readings(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, axum::Json<ReadingsAccepted>), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("application/json")
        .to_ascii_lowercase();
    let readings = if content_type.starts_with("text/csv") {
        app.rooms.parse_readings_csv(&body)?
    } else if content_type.starts_with("application/json") {
        parse_readings_json(&body)?
    } else {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send readings as application/json or text/csv",
        ));
    };
    let accepted = app.rooms.add_readings(&actor, id, readings).await?;
    Ok((StatusCode::CREATED, axum::Json(accepted)))
}

fn parse_readings_json(body: &[u8]) -> Result<Vec<ReadingInput>, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| ApiError::validation(format!("the body is not JSON: {error}")))?;
    let described = |error: serde_path_to_error::Error<serde_json::Error>| {
        ApiError::validation(format!("{}: {}", error.path(), error.inner()))
    };
    if value.is_array() {
        serde_path_to_error::deserialize(value).map_err(described)
    } else {
        serde_path_to_error::deserialize(value)
            .map(|one| vec![one])
            .map_err(described)
    }
}

/// A room's readings over local days `from..=to` (default the last seven) with daily
/// min/max/mean.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/readings", tag = "rooms", params(("id" = Uuid, Path), ReadingsPeriod),
    responses((status = 200, body = ReadingSeries), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_readings(
    State(app): State<App>,
    CurrentUser(_actor): CurrentUser,
    Path(id): Path<Uuid>,
    Query(period): Query<ReadingsPeriod>,
) -> Result<axum::Json<ReadingSeries>, ApiError> {
    Ok(axum::Json(app.rooms.readings(id, period).await?))
}

/// The annual analysis of a room's climate: figures per month and for the year, days
/// short of readings, alerts by breach.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/readings/summary", tag = "rooms", params(("id" = Uuid, Path), SummaryYear),
    responses((status = 200, body = YearSummary), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_readings_summary(
    State(app): State<App>,
    CurrentUser(_actor): CurrentUser,
    Path(id): Path<Uuid>,
    Query(year): Query<SummaryYear>,
) -> Result<axum::Json<YearSummary>, ApiError> {
    Ok(axum::Json(app.rooms.year_summary(id, year).await?))
}

/// Records an inspection: each item's result and remarks, by the caller, on
/// `inspected_on` (default today). Each listed item next falls due its interval later.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/inspections", tag = "rooms", params(("id" = Uuid, Path)),
    request_body = NewInspection,
    responses((status = 201, body = InspectionView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_inspection(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(input): Json<NewInspection>,
) -> Result<(StatusCode, axum::Json<InspectionView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.rooms.inspect(&actor, id, input).await?),
    ))
}

/// A room's inspections, latest first.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/inspections", tag = "rooms", params(("id" = Uuid, Path)),
    responses((status = 200, body = InspectionList), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn list_inspections(
    State(app): State<App>,
    CurrentUser(_actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<InspectionList>, ApiError> {
    Ok(axum::Json(app.rooms.inspections(id).await?))
}

/// The storage-room log (溫濕度記錄表) of a month, printed on A4 with every reading, a mark
/// where it left the room's targets, and lines for the recorder's and reviewer's signatures.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/readings/log", tag = "rooms", params(("id" = Uuid, Path), LogMonth),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn readings_log(
    State(app): State<App>,
    CurrentUser(_actor): CurrentUser,
    Path(id): Path<Uuid>,
    Query(month): Query<LogMonth>,
) -> Result<axum::response::Response, ApiError> {
    Ok(super::export::attachment(
        app.rooms.readings_log(id, month).await?,
    ))
}

/// A place of a room with the records kept in it and in the places inside it (a shelf's
/// boxes) that the caller may see (archivists, admins).
#[utoipa::path(get, path = "/api/v1/rooms/{id}/locations/{location_id}", tag = "rooms",
    params(("id" = Uuid, Path), ("location_id" = Uuid, Path)),
    responses((status = 200, body = PlaceView), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_location(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path((id, location_id)): Path<(Uuid, Uuid)>,
) -> Result<axum::Json<PlaceView>, ApiError> {
    Ok(axum::Json(app.rooms.place(&actor, id, location_id).await?))
}

/// The printed label of a place, as a PDF for A4: a box's front and spine labels with its
/// fonds, categories, years, retention, item range and a QR code of its id.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/locations/{location_id}/label", tag = "rooms",
    params(("id" = Uuid, Path), ("location_id" = Uuid, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn location_label(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path((id, location_id)): Path<(Uuid, Uuid)>,
) -> Result<axum::response::Response, ApiError> {
    let pdf = app.rooms.place_label(&actor, id, location_id).await?;
    Ok(super::export::attachment(Download::whole(
        pdf,
        "application/pdf",
        format!("label-{location_id}.pdf"),
    )))
}

/// Registers a movement of a physical item (進出庫: who, when, from, to, why) and moves it;
/// `to` must name registered places (archivists, admins).
#[utoipa::path(post, path = "/api/v1/records/{id}/movements", tag = "rooms", params(("id" = Uuid, Path)),
    request_body = NewMovement,
    responses((status = 201, body = MovementView), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_movement(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(input): Json<NewMovement>,
) -> Result<(StatusCode, axum::Json<MovementView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.rooms.move_record(&actor, id, input).await?),
    ))
}

/// The register of a record's movements, oldest first.
#[utoipa::path(get, path = "/api/v1/records/{id}/movements", tag = "rooms", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<MovementView>), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_movements(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<MovementView>>, ApiError> {
    Ok(axum::Json(app.rooms.movements(&actor, id).await?))
}
