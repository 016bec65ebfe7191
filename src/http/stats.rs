//! Archive statistics.

use axum::extract::State;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Query};
use crate::app::App;
use crate::services::ledger::{LedgerFormat, LedgerQuery, LedgerView};
use crate::services::reports::{ReportFormat, ReportQuery, ReportView};
use crate::services::stats::StatsView;

/// Active records, files, bytes and pages by category, year, retention, department and
/// carrier; folders; customers by grade, region and industry. For archivists, directors,
/// general managers and admins.
#[utoipa::path(get, path = "/api/v1/stats", tag = "catalogue",
    responses((status = 200, body = StatsView), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_stats(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
) -> Result<axum::Json<StatsView>, ApiError> {
    Ok(axum::Json(app.stats.overview(&actor).await?))
}

/// The holdings ledger (基礎臺帳, R9): items (件), folders (卷) and shelf metres by fonds,
/// category, year and carrier, with additions and removals per year; `?format=xlsx|pdf`
/// downloads it. For those who may export the catalogue.
#[utoipa::path(get, path = "/api/v1/ledger", tag = "catalogue", params(LedgerQuery),
    responses((status = 200, description = "the ledger, or with `format` a download",
            content((LedgerView = "application/json"), (Vec<u8> = "application/pdf"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_ledger(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(query): Query<LedgerQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    Ok(match query.format {
        LedgerFormat::Json => axum::Json(app.ledger.ledger(&actor).await?).into_response(),
        format => super::export::attachment(app.ledger.download(&actor, format).await?),
    })
}

/// The report of a year (`year`, default this one) or of any period (`from`, `to`): holdings
/// at its end, additions, destructions and withdrawals by category and year, use
/// (利用人次/卷次) by purpose and department, overdue loans, storage-room alerts and
/// inspections; `?format=xlsx|pdf` downloads it. For those who may export the catalogue.
#[utoipa::path(get, path = "/api/v1/reports", tag = "catalogue", params(ReportQuery),
    responses((status = 200, description = "the report, or with `format` a download",
            content((ReportView = "application/json"), (Vec<u8> = "application/pdf"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_report(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(query): Query<ReportQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    Ok(match query.format {
        ReportFormat::Json => axum::Json(app.reports.report(&actor, &query).await?).into_response(),
        _ => super::export::attachment(app.reports.download(&actor, &query).await?),
    })
}
