//! The web interface for the records office: server-rendered pages (askama templates,
//! checked at compile time) in zh-CN, zh-TW and en, over the same services and permission
//! decisions as the API. Reading works without JavaScript; the one script only adds drag and
//! drop and a progress bar to the upload form. Every form carries the session's CSRF token.

mod admin;
mod auth;
mod chart;
mod corrections;
mod dashboard;
mod disposition;
mod folders;
mod form;
pub mod i18n;
mod loans;
mod oversight;
mod records;
mod reviews;

mod rooms;
mod search;
pub mod session;
mod setup;
mod stocktakes;
mod upload;

use askama::Template;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::app::App;
use crate::domain::ErrorCode;
use crate::domain::permissions::Capability;
use crate::services::ServiceError;
use i18n::{Lang, Texts};
use session::{WebUser, url_encode};

/// The pages, at the paths api.md gives them.
pub fn routes(app: &App) -> Router<App> {
    let upload_limit = usize::try_from(app.limits.max_upload_bytes).unwrap_or(usize::MAX);
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", get(auth::logout).post(auth::logout))
        .route("/lang", get(auth::switch_language))
        .route("/search", get(search::search_page))
        .route(
            "/records/{id}",
            get(records::record_page).post(records::update_record),
        )
        .route(
            "/records/{id}/files",
            axum::routing::post(corrections::correct_files)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/records/{id}/withdrawal",
            axum::routing::post(corrections::propose_withdrawal),
        )
        .route(
            "/withdrawals/{id}/{action}",
            axum::routing::post(corrections::decide_withdrawal),
        )
        .route("/records/{id}/text/{file_id}", get(records::text_page))
        .route("/records/{id}/thumbnail/{file_id}", get(records::thumbnail))
        .route("/folders/{party_id}", get(folders::folder_page))
        .route(
            "/folders/{party_id}/sign-off",
            axum::routing::post(folders::sign_off),
        )
        .route("/loans", get(loans::loans_page).post(loans::register_loan))
        .route(
            "/loans/{id}/{action}",
            axum::routing::post(loans::act_on_loan),
        )
        .route("/rooms", get(rooms::rooms_page).post(rooms::create_room))
        .route("/rooms/{id}", get(rooms::room_page))
        .route(
            "/rooms/{id}/readings",
            axum::routing::post(rooms::add_readings),
        )
        .route(
            "/rooms/{id}/inspections",
            axum::routing::post(rooms::inspect),
        )
        .route(
            "/rooms/{id}/stocktakes",
            axum::routing::post(stocktakes::begin),
        )
        .route("/stocktakes/{id}", get(stocktakes::stocktake_page))
        .route(
            "/stocktakes/{id}/sightings",
            axum::routing::post(stocktakes::add_sightings),
        )
        .route(
            "/stocktakes/{id}/finish",
            axum::routing::post(stocktakes::finish),
        )
        .route("/catalogue", get(oversight::catalogue_page))
        .route(
            "/integrity",
            get(oversight::integrity_page).post(oversight::start_sweep),
        )
        .route("/audit", get(oversight::audit_page))
        .route("/admin", get(admin::admin_page))
        .route("/admin/users", axum::routing::post(admin::create_user))
        .route(
            "/admin/users/{id}/active",
            axum::routing::post(admin::set_active),
        )
        .route(
            "/admin/departments",
            axum::routing::post(setup::create_department),
        )
        .route(
            "/admin/retention",
            axum::routing::post(setup::create_retention),
        )
        .route(
            "/admin/categories",
            axum::routing::post(setup::create_category),
        )
        .route(
            "/admin/categories/{code}",
            axum::routing::post(setup::update_category),
        )
        .route(
            "/admin/categories/{code}/access",
            axum::routing::post(admin::set_access),
        )
        .route("/disposition", get(disposition::disposition_page))
        .route(
            "/disposition/holds",
            axum::routing::post(reviews::place_hold),
        )
        .route(
            "/disposition/holds/{id}/release",
            axum::routing::post(reviews::release_hold),
        )
        .route(
            "/disposition/batches/{id}/shredded",
            axum::routing::post(reviews::confirm_shredded),
        )
        .route(
            "/releases",
            get(reviews::releases_page).post(reviews::propose_release),
        )
        .route(
            "/releases/{id}/{action}",
            axum::routing::post(reviews::decide_release),
        )
        .route(
            "/disposition/appraisals",
            axum::routing::post(disposition::appraise),
        )
        .route(
            "/disposition/batches",
            axum::routing::post(disposition::create_batch),
        )
        .route(
            "/disposition/batches/{id}/approve",
            axum::routing::post(disposition::approve_batch),
        )
        .route(
            "/upload",
            get(upload::upload_page)
                .post(upload::upload)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/static/dangan.css", get(stylesheet))
        .route("/static/upload.js", get(upload_script))
        .route("/static/icon.svg", get(icon))
        .route("/favicon.ico", get(icon))
}

/// What every page shows around its content: who is signed in, the CSRF token of their
/// forms, and the language links back to this page.
pub struct Chrome {
    pub user: Option<String>,
    /// The pages the user's role may use: path, label.
    pub nav: Vec<(&'static str, &'static str)>,
    pub csrf: String,
    /// This page's path and query, encoded for `back=`.
    pub back: String,
    /// Each language: tag, its own name, whether it is the current one.
    pub langs: Vec<(&'static str, &'static str, bool)>,
}

impl Chrome {
    /// The chrome of a page for a signed-in user.
    pub fn of(user: &WebUser) -> Self {
        let mut chrome = Self::anonymous(user.texts, &user.here);
        chrome.user = Some(
            user.texts
                .fill("nav.signed_in_as", &[("name", &user.actor.username)]),
        );
        chrome.csrf.clone_from(&user.csrf);
        let role = user.actor.role;
        chrome.nav = [
            ("/", "nav.dashboard", None),
            ("/upload", "nav.upload", Some(Capability::FileRecords)),
            ("/search", "nav.search", None),
            ("/loans", "nav.loans", None),
            ("/disposition", "nav.disposition", Some(Capability::Dispose)),
            (
                "/releases",
                "nav.releases",
                Some(Capability::ProposeRelease),
            ),
            ("/releases", "nav.releases", Some(Capability::ReviewRelease)),
            ("/rooms", "nav.rooms", None),
            (
                "/catalogue",
                "nav.catalogue",
                Some(Capability::ExportCatalogue),
            ),
            (
                "/integrity",
                "nav.integrity",
                Some(Capability::CheckIntegrity),
            ),
            ("/audit", "nav.audit", Some(Capability::ReadAudit)),
            ("/admin", "nav.admin", Some(Capability::Administer)),
        ]
        .into_iter()
        .filter(|(_, _, needs)| needs.is_none_or(|capability| role.may(capability)))
        .map(|(path, key, _)| (path, user.texts.get(key)))
        .collect();
        // a page offered for either of two capabilities is listed once
        chrome.nav.dedup_by_key(|(path, _)| *path);
        chrome
    }

    /// The chrome of a page for a visitor who is not signed in.
    pub fn anonymous(texts: Texts, here: &str) -> Self {
        Self {
            user: None,
            nav: Vec::new(),
            csrf: String::new(),
            back: url_encode(here),
            langs: Lang::ALL
                .iter()
                .map(|lang| {
                    (
                        lang.tag(),
                        texts.get(&format!("lang.{}", lang.tag())),
                        *lang == texts.lang,
                    )
                })
                .collect(),
        }
    }
}

/// A rendered template, or a plain 500 if it cannot render.
pub fn render(template: &impl Template) -> Response {
    render_with(StatusCode::OK, template)
}

/// [`render`] with a status.
pub fn render_with(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page did not render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: Texts,
    chrome: Chrome,
    message: String,
}

/// An error page with a message already in the user's language.
pub fn message_page(user: &WebUser, status: StatusCode, message: String) -> Response {
    let page = ErrorPage {
        t: user.texts,
        chrome: Chrome::of(user),
        message,
    };
    render_with(status, &page)
}

/// A refused or failed request as a page in the user's language.
pub fn error_page(user: &WebUser, error: &ServiceError) -> Response {
    let code = error.code();
    let page = ErrorPage {
        t: user.texts,
        chrome: Chrome::of(user),
        message: message_of(user.texts, error),
    };
    render_with(crate::http::status_of(code), &page)
}

/// The message of an error, translated; the detail of a validation or conflict is kept.
pub fn message_of(texts: Texts, error: &ServiceError) -> String {
    let code = error.code();
    let detail = error.public_detail();
    texts.fill(&format!("error.{}", code.as_str()), &[("detail", &detail)])
}

/// The message of an error code alone.
pub fn code_message(texts: Texts, code: ErrorCode) -> String {
    texts.fill(&format!("error.{}", code.as_str()), &[("detail", "")])
}

async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../static/dangan.css"),
    )
}

async fn upload_script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/upload.js"),
    )
}

async fn icon() -> Response {
    asset("image/svg+xml", include_str!("../../static/icon.svg"))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_stylesheet_and_script_stay_small() {
        // under 100 KB compressed is the budget; uncompressed they are far below it
        let total = include_str!("../../static/dangan.css").len()
            + include_str!("../../static/upload.js").len()
            + include_str!("../../static/icon.svg").len();
        assert!(total < 100 * 1024, "{total} bytes");
    }
}
