//! User accounts (admins only).

use axum::extract::State;
use axum::http::StatusCode;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Json};
use crate::app::App;
use crate::services::auth::{NewUserInput, UserView};

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
