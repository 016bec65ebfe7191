//! The destruction list (銷毀清冊) of a batch as CSV, XLSX or a PDF to sign: a header with the batch, its
//! approvers, supervisors and times, then one line per item with its tombstone's facts.

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{BatchView, DestructionService, ItemView};
use crate::domain::audit::AuditAction;
use crate::domain::export::Cell;
use crate::print;
use crate::services::export::{Download, table_download};
use crate::services::{Actor, ServiceResult, printed};

/// The format of the destruction list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListFormat {
    Csv,
    Xlsx,
    /// Printed on A4 with signature lines for the approvers and supervisors.
    Pdf,
}

/// Parameters of `GET /api/v1/disposition/batches/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct BatchQuery {
    /// `csv`, `xlsx` or `pdf` (printed, to be signed) for the destruction list; absent for
    /// the batch as JSON.
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
        let mut conn = crate::db::acquire(&self.pool).await?;
        let listed: Vec<Uuid> = batch.items.iter().map(|item| item.record_id).collect();
        crate::db::audit::append(
            &mut conn,
            Some(actor.user_id),
            AuditAction::DestructionListDownloaded,
            None,
            &serde_json::json!({ "batch_id": id, "records_listed": listed }),
        )
        .await?;
        drop(conn);
        let lines = lines(&batch);
        let stem = format!("銷毀清冊-{}", batch.id);
        match format {
            ListFormat::Csv => table_download(lines, &stem, None).await,
            ListFormat::Xlsx => table_download(lines, &stem, Some("銷毀清冊")).await,
            ListFormat::Pdf => {
                let table = printed_list(&batch);
                let pdf = printed(move || print::table::table_pdf(&table)).await?;
                Ok(Download::whole(
                    pdf,
                    "application/pdf",
                    format!("{stem}.pdf"),
                ))
            }
        }
    }
}

/// The list as printed for signing: the batch and its approvers over the items, and under
/// them a signature and a date for each approver and supervisor of the shredding.
fn printed_list(batch: &BatchView) -> print::table::Table {
    let day = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map(|at| at.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let approvers: Vec<&str> = batch
        .approvals
        .iter()
        .map(|approval| approval.username.as_str())
        .collect();
    let rows = (1..)
        .zip(&batch.items)
        .map(|(number, item): (usize, &ItemView)| {
            let tombstone = item.tombstone.as_ref();
            let field = |name: &str| {
                tombstone
                    .and_then(|value| value[name].as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            vec![
                number.to_string(),
                item.archival_code.clone().unwrap_or_default(),
                item.title.clone(),
                field("doc_date"),
                field("retention"),
                item.outcome.clone(),
                day(item.done_at),
            ]
        })
        .collect();
    let mut signatures = vec!["鑒定小組負責人（簽字）".to_owned()];
    signatures.extend(std::iter::repeat_n(
        "批准人（簽字）".to_owned(),
        batch.approvals.len().max(1),
    ));
    signatures.extend(std::iter::repeat_n(
        "監銷人（簽字）".to_owned(),
        batch.supervisors.len().max(2),
    ));
    print::table::Table {
        title: "檔案銷毀清冊".into(),
        subtitle: format!(
            "批次 {} · 截止日期 {} · 共 {} 件 · 批准 {} · 監銷 {}",
            batch.id,
            batch.as_of,
            batch.items.len(),
            approvers.join("、"),
            batch.supervisors.join("、")
        ),
        headings: [
            "序號",
            "檔號",
            "題名",
            "文件日期",
            "保管期限",
            "結果",
            "銷毀日期",
        ]
        .map(String::from)
        .to_vec(),
        widths: vec![0.6, 2.6, 4.0, 1.3, 1.0, 1.0, 1.3],
        rows,
        signatures,
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
        vec![text("狀態"), text(batch.status.as_str())],
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
