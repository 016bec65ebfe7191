//! The holdings ledger (基礎臺帳, R9): holdings by fonds, category, year and carrier in items
//! (件), folders (卷) and shelf metres of the boxes they stand in, with additions and removals
//! per year; as JSON, XLSX or a printed PDF.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::export::{Download, table_download};
use super::{Actor, ServiceResult, access, printed};
use crate::db::{self, Pool};
use crate::domain::export::Cell;
use crate::domain::permissions::Capability;
use crate::print;
use crate::services::require;

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LedgerLine {
    pub fonds: Option<String>,
    pub category: Option<String>,
    pub year: Option<i32>,
    /// `electronic`, `paper`, `photo`, `object` or `media`.
    pub carrier: String,
    /// Items (件).
    pub items: i64,
    /// Folders (卷) the items are in.
    pub folders: i64,
    /// Shelf length of the boxes the items stand in, in metres (a box's width shared among
    /// the lines by its items).
    pub shelf_m: f64,
}

/// Additions and removals of one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LedgerYear {
    pub year: i32,
    /// Records filed that year.
    pub added: i64,
    /// Records destroyed that year.
    pub removed: i64,
}

/// `GET /api/v1/ledger`: the lines, their totals and the years' movements.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LedgerView {
    pub lines: Vec<LedgerLine>,
    pub items: i64,
    pub shelf_m: f64,
    pub years: Vec<LedgerYear>,
}

/// How the ledger is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LedgerFormat {
    #[default]
    Json,
    Xlsx,
    Pdf,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    /// `json` (default), `xlsx` or `pdf`.
    #[serde(default)]
    pub format: LedgerFormat,
}

/// The holdings ledger.
#[derive(Clone)]
pub struct LedgerService {
    pool: Pool,
    timezone: chrono_tz::Tz,
}

impl LedgerService {
    pub fn new(pool: Pool, timezone: chrono_tz::Tz) -> Self {
        Self { pool, timezone }
    }

    /// The ledger of what the caller may see, for those who may export the catalogue.
    pub async fn ledger(&self, actor: &Actor) -> ServiceResult<LedgerView> {
        require(actor, Capability::ExportCatalogue)?;
        let mut conn = db::acquire(&self.pool).await?;
        let visibility = access::standing_visibility(&mut conn, actor).await?;
        let lines: Vec<LedgerLine> = db::stats::ledger(&mut conn, &visibility)
            .await?
            .into_iter()
            .map(|row| LedgerLine {
                fonds: row.fonds,
                category: row.category,
                year: row.year,
                carrier: row.carrier,
                items: row.items,
                folders: row.folders,
                shelf_m: row.shelf_mm.round() / 1000.0,
            })
            .collect();
        let years = db::stats::ledger_years(&mut conn, &visibility, self.timezone.name())
            .await?
            .into_iter()
            .map(|row| LedgerYear {
                year: row.year,
                added: row.added,
                removed: row.removed,
            })
            .collect();
        Ok(LedgerView {
            items: lines.iter().map(|line| line.items).sum(),
            shelf_m: (lines.iter().map(|line| line.shelf_m).sum::<f64>() * 1000.0).round() / 1000.0,
            lines,
            years,
        })
    }

    /// The ledger as an XLSX sheet or a printed A4 PDF.
    pub async fn download(&self, actor: &Actor, format: LedgerFormat) -> ServiceResult<Download> {
        let view = self.ledger(actor).await?;
        match format {
            LedgerFormat::Pdf => {
                let table = ledger_table(&view, self.today());
                let pdf = printed(move || print::table::table_pdf(&table)).await?;
                Ok(Download::whole(
                    pdf,
                    "application/pdf",
                    "基础台账.pdf".into(),
                ))
            }
            _ => table_download(sheet(&view), "基础台账", Some("基础台账")).await,
        }
    }
}

impl LedgerService {
    fn today(&self) -> chrono::NaiveDate {
        chrono::Utc::now()
            .with_timezone(&self.timezone)
            .date_naive()
    }
}

/// The ledger as a printed table: the lines, the total, then each year's movements.
fn ledger_table(view: &LedgerView, today: chrono::NaiveDate) -> print::table::Table {
    let or_blank = |value: Option<&str>| value.unwrap_or_default().to_owned();
    let mut rows: Vec<Vec<String>> = view
        .lines
        .iter()
        .map(|line| {
            vec![
                or_blank(line.fonds.as_deref()),
                or_blank(line.category.as_deref()),
                line.year.map(|year| year.to_string()).unwrap_or_default(),
                line.carrier.clone(),
                line.items.to_string(),
                line.folders.to_string(),
                format!("{:.3}", line.shelf_m),
            ]
        })
        .collect();
    rows.push(vec![
        "合计".into(),
        String::new(),
        String::new(),
        String::new(),
        view.items.to_string(),
        String::new(),
        format!("{:.3}", view.shelf_m),
    ]);
    for year in &view.years {
        rows.push(vec![
            format!("{} 年", year.year),
            format!("新增 {}", year.added),
            format!("销毁 {}", year.removed),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    print::table::Table {
        title: "档案基础台账".into(),
        subtitle: format!("制表日期 {}", today.format("%Y年%m月%d日")),
        headings: [
            "全宗号",
            "门类",
            "年度",
            "载体",
            "件数",
            "卷数",
            "排架长度(米)",
        ]
        .map(str::to_owned)
        .to_vec(),
        widths: vec![1.2, 1.0, 0.8, 1.2, 0.8, 0.8, 1.4],
        rows,
        signatures: Vec::new(),
    }
}

fn sheet(view: &LedgerView) -> Vec<Vec<Cell>> {
    let text = |value: Option<&str>| value.map_or(Cell::Empty, |text| Cell::Text(text.to_owned()));
    let mut lines = vec![
        [
            "全宗号",
            "门类",
            "年度",
            "载体",
            "件数",
            "卷数",
            "排架长度(米)",
        ]
        .map(|heading| Cell::Text(heading.to_owned()))
        .to_vec(),
    ];
    for line in &view.lines {
        lines.push(vec![
            text(line.fonds.as_deref()),
            text(line.category.as_deref()),
            line.year
                .map_or(Cell::Empty, |year| Cell::Number(i64::from(year))),
            Cell::Text(line.carrier.clone()),
            Cell::Number(line.items),
            Cell::Number(line.folders),
            Cell::Text(format!("{:.3}", line.shelf_m)),
        ]);
    }
    lines.push(vec![
        Cell::Text("合计".into()),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Number(view.items),
        Cell::Empty,
        Cell::Text(format!("{:.3}", view.shelf_m)),
    ]);
    lines.push(Vec::new());
    lines.push(
        ["年度", "新增", "销毁"]
            .map(|heading| Cell::Text(heading.to_owned()))
            .to_vec(),
    );
    for year in &view.years {
        lines.push(vec![
            Cell::Number(i64::from(year.year)),
            Cell::Number(year.added),
            Cell::Number(year.removed),
        ]);
    }
    lines
}
