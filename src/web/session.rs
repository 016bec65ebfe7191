//! Who is looking at a page and in which language: the session cookie set at login (the
//! same token the API takes), the language cookie or `Accept-Language`, and the CSRF token
//! every form carries (derived from the session, so it needs no storage and dies with it).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};

use super::i18n::{Lang, Texts};
use crate::app::App;
use crate::services::Actor;

/// The session cookie (shared with the API's login).
pub use crate::http::SESSION_COOKIE;
/// The cookie remembering the chosen language.
pub const LANG_COOKIE: &str = "dangan_lang";

/// The value of cookie `name`, if the request has it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The language of a request: the chosen one, else the browser's preference.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .unwrap_or_else(|| {
            Lang::negotiate(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|value| value.to_str().ok()),
            )
        })
}

/// The CSRF token of a session: forms carry it, and a form without the right one is
/// refused.
pub fn csrf_token(session: &str) -> String {
    let digest = Sha256::digest(format!("dangan-csrf:{session}").as_bytes());
    hex::encode(&digest[..16])
}

/// A visitor who need not be signed in: their language, and whether the request is
/// served over TLS (for the cookie's `Secure`).
pub struct Visitor {
    pub texts: Texts,
    pub secure: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Visitor {
            texts: Texts::new(lang_of(&parts.headers)),
            secure: is_secure(&parts.headers),
        })
    }
}

/// Whether the request came over TLS (directly or through a proxy that says so).
pub fn is_secure(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// A signed-in user on a page; without a valid session the browser goes to `/login` and
/// comes back to the page asked for.
#[derive(Clone)]
pub struct WebUser {
    pub actor: Actor,
    pub token: String,
    pub texts: Texts,
    pub csrf: String,
    /// The path and query of the page, to come back to (language switch, login).
    pub here: String,
}

impl WebUser {
    /// Whether `submitted` is this session's CSRF token.
    pub fn csrf_ok(&self, submitted: Option<&str>) -> bool {
        submitted.is_some_and(|token| constant_time_eq(token.as_bytes(), self.csrf.as_bytes()))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<App> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |path| path.as_str().to_owned());
        let texts = Texts::new(lang_of(&parts.headers));
        let token = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned);
        let to_login = |expired: bool| {
            let next = url_encode(&here);
            let target = if expired {
                format!("/login?expired=1&next={next}")
            } else {
                format!("/login?next={next}")
            };
            Redirect::to(&target).into_response()
        };
        let Some(token) = token.filter(|token| !token.is_empty()) else {
            return Err(to_login(false));
        };
        let actor = app
            .auth
            .authenticate(&token)
            .await
            .map_err(|_| to_login(true))?;
        Ok(WebUser {
            actor,
            csrf: csrf_token(&token),
            token,
            texts,
            here,
        })
    }
}

/// `value` percent-encoded for a query parameter.
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A path to return to after login or a language switch: only a local path, never another
/// site (`//host`) or a scheme.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(local_path(Some("/search?q=a")), "/search?q=a");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn the_csrf_token_belongs_to_its_session() {
        assert_eq!(csrf_token("dgn_a"), csrf_token("dgn_a"));
        assert_ne!(csrf_token("dgn_a"), csrf_token("dgn_b"));
        assert_eq!(csrf_token("dgn_a").len(), 32);
    }

    #[test]
    fn the_chosen_language_wins_over_the_browsers() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, "en".parse().expect("header"));
        assert_eq!(lang_of(&headers), Lang::En);
        headers.insert(
            header::COOKIE,
            "a=1; dangan_lang=zh-TW".parse().expect("header"),
        );
        assert_eq!(lang_of(&headers), Lang::ZhTw);
    }
}
