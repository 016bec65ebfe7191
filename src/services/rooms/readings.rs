//! Temperature and humidity readings of a room: posted by sensors or imported as CSV,
//! checked against the room's targets as they arrive, and summed up by day and by year.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{RoomService, find_room, room_targets};
use crate::db::{self, PgConnection};
use crate::domain::permissions::Capability;
use crate::domain::reminder::{NewReminder, Recipient, ReminderKind};
use crate::domain::storage_care::{
    Breach, ClimateTarget, DayRange, reading_breaches, swing_breaches,
};
use crate::domain::user::Role;
use crate::services::require;
use crate::services::{Actor, ServiceError, ServiceResult};

/// Readings one request may carry.
const MAX_READINGS_PER_REQUEST: usize = 10_000;
/// Readings one series response returns at most.
const MAX_SERIES: i64 = 20_000;

/// One reading: `POST /api/v1/rooms/{id}/readings` takes one or an array of them.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingInput {
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub temperature_c: Option<f64>,
    #[serde(default)]
    pub humidity_pct: Option<f64>,
    /// Which sensor or person took it.
    #[serde(default)]
    pub source: Option<String>,
}

/// What a batch of readings did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReadingsAccepted {
    /// Readings stored.
    pub accepted: u64,
    /// Readings of an instant already stored for the room, left as they were.
    pub duplicates: u64,
    /// Alerts the readings raised (new ones only).
    pub alerts: Vec<AlertView>,
}

/// An alert raised by readings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertView {
    pub reminder_id: Uuid,
    pub day: NaiveDate,
    /// `temperature_high`, `humidity_low`, `temperature_swing`, …
    pub breach: Breach,
    pub subject: String,
}

/// The period of a reading series: local days, both ends included.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadingsPeriod {
    /// First day; default a week before `to`.
    pub from: Option<NaiveDate>,
    /// Last day; default today.
    pub to: Option<NaiveDate>,
}

/// One stored reading.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReadingView {
    pub at: DateTime<Utc>,
    pub temperature_c: Option<f64>,
    pub humidity_pct: Option<f64>,
    pub source: Option<String>,
}

/// Lowest, highest and mean of one measure.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Extremes {
    pub min: f64,
    pub max: f64,
    pub mean: f64,
}

/// The figures of a day (or of a month in the yearly summary).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeriodFigures {
    /// The day, or the first day of the month.
    pub day: NaiveDate,
    pub readings: i64,
    pub temperature_c: Option<Extremes>,
    pub humidity_pct: Option<Extremes>,
}

/// A room's readings over a period with daily min/max/mean.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReadingSeries {
    pub room_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub readings: Vec<ReadingView>,
    /// True when the period had more readings than one response carries.
    pub truncated: bool,
    pub daily: Vec<PeriodFigures>,
}

/// The year asked for: `GET /api/v1/rooms/{id}/readings/summary?year=`.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryYear {
    /// Default: this year.
    pub year: Option<i32>,
}

/// The annual analysis of a room's climate.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct YearSummary {
    pub room_id: Uuid,
    pub year: i32,
    pub readings: i64,
    pub days_with_readings: i64,
    /// Days of the year so far (since the room existed) with fewer readings than expected.
    pub days_short_of_readings: i64,
    pub temperature_c: Option<Extremes>,
    pub humidity_pct: Option<Extremes>,
    pub months: Vec<PeriodFigures>,
    /// Alerts raised by readings in the year, by breach.
    pub alerts: std::collections::BTreeMap<String, i64>,
}

impl RoomService {
    /// Stores readings and raises an alert for each breach of the room's targets: a reading
    /// out of range, or a day whose readings swing more than allowed. One alert per room,
    /// day and breach however many readings show it.
    #[tracing::instrument(skip_all, fields(room.id = %id, readings = readings.len()))]
    pub async fn add_readings(
        &self,
        actor: &Actor,
        id: Uuid,
        readings: Vec<ReadingInput>,
    ) -> ServiceResult<ReadingsAccepted> {
        require(actor, Capability::FileRecords)?;
        if readings.is_empty() {
            return Err(ServiceError::Validation("no readings given".into()));
        }
        if readings.len() > MAX_READINGS_PER_REQUEST {
            return Err(ServiceError::Validation(format!(
                "at most {MAX_READINGS_PER_REQUEST} readings per request; send the rest in further requests"
            )));
        }
        let rows = readings
            .into_iter()
            .enumerate()
            .map(|(n, reading)| {
                self.checked_reading(reading).map_err(|reason| {
                    ServiceError::Validation(format!("reading {}: {reason}", n + 1))
                })
            })
            .collect::<ServiceResult<Vec<_>>>()?;
        let mut tx = db::begin(&self.pool).await?;
        let room = find_room(&mut tx, id, true).await?;
        let accepted = db::readings::insert(&mut tx, id, &rows, actor.user_id).await?;
        let targets = room_targets(&mut tx, id).await?;
        let mut alerts = Vec::new();
        for row in &rows {
            for target in &targets {
                for breach in reading_breaches(target, row.temperature_c, row.humidity_pct) {
                    let value = match breach {
                        Breach::TemperatureHigh | Breach::TemperatureLow => {
                            format!("{:.1} ℃", row.temperature_c.unwrap_or_default())
                        }
                        _ => format!("{:.1} %RH", row.humidity_pct.unwrap_or_default()),
                    };
                    let detail = serde_json::json!({"at": row.at, "value": value});
                    raise_alert(&mut tx, &room, row.day, breach, target, detail, &mut alerts)
                        .await?;
                }
            }
        }
        let days: BTreeSet<NaiveDate> = rows.iter().map(|row| row.day).collect();
        for day in days {
            let figures = db::readings::daily(&mut tx, id, day, day).await?;
            let Some(figures) = figures.first() else {
                continue;
            };
            let range = DayRange {
                temperature: figures.temperature_min.zip(figures.temperature_max),
                humidity: figures.humidity_min.zip(figures.humidity_max),
            };
            for target in &targets {
                for breach in swing_breaches(target, &range) {
                    let detail = serde_json::json!({
                        "temperature_c": range.temperature, "humidity_pct": range.humidity,
                    });
                    raise_alert(&mut tx, &room, day, breach, target, detail, &mut alerts).await?;
                }
            }
        }
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(ReadingsAccepted {
            accepted,
            duplicates: rows.len() as u64 - accepted,
            alerts,
        })
    }

