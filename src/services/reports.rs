//! The period report (年度統計, issue 19 item 3): for a year or any period, holdings at its
//! end, additions, destructions and withdrawals by category and year, use (利用人次/卷次) by
//! purpose and department, loans that came back late or not at all, and the storage rooms'
//! alerts and inspections; as JSON, XLSX or a printed A4 PDF. Counts are of the records the
//! reader may see.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::export::{Download, table_download};
use super::{Actor, ServiceError, ServiceResult, access, printed};
use crate::db::{self, Pool};
use crate::domain::export::Cell;
use crate::domain::permissions::Capability;
use crate::print;
use crate::services::require;

/// How a report is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    #[default]
    Json,
    Xlsx,
    Pdf,
}

/// Query of `GET /api/v1/reports`: a `year`, or `from` and `to` (both days included).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// A calendar year (default: this year, unless `from`/`to` are given).
    pub year: Option<i32>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// `json` (default), `xlsx` or `pdf`.
    #[serde(default)]
    pub format: ReportFormat,
}

/// Records of one category and year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CategoryYear {
    pub category: Option<String>,
    pub year: i32,
    pub records: i64,
}

/// Records counted one way, in total and by category and year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct RecordPart {
    pub records: i64,
    pub by_category_year: Vec<CategoryYear>,
}

/// Use of one purpose or department: 卷次 (`loans`, one record lent each) and 人次
/// (`readers`, a borrower on one day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Use {
    pub key: Option<String>,
    pub loans: i64,
    pub readers: i64,
}

/// Use in the period: loans requested in it and granted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct UseReport {
    /// 卷次.
    pub loans: i64,
    /// 人次.
    pub readers: i64,
    pub by_purpose: Vec<Use>,
    /// By the borrower's department; outside borrowers by their organisation.
    pub by_department: Vec<Use>,
}

/// A loan due in the period that came back late or is still out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OverdueLoan {
    pub loan_id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    pub borrower: String,
    pub due_on: NaiveDate,
    pub returned_at: Option<DateTime<Utc>>,
}

/// A storage room's alerts (temperature, humidity) and inspections in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoomReport {
    pub room: String,
    pub name: String,
    pub alerts: i64,
    pub inspections: i64,
}

/// `GET /api/v1/reports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReportView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Records held at the end of the period.
    pub holdings: RecordPart,
    /// Records filed in the period.
    pub additions: RecordPart,
    /// Records destroyed in the period.
    pub destructions: RecordPart,
    /// Records withdrawn (作廢) in the period.
    pub withdrawals: RecordPart,
    #[serde(rename = "use")]
    pub usage: UseReport,
    pub overdue_loans: Vec<OverdueLoan>,
    pub rooms: Vec<RoomReport>,
}

/// Period reports.
#[derive(Clone)]
pub struct ReportService {
    pool: Pool,
    timezone: chrono_tz::Tz,
}

impl ReportService {
    pub fn new(pool: Pool, timezone: chrono_tz::Tz) -> Self {
        Self { pool, timezone }
    }

    fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.timezone).date_naive()
    }

    /// The period a query names.
    fn period(&self, query: &ReportQuery) -> ServiceResult<(NaiveDate, NaiveDate)> {
        let year_bounds = |year: i32| {
            NaiveDate::from_ymd_opt(year, 1, 1)
                .zip(NaiveDate::from_ymd_opt(year, 12, 31))
                .ok_or_else(|| ServiceError::Validation(format!("year: {year} is out of range")))
        };
        match (query.year, query.from, query.to) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(ServiceError::Validation(
                "give a year, or from and to, not both".into(),
            )),
            (Some(year), None, None) => year_bounds(year),
            (None, None, None) => year_bounds(self.today().year()),
            (None, Some(from), Some(to)) if from <= to => Ok((from, to)),
            (None, Some(_), Some(_)) => Err(ServiceError::Validation(
                "from: the period starts on or before `to`".into(),
            )),
            (None, _, _) => Err(ServiceError::Validation(
                "from, to: give both days of the period".into(),
            )),
        }
    }

    /// The report of the period, of what the caller may see (those who may export the
    /// catalogue and read statistics).
    pub async fn report(&self, actor: &Actor, query: &ReportQuery) -> ServiceResult<ReportView> {
        require(actor, Capability::ExportCatalogue)?;
        let (from, to) = self.period(query)?;
        let zone = self.timezone.name();
        let mut conn = db::acquire(&self.pool).await?;
        let visibility = access::standing_visibility(&mut conn, actor).await?;
        let mut parts: [RecordPart; 4] = Default::default();
        for row in db::reports::record_counts(&mut conn, &visibility, from, to, zone).await? {
            let at = match row.part.as_str() {
                "holdings" => 0,
                "added" => 1,
                "destroyed" => 2,
                _ => 3,
            };
            parts[at].records += row.records;
            parts[at].by_category_year.push(CategoryYear {
                category: row.category,
                year: row.year,
                records: row.records,
            });
        }
        let mut usage = UseReport::default();
        for row in db::reports::use_counts(&mut conn, &visibility, from, to, zone).await? {
            let line = Use {
                key: row.key,
                loans: row.loans,
                readers: row.readers,
            };
            match row.dimension.as_str() {
                "purpose" => usage.by_purpose.push(line),
                "department" => usage.by_department.push(line),
                _ => (usage.loans, usage.readers) = (line.loans, line.readers),
            }
        }
        let today = self.today();
        let overdue_loans = db::reports::overdue(&mut conn, &visibility, from, to, today, zone)
            .await?
            .into_iter()
            .map(|row| OverdueLoan {
                loan_id: row.id,
                archival_code: row.archival_code,
                title: row.title,
                borrower: row.borrower,
                due_on: row.due_on,
                returned_at: row.returned_at,
            })
            .collect();
        let rooms = db::reports::room_counts(&mut conn, from, to, zone)
            .await?
            .into_iter()
            .map(|row| RoomReport {
                room: row.code,
                name: row.name,
                alerts: row.alerts,
                inspections: row.inspections,
            })
            .collect();
        let [holdings, additions, destructions, withdrawals] = parts;
        Ok(ReportView {
            from,
            to,
            holdings,
            additions,
            destructions,
            withdrawals,
            usage,
            overdue_loans,
            rooms,
        })
    }

    /// The report as an XLSX sheet or a printed A4 PDF.
    pub async fn download(&self, actor: &Actor, query: &ReportQuery) -> ServiceResult<Download> {
        let view = self.report(actor, query).await?;
        let name = format!("档案工作统计-{}至{}", view.from, view.to);
        let rows = rows(&view);
        match query.format {
            ReportFormat::Pdf => {
                let table = print::table::Table {
                    title: "档案工作统计报表".into(),
                    subtitle: format!(
                        "统计期间 {} 至 {} · 制表日期 {}",
                        view.from,
                        view.to,
                        self.today()
                    ),
                    headings: HEADINGS.map(str::to_owned).to_vec(),
                    widths: vec![1.4, 3.2, 1.0, 1.0, 2.4],
                    rows: rows
                        .iter()
                        .map(|row| {
                            row.iter()
                                .map(|cell| cell.csv_text().into_owned())
                                .collect()
                        })
                        .collect(),
                    signatures: vec!["制表人（签字）".into(), "审核人（签字）".into()],
                };
                let pdf = printed(move || print::table::table_pdf(&table)).await?;
                Ok(Download::whole(
                    pdf,
                    "application/pdf",
                    format!("{name}.pdf"),
                ))
            }
            _ => {
                let mut lines = vec![HEADINGS.map(|h| Cell::Text(h.to_owned())).to_vec()];
                lines.extend(rows);
                table_download(lines, &name, Some("统计报表")).await
            }
        }
    }
}

const HEADINGS: [&str; 5] = ["项目", "分项", "件数/卷次", "人次", "说明"];

/// The report as lines of five columns: part, item, count, readers, note.
fn rows(view: &ReportView) -> Vec<Vec<Cell>> {
    let text = |value: &str| Cell::Text(value.to_owned());
    let mut rows = Vec::new();
    for (label, part) in [
        ("馆藏（期末）", &view.holdings),
        ("新增归档", &view.additions),
        ("销毁", &view.destructions),
        ("作废", &view.withdrawals),
    ] {
        rows.push(vec![
            text(label),
            text("合计"),
            Cell::Number(part.records),
            Cell::Empty,
            Cell::Empty,
        ]);
        for line in &part.by_category_year {
            rows.push(vec![
                text(label),
                Cell::Text(format!(
                    "{} {}年",
                    line.category.as_deref().unwrap_or("未分类"),
                    line.year
                )),
                Cell::Number(line.records),
                Cell::Empty,
                Cell::Empty,
            ]);
        }
    }
    let usage = &view.usage;
    rows.push(vec![
        text("利用"),
        text("合计"),
        Cell::Number(usage.loans),
        Cell::Number(usage.readers),
        Cell::Empty,
    ]);
    for (label, lines) in [
        ("利用·目的", &usage.by_purpose),
        ("利用·部门", &usage.by_department),
    ] {
        for line in lines {
            rows.push(vec![
                text(label),
                text(line.key.as_deref().unwrap_or("（未填）")),
                Cell::Number(line.loans),
                Cell::Number(line.readers),
                Cell::Empty,
            ]);
        }
    }
    for loan in &view.overdue_loans {
        rows.push(vec![
            text("逾期借阅"),
            Cell::Text(format!(
                "{} {}",
                loan.archival_code.as_deref().unwrap_or("-"),
                loan.title
            )),
            Cell::Number(1),
            Cell::Empty,
            Cell::Text(format!(
                "{} 应还 {}{}",
                loan.borrower,
                loan.due_on,
                if loan.returned_at.is_some() {
                    "，已逾期归还"
                } else {
                    "，未还"
                }
            )),
        ]);
    }
    for room in &view.rooms {
        rows.push(vec![
            text("库房"),
            Cell::Text(format!("{} {}", room.room, room.name)),
            Cell::Empty,
            Cell::Empty,
            Cell::Text(format!(
                "告警 {} 次，检查 {} 次",
                room.alerts, room.inspections
            )),
        ]);
    }
    rows
}
