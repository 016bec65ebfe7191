//! `/catalogue` (browse by category and year, export), `/integrity` (checks and a sweep),
//! `/audit` (the trail and the check of its chain), for the roles the services admit.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::form::Fields;
use super::i18n::Texts;
use super::session::WebUser;
use super::{Chrome, error_page, render};
use crate::app::App;
use crate::services::audit::{AuditFilter, VerifyScope};
use crate::services::integrity::NewCheck;

struct CategoryRow {
    code: String,
    name: String,
    count: i64,
}

#[derive(Template)]
#[template(path = "catalogue.html")]
struct CataloguePage {
    t: Texts,
    chrome: Chrome,
    rows: Vec<CategoryRow>,
    years: Vec<(String, i64)>,
    lang: &'static str,
    message: Option<String>,
    /// This year and the last, for their reports.
    report_years: [i32; 2],
}

pub async fn catalogue_page(State(app): State<App>, user: WebUser) -> Response {
    let t = user.texts;
    let categories = match app.catalogue.list_categories().await {
        Ok(categories) => categories,
        Err(error) => return error_page(&user, &error),
    };
    let stats = app.stats.overview(&user.actor).await;
    let (counts, years, message) = match stats {
        Ok(stats) => (
            stats.by_category,
            stats
                .by_year
                .into_iter()
                .filter_map(|bucket| bucket.key.map(|year| (year, bucket.count)))
                .collect(),
            None,
        ),
        Err(error) => (Vec::new(), Vec::new(), Some(super::message_of(t, &error))),
    };
    let rows = categories
        .into_iter()
        .map(|category| CategoryRow {
            count: counts
                .iter()
                .find(|bucket| bucket.key.as_deref() == Some(category.code.as_str()))
                .map_or(0, |bucket| bucket.count),
            name: category.names.get(t.lang.language()).to_owned(),
            code: category.code,
        })
        .collect();
    render(&CataloguePage {
        t,
        chrome: Chrome::of(&user),
        rows,
        years,
        lang: match t.lang.language() {
            crate::domain::catalogue::Language::ZhHans => "zh-Hans",
            crate::domain::catalogue::Language::ZhHant => "zh-Hant",
            crate::domain::catalogue::Language::En => "en",
        },
        message,
        report_years: {
            use chrono::Datelike;
            let year = chrono::Utc::now().with_timezone(&app.timezone).year();
            [year, year - 1]
        },
    })
}

#[derive(Template)]
#[template(path = "integrity.html")]
struct IntegrityPage {
    t: Texts,
    chrome: Chrome,
    may_start: bool,
    /// Kind and status in the user's language, checked and in order, when started.
    checks: Vec<(&'static str, &'static str, i64, i64, String)>,
    message: Option<String>,
}

pub async fn integrity_page(State(app): State<App>, user: WebUser) -> Response {
    let checks = match app.integrity.list(&user.actor).await {
        Ok(list) => list.items,
        Err(error) => return error_page(&user, &error),
    };
    render(&IntegrityPage {
        t: user.texts,
        chrome: Chrome::of(&user),
        may_start: user
            .actor
            .role
            .may(crate::domain::permissions::Capability::KeepQueue),
        checks: checks
            .into_iter()
            .map(|check| {
                (
                    user.texts
                        .get(&format!("integrity.{}", check.kind.as_str())),
                    user.texts
                        .get(&format!("integrity.{}", check.status.as_str())),
                    check.checked,
                    check.ok,
                    check.created_at.format("%Y-%m-%d %H:%M").to_string(),
                )
            })
            .collect(),
        message: None,
    })
}

/// Starts a fixity sweep of everything stored.
pub async fn start_sweep(State(app): State<App>, user: WebUser, body: Bytes) -> Response {
    if let Err(error) = Fields::parse(&body).check_csrf(&user) {
        return error_page(&user, &error);
    }
    let input = NewCheck {
        scope: Some("all".into()),
        ..NewCheck::default()
    };
    match app.integrity.start(&user.actor, input).await {
        Ok(_) => Redirect::to("/integrity").into_response(),
        Err(error) => error_page(&user, &error),
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    t: Texts,
    chrome: Chrome,
    events: Vec<(String, String, String, String)>,
    verdict: Option<String>,
    chain_ok: bool,
    message: Option<String>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    verify: Option<String>,
}

pub async fn audit_page(
    State(app): State<App>,
    user: WebUser,
    Query(query): Query<AuditQuery>,
) -> Response {
    let t = user.texts;
    let filter = AuditFilter {
        limit: Some(100),
        ..AuditFilter::default()
    };
    let page = match app.audit.list(&user.actor, filter).await {
        Ok(page) => page,
        Err(error) => return error_page(&user, &error),
    };
    let (verdict, chain_ok) = match query.verify {
        None => (None, true),
        Some(_) => match app.audit.verify(&user.actor, VerifyScope::default()).await {
            Ok(report) if report.ok => (
                Some(t.fill("audit.intact", &[("events", &report.events.to_string())])),
                true,
            ),
            Ok(_) => (Some(t.get("audit.broken").to_owned()), false),
            Err(error) => return error_page(&user, &error),
        },
    };
    render(&AuditPage {
        t,
        chrome: Chrome::of(&user),
        events: page
            .items
            .into_iter()
            .map(|event| {
                (
                    event.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    event.actor.unwrap_or_default(),
                    event.action,
                    event.record_id.map(|id| id.to_string()).unwrap_or_default(),
                )
            })
            .collect(),
        verdict,
        chain_ok,
        message: None,
    })
}
