//! A check's results as CSV or XLSX: for a four-properties check one line per record and
//! test, for a fixity sweep one line per damaged or unreferenced object.

use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{CheckView, IntegrityService};
use crate::domain::audit::AuditAction;
use crate::domain::export::Cell;
use crate::domain::integrity::CheckKind;
use crate::services::export::{Download, table_download};
use crate::services::{Actor, ServiceResult};

/// The format of a check's export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckFormat {
    Csv,
    Xlsx,
}

impl IntegrityService {
    /// The check as a download.
    pub async fn export(
        &self,
        actor: &Actor,
        id: Uuid,
        format: CheckFormat,
    ) -> ServiceResult<Download> {
        let check = self.get(actor, id).await?;
        let mut conn = crate::db::acquire(&self.pool).await?;
        let listed: Vec<Uuid> = check
            .results
            .iter()
            .map(|result| result.record_id)
            .collect();
        crate::db::audit::append(
            &mut conn,
            Some(actor.user_id),
            AuditAction::IntegrityReportDownloaded,
            None,
            &serde_json::json!({ "check_id": id, "records_listed": listed }),
        )
        .await?;
        drop(conn);
        let stem = format!("四性檢測-{id}");
        let lines = lines(&check);
        match format {
            CheckFormat::Csv => table_download(lines, &stem, None).await,
            CheckFormat::Xlsx => table_download(lines, &stem, Some("檢測結果")).await,
        }
    }
}

fn lines(check: &CheckView) -> Vec<Vec<Cell>> {
    let text = |value: &str| Cell::Text(value.to_owned());
    let time = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map_or(Cell::Empty, |at| Cell::Text(at.to_rfc3339()))
    };
    let mut lines = vec![
        vec![text("檢測"), text(&check.id.to_string())],
        vec![text("類型"), text(check.kind.as_str())],
        vec![text("環節"), text(check.stage.as_deref().unwrap_or(""))],
        vec![text("狀態"), text(check.status.as_str())],
        vec![text("檢測數"), Cell::Number(check.checked)],
        vec![text("通過數"), Cell::Number(check.ok)],
        vec![text("開始時間"), time(check.started_at)],
        vec![text("完成時間"), time(check.finished_at)],
        vec![],
    ];
    if check.kind == CheckKind::Fixity {
        lines.push(
            ["結果", "SHA-256", "大小", "記錄", "說明"]
                .iter()
                .map(|h| text(h))
                .collect(),
        );
        for (outcome, entries) in [("mismatch", &check.mismatched), ("missing", &check.missing)] {
            for entry in entries.as_array().into_iter().flatten() {
                lines.push(vec![
                    text(outcome),
                    text(entry["sha256"].as_str().unwrap_or_default()),
                    entry["size"].as_i64().map_or(Cell::Empty, Cell::Number),
                    text(&records(&entry["records"])),
                    text(entry["detail"].as_str().unwrap_or_default()),
                ]);
            }
        }
        for key in check.unreferenced.as_array().into_iter().flatten() {
            lines.push(vec![
                text("unreferenced"),
                text(key.as_str().unwrap_or_default()),
            ]);
        }
    } else {
        lines.push(
            ["記錄", "屬性", "檢測項", "結果", "說明"]
                .iter()
                .map(|h| text(h))
                .collect(),
        );
        for result in &check.results {
            lines.push(vec![
                text(&result.record_id.to_string()),
                text(&result.property),
                text(&result.test),
                text(if result.passed { "pass" } else { "fail" }),
                text(&result.reason),
            ]);
        }
    }
    lines
}

fn records(value: &Value) -> String {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}
