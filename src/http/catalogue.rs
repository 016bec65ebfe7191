//! Set-up data of the catalogue: fonds, departments, retention policies, categories, presets.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Json, Path};
use crate::app::App;
use crate::services::catalogue::{
    CategoryPatch, CategoryView, DepartmentPatch, DepartmentView, FondsPatch, FondsView,
    NewCategory, NewDepartment, NewFonds, NewRetentionPolicy, PresetSummary, RetentionPatch,
    RetentionPolicyView,
};

type Created<T> = (StatusCode, axum::Json<T>);

fn created<T>(value: T) -> Created<T> {
    (StatusCode::CREATED, axum::Json(value))
}

/// Creates a fonds (全宗).
#[utoipa::path(post, path = "/api/v1/fonds", tag = "catalogue", request_body = NewFonds,
    responses((status = 201, body = FondsView), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_fonds(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<NewFonds>,
) -> Result<Created<FondsView>, ApiError> {
    Ok(created(app.catalogue.create_fonds(&actor, input).await?))
}

/// Lists every fonds.
#[utoipa::path(get, path = "/api/v1/fonds", tag = "catalogue",
    responses((status = 200, body = Vec<FondsView>)), security(("bearer" = [])))]
pub async fn list_fonds(
    State(app): State<App>,
    CurrentUser(_actor): CurrentUser,
) -> Result<axum::Json<Vec<FondsView>>, ApiError> {
    Ok(axum::Json(app.catalogue.list_fonds().await?))
}

