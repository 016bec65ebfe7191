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
mod variants;

use document::document;
pub use variants::{VariantTable, VariantsUpdate};

use super::paging::page_size;
use super::{Actor, ServiceError, ServiceResult, access};
use crate::db::{self, Pool};
use crate::domain::catalogue::SecurityLevel;
use crate::domain::search_query::{SearchQuery, Tier};
use crate::index::{
    Facet, Filters, IndexError, Position, Rebuild, RecordDocument, SearchIndex, SearchRequest,
};

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
const CHANGE_BATCH: i64 = 2_000; // change-log entries applied per index commit
/// How long a process waits for another process holding the index's writer (on the same
/// data directory) to commit what this one was about to apply.
const WRITER_ELSEWHERE: std::time::Duration = std::time::Duration::from_secs(30);
/// Readers of the change log not seen for this long are forgotten: the log is pruned past
/// them, and they rebuild when they come back.
const READER_STALE_DAYS: i32 = 7;
/// Change-log entries deleted per housekeeping round at the most.
const PRUNE_BATCH: i64 = 100_000;

/// Search and indexing.
#[derive(Clone)]
pub struct SearchService {
    pool: Pool,
    root: PathBuf,
    writer_memory: usize,
    /// Opened on first use, so commands that never search do not touch it.
    index: Arc<OnceCell<Arc<SearchIndex>>>,
    /// One catch-up at a time in this process (it may rebuild).
    catching_up: Arc<tokio::sync::Mutex<()>>,
    /// Generations this process has registered as readers of the change log.
    registered: Arc<std::sync::Mutex<HashSet<Uuid>>>,
    /// Where loans' due dates fall.
    timezone: chrono_tz::Tz,
    /// The variants table this node last read.
    variants: variants::Cached,
}

