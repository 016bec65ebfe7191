//! The job queue: enqueue (deduplicated, with NOTIFY), claim with `FOR UPDATE SKIP LOCKED`,
//! finish, retry with a delay, and worker liveness by session advisory lock.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::postgres::PgListener;
use uuid::Uuid;

use super::{DbError, Pool};
use crate::domain::job::JobStatus;

/// Advisory lock class every worker takes with its own id ("dang" in ASCII).
const WORKER_LOCK_CLASS: i32 = 0x6461_6e67;
/// The channel enqueueing notifies and workers listen on.
pub const CHANNEL: &str = "dangan_jobs";

/// A job to add to the queue.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub kind: &'a str,
    pub payload: Value,
    /// While a job of this kind and key is queued or running, another is not added.
    pub dedupe_key: Option<String>,
    pub max_attempts: i32,
    /// Not before this instant; `None` for at once.
    pub run_at: Option<DateTime<Utc>>,
}

/// A job as a worker claimed it.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    pub attempts: i32,
    pub max_attempts: i32,
    /// Times a worker died running it.
    pub crashes: i32,
    /// Out of attempts or crashes: the job is not run, its failure is recorded. The reason
    /// is its last error.
    pub exhausted: Option<String>,
}

/// How jobs whose worker died are treated.
#[derive(Debug, Clone, Copy)]
pub struct CrashPolicy {
    /// Deaths after which the job is given up.
    pub max_crashes: i32,
    /// The delay before the next attempt: `retry_base` doubled per attempt, up to `retry_max`.
    pub retry_base: std::time::Duration,
    pub retry_max: std::time::Duration,
}

/// A row of the queue, for the jobs listing.
#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    pub status: JobStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub crashes: i32,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Adds a job (no-op when a duplicate is queued or running) and wakes the workers when the
/// transaction commits. Returns whether a job was added.
pub async fn enqueue(conn: &mut PgConnection, job: &NewJob<'_>) -> Result<bool, DbError> {
    Ok(insert(conn, job).await?.is_some())
}

/// [`enqueue`], returning the new job's id. The schema's `enqueue_job` does it, so that
/// other statements can queue a job with what they write (see `texts`, `integrity`).
async fn insert(conn: &mut PgConnection, job: &NewJob<'_>) -> Result<Option<i64>, DbError> {
    let inserted = sqlx::query_scalar!(
        r#"select enqueue_job($1, $2, $3, $4, $5, $6) as "id""#,
        job.kind,
        job.payload,
        job.dedupe_key,
        job.max_attempts,
        job.run_at,
        CHANNEL,
    )
    .fetch_one(conn)
    .await?;
    Ok(inserted)
}

/// Makes the waiting filing checks of `record_id` due now, once none of its files awaits
/// text extraction; how many were woken.
pub async fn wake_filing_checks(conn: &mut PgConnection, record_id: Uuid) -> Result<u64, DbError> {
    let woken = sqlx::query_scalar!(
        r#"with woken as (
               update jobs set run_at = now()
               where kind = 'four_properties' and status = 'queued'
                 and payload ->> 'record_id' = $1::uuid::text and run_at > now()
                 and not exists (select 1 from file_texts t
                                 where t.record_id = $1 and t.status = 'pending')
               returning id),
           told as (select pg_notify($2, 'four_properties')
                    where exists (select 1 from woken))
           select count(*) as "woken!" from woken where (select count(*) from told) >= 0"#,
        record_id,
        CHANNEL,
    )
    .fetch_one(conn)
    .await?;
    Ok(u64::try_from(woken).unwrap_or_default())
}