/// One fonds.
#[utoipa::path(get, path = "/api/v1/fonds/{code}", tag = "catalogue", params(("code" = String, Path)),
    responses((status = 200, body = FondsView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_fonds(
    State(app): State<App>,
    CurrentUser(_actor): CurrentUser,
    Path(code): Path<String>,
) -> Result<axum::Json<FondsView>, ApiError> {
    Ok(axum::Json(app.catalogue.get_fonds(&code).await?))
}

/// Renames a fonds or makes it the default.
#[utoipa::path(patch, path = "/api/v1/fonds/{code}", tag = "catalogue", params(("code" = String, Path)), request_body = FondsPatch,
    responses((status = 200, body = FondsView), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn update_fonds(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
    Json(patch): Json<FondsPatch>,
) -> Result<axum::Json<FondsView>, ApiError> {
    Ok(axum::Json(
        app.catalogue.update_fonds(&actor, &code, patch).await?,
    ))
}

/// Deletes a fonds nothing refers to.
#[utoipa::path(delete, path = "/api/v1/fonds/{code}", tag = "catalogue", params(("code" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn delete_fonds(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.catalogue.delete_fonds(&actor, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a department.
#[utoipa::path(post, path = "/api/v1/departments", tag = "catalogue", request_body = NewDepartment,
    responses((status = 201, body = DepartmentView), (status = 400, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_department(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<NewDepartment>,
) -> Result<Created<DepartmentView>, ApiError> {
    Ok(created(
        app.catalogue.create_department(&actor, input).await?,
    ))
}

/// Lists every department.
#[utoipa::path(get, path = "/api/v1/departments", tag = "catalogue",
    responses((status = 200, body = Vec<DepartmentView>)), security(("bearer" = [])))]
pub async fn list_departments(
    State(app): State<App>,
    CurrentUser(_actor): CurrentUser,
) -> Result<axum::Json<Vec<DepartmentView>>, ApiError> {
    Ok(axum::Json(app.catalogue.list_departments().await?))
}

/// One department.
#[utoipa::path(get, path = "/api/v1/departments/{code}", tag = "catalogue", params(("code" = String, Path)),
    responses((status = 200, body = DepartmentView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_department(
    State(app): State<App>,
    CurrentUser(_actor): CurrentUser,
    Path(code): Path<String>,
) -> Result<axum::Json<DepartmentView>, ApiError> {
    Ok(axum::Json(app.catalogue.get_department(&code).await?))
}

/// Renames a department.
#[utoipa::path(patch, path = "/api/v1/departments/{code}", tag = "catalogue", params(("code" = String, Path)),
    request_body = DepartmentPatch, responses((status = 200, body = DepartmentView), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_department(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
    Json(patch): Json<DepartmentPatch>,
) -> Result<axum::Json<DepartmentView>, ApiError> {
    Ok(axum::Json(
        app.catalogue
            .update_department(&actor, &code, patch)
            .await?,
    ))
}

/// Deletes a department nothing refers to.
#[utoipa::path(delete, path = "/api/v1/departments/{code}", tag = "catalogue", params(("code" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn delete_department(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.catalogue.delete_department(&actor, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a retention policy (保管期限).
#[utoipa::path(post, path = "/api/v1/retention-policies", tag = "catalogue", request_body = NewRetentionPolicy,
    responses((status = 201, body = RetentionPolicyView), (status = 400, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_retention_policy(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<NewRetentionPolicy>,
) -> Result<Created<RetentionPolicyView>, ApiError> {
    Ok(created(
        app.catalogue.create_retention(&actor, input).await?,
    ))
}

/// The retention schedule (保管期限表).
#[utoipa::path(get, path = "/api/v1/retention-policies", tag = "catalogue",
    responses((status = 200, body = Vec<RetentionPolicyView>)), security(("bearer" = [])))]
pub async fn list_retention_policies(
    State(app): State<App>,
    CurrentUser(_actor): CurrentUser,
) -> Result<axum::Json<Vec<RetentionPolicyView>>, ApiError> {
    Ok(axum::Json(app.catalogue.list_retention().await?))
}

/// One retention policy.
#[utoipa::path(get, path = "/api/v1/retention-policies/{code}", tag = "catalogue", params(("code" = String, Path)),
    responses((status = 200, body = RetentionPolicyView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_retention_policy(
    State(app): State<App>,
    CurrentUser(_actor): CurrentUser,
    Path(code): Path<String>,
) -> Result<axum::Json<RetentionPolicyView>, ApiError> {
    Ok(axum::Json(app.catalogue.get_retention(&code).await?))
}

/// Changes a retention policy; due dates of its records are recomputed.
#[utoipa::path(patch, path = "/api/v1/retention-policies/{code}", tag = "catalogue", params(("code" = String, Path)),
    request_body = RetentionPatch, responses((status = 200, body = RetentionPolicyView), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_retention_policy(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
    Json(patch): Json<RetentionPatch>,
) -> Result<axum::Json<RetentionPolicyView>, ApiError> {
    Ok(axum::Json(
        app.catalogue.update_retention(&actor, &code, patch).await?,
    ))
}

/// Deletes a retention policy nothing refers to.
#[utoipa::path(delete, path = "/api/v1/retention-policies/{code}", tag = "catalogue", params(("code" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn delete_retention_policy(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.catalogue.delete_retention(&actor, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a category (門類).
#[utoipa::path(post, path = "/api/v1/categories", tag = "catalogue", request_body = NewCategory,
    responses((status = 201, body = CategoryView), (status = 400, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_category(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<NewCategory>,
) -> Result<Created<CategoryView>, ApiError> {
    Ok(created(app.catalogue.create_category(&actor, input).await?))
}

/// The classification scheme (分類方案).
#[utoipa::path(get, path = "/api/v1/categories", tag = "catalogue",
    responses((status = 200, body = Vec<CategoryView>)), security(("bearer" = [])))]
pub async fn list_categories(
    State(app): State<App>,
    CurrentUser(_actor): CurrentUser,
) -> Result<axum::Json<Vec<CategoryView>>, ApiError> {
    Ok(axum::Json(app.catalogue.list_categories().await?))
}

/// One category.
#[utoipa::path(get, path = "/api/v1/categories/{code}", tag = "catalogue", params(("code" = String, Path)),
    responses((status = 200, body = CategoryView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_category(
    State(app): State<App>,
    CurrentUser(_actor): CurrentUser,
    Path(code): Path<String>,
) -> Result<axum::Json<CategoryView>, ApiError> {
    Ok(axum::Json(app.catalogue.get_category(&code).await?))
}

/// Changes a category's names, parent, retention, fields or checklist.
#[utoipa::path(patch, path = "/api/v1/categories/{code}", tag = "catalogue", params(("code" = String, Path)),
    request_body = CategoryPatch, responses((status = 200, body = CategoryView), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_category(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
    Json(patch): Json<CategoryPatch>,
) -> Result<axum::Json<CategoryView>, ApiError> {
    Ok(axum::Json(
        app.catalogue.update_category(&actor, &code, patch).await?,
    ))
}

/// Deletes a category nothing refers to.
#[utoipa::path(delete, path = "/api/v1/categories/{code}", tag = "catalogue", params(("code" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn delete_category(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.catalogue.delete_category(&actor, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which preset to load.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PresetRequest {
    /// `enterprise`
    pub preset: String,
}

/// Loads a preset; adds what is missing, changes nothing that exists.
#[utoipa::path(post, path = "/api/v1/catalogue/presets", tag = "catalogue", request_body = PresetRequest,
    responses((status = 200, body = PresetSummary), (status = 400, body = Problem)), security(("bearer" = [])))]
pub async fn apply_preset(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(request): Json<PresetRequest>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(axum::Json(
        app.catalogue
            .apply_preset(Some(&actor), &request.preset)
            .await?,
    ))
}
