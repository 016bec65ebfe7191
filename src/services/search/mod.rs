//! Search: the query endpoint, the indexer that follows the change log into the index, and
//! the rebuild behind `dangan reindex`.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::OnceCell;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

mod document;
mod follow;
mod variants;

use document::document;
pub use variants::{VariantTable, VariantsUpdate};

use super::paging::page_size;
use super::{Actor, ServiceError, ServiceResult, access};
use crate::db::{self, Pool};
use crate::domain::catalogue::SecurityLevel;
use crate::domain::permissions::Visibility;
use crate::domain::search_query::{SearchQuery, Tier};
use crate::index::{Facet, Filters, IndexError, SearchIndex, SearchRequest};

/// Query parameters of `GET /api/v1/search`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct SearchParams {
    /// Words (ANDed), "quoted phrases", -excluded, OR.
    pub q: Option<String>,
    /// Category code, e.g. `WS`.
    pub category: Option<String>,
    pub year: Option<i32>,
    /// Department code.
    pub department: Option<String>,
    /// Party id: the records of one folder.
    pub party: Option<Uuid>,
    pub fonds: Option<String>,
    pub retention: Option<String>,
    pub security_level: Option<SecurityLevel>,
    pub open_status: Option<String>,
    /// Document dates from (inclusive), `YYYY-MM-DD`.
    pub date_from: Option<NaiveDate>,
    /// Document dates to (inclusive), `YYYY-MM-DD`.
    pub date_to: Option<NaiveDate>,
    /// Storage room code: the records kept there.
    pub room: Option<String>,
    /// A place of `room` (a cabinet, shelf or box code): the records kept in it and in the
    /// places inside it.
    pub place: Option<String>,
    /// Only hits of the query as written (the exact tier): no words across punctuation, no
    /// variants or synonyms. A query of quoted phrases is exact anyway.
    pub exact: Option<bool>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// One hit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHit {
    pub record_id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    /// A passage of the text, HTML-escaped, matches in `<mark>`.
    pub snippet: String,
    /// Ordering within the hit's tier only: every hit of a better tier comes first.
    pub score: f32,
    /// How the hit matched: `exact` (the query as written), `words` (its Chinese runs as
    /// words across punctuation) or `relaxed` (most of its words, with their regional
    /// variants and synonyms).
    pub tier: Tier,
    pub doc_date: NaiveDate,
    pub category: Option<String>,
}

/// A facet value with its count among all hits.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// Counts of all hits by category, year and department.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchFacets {
    pub category: Vec<FacetCount>,
    pub year: Vec<FacetCount>,
    pub department: Vec<FacetCount>,
}

/// Response of `GET /api/v1/search`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResponse {
    /// Hits the caller may see, counted up to 10 000.
    pub total: usize,
    /// False past 10 000 hits: there are more, and the facets count the first 10 000.
    pub total_exact: bool,
    pub hits: Vec<SearchHit>,
    pub facets: SearchFacets,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Deepest result a cursor may reach: as far as search counts.
const MAX_OFFSET: usize = crate::index::COUNT_CAP;

/// Search and indexing.
#[derive(Clone)]
pub struct SearchService {
    /// Searches.
    pool: Pool,
    /// Following the change log into the index: background work.
    background: Pool,
    root: PathBuf,
    writer_memory: usize,
    /// Opened on first use, so commands that never search do not touch it.
    index: Arc<OnceCell<Arc<SearchIndex>>>,
    /// One catch-up at a time in this process (it may rebuild); when it last registered
    /// this reader's position.
    catching_up: Arc<tokio::sync::Mutex<Option<std::time::Instant>>>,
    /// Generations this process has registered as readers of the change log.
    registered: Arc<std::sync::Mutex<HashSet<Uuid>>>,
    /// Where loans' due dates fall.
    timezone: chrono_tz::Tz,
    /// The variants table this node last read.
    variants: variants::Cached,
}

