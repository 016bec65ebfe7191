//! Archive statistics.

use axum::extract::State;

use super::error::{ApiError, Problem};
use super::extract::CurrentUser;
use crate::app::App;
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
