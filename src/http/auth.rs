//! Login and logout.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, Problem};
use super::extract::{ClientAddress, CurrentUser, Json, SESSION_COOKIE, Token};
use crate::app::App;
use crate::services::auth::UserView;
use crate::services::users::PasswordChange;

/// Credentials for `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A new session: send `token` as `Authorization: Bearer <token>`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

/// Logs in: returns a bearer token and sets the session cookie.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "logged in", body = LoginResponse),
        (status = 401, description = "wrong username or password", body = Problem),
        (status = 429, description = "too many failed logins: wait for Retry-After", body = Problem),
    )
)]
pub async fn login(
    State(app): State<App>,
    ClientAddress(address): ClientAddress,
    Json(request): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    let session = app
        .auth
        .login(&request.username, &request.password, address)
        .await?;
    let max_age = (session.expires_at - Utc::now()).num_seconds().max(0);
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}",
        session.token
    );
    let body = LoginResponse {
        token: session.token,
        expires_at: session.expires_at,
        user: session.user,
    };
    let mut response = axum::Json(body).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Logs out: the token stops working and the cookie is cleared.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "logged out"), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
pub async fn logout(State(app): State<App>, Token(token): Token) -> Result<Response, ApiError> {
    app.auth.logout(&token).await?;
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(clear) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, clear);
    }
    Ok(response)
}

/// Changes one's own password; one's other sessions end.
#[utoipa::path(
    post, path = "/api/v1/auth/password", tag = "auth",
    request_body = PasswordChange,
    responses((status = 204, description = "changed"), (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
pub async fn change_password(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Token(token): Token,
    Json(input): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    app.auth.change_password(&actor, &token, input).await?;
    Ok(StatusCode::NO_CONTENT)
}