impl SearchService {
    /// Search over the index under `root` (its generations and `CURRENT`).
    pub fn new(
        pools: db::Pools,
        root: PathBuf,
        writer_memory: usize,
        timezone: chrono_tz::Tz,
    ) -> Self {
        Self {
            timezone,
            pool: pools.requests,
            background: pools.background,
            root,
            writer_memory,
            index: Arc::new(OnceCell::new()),
            catching_up: Arc::default(),
            registered: Arc::default(),
            variants: Arc::default(),
        }
    }

    async fn index(&self) -> ServiceResult<Arc<SearchIndex>> {
        let root = self.root.clone();
        let writer_memory = self.writer_memory;
        self.index
            .get_or_try_init(|| {
                blocking(move || SearchIndex::open(&root, writer_memory).map(Arc::new))
            })
            .await
            .cloned()
    }

    /// Searches the records the caller may see. The search, with the records its page
    /// showed, is recorded in the audit trail (R13): snippets show content.
    #[tracing::instrument(skip_all)]
    pub async fn search(
        &self,
        actor: &Actor,
        params: SearchParams,
    ) -> ServiceResult<SearchResponse> {
        let checked = Checked::of(&params)?;
        let mut conn = db::acquire(&self.pool).await?;
        let visibility = access::visibility(&mut conn, actor, self.today()).await?;
        drop(conn);
        self.run(actor, visibility, params, checked).await
    }

    /// The caller holding `token` and what they may see: a search's sign-in, read with the
    /// access decision's facts in one round trip (each round trip waits for a core on a busy
    /// server). A token that is not valid is refused (401).
    pub async fn sign_in(&self, token: &str) -> ServiceResult<Searcher> {
        let mut conn = db::acquire(&self.pool).await?;
        let (actor, visibility) =
            access::signed_in_visibility(&mut conn, token, self.today()).await?;
        Ok(Searcher { actor, visibility })
    }

    /// As [`SearchService::search`], for a caller signed in by [`SearchService::sign_in`].
    pub async fn search_as(
        &self,
        searcher: Searcher,
        params: SearchParams,
    ) -> ServiceResult<SearchResponse> {
        let checked = Checked::of(&params)?;
        self.run(&searcher.actor, searcher.visibility, params, checked)
            .await
    }

    async fn run(
        &self,
        actor: &Actor,
        visibility: Visibility,
        params: SearchParams,
        checked: Checked,
    ) -> ServiceResult<SearchResponse> {
        let Checked {
            asked,
            query,
            limit,
            offset,
            place,
        } = checked;
        let request = SearchRequest {
            query,
            filters: Filters {
                category: params.category,
                year: params.year,
                department: params.department,
                fonds: params.fonds,
                retention: params.retention,
                party: params.party,
                security_level: params.security_level.map(|level| level.as_str().to_owned()),
                open_status: params.open_status,
                date_from: params.date_from,
                date_to: params.date_to,
                place,
            },
            visibility: visibility.clone(),
            offset,
            limit,
            variants: self.variants().await?,
            exact: params.exact.unwrap_or(false),
        };
        let index = self.index().await?;
        let results = in_place(move || index.search(&request)).await?;
        let ids: Vec<Uuid> = results.hits.iter().map(|hit| hit.record_id).collect();
        // the rows shown, and the search with them in the audit trail (R13: snippets show
        // content), in one statement
        let details = serde_json::json!({ "params": asked, "total": results.total });
        let mut conn = db::acquire(&self.pool).await?;
        let mut rows: HashMap<Uuid, db::search::HitRow> =
            db::search::hits_audited(&mut conn, &ids, &visibility, actor.user_id, &details)
                .await?
                .into_iter()
                .map(|row| (row.id, row))
                .collect();
        drop(conn);
        let hits = results
            .hits
            .into_iter()
            .filter_map(|hit| {
                let row = rows.remove(&hit.record_id)?;
                Some(SearchHit {
                    record_id: hit.record_id,
                    archival_code: row.archival_code,
                    title: row.title,
                    snippet: hit.snippet,
                    score: hit.score,
                    tier: hit.tier,
                    doc_date: row.doc_date,
                    category: row.category,
                })
            })
            .collect::<Vec<SearchHit>>();
        let next = offset + limit;
        Ok(SearchResponse {
            total: results.total,
            total_exact: results.total_exact,
            hits,
            facets: SearchFacets {
                category: facet_counts(results.categories),
                year: facet_counts(results.years),
                department: facet_counts(results.departments),
            },
            next_cursor: (next < results.total && next <= MAX_OFFSET).then(|| next.to_string()),
        })
    }

