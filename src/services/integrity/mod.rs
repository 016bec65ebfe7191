//! Digital integrity (R21): fixity sweeps that re-hash every stored blob (`fixity`), and
//! the four-properties check (四性檢測, DA/T 70) of records at filing, hand-over and storage
//! (`four`). Every check is kept with its figures and results, and can be exported.

mod export;
mod fixity;
mod four;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

pub use export::CheckFormat;
pub use fixity::SweepTick;
pub use four::FILING_CHECK_FALLBACK;
pub use four::FourCheckRun;
pub(crate) use four::queue_filing_check;

use super::jobs::new_job;
use super::{Actor, ServiceError, ServiceResult};
use crate::blobs::BlobStore;
use crate::db::{self, Pool};
use crate::domain::integrity::{CheckKind, CheckStatus, Stage};
use crate::domain::job::Job;
use crate::domain::permissions::Capability;
use crate::extract::Sandbox;
use crate::services::require;

/// The most records a four-properties check runs inside its request; larger checks run as a
/// job, and the request answers at once with the queued check.
pub const SYNC_FOUR_CHECK_RECORDS: usize = 20;

/// `POST /api/v1/integrity/checks`: `{scope: "all"}` starts a fixity sweep; `{record_id}` or
/// `{record_ids}` a four-properties check (stage `CQ` unless given).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCheck {
    /// `all`: every stored blob.
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub record_id: Option<Uuid>,
    #[serde(default)]
    pub record_ids: Option<Vec<Uuid>>,
    /// `GD` (filing), `YJ` (hand-over) or `CQ` (long-term storage).
    #[serde(default)]
    pub stage: Option<String>,
}

/// One result of a four-properties check.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResultView {
    pub record_id: Uuid,
    /// `authenticity`, `integrity`, `usability` or `security`.
    pub property: String,
    pub test: String,
    pub passed: bool,
    pub reason: String,
}

/// A check as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckView {
    pub id: Uuid,
    pub kind: CheckKind,
    pub stage: Option<String>,
    pub record_ids: Option<Vec<Uuid>>,
    pub status: CheckStatus,
    /// Blobs (fixity) or records (four properties) checked.
    pub checked: i64,
    /// Of those, how many were in order.
    pub ok: i64,
    /// Bytes re-read (fixity).
    pub bytes: i64,
    /// Blobs whose content no longer hashes to their address: `[{sha256, size, records}]`.
    #[schema(value_type = Vec<Object>)]
    pub mismatched: Value,
    /// Blobs whose object is gone: `[{sha256, size, records}]`.
    #[schema(value_type = Vec<Object>)]
    pub missing: Value,
    /// Objects in the store that no record references.
    #[schema(value_type = Vec<String>)]
    pub unreferenced: Value,
    pub results: Vec<ResultView>,
    pub error: Option<String>,
    pub requested_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The latest checks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckList {
    pub items: Vec<CheckView>,
}

/// Fixity sweeps and four-properties checks.
#[derive(Clone)]
pub struct IntegrityService {
    pool: Pool,
    blobs: BlobStore,
    /// Bytes per second a sweep reads at most; 0 for no limit.
    rate: u64,
    /// Largest file the four-properties check opens to inspect.
    max_inspect_bytes: u64,
    /// Where files are opened for inspection: a child process (see `extract::Sandbox`).
    sandbox: Arc<Sandbox>,
}

impl IntegrityService {
    pub fn new(
        pool: Pool,
        blobs: BlobStore,
        rate: u64,
        max_inspect_bytes: u64,
        sandbox: Arc<Sandbox>,
    ) -> Self {
        Self {
            pool,
            blobs,
            rate,
            max_inspect_bytes,
            sandbox,
        }
    }