impl SearchService {
    /// Search over the index under `root` (its generations and `CURRENT`).
    pub fn new(pool: Pool, root: PathBuf, writer_memory: usize, timezone: chrono_tz::Tz) -> Self {
        Self {
            timezone,
            pool,
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
        let asked = serde_json::to_value(&params).map_err(|error| {
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
        let mut conn = db::acquire(&self.pool).await?;
        let visibility = access::visibility(&mut conn, actor, self.today()).await?;
        drop(conn);
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
        let results = blocking(move || index.search(&request)).await?;
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

    /// Subscribes to the notifications that new change-log entries send.
    pub async fn listen_changes(&self) -> ServiceResult<db::jobs::Listener> {
        Ok(db::jobs::Listener::connect(&self.pool, "dangan_index").await?)
    }

    /// Applies every committed change of the log to the index; returns how many entries.
    /// The remembered position only passes entries below the oldest running transaction
    /// (anything later may still be joined by entries committed out of order), so entries
    /// beyond it are applied now and again later: applying is idempotent.
    pub async fn catch_up(&self) -> ServiceResult<usize> {
        let _one_at_a_time = self.catching_up.lock().await;
        let index = self.index().await?;
        let current = index.clone();
        blocking(move || current.follow_current()).await?;
        if !self.registered(&index).await? {
            tracing::warn!("the change log was pruned past this search index; rebuilding it");
            self.rebuild(|_, _| {}).await?;
            let current = index.clone();
            blocking(move || current.follow_current()).await?;
            if !self.registered(&index).await? {
                return Err(ServiceError::Internal(
                    "the rebuilt search index is behind the pruned change log".into(),
                ));
            }
        }
        let reader = index.clone();
        let mut position = blocking(move || reader.position())
            .await?
            .unwrap_or_default();
        // Reading goes on past entries of transactions that were running when read (the
        // position may not pass them yet: they are applied now and again later), so that a
        // long transaction anywhere on the server (a backup's dump, a slow export) cannot
        // hold the index behind a full batch of such entries.
        let mut cursor = (i64::try_from(position.tx).unwrap_or(i64::MAX), position.seq);
        let mut settled_so_far = true;
        let mut applied = 0;
        loop {
            let mut conn = db::acquire(&self.pool).await?;
            let tx = i64::try_from(position.tx).unwrap_or(i64::MAX);
            db::search::register_reader(&mut conn, index.reader_id(), tx, position.seq).await?;
            let changes =
                db::search::changes_after(&mut conn, cursor.0, cursor.1, CHANGE_BATCH).await?;
            let Some(last) = changes.last() else {
                return Ok(applied);
            };
            cursor = (last.tx, last.seq);
            if settled_so_far {
                for change in &changes {
                    if !change.settled {
                        settled_so_far = false;
                        break;
                    }
                    position = Position {
                        tx: u64::try_from(change.tx).unwrap_or_default(),
                        seq: change.seq,
                    };
                }
            }
            let next = position;
            let mut ids: Vec<Uuid> = changes.iter().map(|change| change.record_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let sources = db::search::sources(&mut conn, &ids).await?;
            drop(conn);
            let found = document::changes(&ids, sources);
            applied += changes.len();
            let writer = index.clone();
            blocking(move || match writer.apply(found, next) {
                // the other process applies the same log: its commit past `next` will do
                Err(IndexError::HeldElsewhere) if writer.wait_for(next, WRITER_ELSEWHERE)? => {
                    Ok(())
                }
                other => other,
            })
            .await?;
            let mut conn = db::acquire(&self.pool).await?;
            let tx = i64::try_from(next.tx).unwrap_or(i64::MAX);
            db::search::register_reader(&mut conn, index.reader_id(), tx, next.seq).await?;
            drop(conn);
            if changes.len() < CHANGE_BATCH as usize {
                return Ok(applied);
            }
        }
    }

    /// Catches up as [`Self::catch_up`] does, then lets go of the index's writer: for a
    /// job that must see its changes searchable (a destruction run) in a process that is
    /// not the node's indexer, so that `dangan worker` never keeps the writer from the
    /// `dangan serve` beside it.
    pub async fn catch_up_once(&self) -> ServiceResult<usize> {
        let applied = self.catch_up().await;
        let index = self.index().await?;
        blocking(move || {
            index.release_writer();
            Ok(())
        })
        .await?;
        applied
    }

    /// Registers the current generation as a reader of the change log at its position,
    /// once per process, and tells whether the log still holds everything after it (else
    /// the index must be rebuilt).
    async fn registered(&self, index: &Arc<SearchIndex>) -> ServiceResult<bool> {
        let reader_id = index.reader_id();
        let known = self
            .registered
            .lock()
            .is_ok_and(|registered| registered.contains(&reader_id));
        if known {
            return Ok(true);
        }
        let reader = index.clone();
        let position = blocking(move || reader.position())
            .await?
            .unwrap_or_default();
        if !self.register_at(reader_id, position).await? {
            return Ok(false);
        }
        if let Ok(mut registered) = self.registered.lock() {
            registered.insert(reader_id);
        }
        Ok(true)
    }

    /// Registers `reader_id` at `position`; whether the log was not pruned past it. Once
    /// registered, pruning waits for the reader.
    async fn register_at(&self, reader_id: Uuid, position: Position) -> ServiceResult<bool> {
        let mut conn = db::acquire(&self.pool).await?;
        let tx = i64::try_from(position.tx).unwrap_or(i64::MAX);
        db::search::register_reader(&mut conn, reader_id, tx, position.seq).await?;
        let pruned = db::search::pruned_horizon(&mut conn).await?;
        Ok(pruned.is_none_or(|pruned| pruned <= (tx, position.seq)))
    }

    /// Deletes change-log entries every registered reader has passed; how many went.
    pub async fn prune_change_log(&self) -> ServiceResult<u64> {
        let mut tx = db::begin(&self.pool).await?;
        let pruned = db::search::prune_changes(&mut tx, READER_STALE_DAYS, PRUNE_BATCH).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(pruned)
    }

    /// Builds a new index generation from PostgreSQL while the current one keeps serving,
    /// then makes it current. `progress(done, total)` is called as records are added.
    pub async fn rebuild(&self, progress: impl Fn(u64, u64)) -> ServiceResult<u64> {
        let root = self.root.clone();
        let writer_memory = self.writer_memory;
        let mut rebuild = blocking(move || Rebuild::start(&root, writer_memory)).await?;
        db::search::refresh_statistics(&mut *db::acquire(&self.pool).await?).await?;
        // the snapshot's horizon is where the new generation will follow the log from: it
        // is registered first, so pruning cannot pass it; a prune that got there first
        // means a later snapshot
        let mut attempts = 0;
        let (mut tx, horizon) = loop {
            let mut tx = db::begin(&self.pool).await?;
            db::search::begin_snapshot(&mut tx).await?;
            let horizon = db::search::snapshot_horizon(&mut tx).await?;
            if self
                .register_at(rebuild.reader_id(), rebuilt_position(horizon))
                .await?
            {
                break (tx, horizon);
            }
            attempts += 1;
            if attempts == 3 {
                return Err(ServiceError::Internal(
                    "the change log keeps being pruned past the rebuild's snapshot".into(),
                ));
            }
        };
        let total = u64::try_from(db::search::count_active(&mut tx).await?).unwrap_or_default();
        let mut done = 0u64;
        let mut after = None;
        loop {
            let ids = db::search::active_ids_after(&mut tx, after, 500).await?;
            let Some(last) = ids.last().copied() else {
                break;
            };
            after = Some(last);
            let documents: Vec<RecordDocument> = db::search::sources(&mut tx, &ids)
                .await?
                .into_iter()
                .map(document)
                .collect();
            done += documents.len() as u64;
            rebuild = blocking(move || rebuild.add(documents).map(|()| rebuild)).await?;
            progress(done, total);
        }
        tx.commit().await.map_err(db::DbError::from)?;
        let position = rebuilt_position(horizon);
        blocking(move || rebuild.finish(position)).await?;
        Ok(done)
    }

    /// Documents searchable now.
    pub async fn num_docs(&self) -> ServiceResult<u64> {
        Ok(self.index().await?.num_docs())
    }
}

/// The position of a generation built from a snapshot with `horizon`: everything below the
/// horizon is in; later changes are replayed.
fn rebuilt_position(horizon: i64) -> Position {
    Position {
        tx: u64::try_from(horizon).unwrap_or_default().saturating_sub(1),
        seq: i64::MAX,
    }
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
