//! The storage-room log (溫濕度記錄表) of a month, printed on A4: every reading with its day,
//! time, temperature and humidity, a mark where it left the room's targets, and lines for
//! the recorder's and the reviewer's signatures.

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{ReadingsPeriod, RoomService};
use crate::domain::storage_care::ClimateTarget;
use crate::print::{self, table::Table};
use crate::services::export::Download;
use crate::services::{ServiceError, ServiceResult, printed};

/// The month asked for: `GET /api/v1/rooms/{id}/readings/log?month=2026-11`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogMonth {
    /// `YYYY-MM`; default this month.
    pub month: Option<String>,
}

impl RoomService {
    /// The month's log of a room as a PDF.
    pub async fn readings_log(&self, id: Uuid, month: LogMonth) -> ServiceResult<Download> {
        let first = match month.month.as_deref().map(str::trim) {
            None | Some("") => self.today().with_day(1),
            Some(text) => NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").ok(),
        }
        .ok_or_else(|| {
            ServiceError::Validation("month: write it as YYYY-MM, e.g. 2026-11".into())
        })?;
        let last = first
            .checked_add_months(chrono::Months::new(1))
            .and_then(|next| next.pred_opt())
            .ok_or_else(|| ServiceError::Validation("month: out of range".into()))?;
        let room = self.get(id).await?;
        let series = self
            .readings(
                id,
                ReadingsPeriod {
                    from: Some(first),
                    to: Some(last),
                },
            )
            .await?;
        let figure = |value: Option<f64>| value.map(|value| format!("{value:.1}"));
        let rows = series
            .readings
            .iter()
            .map(|reading| {
                let at = reading.at.with_timezone(&self.timezone);
                let out = off_target(&room.targets, reading.temperature_c, reading.humidity_pct);
                vec![
                    at.format("%Y-%m-%d").to_string(),
                    at.format("%H:%M").to_string(),
                    figure(reading.temperature_c).unwrap_or_else(|| "—".into()),
                    figure(reading.humidity_pct).unwrap_or_else(|| "—".into()),
                    if out { "超标".into() } else { String::new() },
                    reading.source.clone().unwrap_or_default(),
                ]
            })
            .collect();
        let targets: Vec<String> = room
            .targets
            .iter()
            .map(|target| {
                format!(
                    "{} {}–{} ℃ {}–{} %RH",
                    target.carrier.as_str(),
                    target.temperature_min_c,
                    target.temperature_max_c,
                    target.humidity_min_pct,
                    target.humidity_max_pct
                )
            })
            .collect();
        let table = Table {
            title: format!("库房温湿度记录表 {}年{}月", first.year(), first.month()),
            subtitle: format!(
                "库房 {} {} · 标准 {} · 共 {} 次记录{}",
                room.code,
                room.name,
                targets.join("；"),
                series.readings.len(),
                if series.truncated {
                    "（未全部列出）"
                } else {
                    ""
                }
            ),
            headings: ["日期", "时间", "温度 ℃", "相对湿度 %", "超标", "来源"]
                .map(String::from)
                .to_vec(),
            widths: vec![1.6, 1.0, 1.2, 1.4, 0.8, 2.0],
            rows,
            signatures: vec!["记录人（签字）".into(), "审核人（签字）".into()],
        };
        let pdf = printed(move || print::table::table_pdf(&table)).await?;
        Ok(Download::whole(
            pdf,
            "application/pdf",
            format!("温湿度记录表-{}-{}.pdf", room.code, first.format("%Y%m")),
        ))
    }
}

/// Whether a reading is outside the range of any of the room's targets.
fn off_target(targets: &[ClimateTarget], temperature: Option<f64>, humidity: Option<f64>) -> bool {
    targets.iter().any(|target| {
        temperature.is_some_and(|t| t < target.temperature_min_c || t > target.temperature_max_c)
            || humidity.is_some_and(|h| h < target.humidity_min_pct || h > target.humidity_max_pct)
    })
}
