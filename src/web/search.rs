//! `/search?q=…`: one box, facets by category, year and department (kept in the URL),
//! highlighted snippets and paging; the same service call as `GET /api/v1/search`, so the
//! same results for the same user.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::i18n::Texts;
use super::session::{WebUser, url_encode};
use super::{Chrome, message_of, render};
use crate::app::App;
use crate::domain::search_query::Tier;
use crate::services::search::{FacetCount, SearchParams};

/// The page's query: the API's names.
#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    category: Option<String>,
    year: Option<String>,
    department: Option<String>,
    /// A storage room's code, and a place of it: what stands there.
    room: Option<String>,
    place: Option<String>,
    cursor: Option<String>,
}

struct Hit {
    record_id: Uuid,
    title: String,
    code: String,
    date: String,
    snippet: String,
    /// How a hit below the exact ones matched, said in the user's language.
    tier: Option<&'static str>,
}

struct Bucket {
    value: String,
    count: u64,
    chosen: bool,
    href: String,
}

struct Facet {
    label: &'static str,
    buckets: Vec<Bucket>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    t: Texts,
    chrome: Chrome,
    q: String,
    /// Filters in force, kept in the form.
    kept: Vec<(&'static str, String)>,
    searched: bool,
    total: String,
    hits: Vec<Hit>,
    facets: Vec<Facet>,
    clear_href: String,
    next_href: Option<String>,
    message: Option<String>,
}

pub async fn search_page(
    State(app): State<App>,
    user: WebUser,
    Query(query): Query<SearchQuery>,
) -> Response {
    let texts = user.texts;
    let q = query.q.clone().unwrap_or_default();
    let kept: Vec<(&'static str, String)> = [
        ("category", query.category.clone()),
        ("year", query.year.clone()),
        ("department", query.department.clone()),
        ("room", query.room.clone()),
        ("place", query.place.clone()),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.filter(|v| !v.is_empty()).map(|v| (name, v)))
    .collect();
    let mut page = SearchPage {
        t: texts,
        chrome: Chrome::of(&user),
        q: q.clone(),
        kept: kept.clone(),
        searched: query.q.is_some() || !kept.is_empty(),
        total: String::new(),
        hits: Vec::new(),
        facets: Vec::new(),
        clear_href: href(&q, &[], None),
        next_href: None,
        message: None,
    };
    if !page.searched {
        return render(&page);
    }
    let params = SearchParams {
        q: Some(q.clone()),
        category: query.category.filter(|v| !v.is_empty()),
        year: match query
            .year
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(str::parse)
        {
            Some(Ok(year)) => Some(year),
            Some(Err(_)) => None,
            None => None,
        },
        department: query.department.filter(|v| !v.is_empty()),
        room: query.room.filter(|v| !v.is_empty()),
        place: query.place.filter(|v| !v.is_empty()),
        cursor: query.cursor,
        limit: Some(20),
        ..SearchParams::default()
    };
    match app.search.search(&user.actor, params).await {
        Ok(results) => {
            let key = if results.total_exact {
                "search.results"
            } else {
                "search.results_more"
            };
            page.total = texts.fill(key, &[("total", &results.total.to_string())]);
            page.hits = results
                .hits
                .into_iter()
                .map(|hit| Hit {
                    record_id: hit.record_id,
                    title: hit.title,
                    code: hit.archival_code.unwrap_or_default(),
                    date: texts.date(&hit.doc_date),
                    snippet: hit.snippet,
                    tier: match hit.tier {
                        Tier::Exact => None,
                        Tier::Words => Some(texts.get("search.tier_words")),
                        Tier::Relaxed => Some(texts.get("search.tier_relaxed")),
                    },
                })
                .collect();
            page.facets = vec![
                facet(
                    texts.get("search.category"),
                    "category",
                    results.facets.category,
                    &q,
                    &kept,
                ),
                facet(
                    texts.get("search.year"),
                    "year",
                    results.facets.year,
                    &q,
                    &kept,
                ),
                facet(
                    texts.get("search.department"),
                    "department",
                    results.facets.department,
                    &q,
                    &kept,
                ),
            ];
            page.next_href = results
                .next_cursor
                .map(|cursor| href(&q, &kept, Some(&cursor)));
        }
        Err(error) => page.message = Some(message_of(texts, &error)),
    }
    render(&page)
}

/// A facet whose values link to the search narrowed by them.
fn facet(
    label: &'static str,
    name: &'static str,
    counts: Vec<FacetCount>,
    q: &str,
    kept: &[(&'static str, String)],
) -> Facet {
    let chosen = kept
        .iter()
        .find(|(kept_name, _)| *kept_name == name)
        .map(|(_, value)| value.clone());
    Facet {
        label,
        buckets: counts
            .into_iter()
            .map(|count| {
                let mut filters: Vec<(&'static str, String)> = kept
                    .iter()
                    .filter(|(kept_name, _)| *kept_name != name)
                    .cloned()
                    .collect();
                filters.push((name, count.value.clone()));
                Bucket {
                    chosen: chosen.as_deref() == Some(count.value.as_str()),
                    href: href(q, &filters, None),
                    value: count.value,
                    count: count.count,
                }
            })
            .collect(),
    }
}

/// The search page's URL for a query, filters and cursor.
fn href(q: &str, filters: &[(&'static str, String)], cursor: Option<&str>) -> String {
    let mut url = format!("/search?q={}", url_encode(q));
    for (name, value) in filters {
        url.push_str(&format!("&{name}={}", url_encode(value)));
    }
    if let Some(cursor) = cursor {
        url.push_str(&format!("&cursor={}", url_encode(cursor)));
    }
    url
}
