//! `/rooms` and `/rooms/{id}`: storage rooms, their temperature and humidity over the last
//! week as charts with the target band and out-of-range readings marked, readings entered
//! by hand or imported as CSV, alerts, and the inspection plan with its record form.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Duration, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::chart::{Chart, chart};
use super::form::{Fields, refusal};
use super::i18n::Texts;
use super::session::WebUser;
use super::{Chrome, error_page, render_with};
use crate::app::App;
use crate::domain::catalogue::Carrier;
use crate::domain::permissions::Capability;
use crate::services::ServiceError;
use crate::services::reminders::ReminderFilter;
use crate::services::rooms::{
    ItemResult, NewInspection, NewRoom, ReadingInput, ReadingsPeriod, RoomView,
};

#[derive(Template)]
#[template(path = "rooms.html")]
struct RoomsPage {
    t: Texts,
    chrome: Chrome,
    rooms: Vec<(Uuid, String, String, String)>,
    keeper: bool,
    form_code: String,
    form_name: String,
    message: Option<String>,
}

pub async fn rooms_page(State(app): State<App>, user: WebUser) -> Response {
    rooms_list(
        &app,
        &user,
        String::new(),
        String::new(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn rooms_list(
    app: &App,
    user: &WebUser,
    form_code: String,
    form_name: String,
    message: Option<String>,
    status: StatusCode,
) -> Response {
    let t = user.texts;
    let rooms = match app.rooms.list().await {
        Ok(list) => list.items,
        Err(error) => return error_page(user, &error),
    };
    render_with(
        status,
        &RoomsPage {
            t,
            chrome: Chrome::of(user),
            rooms: rooms
                .into_iter()
                .map(|room| {
                    let next = room
                        .next_inspection_due_on
                        .map_or_else(String::new, |date| t.date(&date));
                    (room.id, room.code, room.name, next)
                })
                .collect(),
            keeper: user.actor.role.may(Capability::KeepRooms),
            form_code,
            form_name,
            message,
        },
    )
}

pub async fn create_room(State(app): State<App>, user: WebUser, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    let (code, name) = (fields.get("code").to_owned(), fields.get("name").to_owned());
    let result = async {
        fields.check_csrf(&user)?;
        let input = NewRoom {
            code: code.clone(),
            name: name.clone(),
            readings_per_day: None,
            targets: None,
            plan: None,
        };
        app.rooms.create(&user.actor, input).await
    }
    .await;
    match result {
        Ok(room) => Redirect::to(&format!("/rooms/{}", room.id)).into_response(),
        Err(error) => {
            let message = refusal(&user, &error);
            let status = crate::http::status_of(error.code());
            rooms_list(&app, &user, code, name, Some(message), status).await
        }
    }
}

#[derive(Template)]
#[template(path = "room.html")]
struct RoomPage {
    t: Texts,
    chrome: Chrome,
    room: RoomView,
    targets: String,
    charts: Vec<(&'static str, Chart)>,
    alerts: Vec<String>,
    now: String,
    plan: Vec<(String, String, String)>,
    message: Option<String>,
    notice: Option<String>,
    keeper: bool,
    places: Vec<Place>,
    /// This month and the month before, for the printed logs.
    months: Vec<String>,
    stocktakes: Vec<(Uuid, String, String)>,
}

/// A place of the room as its page lists it.
struct Place {
    id: Uuid,
    code: String,
    kind: &'static str,
    label: String,
    search_href: String,
}

#[derive(Deserialize)]
pub struct RoomQuery {
    done: Option<String>,
}

pub async fn room_page(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<Uuid>,
    Query(query): Query<RoomQuery>,
) -> Response {
    let notice = query
        .done
        .map(|done| user.texts.get(&format!("rooms.{done}")).to_owned());
    room(&app, &user, id, None, notice, StatusCode::OK).await
}

async fn room(
    app: &App,
    user: &WebUser,
    id: Uuid,
    message: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let t = user.texts;
    let room = match app.rooms.get(id).await {
        Ok(room) => room,
        Err(error) => return error_page(user, &error),
    };
    let today = app.reminders.today();
    let period = ReadingsPeriod {
        from: Some(today - Duration::days(6)),
        to: Some(today),
    };
    let series = match app.rooms.readings(id, period).await {
        Ok(series) => series,
        Err(error) => return error_page(user, &error),
    };
    let start = app
        .timezone
        .from_local_datetime(&series.from.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map_or_else(Utc::now, |start| start.with_timezone(&Utc));
    let span = 7.0 * 86_400.0;
    let seconds = |at: chrono::DateTime<Utc>| (at - start).num_seconds() as f64;
    let paper = room
        .targets
        .iter()
        .find(|target| target.carrier == Carrier::Paper)
        .or_else(|| room.targets.first())
        .cloned();
    let mut charts = Vec::new();
    let mut targets = String::new();
    if let Some(target) = paper {
        let temperatures: Vec<(f64, f64)> = series
            .readings
            .iter()
            .filter_map(|reading| {
                reading
                    .temperature_c
                    .map(|value| (seconds(reading.at), value))
            })
            .collect();
        let humidities: Vec<(f64, f64)> = series
            .readings
            .iter()
            .filter_map(|reading| {
                reading
                    .humidity_pct
                    .map(|value| (seconds(reading.at), value))
            })
            .collect();
        charts.push((
            t.get("rooms.temperature_chart"),
            chart(
                &temperatures,
                span,
                target.temperature_min_c,
                target.temperature_max_c,
            ),
        ));
        charts.push((
            t.get("rooms.humidity_chart"),
            chart(
                &humidities,
                span,
                target.humidity_min_pct,
                target.humidity_max_pct,
            ),
        ));
        targets = t.fill(
            "rooms.targets",
            &[
                ("tmin", &target.temperature_min_c.to_string()),
                ("tmax", &target.temperature_max_c.to_string()),
                ("hmin", &target.humidity_min_pct.to_string()),
                ("hmax", &target.humidity_max_pct.to_string()),
            ],
        );
    }
    let alerts = app
        .reminders
        .list(
            &user.actor,
            ReminderFilter {
                kind: Some("alert".into()),
                room_id: Some(id),
                limit: Some(50),
                ..ReminderFilter::default()
            },
        )
        .await
        .map(|page| page.items.into_iter().map(|alert| alert.subject).collect())
        .unwrap_or_default();
    let now = Utc::now()
        .with_timezone(&app.timezone)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let plan = room
        .plan
        .iter()
        .map(|item| {
            (
                item.code.clone(),
                item.name.clone(),
                t.date(&item.next_due_on),
            )
        })
        .collect();
    let keeper = user.actor.role.may(Capability::KeepRooms);
    let places = room
        .locations
        .iter()
        .map(|place| Place {
            id: place.id,
            code: place.code.clone(),
            kind: t.get(&format!("rooms.kind_{}", place.kind)),
            label: place.label.clone().unwrap_or_default(),
            search_href: format!(
                "/search?room={}&place={}",
                super::session::url_encode(&room.code),
                super::session::url_encode(&place.code)
            ),
        })
        .collect();
    let this_month = today.format("%Y-%m").to_string();
    let last_month = today
        .with_day(1)
        .and_then(|first| first.pred_opt())
        .map(|day| day.format("%Y-%m").to_string())
        .unwrap_or_default();
    let stocktakes = if keeper {
        app.rooms
            .stocktakes(&user.actor, Some(id))
            .await
            .map(|list| {
                list.stocktakes
                    .into_iter()
                    .take(10)
                    .map(|stocktake| {
                        let started = stocktake
                            .started_at
                            .with_timezone(&app.timezone)
                            .format("%Y-%m-%d %H:%M")
                            .to_string();
                        let scope = stocktake
                            .place_code
                            .unwrap_or_else(|| t.get("stocktake.whole_room").to_owned());
                        let state = if stocktake.finished_at.is_some() {
                            t.get("stocktake.done")
                        } else {
                            t.get("stocktake.in_progress")
                        };
                        (stocktake.id, format!("{started} {scope}"), state.to_owned())
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    render_with(
        status,
        &RoomPage {
            t,
            chrome: Chrome::of(user),
            targets,
            charts,
            alerts,
            now,
            plan,
            message,
            notice,
            room,
            keeper,
            places,
            months: vec![this_month, last_month],
            stocktakes,
        },
    )
}

/// A reading from the form, or the readings of the CSV box.
pub async fn add_readings(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let csv = fields.get("csv");
        let readings = if csv.trim().is_empty() {
            vec![reading_of(&app, &fields)?]
        } else {
            app.rooms.parse_readings_csv(csv.as_bytes())?
        };
        app.rooms.add_readings(&user.actor, id, readings).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("/rooms/{id}?done=saved")).into_response(),
        Err(error) => {
            let message = refusal(&user, &error);
            room(
                &app,
                &user,
                id,
                Some(message),
                None,
                crate::http::status_of(error.code()),
            )
            .await
        }
    }
}

/// The reading of the form: its local time in the installation's zone.
fn reading_of(app: &App, fields: &Fields) -> Result<ReadingInput, ServiceError> {
    let at = fields.get("at");
    let local = NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M")
        .map_err(|_| ServiceError::Validation(format!("at: {at:?} is not a date and time")))?;
    let at = app
        .timezone
        .from_local_datetime(&local)
        .earliest()
        .ok_or_else(|| ServiceError::Validation(format!("at: {at:?} does not exist here")))?
        .with_timezone(&Utc);
    let number = |name: &str| -> Result<Option<f64>, ServiceError> {
        let text = fields.get(name).trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse()
            .map(Some)
            .map_err(|_| ServiceError::Validation(format!("{name}: {text:?} is not a number")))
    };
    Ok(ReadingInput {
        at,
        temperature_c: number("temperature_c")?,
        humidity_pct: number("humidity_pct")?,
        source: Some("web".into()),
    })
}

/// Records an inspection: every plan item, in order when its box is ticked.
pub async fn inspect(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let room = app.rooms.get(id).await?;
        let ok: Vec<&str> = fields.all("ok").collect();
        let results = room
            .plan
            .iter()
            .map(|item| ItemResult {
                item: item.code.clone(),
                ok: ok.contains(&item.code.as_str()),
                remarks: None,
            })
            .collect();
        let remarks = Some(fields.get("remarks").trim().to_owned()).filter(|r| !r.is_empty());
        let input = NewInspection {
            inspected_on: None,
            results,
            remarks,
        };
        app.rooms.inspect(&user.actor, id, input).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("/rooms/{id}?done=inspected")).into_response(),
        Err(error) => {
            let message = refusal(&user, &error);
            room(
                &app,
                &user,
                id,
                Some(message),
                None,
                crate::http::status_of(error.code()),
            )
            .await
        }
    }
}
