//! The destruction list (銷毀清冊) of a batch as CSV or XLSX: a header with the batch, its
//! approvers, supervisors and times, then one line per item with its tombstone's facts.

use bytes::Bytes;
use chrono::{Datelike, NaiveDate};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{BatchView, DestructionService, ItemView};
use crate::domain::export::Cell;
use crate::services::export::Download;
use crate::services::{Actor, ServiceError, ServiceResult};

/// The format of the destruction list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListFormat {
    Csv,
    Xlsx,
}

/// Parameters of `GET /api/v1/disposition/batches/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct BatchQuery {
    /// `csv` or `xlsx` for the destruction list; absent for the batch as JSON.
    pub format: Option<ListFormat>,
}

const HEADINGS: [&str; 13] = [
    "序號",
    "檔號",
    "題名",
    "文件日期",
    "保管期限",
    "到期日",
    "保管年數",
    "文件 SHA-256",
    "文件大小",
    "結果",
    "銷毀時間",
    "粉碎監銷人",
    "粉碎時間",
];

impl DestructionService {
    /// The batch's destruction list as a download.
    pub async fn list(
        &self,
        actor: &Actor,
        id: Uuid,
        format: ListFormat,
    ) -> ServiceResult<Download> {
        let batch = self.get(actor, id).await?;
        let lines = lines(&batch);
        let stem = format!("銷毀清冊-{}", batch.id);
        let (bytes, file_name, content_type) = match format {
            ListFormat::Csv => (
                to_csv(&lines)?,
                format!("{stem}.csv"),
                "text/csv; charset=utf-8",
            ),
            ListFormat::Xlsx => (
                tokio::task::spawn_blocking(move || to_xlsx(&lines))
                    .await
                    .map_err(|error| internal("xlsx writer", error))??,
                format!("{stem}.xlsx"),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
        };
        let length = Some(bytes.len() as u64);
        Ok(Download {
            file_name,
            content_type,
            length,
            body: futures::stream::once(async move { Ok(Bytes::from(bytes)) }).boxed(),
        })
    }
}

/// Header lines, a blank line, the headings, then one line per item.
fn lines(batch: &BatchView) -> Vec<Vec<Cell>> {
    let text = |value: &str| Cell::Text(value.to_owned());
    let approvers: Vec<String> = batch
        .approvals
        .iter()
        .map(|approval| format!("{} ({})", approval.username, approval.at.to_rfc3339()))
        .collect();
    let time = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map_or(Cell::Empty, |at| Cell::Text(at.to_rfc3339()))
    };
    let mut lines = vec![
        vec![text("銷毀清冊"), text(&batch.id.to_string())],
        vec![text("截止日期"), text(&batch.as_of.to_string())],
        vec![text("狀態"), text(&batch.status)],
        vec![text("批准人"), text(&approvers.join("; "))],
        vec![text("監銷人"), text(&batch.supervisors.join("; "))],
        vec![text("建立時間"), Cell::Text(batch.created_at.to_rfc3339())],
        vec![text("批准時間"), time(batch.approved_at)],
        vec![text("完成時間"), time(batch.finished_at)],
        vec![text("計劃執行時間"), time(batch.run_at)],
        vec![],
        HEADINGS.iter().map(|heading| text(heading)).collect(),
    ];
    for (number, item) in (1_i64..).zip(&batch.items) {
        lines.push(item_line(number, item));
    }
    lines
}

fn item_line(number: i64, item: &ItemView) -> Vec<Cell> {
    let empty = Value::Null;
    let tombstone = item.tombstone.as_ref().unwrap_or(&empty);
    let field = |name: &str| match tombstone[name].as_str() {
        Some(value) => Cell::Text(value.to_owned()),
        None => Cell::Empty,
    };
    let files = tombstone["files"].as_array().cloned().unwrap_or_default();
    let hashes: Vec<&str> = files
        .iter()
        .filter_map(|file| file["sha256"].as_str())
        .collect();
    let sizes: Vec<String> = files.iter().map(|file| file["size"].to_string()).collect();
    let doc_date = tombstone["doc_date"]
        .as_str()
        .and_then(|text| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok());
    let years_kept = match (doc_date, item.done_at) {
        (Some(from), Some(to)) => Cell::Number(i64::from(years_between(from, to.date_naive()))),
        _ => Cell::Empty,
    };
    vec![
        Cell::Number(number),
        Cell::Text(item.archival_code.clone().unwrap_or_default()),
        Cell::Text(item.title.clone()),
        field("doc_date"),
        field("retention"),
        field("retention_due_on"),
        years_kept,
        Cell::Text(hashes.join(" ")),
        Cell::Text(sizes.join(" ")),
        Cell::Text(item.outcome.clone()),
        item.done_at
            .map_or(Cell::Empty, |at| Cell::Text(at.to_rfc3339())),
        item.shred_supervisor
            .clone()
            .map_or(Cell::Empty, Cell::Text),
        item.shredded_at
            .map_or(Cell::Empty, |at| Cell::Text(at.to_rfc3339())),
    ]
}

/// Whole years from `from` to `to`.
fn years_between(from: NaiveDate, to: NaiveDate) -> i32 {
    let mut years = to.year() - from.year();
    if (to.month(), to.day()) < (from.month(), from.day()) {
        years -= 1;
    }
    years.max(0)
}

/// UTF-8 with a byte-order mark so that Excel reads the Chinese; CRLF line ends.
fn to_csv(lines: &[Vec<Cell>]) -> ServiceResult<Vec<u8>> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer(&mut out);
    for line in lines {
        let fields: Vec<String> = line
            .iter()
            .map(|cell| cell.csv_text().into_owned())
            .collect();
        writer
            .write_record(&fields)
            .map_err(|error| internal("csv", error))?;
    }
    writer.flush().map_err(|error| internal("csv", error))?;
    drop(writer);
    Ok(out)
}

fn to_xlsx(lines: &[Vec<Cell>]) -> ServiceResult<Vec<u8>> {
    let xlsx = |error: rust_xlsxwriter::XlsxError| internal("xlsx", error);
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("銷毀清冊").map_err(xlsx)?;
    for (row, line) in (0_u32..).zip(lines) {
        for (column, cell) in (0_u16..).zip(line) {
            match cell {
                Cell::Text(text) => {
                    sheet.write_string(row, column, text).map_err(xlsx)?;
                }
                Cell::Number(number) => {
                    sheet
                        .write_number(row, column, *number as f64)
                        .map_err(xlsx)?;
                }
                Cell::Empty => {}
            }
        }
    }
    workbook.save_to_buffer().map_err(xlsx)
}

fn internal(what: &str, error: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("{what}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_kept_count_whole_years() {
        let date = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date");
        assert_eq!(years_between(date("2000-01-01"), date("2026-11-28")), 26);
        assert_eq!(years_between(date("2000-12-01"), date("2026-11-28")), 25);
    }
}