    fn checked_reading(&self, input: ReadingInput) -> Result<db::readings::NewReading, String> {
        if input.temperature_c.is_none() && input.humidity_pct.is_none() {
            return Err("give temperature_c, humidity_pct or both".into());
        }
        if let Some(t) = input.temperature_c
            && !(-60.0..=90.0).contains(&t)
        {
            return Err(format!("temperature_c {t} is not a room temperature"));
        }
        if let Some(h) = input.humidity_pct
            && !(0.0..=100.0).contains(&h)
        {
            return Err(format!("humidity_pct {h} is not between 0 and 100"));
        }
        if input.at > Utc::now() + chrono::Duration::minutes(10) {
            return Err(format!("at {} is in the future", input.at.to_rfc3339()));
        }
        Ok(db::readings::NewReading {
            day: input.at.with_timezone(&self.timezone).date_naive(),
            at: input.at,
            temperature_c: input.temperature_c.map(round2),
            humidity_pct: input.humidity_pct.map(round2),
            source: input.source.filter(|text| !text.trim().is_empty()),
        })
    }

    /// Parses a CSV of readings: columns `at`, `temperature_c`, `humidity_pct` (or 時間,
    /// 溫度, 濕度 in either script), `source` optional; `at` in RFC 3339 or local
    /// `YYYY-MM-DD HH:MM[:SS]`.
    pub fn parse_readings_csv(&self, body: &[u8]) -> ServiceResult<Vec<ReadingInput>> {
        let text = std::str::from_utf8(body).map_err(|_| {
            ServiceError::Validation(
                "the CSV is not UTF-8; save it as UTF-8 and send it again".into(),
            )
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|error| ServiceError::Validation(format!("CSV heading: {error}")))?
            .clone();
        let column = |names: &[&str]| {
            headers
                .iter()
                .position(|heading| names.contains(&heading.trim_start_matches('\u{feff}')))
        };
        let at = column(&["at", "time", "時間", "时间"]).ok_or_else(|| {
            ServiceError::Validation("CSV: an `at` column (時間) is required".into())
        })?;
        let temperature = column(&["temperature_c", "temperature", "溫度", "温度"]);
        let humidity = column(&["humidity_pct", "humidity", "濕度", "湿度"]);
        let source = column(&["source", "sensor", "來源", "来源"]);
        let mut readings = Vec::new();
        for (n, row) in reader.records().enumerate() {
            let line = n + 2;
            let row =
                row.map_err(|error| ServiceError::Validation(format!("CSV line {line}: {error}")))?;
            let cell =
                |index: Option<usize>| index.and_then(|i| row.get(i)).filter(|v| !v.is_empty());
            let number = |index: Option<usize>, name: &str| -> ServiceResult<Option<f64>> {
                cell(index)
                    .map(|value| {
                        value.parse::<f64>().map_err(|_| {
                            ServiceError::Validation(format!(
                                "CSV line {line}: {name} {value:?} is not a number"
                            ))
                        })
                    })
                    .transpose()
            };
            let at_text = cell(Some(at)).unwrap_or_default();
            readings.push(ReadingInput {
                at: self.parse_instant(at_text).ok_or_else(|| {
                    ServiceError::Validation(format!(
                        "CSV line {line}: at {at_text:?} is not RFC 3339 or YYYY-MM-DD HH:MM"
                    ))
                })?,
                temperature_c: number(temperature, "temperature")?,
                humidity_pct: number(humidity, "humidity")?,
                source: cell(source).map(str::to_owned),
            });
        }
        Ok(readings)
    }

    fn parse_instant(&self, text: &str) -> Option<DateTime<Utc>> {
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Some(at.with_timezone(&Utc));
        }
        let local = [
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M",
            "%Y/%m/%d %H:%M:%S",
            "%Y/%m/%d %H:%M",
        ]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())?;
        Some(
            self.timezone
                .from_local_datetime(&local)
                .earliest()?
                .with_timezone(&Utc),
        )
    }

    /// A room's readings over local days `from..=to` with daily figures.
    pub async fn readings(&self, id: Uuid, period: ReadingsPeriod) -> ServiceResult<ReadingSeries> {
        let to = period.to.unwrap_or_else(|| self.today());
        let from = period.from.unwrap_or(to - chrono::Duration::days(6));
        if from > to {
            return Err(ServiceError::Validation("from: after to".into()));
        }
        let mut conn = db::acquire(&self.pool).await?;
        find_room(&mut conn, id, false).await?;
        let mut rows = db::readings::series(&mut conn, id, from, to, MAX_SERIES + 1).await?;
        let truncated = rows.len() as i64 > MAX_SERIES;
        rows.truncate(MAX_SERIES as usize);
        let daily = db::readings::daily(&mut conn, id, from, to).await?;
        Ok(ReadingSeries {
            room_id: id,
            from,
            to,
            readings: rows
                .into_iter()
                .map(|row| ReadingView {
                    at: row.at,
                    temperature_c: row.temperature_c,
                    humidity_pct: row.humidity_pct,
                    source: row.source,
                })
                .collect(),
            truncated,
            daily: daily.into_iter().map(period_figures).collect(),
        })
    }

    /// The annual analysis of a room: figures per month and for the year, days short of
    /// readings, alerts by breach.
    pub async fn year_summary(&self, id: Uuid, year: SummaryYear) -> ServiceResult<YearSummary> {
        let today = self.today();
        let year = year.year.unwrap_or(today.year());
        let (Some(first), Some(last)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            return Err(ServiceError::Validation(format!(
                "year: {year} is not a year"
            )));
        };
        let mut conn = db::acquire(&self.pool).await?;
        find_room(&mut conn, id, false).await?;
        let months = db::readings::monthly(&mut conn, id, first, last).await?;
        let whole = year_figures(&mut conn, id, first, last).await?;
        let short = db::readings::missed_days(
            &mut conn,
            first,
            last.min(today - chrono::Duration::days(1)),
            self.timezone.name(),
        )
        .await?
        .iter()
        .filter(|day| day.room_id == id)
        .count() as i64;
        let alerts = db::readings::alerts_by_breach(&mut conn, id, first, last).await?;
        Ok(YearSummary {
            room_id: id,
            year,
            readings: whole.readings,
            days_with_readings: db::readings::days_with_readings(&mut conn, id, first, last)
                .await?,
            days_short_of_readings: short,
            temperature_c: whole.temperature_c,
            humidity_pct: whole.humidity_pct,
            months: months.into_iter().map(period_figures).collect(),
            alerts,
        })
    }
}

