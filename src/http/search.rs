//! Search and the job queue.

use axum::extract::State;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Json, Path, Query, Token};
use crate::app::App;
use crate::services::jobs::{JobFilter, JobPage, JobView};
use crate::services::search::{SearchParams, SearchResponse, VariantTable, VariantsUpdate};

/// Full-text search over the catalogue and the documents' text, in Chinese (either script)
/// and English, limited to the records the caller may see.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchParams),
    responses((status = 200, body = SearchResponse), (status = 400, body = Problem)),
    security(("bearer" = [])))]
pub async fn search(
    State(app): State<App>,
    Token(token): Token,
    params: Result<Query<SearchParams>, ApiError>,
) -> Result<axum::Json<SearchResponse>, ApiError> {
    // signed in with the access decision's reads in one round trip; an invalid token is
    // refused before parameters are looked at, as on every other path
    let searcher = app.search.sign_in(&token).await?;
    let Query(params) = params?;
    Ok(axum::Json(app.search.search_as(searcher, params).await?))
}

/// The groups of words a relaxed search takes as one: regional variants (数据 and 資料)
/// and synonyms, those shipped with dangan and the archive's own.
#[utoipa::path(get, path = "/api/v1/search/variants", tag = "search",
    responses((status = 200, body = VariantTable)),
    security(("bearer" = [])))]
pub async fn get_variants(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
) -> Result<axum::Json<VariantTable>, ApiError> {
    Ok(axum::Json(app.search.variant_table(&actor).await?))
}

/// Replaces the archive's own groups (the records office). Every node searches with them
/// within 30 seconds; the node that saved them at once.
#[utoipa::path(put, path = "/api/v1/search/variants", tag = "search", request_body = VariantsUpdate,
    responses((status = 200, body = VariantTable), (status = 400, body = Problem),
        (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn put_variants(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(update): Json<VariantsUpdate>,
) -> Result<axum::Json<VariantTable>, ApiError> {
    Ok(axum::Json(
        app.search.replace_variants(&actor, update).await?,
    ))
}

/// Background jobs, newest first: kind, status, attempts, last error.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobFilter),
    responses((status = 200, body = JobPage), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_jobs(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(filter): Query<JobFilter>,
) -> Result<axum::Json<JobPage>, ApiError> {
    Ok(axum::Json(app.jobs.list(&actor, filter).await?))
}

/// Queues a failed job again with fresh attempts, once its cause is mended (a tool
/// installed, a store reachable again); a destruction batch resumes where it stopped.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs",
    params(("id" = i64, Path, description = "the job")),
    responses((status = 200, body = JobView), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn retry_job(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<i64>,
) -> Result<axum::Json<JobView>, ApiError> {
    Ok(axum::Json(app.jobs.retry(&actor, id).await?))
}