    fn today(&self) -> NaiveDate {
        chrono::Utc::now()
            .with_timezone(&self.timezone)
            .date_naive()
    }

    /// Documents searchable now.
    pub async fn num_docs(&self) -> ServiceResult<u64> {
        Ok(self.index().await?.num_docs())
    }
}

/// A search's parameters, checked before anything is read.
struct Checked {
    /// As the audit trail records them.
    asked: serde_json::Value,
    query: SearchQuery,
    limit: usize,
    offset: usize,
    place: Option<String>,
}

impl Checked {
    fn of(params: &SearchParams) -> ServiceResult<Self> {
        let asked = serde_json::to_value(params).map_err(|error| {
            ServiceError::Internal(format!("search parameters as JSON: {error}"))
        })?;
        let query = SearchQuery::parse(params.q.as_deref().unwrap_or(""))
            .map_err(|error| ServiceError::Validation(error.to_string()))?;
        let limit = page_size(params.limit, 20, 100) as usize;
        let offset = match params.cursor.as_deref() {
            None => 0,
            Some(cursor) => cursor
                .parse::<usize>()
                .ok()
                .filter(|offset| *offset <= MAX_OFFSET)
                .ok_or_else(|| {
                    ServiceError::Validation("cursor: not a cursor from this search".into())
                })?,
        };
        if let (Some(from), Some(to)) = (params.date_from, params.date_to)
            && from > to
        {
            return Err(ServiceError::Validation(
                "date_from: later than date_to".into(),
            ));
        }
        let place = place_filter(params.room.as_deref(), params.place.as_deref())?;
        Ok(Self {
            asked,
            query,
            limit,
            offset,
            place,
        })
    }
}

/// A caller signed in for a search, with what they may see.
pub struct Searcher {
    actor: Actor,
    visibility: Visibility,
}

fn facet_counts(facets: Vec<Facet>) -> Vec<FacetCount> {
    facets
        .into_iter()
        .map(|facet| FacetCount {
            value: facet.value,
            count: facet.count,
        })
        .collect()
}

/// The value of the index's `places` a search by room and place looks for: `K1`, or
/// `K1/B03` for a place of it. A place needs its room: codes are unique only in a room.
fn place_filter(room: Option<&str>, place: Option<&str>) -> ServiceResult<Option<String>> {
    fn given(text: Option<&str>) -> Option<&str> {
        text.map(str::trim).filter(|text| !text.is_empty())
    }
    match (given(room), given(place)) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(ServiceError::Validation(
            "place: name its room too (room=K1&place=B03)".into(),
        )),
        (Some(room), None) => Ok(Some(room.to_owned())),
        (Some(room), Some(place)) => Ok(Some(format!("{room}/{place}"))),
    }
}

/// Runs a search, which blocks for about a millisecond, on this worker thread, having handed
/// the worker's other tasks to another (`block_in_place`): a thread of the blocking pool would
/// first have to be woken and wait for a core, which under a bulk import added up to 3 ms to
/// the slowest searches. On a current-thread runtime (tests), on a blocking thread.
async fn in_place<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, IndexError> + Send + 'static,
) -> ServiceResult<T> {
    if tokio::runtime::Handle::current().runtime_flavor()
        == tokio::runtime::RuntimeFlavor::MultiThread
    {
        tokio::task::block_in_place(work).map_err(ServiceError::from)
    } else {
        blocking(work).await
    }
}

/// Runs index work on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, IndexError> + Send + 'static,
) -> ServiceResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ServiceError::Internal(format!("index thread: {error}")))?
        .map_err(ServiceError::from)
}

impl From<IndexError> for ServiceError {
    fn from(error: IndexError) -> Self {
        ServiceError::Internal(error.to_string())
    }
}
