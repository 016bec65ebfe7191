//! The job queue: claiming, retries with backoff, permanent failures, deduplication, jobs of
//! dead workers claimed again, and the listing of `GET /api/v1/jobs`.

use std::time::{Duration, Instant};

use dangan::domain::job::Job;
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_problem};

mod killed;
mod statistics;
mod wake;

/// An extraction job of a file that is not there.
fn nil_file() -> Job {
    Job::ExtractText {
        file_id: uuid::Uuid::nil(),
    }
}

async fn status_of(app: &TestApp, id: i64) -> (String, i32, Option<String>) {
    sqlx::query_as("select status, attempts, last_error from jobs where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .expect("job row")
}

/// Takes, in another database of the same server, the advisory lock that worker `id` of this
/// installation holds, as a worker of another installation numbered alike does.
async fn lock_in_other_database(app: &TestApp, id: i32) -> sqlx::PgConnection {
    use sqlx::Connection;
    let (class, object): (i64, i64) = sqlx::query_as(
        "select classid::int8, objid::int8 from pg_locks
         where locktype = 'advisory' and objsubid = 2 and objid = $1::int8::oid
           and database = (select oid from pg_database where datname = current_database())",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .expect("the worker's lock");
    let options = app
        .pool
        .connect_options()
        .as_ref()
        .clone()
        .database("postgres");
    let mut other = sqlx::PgConnection::connect_with(&options)
        .await
        .expect("the other database");
    sqlx::query("select pg_advisory_lock($1::int4, $2::int4)")
        .bind(class)
        .bind(object)
        .execute(&mut other)
        .await
        .expect("lock there");
    other
}

#[sqlx::test]
async fn a_job_of_a_worker_that_died_is_a_failed_attempt_claimed_again(pool: PgPool) {
    let app = TestApp::spawn_with(pool, &[("DANGAN_WORKER__RETRY_BASE", "200ms")]).await;
    let jobs = &app.app.jobs;
    assert!(
        jobs.enqueue(
            &Job::ExtractText {
                file_id: uuid::Uuid::nil()
            },
            None
        )
        .await
        .expect("enqueue")
    );
    let mut first = jobs.register_worker().await.expect("worker");
    let claimed = first.claim().await.expect("claim").expect("a job");
    let mut second = jobs.register_worker().await.expect("second worker");
    assert!(
        second.claim().await.expect("claim").is_none(),
        "a live worker's job is not taken"
    );

    // another installation on the same server has a live worker of the same number
    let _other = lock_in_other_database(&app, first.id()).await;
    drop(first); // the process dies: its connection, and with it its lock, goes away
    let deadline = Instant::now() + Duration::from_secs(10);
    let again = loop {
        if let Some(job) = second.claim().await.expect("claim") {
            break job;
        }
        assert!(
            Instant::now() < deadline,
            "the orphaned job was never claimed again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(again.id, claimed.id);
    assert_eq!((again.attempts, again.crashes), (2, 1));
    assert!(again.exhausted.is_none());
    let (_, _, last_error) = status_of(&app, again.id).await;
    assert!(
        last_error.is_some_and(|error| error.contains("attempt 1 of 5 stopped before it finished")),
        "the death is recorded as the attempt's error"
    );
}

#[sqlx::test]
async fn a_failed_attempt_is_retried_later_and_an_unknown_kind_fails_for_good(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let jobs = &app.app.jobs;
    jobs.enqueue(&nil_file(), None).await.expect("enqueue");
    let mut slot = jobs.register_worker().await.expect("worker");
    let job = slot.claim().await.expect("claim").expect("job");
    let delay = slot
        .fail(&job, "pdftotext timed out", false)
        .await
        .expect("fail");
    assert_eq!(
        delay,
        Some(Duration::from_secs(10)),
        "the configured first retry delay"
    );
    let (status, attempts, error) = status_of(&app, job.id).await;
    assert_eq!(
        (status.as_str(), attempts, error.as_deref()),
        ("queued", 1, Some("pdftotext timed out"))
    );
    assert!(
        slot.claim().await.expect("claim").is_none(),
        "not due before its retry time"
    );

    sqlx::query("insert into jobs (kind, payload) values ('from_the_future', '{}')")
        .execute(&app.pool)
        .await
        .expect("insert");
    let ran = dangan::jobs::runner::run_until_idle(&app.app)
        .await
        .expect("run");
    assert_eq!(ran, 1);
    let (status, error): (String, Option<String>) =
        sqlx::query_as("select status, last_error from jobs where kind = 'from_the_future'")
            .fetch_one(&app.pool)
            .await
            .expect("job");
    assert_eq!(status, "failed");
    assert!(error.unwrap_or_default().contains("unknown job kind"));
}

#[sqlx::test]
async fn a_duplicate_is_not_queued_while_the_first_waits(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let jobs = &app.app.jobs;
    let key = Some("file-1".to_owned());
    assert!(jobs.enqueue(&nil_file(), key.clone()).await.expect("first"));
    assert!(
        !jobs
            .enqueue(&nil_file(), key.clone())
            .await
            .expect("second")
    );
    assert_eq!(jobs.pending().await.expect("pending"), 1);
    dangan::jobs::runner::run_until_idle(&app.app)
        .await
        .expect("run");
    assert!(
        jobs.enqueue(&nil_file(), key).await.expect("after"),
        "a finished job does not block a new one"
    );
}

#[sqlx::test]
async fn jobs_are_listed_for_administrators_with_their_errors(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    sqlx::query("insert into jobs (kind, payload) values ('from_the_future', '{}')")
        .execute(&app.pool)
        .await
        .expect("insert");
    dangan::jobs::runner::run_until_idle(&app.app)
        .await
        .expect("run");
    let response = app
        .get("/api/v1/jobs")
        .query(&[("status", "failed")])
        .send()
        .await
        .expect("jobs");
    assert_eq!(response.status(), 200);
    let page: serde_json::Value = response.json().await.expect("json");
    assert_eq!(page["items"][0]["kind"], "from_the_future");
    assert_eq!(page["items"][0]["attempts"], 1);
    assert!(
        page["items"][0]["last_error"]
            .as_str()
            .expect("error")
            .contains("unknown job kind")
    );

    let staff = app.user_token("staff2", "staff", None).await;
    let response = app
        .client
        .get(app.url("/api/v1/jobs"))
        .bearer_auth(staff)
        .send()
        .await
        .expect("jobs");
    assert_problem(response, 403, "forbidden").await;
}

#[sqlx::test]
async fn a_scheduled_slot_is_enqueued_once_however_many_processes_schedule_it(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let slot = chrono::Utc::now();
    let job = Job::Housekeeping {
        staging_max_age_secs: Some(3600),
    };
    let jobs = &app.app.jobs;
    assert!(jobs.enqueue_scheduled(slot, &job).await.expect("first"));
    assert!(!jobs.enqueue_scheduled(slot, &job).await.expect("second"));
    assert_eq!(
        dangan::jobs::runner::run_until_idle(&app.app)
            .await
            .expect("run"),
        1
    );
    let (status,): (String,) =
        sqlx::query_as("select status from jobs where kind = 'housekeeping'")
            .fetch_one(&app.pool)
            .await
            .expect("job");
    assert_eq!(status, "done");
    let later = slot + chrono::Duration::minutes(10);
    assert!(
        jobs.enqueue_scheduled(later, &job)
            .await
            .expect("next slot")
    );
}

#[sqlx::test]
async fn two_workers_on_one_queue_never_run_the_same_job(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for n in 0..40 {
        app.app
            .jobs
            .enqueue(
                &Job::ExtractText {
                    file_id: uuid::Uuid::from_u128(n),
                },
                None,
            )
            .await
            .expect("enqueue");
    }
    let claim_all = |app: &TestApp| {
        let jobs = app.app.jobs.clone();
        tokio::spawn(async move {
            let mut slot = jobs.register_worker().await.expect("worker");
            let mut claimed = Vec::new();
            while let Some(job) = slot.claim().await.expect("claim") {
                claimed.push(job.id);
                slot.finish(&job).await.expect("finish");
            }
            claimed
        })
    };
    let (first, second) = (claim_all(&app), claim_all(&app));
    let (first, second) = (first.await.expect("first"), second.await.expect("second"));
    let mut all: Vec<i64> = first.iter().chain(&second).copied().collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), first.len() + second.len(), "a job was run twice");
    assert_eq!(all.len(), 40, "every job ran");
}

#[sqlx::test]
async fn a_sweep_that_meets_a_job_being_claimed_again_leaves_it_to_its_live_worker(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let jobs = &app.app.jobs;
    jobs.enqueue(&nil_file(), None).await.expect("enqueue");
    let mut dead = jobs.register_worker().await.expect("worker");
    let job = dead.claim().await.expect("claim").expect("a job");
    let dead_id = dead.id();
    drop(dead);
    let gone = Instant::now() + Duration::from_secs(10);
    while sqlx::query_scalar::<_, bool>(
        "select exists (select 1 from pg_locks where locktype = 'advisory' and objsubid = 2
                          and objid = $1::int8::oid)",
    )
    .bind(i64::from(dead_id))
    .fetch_one(&app.pool)
    .await
    .expect("locks")
    {
        assert!(Instant::now() < gone, "the dead worker's lock stayed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // a live worker takes the orphaned job over; its claim is not committed yet when a
    // second worker's sweep reaches the row (still running under the dead worker's id)
    let live = jobs.register_worker().await.expect("live worker");
    let mut claim = app.pool.begin().await.expect("begin");
    sqlx::query("update jobs set locked_by = $2, attempts = attempts + 1 where id = $1")
        .bind(job.id)
        .bind(live.id())
        .execute(&mut *claim)
        .await
        .expect("claim it");
    let sweeper = {
        let jobs = jobs.clone();
        tokio::spawn(async move {
            let mut slot = jobs.register_worker().await.expect("sweeping worker");
            slot.claim().await.expect("sweep and claim")
        })
    };
    let waiting = Instant::now() + Duration::from_secs(5);
    while Instant::now() < waiting
        && !sqlx::query_scalar::<_, bool>(
            "select exists (select 1 from pg_stat_activity
                            where datname = current_database() and wait_event_type = 'Lock')",
        )
        .fetch_one(&app.pool)
        .await
        .expect("activity")
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    claim.commit().await.expect("commit the claim");
    assert!(
        sweeper.await.expect("sweeper").is_none(),
        "nothing else is due"
    );

    let (status, locked_by, attempts, crashes): (String, Option<i32>, i32, i32) =
        sqlx::query_as("select status, locked_by, attempts, crashes from jobs where id = $1")
            .bind(job.id)
            .fetch_one(&app.pool)
            .await
            .expect("job row");
    assert_eq!(
        (status.as_str(), locked_by, attempts, crashes),
        ("running", Some(live.id()), 2, 0),
        "the live worker's job was settled as a death"
    );
}

#[sqlx::test]
async fn a_listed_jobs_status_is_one_of_the_four_the_document_names(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.app
        .jobs
        .enqueue(&nil_file(), None)
        .await
        .expect("enqueue");
    let page = app.get_json("/api/v1/jobs?status=queued").await;
    assert_eq!(page["items"][0]["status"], "queued", "{page}");
    let doc = app.get_json("/api/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["JobView"]["properties"]["status"]["$ref"], "#/components/schemas/JobStatus",
        "{}",
        schemas["JobView"]
    );
    assert_eq!(
        schemas["JobStatus"]["enum"],
        serde_json::json!(["queued", "running", "done", "failed"])
    );
}

#[sqlx::test]
async fn a_due_text_extraction_is_claimed_before_an_older_filing_check(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let jobs = &app.app.jobs;
    let check = Job::FourProperties {
        check_id: uuid::Uuid::now_v7(),
        record_id: None,
    };
    jobs.enqueue(&check, None).await.expect("enqueue the check");
    jobs.enqueue(&nil_file(), None)
        .await
        .expect("enqueue the extraction");
    let mut slot = jobs.register_worker().await.expect("worker");
    let first = slot.claim().await.expect("claim").expect("a job");
    let second = slot.claim().await.expect("claim").expect("another job");
    assert_eq!(
        (first.kind.as_str(), second.kind.as_str()),
        ("extract_text", "four_properties"),
        "the extraction queued later goes first; the check is not forgotten"
    );
    assert!(slot.claim().await.expect("claim").is_none());
}
