//! `/stocktakes/{id}`: a stock-take in the browser. The keeper picks the box in front
//! of them (or scans its label), scans, types or ticks what stands in it, and closes
//! the stock-take; the page shows each item found, pending, missing, misplaced or
//! unexpected, and prints the report. Begun from the room's page.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::form::{Fields, refusal};
use super::i18n::Texts;
use super::session::WebUser;
use super::{Chrome, error_page, render_with};
use crate::app::App;
use crate::domain::location::Location;
use crate::domain::stocktake::Finding;
use crate::services::rooms::{NewStocktake, Sightings, StocktakeView};

struct Item {
    record_id: Option<Uuid>,
    code: String,
    title: String,
    finding: &'static str,
    finding_label: &'static str,
    expected: String,
    seen: String,
}

#[derive(Template)]
#[template(path = "stocktake.html")]
struct StocktakePage {
    t: Texts,
    chrome: Chrome,
    view: StocktakeView,
    state: String,
    counts: String,
    open: bool,
    places: Vec<(Uuid, String)>,
    /// Items not seen yet, to tick: code and title.
    pending: Vec<(String, String)>,
    items: Vec<Item>,
    message: Option<String>,
}

pub async fn stocktake_page(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<Uuid>,
) -> Response {
    page(&app, &user, id, None, StatusCode::OK).await
}

async fn page(
    app: &App,
    user: &WebUser,
    id: Uuid,
    message: Option<String>,
    status: StatusCode,
) -> Response {
    let t = user.texts;
    let view = match app.rooms.stocktake(&user.actor, id).await {
        Ok(view) => view,
        Err(error) => return error_page(user, &error),
    };
    let room = match app.rooms.get(view.room_id).await {
        Ok(room) => room,
        Err(error) => return error_page(user, &error),
    };
    let local = |at: chrono::DateTime<chrono::Utc>| {
        at.with_timezone(&app.timezone)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    let state = match (&view.finished_at, &view.finished_by) {
        (Some(at), by) => t.fill(
            "stocktake.finished",
            &[
                ("at", &local(*at)),
                ("by", by.as_deref().unwrap_or_default()),
            ],
        ),
        (None, _) => t.fill(
            "stocktake.open",
            &[
                ("at", &local(view.started_at)),
                ("by", view.started_by.as_deref().unwrap_or_default()),
            ],
        ),
    };
    let c = view.counts;
    let counts = t.fill(
        "stocktake.counts",
        &[
            ("expected", &c.expected.to_string()),
            ("found", &c.found.to_string()),
            ("pending", &c.pending.to_string()),
            ("missing", &c.missing.to_string()),
            ("misplaced", &c.misplaced.to_string()),
            ("unexpected", &c.unexpected.to_string()),
        ],
    );
    let places = room
        .locations
        .iter()
        .map(|place| {
            let label = place.label.as_deref().unwrap_or_default();
            (
                place.id,
                format!("{} {label}", place.code).trim().to_owned(),
            )
        })
        .collect();
    let mut items: Vec<Item> = view
        .items
        .iter()
        .map(|item| Item {
            record_id: item.record_id,
            code: item.code.clone(),
            title: item.title.clone().unwrap_or_default(),
            finding: item.finding.as_str(),
            finding_label: t.get(&format!("stocktake.{}", item.finding.as_str())),
            expected: item
                .expected_location
                .clone()
                .and_then(|value| serde_json::from_value::<Location>(value).ok())
                .map(|location| location.display())
                .unwrap_or_default(),
            seen: item.seen_place.clone().unwrap_or_default(),
        })
        .collect();
    let pending = items
        .iter()
        .filter(|item| item.finding == Finding::Pending.as_str())
        .map(|item| (item.code.clone(), item.title.clone()))
        .collect();
    // what needs the keeper first
    items.sort_by_key(|item| item.finding == Finding::Found.as_str());
    render_with(
        status,
        &StocktakePage {
            t,
            chrome: Chrome::of(user),
            open: view.finished_at.is_none(),
            state,
            counts,
            places,
            pending,
            items,
            message,
            view,
        },
    )
}

/// Begins a stock-take of the room, or of the place chosen, from the room's page.
pub async fn begin(
    State(app): State<App>,
    user: WebUser,
    Path(room_id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let place = Some(fields.get("place").trim().to_owned()).filter(|place| !place.is_empty());
        let input = NewStocktake {
            room: room_id,
            place,
        };
        app.rooms.begin_stocktake(&user.actor, input).await
    }
    .await;
    match result {
        Ok(view) => Redirect::to(&format!("/stocktakes/{}", view.id)).into_response(),
        Err(error) => error_page(&user, &error),
    }
}

/// Notes the codes of the text box (one a line, or separated by spaces) as seen in the place.
pub async fn add_sightings(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let input = Sightings {
            place: fields.get("place").to_owned(),
            items: fields
                .get("items")
                .split_whitespace()
                .chain(fields.all("tick"))
                .map(str::to_owned)
                .collect(),
        };
        app.rooms.note_sightings(&user.actor, id, input).await
    }
    .await;
    settled(&app, &user, id, result.map(|_| ())).await
}

/// Closes the stock-take.
pub async fn finish(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        app.rooms.finish_stocktake(&user.actor, id).await
    }
    .await;
    settled(&app, &user, id, result.map(|_| ())).await
}

async fn settled(
    app: &App,
    user: &WebUser,
    id: Uuid,
    result: Result<(), crate::services::ServiceError>,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/stocktakes/{id}")).into_response(),
        Err(error) => {
            let message = refusal(user, &error);
            let status = crate::http::status_of(error.code());
            page(app, user, id, Some(message), status).await
        }
    }
}