/// Enqueues the job of schedule `name` for its `slot` unless some process already did;
/// returns whether this call enqueued it.
pub async fn enqueue_scheduled(
    conn: &mut PgConnection,
    name: &str,
    slot: DateTime<Utc>,
    job: &NewJob<'_>,
) -> Result<bool, DbError> {
    let claimed = sqlx::query!(
        "insert into schedule_runs (name, slot) values ($1, $2) on conflict do nothing",
        name,
        slot
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if claimed == 0 {
        return Ok(false);
    }
    // none when the previous slot's job is still queued or running: this slot joins it
    let job_id = insert(&mut *conn, job).await?;
    sqlx::query!(
        "update schedule_runs set job_id = $3 where name = $1 and slot = $2",
        name,
        slot,
        job_id
    )
    .execute(conn)
    .await?;
    Ok(true)
}

/// Takes a fresh worker id and holds its advisory lock for as long as `conn` lives: jobs
/// running under an id whose lock is gone belong to a dead worker and are claimed again.
pub async fn register_worker(conn: &mut PgConnection) -> Result<i32, DbError> {
    let id = sqlx::query_scalar!(r#"select nextval('worker_ids')::integer as "id!""#)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query!("select pg_advisory_lock($1, $2)", WORKER_LOCK_CLASS, id)
        .execute(conn)
        .await?;
    Ok(id)
}

/// Claims the next job that is due, oldest first, filing checks (`four_properties`) after
/// every other kind that is due: the text extractions of a bulk import make its records
/// findable, the checks' report is read after it; `None` when there is none. With `sweep`, jobs whose
/// worker died are first settled as failed attempts: queued again after the retry delay,
/// or at once to be given up when they are out of attempts or crashes. A job claimed with
/// `exhausted` set is not to be run, only to have its failure recorded. `finished`: a job
/// of this worker's that is done, marked so in the same statement (one round trip and one
/// commit less per job).
pub async fn claim(
    conn: &mut PgConnection,
    worker: i32,
    policy: &CrashPolicy,
    sweep: bool,
    finished: Option<i64>,
) -> Result<Option<ClaimedJob>, DbError> {
    if sweep {
        requeue_orphans(&mut *conn, policy).await?;
    }
    let row = sqlx::query!(
        r#"with finished as (
               update jobs set status = 'done', locked_by = null, finished_at = now(),
                      updated_at = now()
               where id = $3),
           candidate as (
               select id, (attempts >= max_attempts or crashes >= $2) as exhausted
               from jobs
               where status = 'queued' and run_at <= now()
               order by (kind = 'four_properties'), run_at, id
               limit 1
               for update skip locked)
           update jobs j set status = 'running', locked_by = $1, updated_at = now(),
                  attempts = j.attempts + case when c.exhausted then 0 else 1 end
           from candidate c
           where j.id = c.id
           returning j.id, j.kind, j.payload, j.attempts, j.max_attempts, j.crashes,
                     j.last_error, c.exhausted as "exhausted!""#,
        worker,
        policy.max_crashes,
        finished,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| ClaimedJob {
        id: row.id,
        kind: row.kind,
        payload: row.payload,
        attempts: row.attempts,
        max_attempts: row.max_attempts,
        crashes: row.crashes,
        exhausted: row.exhausted.then(|| row.last_error.unwrap_or_default()),
    }))
}

