//! Extractors whose rejections are problem-details errors, and the signed-in user.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::app::App;
use crate::domain::ErrorCode;
use crate::services::Actor;

/// Name of the session cookie set at login.
pub const SESSION_COOKIE: &str = "dangan_session";

/// `axum::Json` with problem-details rejections; the body must be a JSON object (every
/// request body of the API is one).
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let bytes = body_bytes(
            axum::extract::Request::from_parts(parts.clone(), body),
            state,
        )
        .await?;
        let is_object = first_byte(&bytes) == Some(b'{');
        let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
        let axum::Json(value) = axum::Json::<T>::from_request(request, state).await?;
        if !is_object {
            return Err(not_an_object());
        }
        Ok(Json(value))
    }
}

/// The body, within the route's body limit (413 beyond it).
async fn body_bytes<S: Send + Sync>(
    request: axum::extract::Request,
    state: &S,
) -> Result<axum::body::Bytes, ApiError> {
    axum::body::Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::PayloadTooLarge, rejection.body_text())
            } else {
                ApiError::validation(rejection.body_text())
            }
        })
}

fn first_byte(bytes: &[u8]) -> Option<u8> {
    bytes
        .iter()
        .copied()
        .find(|byte| !byte.is_ascii_whitespace())
}

fn not_an_object() -> ApiError {
    ApiError::validation("the body must be a JSON object ({…})")
}

/// A JSON body that may be left out: an empty body is `None`.
pub struct OptionalJson<T>(pub Option<T>);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let body = body_bytes(request, state).await?;
        match first_byte(&body) {
            None => return Ok(OptionalJson(None)),
            Some(b'{') => {}
            Some(_) => return Err(not_an_object()),
        }
        serde_json::from_slice(&body)
            .map(|value| OptionalJson(Some(value)))
            .map_err(|error| ApiError::validation(format!("invalid JSON body: {error}")))
    }
}

/// `axum::extract::Path` with problem-details rejections.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// `axum::extract::Query` with problem-details rejections.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// The token of the request: `Authorization: Bearer …`, else the session cookie.
pub struct Token(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Token {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        bearer_token(parts)
            .or_else(|| session_cookie(parts))
            .map(Token)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Unauthorized,
                    "log in first: send Authorization: Bearer <token> from POST /api/v1/auth/login",
                )
            })
    }
}

/// The address of the client (the peer of the TCP connection), when the server knows it.
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

/// The signed-in user; requests without a valid token are refused with 401.
pub struct CurrentUser(pub Actor);

impl FromRequestParts<App> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let Token(token) = Token::from_request_parts(parts, app).await?;
        let actor = app.auth.authenticate(&token).await?;
        Ok(CurrentUser(actor))
    }
}

fn bearer_token(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .then(|| token.trim().to_owned())
}

fn session_cookie(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}
