//! The lending register (借閱登記簿) of a year or a month, printed on A4: every loan
//! requested in the period, who borrowed what for what, who approved it, when it was due and
//! returned; only loans of records the reader may see.

use chrono::{Datelike, NaiveDate, TimeZone};
use serde::Deserialize;
use utoipa::IntoParams;

use super::LoanService;
use crate::db;
use crate::domain::loan::LoanStatus;
use crate::domain::permissions::Capability;
use crate::print::{self, table::Table};
use crate::services::export::Download;
use crate::services::{Actor, ServiceError, ServiceResult, access, printed, require};

/// The period of `GET /api/v1/loans/register`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RegisterPeriod {
    /// Default: this year.
    pub year: Option<i32>,
    /// 1–12 for one month of the year; omitted, the whole year.
    pub month: Option<u32>,
}

impl LoanService {
    /// The lending register of the period as a PDF (the records office).
    pub async fn register(&self, actor: &Actor, period: RegisterPeriod) -> ServiceResult<Download> {
        require(actor, Capability::KeepLoans)?;
        let year = period.year.unwrap_or(self.today().year());
        let (first, next) = match period.month {
            None => (
                NaiveDate::from_ymd_opt(year, 1, 1),
                NaiveDate::from_ymd_opt(year + 1, 1, 1),
            ),
            Some(month) => {
                let first = NaiveDate::from_ymd_opt(year, month, 1);
                (
                    first,
                    first.and_then(|day| day.checked_add_months(chrono::Months::new(1))),
                )
            }
        };
        let (Some(first), Some(next)) = (first, next) else {
            return Err(ServiceError::Validation(
                "year, month: name a year and a month of 1–12".into(),
            ));
        };
        let start = |day: NaiveDate| {
            self.timezone
                .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
                .earliest()
                .map(|at| at.to_utc())
                .ok_or_else(|| ServiceError::Validation(format!("{day}: not a day here")))
        };
        let mut conn = db::acquire(&self.pool).await?;
        let visibility = access::standing_visibility(&mut conn, actor).await?;
        let rows = db::loans::register(&mut conn, start(first)?, start(next)?, &visibility).await?;
        drop(conn);
        let day = |at: chrono::DateTime<chrono::Utc>| {
            at.with_timezone(&self.timezone)
                .format("%Y-%m-%d")
                .to_string()
        };
        let count = rows.len();
        let lines = (1..)
            .zip(rows)
            .map(|(number, row): (usize, db::loans::RegisterRow)| {
                vec![
                    number.to_string(),
                    day(row.requested_at),
                    row.borrower,
                    row.archival_code.unwrap_or_default(),
                    row.title,
                    row.purpose,
                    match (row.physical, row.reading_room) {
                        (true, _) => "实体",
                        (false, true) => "阅览室",
                        (false, false) => "电子",
                    }
                    .into(),
                    match (row.hours, row.days) {
                        (Some(hours), _) => format!("{hours}小时"),
                        (None, 0) => "当日".into(),
                        (None, days) => format!("{days}天"),
                    },
                    row.approver.unwrap_or_default(),
                    row.due_on.map(|due| due.to_string()).unwrap_or_default(),
                    match (row.returned_at, row.status) {
                        (Some(at), _) => day(at),
                        (None, LoanStatus::Rejected) => "未批准".into(),
                        (None, LoanStatus::Requested) => "待审批".into(),
                        _ => String::new(),
                    },
                ]
            })
            .collect();
        let name = match period.month {
            Some(month) => format!("{year}年{month}月"),
            None => format!("{year}年"),
        };
        let table = Table {
            title: format!("档案借阅登记簿 {name}"),
            subtitle: format!("共 {count} 次借阅 · 打印日期 {}", self.today()),
            headings: [
                "序号",
                "借阅日期",
                "借阅人",
                "档号",
                "题名",
                "利用目的",
                "方式",
                "期限",
                "批准人",
                "应还日期",
                "归还日期",
            ]
            .map(String::from)
            .to_vec(),
            widths: vec![0.5, 1.2, 0.9, 2.2, 2.6, 1.6, 0.6, 0.6, 0.9, 1.2, 1.2],
            rows: lines,
            signatures: vec!["经办人（签字）".into()],
        };
        let pdf = printed(move || print::table::table_pdf(&table)).await?;
        Ok(Download::whole(
            pdf,
            "application/pdf",
            format!("借阅登记簿-{name}.pdf"),
        ))
    }
}