/// Settles the jobs of dead workers (running under an id whose advisory lock in this
/// database is gone) as failed attempts. The dead ids are found first; a row is settled only
/// if it still runs under one of them when it is updated. A row locked by a claim or by
/// another sweep is waited for and then looked at again as it now is: a lock test inside
/// the row's own condition (an anti-join against `pg_locks`) is not redone by PostgreSQL's
/// recheck of a concurrently updated row, so a job just claimed again by a live worker
/// was settled a second time.
async fn requeue_orphans(conn: &mut PgConnection, policy: &CrashPolicy) -> Result<(), DbError> {
    let base_ms = policy.retry_base.as_secs_f64() * 1000.0;
    let max_ms = policy.retry_max.as_secs_f64() * 1000.0;
    sqlx::query!(
        r#"update jobs j set
               status = 'queued', locked_by = null, updated_at = now(),
               crashes = j.crashes + 1,
               run_at = case
                   when j.attempts >= j.max_attempts or j.crashes + 1 >= $2 then now()
                   else now() + make_interval(secs => least(
                       $3::float8 * power(2, greatest(j.attempts - 1, 0)), $4::float8) / 1000.0)
               end,
               last_error = format(
                   'the worker running attempt %s of %s stopped before it finished (killed, or out of memory)%s',
                   j.attempts, j.max_attempts,
                   case when j.last_error is null then '' else '; before that: ' || left(j.last_error, 2000) end)
           where j.status = 'running' and j.locked_by = any(array(
               select distinct o.locked_by from jobs o
               where o.status = 'running' and not exists (
                   select 1 from pg_locks l
                   where l.locktype = 'advisory' and l.classid = $1::integer::oid
                     and l.objid = o.locked_by::oid and l.objsubid = 2 and l.granted
                     -- advisory locks are per database: another installation on this
                     -- server numbers its workers from 1 too
                     and l.database = (select oid from pg_database
                                       where datname = current_database()))))"#,
        WORKER_LOCK_CLASS,
        policy.max_crashes,
        base_ms,
        max_ms,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a job done.
pub async fn finish(conn: &mut PgConnection, id: i64) -> Result<(), DbError> {
    sqlx::query!(
        "update jobs set status = 'done', locked_by = null, finished_at = now(), updated_at = now()
         where id = $1",
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a failed attempt: queued again after `retry_in`, or failed for good when
/// `retry_in` is `None`.
pub async fn fail(
    conn: &mut PgConnection,
    id: i64,
    error: &str,
    retry_in: Option<std::time::Duration>,
) -> Result<(), DbError> {
    let delay_ms = retry_in.map(|delay| i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
    sqlx::query!(
        r#"update jobs set
               status = case when $3::bigint is null then 'failed' else 'queued' end,
               run_at = case when $3::bigint is null then run_at
                             else now() + make_interval(secs => $3::bigint / 1000.0) end,
               finished_at = case when $3::bigint is null then now() end,
               locked_by = null, last_error = $2, updated_at = now()
           where id = $1"#,
        id,
        error,
        delay_ms
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Puts a job back in the queue for `delay` without counting the attempt: it ran too early
/// (what it needs is not there yet), which is not a failure.
pub async fn postpone(
    conn: &mut PgConnection,
    id: i64,
    delay: std::time::Duration,
) -> Result<(), DbError> {
    let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
    sqlx::query!(
        r#"update jobs set status = 'queued', attempts = greatest(attempts - 1, 0),
                  run_at = now() + make_interval(secs => $2::bigint / 1000.0),
                  locked_by = null, updated_at = now()
           where id = $1"#,
        id,
        delay_ms
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Jobs newest first, optionally of one kind and status, below the id `before`.
pub async fn list(
    conn: &mut PgConnection,
    kind: Option<&str>,
    status: Option<JobStatus>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<JobRow>, DbError> {
    // by status apart: a plan for both cases reads the jobs newest first and filters, past
    // every finished job when few or none have the status asked for
    let rows =
        match status {
            Some(status) => sqlx::query_as!(
                JobRow,
                r#"select id, kind, payload, status as "status: JobStatus", attempts, max_attempts,
                          crashes, run_at, last_error, created_at, finished_at
                   from jobs
                   where status = $2 and ($1::text is null or kind = $1)
                     and ($3::bigint is null or id < $3)
                   order by id desc
                   limit $4"#,
                kind,
                status.as_str(),
                before,
                limit
            )
            .fetch_all(conn)
            .await?,
            None => sqlx::query_as!(
                JobRow,
                r#"select id, kind, payload, status as "status: JobStatus", attempts, max_attempts,
                          crashes, run_at, last_error, created_at, finished_at
                   from jobs
                   where ($1::text is null or kind = $1) and ($2::bigint is null or id < $2)
                   order by id desc
                   limit $3"#,
                kind,
                before,
                limit
            )
            .fetch_all(conn)
            .await?,
        };
    Ok(rows)
}

/// One job by id.
pub async fn find(conn: &mut PgConnection, id: i64) -> Result<Option<JobRow>, DbError> {
    let row = sqlx::query_as!(
        JobRow,
        r#"select id, kind, payload, status as "status: JobStatus", attempts, max_attempts,
                  crashes, run_at, last_error, created_at, finished_at
           from jobs where id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row)
}

/// Queues a failed job again with fresh attempts and crashes, and wakes the workers; `None`
/// when no failed job has this id (another of its key may be queued: then it stays failed).
pub async fn retry(conn: &mut PgConnection, id: i64) -> Result<Option<JobRow>, DbError> {
    let row = sqlx::query_as!(
        JobRow,
        r#"update jobs j set status = 'queued', attempts = 0, crashes = 0, run_at = now(),
                  finished_at = null, updated_at = now()
           where j.id = $1 and j.status = 'failed' and not exists (
               select 1 from jobs other
               where other.kind = j.kind and other.dedupe_key = j.dedupe_key
                 and other.status in ('queued', 'running'))
           returning id, kind, payload, status as "status: JobStatus", attempts, max_attempts,
                     crashes, run_at, last_error, created_at, finished_at"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = &row {
        sqlx::query!("select pg_notify($1, $2)", CHANNEL, row.kind)
            .execute(conn)
            .await?;
    }
    Ok(row)
}

/// Counts jobs that are queued or running, for tests and readiness of a drain.
pub async fn pending(conn: &mut PgConnection) -> Result<i64, DbError> {
    let count = sqlx::query_scalar!(
        r#"select count(*) as "count!" from jobs where status in ('queued', 'running')"#
    )
    .fetch_one(conn)
    .await?;
    Ok(count)
}

/// A subscription to a NOTIFY channel.
pub struct Listener(PgListener);

impl Listener {
    /// Listens on `channel`.
    pub async fn connect(pool: &Pool, channel: &str) -> Result<Self, DbError> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(channel).await?;
        Ok(Self(listener))
    }

    /// Waits for the next notification. An error means the connection dropped; the
    /// listener reconnects on the next call, and callers poll meanwhile.
    pub async fn recv(&mut self) -> Result<String, DbError> {
        Ok(self.0.recv().await?.payload().to_owned())
    }

    /// Drops the notifications that have arrived, without waiting for more; how many there
    /// were. Those sent while the caller was busy wait on the connection, not in the
    /// listener's buffer (which `next_buffered` alone reads): each would otherwise wake the
    /// caller once more, for nothing. Reading one that is there takes a single poll, and a
    /// receive stopped before its message is whole loses nothing (sqlx reads a message off
    /// the connection only once it has all of it).
    pub fn drain(&mut self) -> usize {
        use futures::FutureExt;
        let mut drained = 0;
        while let Some(Ok(Some(_))) = self.0.try_recv().now_or_never() {
            drained += 1;
        }
        drained
    }
}