async fn year_figures(
    conn: &mut PgConnection,
    id: Uuid,
    first: NaiveDate,
    last: NaiveDate,
) -> ServiceResult<PeriodFigures> {
    let mut figures = db::readings::totals(conn, id, first, last).await?;
    figures.day = first;
    Ok(period_figures(figures))
}

fn period_figures(row: db::readings::DayFigures) -> PeriodFigures {
    let extremes = |min: Option<f64>, max: Option<f64>, mean: Option<f64>| {
        Some(Extremes {
            min: min?,
            max: max?,
            mean: round2(mean?),
        })
    };
    PeriodFigures {
        day: row.day,
        readings: row.readings,
        temperature_c: extremes(
            row.temperature_min,
            row.temperature_max,
            row.temperature_mean,
        ),
        humidity_pct: extremes(row.humidity_min, row.humidity_max, row.humidity_mean),
    }
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Raises the alert of one room, day and breach unless it exists; new ones go to `alerts`.
async fn raise_alert(
    conn: &mut PgConnection,
    room: &db::rooms::RoomRow,
    day: NaiveDate,
    breach: Breach,
    target: &ClimateTarget,
    detail: serde_json::Value,
    alerts: &mut Vec<AlertView>,
) -> ServiceResult<()> {
    let subject = format!(
        "庫房 {} {day} {} ({}: {}–{} ℃, {}–{} %RH, ±{} ℃, ±{} %RH)",
        room.code,
        breach.label(),
        target.carrier.as_str(),
        target.temperature_min_c,
        target.temperature_max_c,
        target.humidity_min_pct,
        target.humidity_max_pct,
        target.temperature_swing_c,
        target.humidity_swing_pct,
    );
    let key = format!("alert:{}:{day}:{}", room.id, breach.as_str());
    let mut alert = NewReminder::new(
        ReminderKind::Alert,
        key,
        subject.clone(),
        day,
        Recipient::Role(Role::Archivist),
    );
    alert.room_id = Some(room.id);
    alert.details = serde_json::json!({
        "room_code": room.code, "breach": breach, "carrier": target.carrier, "first": detail,
    });
    if let Some(reminder_id) = db::reminders::raise(conn, &alert).await? {
        alerts.push(AlertView {
            reminder_id,
            day,
            breach,
            subject,
        });
    }
    Ok(())
}
