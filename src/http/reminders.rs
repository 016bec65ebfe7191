//! Reminders: the list addressed to the caller, acknowledging and closing them.

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::response::{AppendHeaders, IntoResponse};
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Json, Path, Query};
use crate::app::App;
use crate::services::reminders::{ReminderFilter, ReminderView, RuleInput, RuleList, RuleView};

/// Header carrying the cursor of the next page of a list that is a bare JSON array.
const NEXT_CURSOR: HeaderName = HeaderName::from_static("x-next-cursor");

/// Reminders addressed to the caller's role or to the caller (all for admins), earliest
/// due first: inspections, missed readings, alerts, retention, deadlines, follow-ups,
/// reviews, loans. Done ones only with `status=done` or `status=all`. When more remain,
/// the `x-next-cursor` header carries the `cursor` of the next page.
#[utoipa::path(get, path = "/api/v1/reminders", tag = "reminders", params(ReminderFilter),
    responses((status = 200, body = Vec<ReminderView>), (status = 400, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_reminders(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(filter): Query<ReminderFilter>,
) -> Result<impl IntoResponse, ApiError> {
    let page = app.reminders.list(&actor, filter).await?;
    let header = page
        .next_cursor
        .and_then(|cursor| HeaderValue::from_str(&cursor).ok())
        .map(|cursor| (NEXT_CURSOR, cursor));
    Ok((AppendHeaders(header), axum::Json(page.items)))
}

/// Marks a reminder seen; it stays listed until done.
#[utoipa::path(post, path = "/api/v1/reminders/{id}/acknowledge", tag = "reminders", params(("id" = Uuid, Path)),
    responses((status = 200, body = ReminderView), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn acknowledge_reminder(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<ReminderView>, ApiError> {
    Ok(axum::Json(app.reminders.acknowledge(&actor, id).await?))
}

/// Marks a reminder done; done twice is 409 `conflict`, and so is an inspection reminder,
/// which recording the inspection (`POST /api/v1/rooms/{id}/inspections`) makes done.
#[utoipa::path(post, path = "/api/v1/reminders/{id}/done", tag = "reminders", params(("id" = Uuid, Path)),
    responses((status = 200, body = ReminderView), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn complete_reminder(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<ReminderView>, ApiError> {
    Ok(axum::Json(app.reminders.complete(&actor, id).await?))
}

/// The deadline rules of the regulations (personnel files, customer follow-ups and
/// reviews), kept as data.
#[utoipa::path(get, path = "/api/v1/reminder-rules", tag = "reminders",
    responses((status = 200, body = RuleList)), security(("bearer" = [])))]
pub async fn list_reminder_rules(
    State(app): State<App>,
    CurrentUser(_actor): CurrentUser,
) -> Result<axum::Json<RuleList>, ApiError> {
    Ok(axum::Json(app.reminders.rules().await?))
}

/// Creates or replaces a deadline rule (archivists, admins): trigger, delay, repetition,
/// recipient, active.
#[utoipa::path(put, path = "/api/v1/reminder-rules/{code}", tag = "reminders", params(("code" = String, Path)),
    request_body = RuleInput,
    responses((status = 200, body = RuleView), (status = 400, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn put_reminder_rule(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
    Json(input): Json<RuleInput>,
) -> Result<axum::Json<RuleView>, ApiError> {
    Ok(axum::Json(
        app.reminders.put_rule(&actor, &code, input).await?,
    ))
}
