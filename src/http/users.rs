//! User accounts (admins only).

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Json, Path};
use crate::app::App;
use crate::services::auth::{NewUserInput, UserView};
use crate::services::users::{PasswordReset, UserPatch};

/// Creates a user.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users",
    request_body = NewUserInput,
    responses(
        (status = 201, body = UserView),
        (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn create_user(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<NewUserInput>,
) -> Result<(StatusCode, axum::Json<UserView>), ApiError> {
    let user = app.auth.create_user(Some(&actor), input).await?;
    Ok((StatusCode::CREATED, axum::Json(user)))
}

/// Lists every user.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = Vec<UserView>), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
pub async fn list_users(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
) -> Result<axum::Json<Vec<UserView>>, ApiError> {
    Ok(axum::Json(app.auth.list_users(&actor).await?))
}

/// Changes a user's role, department, e-mail, active flag or employee folder (admin).
/// Disabling them or changing their role, department or folder ends their sessions.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = Uuid, Path)), request_body = UserPatch,
    responses((status = 200, body = UserView), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
pub async fn update_user(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(patch): Json<UserPatch>,
) -> Result<axum::Json<UserView>, ApiError> {
    Ok(axum::Json(
        app.auth.update_user(Some(&actor), id, patch).await?,
    ))
}

/// Sets a user's password (admin reset); their sessions end.
#[utoipa::path(
    post, path = "/api/v1/users/{id}/password", tag = "users",
    params(("id" = Uuid, Path)), request_body = PasswordReset,
    responses((status = 204, description = "set"), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn reset_password(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(input): Json<PasswordReset>,
) -> Result<StatusCode, ApiError> {
    app.auth.reset_password(Some(&actor), id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}
