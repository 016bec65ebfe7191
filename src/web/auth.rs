//! `/login`, `/logout` and the language switch.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::i18n::{Lang, Texts};
use super::session::{LANG_COOKIE, SESSION_COOKIE, Visitor, cookie, local_path, url_encode};
use super::{Chrome, code_message, render, render_with};
use crate::app::App;
use crate::http::ClientAddress;
use crate::services::ServiceError;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Texts,
    chrome: Chrome,
    next: String,
    username: String,
    message: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

/// The login form; `expired` says the session ran out.
pub async fn login_page(visitor: Visitor, Query(query): Query<LoginQuery>) -> Response {
    let next = local_path(query.next.as_deref());
    let message = query
        .expired
        .is_some()
        .then(|| visitor.texts.get("login.expired").to_owned());
    render(&LoginPage {
        t: visitor.texts,
        chrome: Chrome::anonymous(visitor.texts, &format!("/login?next={}", url_encode(&next))),
        next,
        username: String::new(),
        message,
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// Logs in: the session cookie, then the page asked for.
pub async fn login(
    State(app): State<App>,
    visitor: Visitor,
    ClientAddress(address): ClientAddress,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = local_path(form.next.as_deref());
    match app
        .auth
        .login(&form.username, &form.password, address)
        .await
    {
        Ok(session) => {
            let max_age = (session.expires_at - Utc::now()).num_seconds().max(0);
            let secure = if visitor.secure { "; Secure" } else { "" };
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
                session.token
            );
            with_cookie(Redirect::to(&next).into_response(), &cookie)
        }
        Err(error) => {
            let (status, message) = match &error {
                ServiceError::Unauthorized(_) => (
                    StatusCode::UNAUTHORIZED,
                    visitor.texts.get("login.failed").to_owned(),
                ),
                other => (
                    crate::http::error::status_of(other.code()),
                    code_message(visitor.texts, other.code()),
                ),
            };
            let page = LoginPage {
                t: visitor.texts,
                chrome: Chrome::anonymous(visitor.texts, "/login"),
                next,
                username: form.username,
                message: Some(message),
            };
            render_with(status, &page)
        }
    }
}

/// Logs out: the session ends and the cookie goes.
pub async fn logout(State(app): State<App>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Err(error) = app.auth.logout(token).await
    {
        tracing::warn!(%error, "logout could not end the session");
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    with_cookie(Redirect::to("/login").into_response(), &clear)
}

#[derive(Deserialize)]
pub struct LanguageQuery {
    to: String,
    back: Option<String>,
}

/// Remembers the chosen language and returns to the page.
pub async fn switch_language(Query(query): Query<LanguageQuery>) -> Response {
    let lang = Lang::parse(&query.to).unwrap_or_default();
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000",
        lang.tag()
    );
    with_cookie(
        Redirect::to(&local_path(query.back.as_deref())).into_response(),
        &cookie,
    )
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
