//! The audit trail (`GET /api/v1/audit`) and the check of its hash chain
//! (`GET /api/v1/audit/verify`), for administrators, archivists and auditors.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit_seal::TrailChain;
use super::paging::{id_cursor, next_cursor, page_size};
use super::{Actor, ServiceError, ServiceResult};
use crate::blobs::BlobStore;
use crate::db::{self, PgConnection, Pool};
use crate::domain::audit::{ChainedEvent, check_chain};
use crate::domain::permissions::Capability;
use crate::services::require;

/// Events read per round trip when the chain is checked.
const CHAIN_PAGE: i64 = 5000;

/// Filters of `GET /api/v1/audit`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct AuditFilter {
    pub record_id: Option<Uuid>,
    /// The acting user: a username or a user id.
    pub actor: Option<String>,
    /// One action, e.g. `record.updated` or `record.destroyed`.
    pub action: Option<String>,
    /// Events per page, 1 to 500 (default 100).
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// One event of the trail.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    /// The acting user's name; absent for the system (the worker, schedules).
    pub actor: Option<String>,
    pub action: String,
    pub record_id: Option<Uuid>,
    pub details: Value,
}

/// A page of the trail, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEventView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// `?record_id=` of the chain check; all records when absent.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct VerifyScope {
    pub record_id: Option<Uuid>,
}

/// A record whose chain does not hold.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BrokenChain {
    pub record_id: Uuid,
    /// Events whose stored hash does not follow: changed, or after a deleted or changed one.
    pub event_ids: Vec<i64>,
}

/// The result of checking the hash chains of the trail.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ChainReport {
    /// Every chain checked holds.
    pub ok: bool,
    pub records: u64,
    pub events: u64,
    pub broken: Vec<BrokenChain>,
    /// The whole trail's chain and its anchor (when every record was checked).
    pub trail: Option<TrailChain>,
}

#[derive(Clone)]
pub struct AuditService {
    pool: Pool,
    /// Where the audit chain's head is anchored.
    blobs: BlobStore,
}

impl AuditService {
    pub fn new(pool: Pool, blobs: BlobStore) -> Self {
        Self { pool, blobs }
    }

    pub(super) fn pool(&self) -> &Pool {
        &self.pool
    }

    pub(super) fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    pub async fn list(&self, actor: &Actor, filter: AuditFilter) -> ServiceResult<AuditPage> {
        require(actor, Capability::ReadAudit)?;
        let limit = page_size(filter.limit, 100, 500);
        let before = id_cursor(filter.cursor.as_deref())?;
        let mut conn = db::acquire(&self.pool).await?;
        let actor_id = match filter.actor.as_deref() {
            None => None,
            Some(text) => Some(match Uuid::parse_str(text) {
                Ok(id) => id,
                Err(_) => db::users::find_by_username(&mut conn, text)
                    .await?
                    .map(|user| user.id)
                    .ok_or_else(|| {
                        ServiceError::Validation(format!("actor: no user is called {text:?}"))
                    })?,
            }),
        };
        let mut rows = db::audit::list(
            &mut conn,
            filter.record_id,
            actor_id,
            filter.action.as_deref(),
            before,
            i64::from(limit) + 1,
        )
        .await?;
        let next_cursor = next_cursor(&mut rows, limit, |row| row.id.to_string());
        let items = rows
            .into_iter()
            .map(|row| AuditEventView {
                id: row.id,
                at: row.at,
                actor_id: row.actor_id,
                actor: row.actor,
                action: row.action,
                record_id: row.record_id,
                details: row.details,
            })
            .collect();
        Ok(AuditPage { items, next_cursor })
    }

    /// Checks the hash chain of one record's trail, or of every record's and then the
    /// whole trail's (sealed up to now first) against its newest anchor.
    pub async fn verify(&self, actor: &Actor, scope: VerifyScope) -> ServiceResult<ChainReport> {
        require(actor, Capability::ReadAudit)?;
        if scope.record_id.is_none() {
            self.seal().await?;
        }
        let mut conn = db::acquire(&self.pool).await?;
        let mut report = verify_chains(&mut conn, scope.record_id).await?;
        if scope.record_id.is_none() {
            let trail = self.check_trail(&mut conn).await?;
            report.ok = report.ok && trail.holds();
            report.trail = Some(trail);
        }
        Ok(report)
    }
}

/// Checks the chains of `record_id`'s trail, or of every record's, reading the trail in
/// pages in (record, id) order.
pub(crate) async fn verify_chains(
    conn: &mut PgConnection,
    record_id: Option<Uuid>,
) -> ServiceResult<ChainReport> {
    let mut report = ChainReport::default();
    let mut after = None;
    // the events of the record being read, which may span pages
    let mut current: Vec<ChainedEvent> = Vec::new();
    loop {
        let page = db::audit::chain_page(conn, record_id, after, CHAIN_PAGE).await?;
        let last_page = page.len() < CHAIN_PAGE as usize;
        after = page.last().map(|event| (event.record_id, event.id));
        for event in page {
            if current
                .first()
                .is_some_and(|first| first.record_id != event.record_id)
            {
                settle(&mut report, std::mem::take(&mut current));
            }
            current.push(event);
        }
        if last_page {
            break;
        }
    }
    settle(&mut report, current);
    report.ok = report.broken.is_empty();
    Ok(report)
}

fn settle(report: &mut ChainReport, events: Vec<ChainedEvent>) {
    let Some(record_id) = events.first().map(|event| event.record_id) else {
        return;
    };
    let chain = check_chain(&events);
    report.records += 1;
    report.events += chain.events;
    if !chain.broken.is_empty() {
        report.broken.push(BrokenChain {
            record_id,
            event_ids: chain.broken,
        });
    }
}
