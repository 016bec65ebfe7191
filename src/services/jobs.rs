//! The job queue as the worker and the API see it: worker slots that claim and settle
//! jobs, enqueueing, and the listing of `GET /api/v1/jobs`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::paging::{id_cursor, next_cursor, page_size};
use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, Pool};
use crate::domain::job::{Job, JobKind, JobStatus, retry_delay};
use crate::domain::permissions::Capability;
use crate::services::require;

pub use crate::db::jobs::ClaimedJob;

/// A job as `GET /api/v1/jobs` shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobView {
    pub id: i64,
    pub kind: String,
    pub status: JobStatus,
    pub payload: Value,
    pub attempts: i32,
    pub max_attempts: i32,
    /// Times a worker died running it (each also counts as an attempt).
    pub crashes: i32,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A page of jobs, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobPage {
    pub items: Vec<JobView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /api/v1/jobs`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct JobFilter {
    pub kind: Option<JobKind>,
    pub status: Option<JobStatus>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Retry schedule of failed attempts.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max: Duration,
    /// Deaths of its worker after which a job is given up.
    pub max_crashes: u32,
}

impl RetryPolicy {
    fn crash_policy(&self) -> db::jobs::CrashPolicy {
        db::jobs::CrashPolicy {
            max_crashes: i32::try_from(self.max_crashes).unwrap_or(i32::MAX),
            retry_base: self.base,
            retry_max: self.max,
        }
    }
}

/// The queue.
#[derive(Clone)]
pub struct JobService {
    pool: Pool,
    retry: RetryPolicy,
}

/// One worker's hold on the queue: a connection that keeps the worker's liveness lock.
pub struct WorkerSlot {
    /// Detached from the pool: dropping the slot closes it, which releases the lock.
    conn: db::PgConnection,
    id: i32,
    retry: RetryPolicy,
    /// When this worker last settled the jobs of dead workers.
    swept_at: Option<std::time::Instant>,
}

/// How often a busy worker settles the jobs of dead workers before claiming: each sweep
/// scans the running jobs and the lock table.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl JobService {
    pub fn new(pool: Pool, retry: RetryPolicy) -> Self {
        Self { pool, retry }
    }

    /// Registers a worker; its jobs become claimable by others as soon as the slot drops.
    pub async fn register_worker(&self) -> ServiceResult<WorkerSlot> {
        let mut conn = db::acquire(&self.pool).await?.detach();
        let id = db::jobs::register_worker(&mut conn).await?;
        Ok(WorkerSlot {
            conn,
            id,
            retry: self.retry,
            swept_at: None,
        })
    }

    /// Analyzes the tables that grew past their planner statistics (see `db::planner`);
    /// their names.
    pub async fn refresh_statistics(&self) -> ServiceResult<Vec<String>> {
        let mut conn = db::acquire(&self.pool).await?;
        Ok(db::planner::refresh_statistics(&mut conn).await?)
    }

    /// Subscribes to the wake-ups that enqueueing sends.
    pub async fn listen(&self) -> ServiceResult<db::jobs::Listener> {
        Ok(db::jobs::Listener::connect(&self.pool, db::jobs::CHANNEL).await?)
    }

    /// Adds a job outside any other transaction.
    pub async fn enqueue(&self, job: &Job, dedupe_key: Option<String>) -> ServiceResult<bool> {
        let mut conn = db::acquire(&self.pool).await?;
        Ok(db::jobs::enqueue(&mut conn, &new_job(job, dedupe_key)).await?)
    }

    /// Enqueues a recurring job for its slot, once across all processes.
    pub async fn enqueue_scheduled(&self, slot: DateTime<Utc>, job: &Job) -> ServiceResult<bool> {
        let kind = job.kind().as_str();
        let mut tx = db::begin(&self.pool).await?;
        let row = new_job(job, Some(kind.to_owned()));
        let enqueued = db::jobs::enqueue_scheduled(&mut tx, kind, slot, &row).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(enqueued)
    }

    /// Jobs queued or running.
    pub async fn pending(&self) -> ServiceResult<i64> {
        let mut conn = db::acquire(&self.pool).await?;
        Ok(db::jobs::pending(&mut conn).await?)
    }

    /// Lists jobs for administrators and archivists.
    pub async fn list(&self, actor: &Actor, filter: JobFilter) -> ServiceResult<JobPage> {
        require(actor, Capability::KeepQueue)?;
        let limit = page_size(filter.limit, 50, 500);
        let before = id_cursor(filter.cursor.as_deref())?;
        let mut conn = db::acquire(&self.pool).await?;
        let mut rows = db::jobs::list(
            &mut conn,
            filter.kind.map(JobKind::as_str),
            filter.status,
            before,
            i64::from(limit) + 1,
        )
        .await?;
        let next_cursor = next_cursor(&mut rows, limit, |row| row.id.to_string());
        let items = rows.into_iter().map(JobView::from).collect();
        Ok(JobPage { items, next_cursor })
    }

    /// Queues a failed job again with its attempts and crashes reset; 409 unless it failed.
    pub async fn retry(&self, actor: &Actor, id: i64) -> ServiceResult<JobView> {
        require(actor, Capability::KeepQueue)?;
        let mut conn = db::acquire(&self.pool).await?;
        match db::jobs::retry(&mut conn, id).await? {
            Some(row) => Ok(JobView::from(row)),
            None => match db::jobs::find(&mut conn, id).await? {
                Some(row) => Err(ServiceError::Conflict(format!(
                    "job {id} is {}; only a failed job is queued again",
                    row.status
                ))),
                None => Err(ServiceError::NotFound(format!("job {id} not found"))),
            },
        }
    }
}

impl From<db::jobs::JobRow> for JobView {
    fn from(row: db::jobs::JobRow) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            status: row.status,
            payload: row.payload,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            crashes: row.crashes,
            run_at: row.run_at,
            last_error: row.last_error,
            created_at: row.created_at,
            finished_at: row.finished_at,
        }
    }
}

/// A job row to insert: five attempts unless the kind says otherwise.
pub(crate) fn new_job(job: &Job, dedupe_key: Option<String>) -> db::jobs::NewJob<'static> {
    db::jobs::NewJob {
        kind: job.kind().as_str(),
        payload: job.payload(),
        dedupe_key,
        max_attempts: 5,
        run_at: None,
    }
}

impl WorkerSlot {
    /// This worker's id, as `locked_by` shows it.
    pub fn id(&self) -> i32 {
        self.id
    }

    /// The next due job, if any; jobs of dead workers are settled first (at most every
    /// `SWEEP_EVERY`, so an idle worker's every poll sweeps). A job claimed with
    /// `exhausted` set is not to be run: give it up ([`crate::jobs::give_up`]).
    pub async fn claim(&mut self) -> ServiceResult<Option<ClaimedJob>> {
        self.claim_after(None).await
    }

    /// Marks `job` done and claims the next due job in the same round trip.
    pub async fn finish_and_claim(
        &mut self,
        job: &ClaimedJob,
    ) -> ServiceResult<Option<ClaimedJob>> {
        self.claim_after(Some(job.id)).await
    }

    async fn claim_after(&mut self, finished: Option<i64>) -> ServiceResult<Option<ClaimedJob>> {
        let policy = self.retry.crash_policy();
        let sweep = self.swept_at.is_none_or(|at| at.elapsed() >= SWEEP_EVERY);
        if sweep {
            self.swept_at = Some(std::time::Instant::now());
        }
        Ok(db::jobs::claim(&mut self.conn, self.id, &policy, sweep, finished).await?)
    }

    /// Why an exhausted job is given up, for its `last_error` and whatever it leaves behind
    /// (a file's text, a check).
    pub fn give_up_reason(&self, job: &ClaimedJob) -> String {
        let last = job.exhausted.as_deref().unwrap_or_default();
        let why = if job.crashes >= i32::try_from(self.retry.max_crashes).unwrap_or(i32::MAX) {
            format!(
                "given up: the worker running it died {} times (killed, or out of memory)",
                job.crashes
            )
        } else {
            format!(
                "given up after {} of {} attempts",
                job.attempts, job.max_attempts
            )
        };
        if last.is_empty() {
            why
        } else {
            format!("{why}; last: {last}")
        }
    }

    /// Marks a job done.
    pub async fn finish(&mut self, job: &ClaimedJob) -> ServiceResult<()> {
        Ok(db::jobs::finish(&mut self.conn, job.id).await?)
    }

    /// Puts a job that ran too early back in the queue; the attempt does not count.
    pub async fn postpone(&mut self, job: &ClaimedJob, delay: Duration) -> ServiceResult<()> {
        Ok(db::jobs::postpone(&mut self.conn, job.id, delay).await?)
    }

    /// Records a failure: retried later with backoff unless `permanent` or out of attempts.
    pub async fn fail(
        &mut self,
        job: &ClaimedJob,
        error: &str,
        permanent: bool,
    ) -> ServiceResult<Option<Duration>> {
        let retry_in = if permanent {
            None
        } else {
            retry_delay(
                job.attempts,
                job.max_attempts,
                self.retry.base,
                self.retry.max,
            )
        };
        db::jobs::fail(&mut self.conn, job.id, error, retry_in).await?;
        Ok(retry_in)
    }
}