    /// Starts a check: a fixity sweep runs as a job (202 while it runs); a four-properties
    /// check of listed records runs at once and is returned done.
    pub async fn start(&self, actor: &Actor, input: NewCheck) -> ServiceResult<CheckView> {
        require(actor, Capability::CheckIntegrity)?;
        let records = match (input.record_id, input.record_ids) {
            (Some(id), None) => Some(vec![id]),
            (None, Some(ids)) if !ids.is_empty() && ids.len() <= 1000 => Some(ids),
            (None, Some(_)) => {
                return Err(ServiceError::Validation(
                    "record_ids: between 1 and 1000 records".into(),
                ));
            }
            (None, None) => None,
            (Some(_), Some(_)) => {
                return Err(ServiceError::Validation(
                    "give record_id or record_ids, not both".into(),
                ));
            }
        };
        match (input.scope.as_deref(), records) {
            (Some("all"), None) => self.queue_sweep(Some(actor.user_id)).await,
            (None, Some(ids)) => {
                let stage = match input.stage.as_deref() {
                    None => Stage::Cq,
                    Some(text) => Stage::parse(text).ok_or_else(|| {
                        ServiceError::Validation(format!("stage: GD, YJ or CQ (not {text:?})"))
                    })?,
                };
                // a few records are checked at once; more run as a job (202, then poll)
                let queued = ids.len() > SYNC_FOUR_CHECK_RECORDS;
                let id = self
                    .new_four_check(&ids, stage, Some(actor.user_id), queued)
                    .await?;
                if !queued {
                    self.run_four_check(id, false).await?;
                }
                self.get(actor, id).await
            }
            (Some(other), _) => Err(ServiceError::Validation(format!(
                "scope: only \"all\" (not {other:?}); for records give record_id"
            ))),
            (None, None) => Err(ServiceError::Validation(
                "give {\"scope\": \"all\"} for a fixity sweep or record_id for a four-properties check"
                    .into(),
            )),
        }
    }

    /// Creates a fixity sweep and queues its job.
    pub async fn queue_sweep(&self, requested_by: Option<Uuid>) -> ServiceResult<CheckView> {
        let id = Uuid::now_v7();
        let mut tx = db::begin(&self.pool).await?;
        let job = new_job(
            &Job::FixitySweep { check_id: Some(id) },
            Some(id.to_string()),
        );
        db::integrity::insert_check(
            &mut tx,
            id,
            CheckKind::Fixity,
            None,
            None,
            requested_by,
            Some(&job),
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        self.view(id).await
    }

    /// A check with its results; the per-record results name only records the caller may
    /// see (an auditor sees the figures, never the records).
    pub async fn get(&self, actor: &Actor, id: Uuid) -> ServiceResult<CheckView> {
        require(actor, Capability::CheckIntegrity)?;
        let mut view = self.view(id).await?;
        let ids: Vec<Uuid> = view.results.iter().map(|result| result.record_id).collect();
        let mut conn = db::acquire(&self.pool).await?;
        let visibility = crate::services::access::standing_visibility(&mut conn, actor).await?;
        let visible = db::access::visible_records(&mut conn, &ids, &visibility).await?;
        view.results
            .retain(|result| visible.contains(&result.record_id));
        Ok(view)
    }

    /// A check without its per-record results (for the command line).
    pub async fn summary(&self, id: Uuid) -> ServiceResult<CheckView> {
        self.view(id).await
    }

    /// The latest hundred checks, without their per-record results.
    pub async fn list(&self, actor: &Actor) -> ServiceResult<CheckList> {
        require(actor, Capability::CheckIntegrity)?;
        let mut conn = db::acquire(&self.pool).await?;
        let rows = db::integrity::list_checks(&mut conn, 100).await?;
        Ok(CheckList {
            items: rows
                .into_iter()
                .map(|row| check_view(row, Vec::new()))
                .collect(),
        })
    }

    async fn view(&self, id: Uuid) -> ServiceResult<CheckView> {
        let mut conn = db::acquire(&self.pool).await?;
        let row = db::integrity::find_check(&mut conn, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no integrity check {id}")))?;
        let results = db::integrity::results(&mut conn, id)
            .await?
            .into_iter()
            .map(|row| ResultView {
                record_id: row.record_id,
                property: row.property,
                test: row.test,
                passed: row.passed,
                reason: row.reason,
            })
            .collect();
        Ok(check_view(row, results))
    }
}

fn check_view(row: db::integrity::CheckRow, results: Vec<ResultView>) -> CheckView {
    CheckView {
        id: row.id,
        kind: row.kind,
        stage: row.stage.map(|stage| stage.as_str().to_owned()),
        record_ids: row.record_ids,
        status: row.status,
        checked: row.checked,
        ok: row.ok,
        bytes: row.bytes,
        mismatched: row.mismatched,
        missing: row.missing,
        unreferenced: row.unreferenced,
        results,
        error: row.error,
        requested_by: row.requested_by,
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
    }
}
