//! Jobs whose worker dies under them: each death is a failed attempt, and after
//! `worker.max_crashes` deaths (or the job's attempts) the job ends `failed` with the reason,
//! is never run again, and the queue goes on.

use std::time::{Duration, Instant};

use dangan::domain::job::JobKind;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::child::Dangan;
use crate::helpers::{TestApp, TestFile, corpus, database_url};

async fn job_state(app: &TestApp, kind: &str) -> Option<(i64, String, i32, i32, Option<String>)> {
    sqlx::query_as(
        "select id, status, attempts, crashes, last_error from jobs where kind = $1
         order by id desc limit 1",
    )
    .bind(kind)
    .fetch_optional(&app.pool)
    .await
    .expect("job row")
}

#[sqlx::test]
async fn an_extraction_whose_worker_died_three_times_is_given_up_and_the_file_says_why(
    pool: PgPool,
) {
    let app = TestApp::spawn_with(pool, &[("DANGAN_WORKER__RETRY_BASE", "50ms")]).await;
    let record = app
        .file_record(
            &json!({ "title": "殺死工作進程的文件" }),
            vec![TestFile::new("note.txt", "員工檔案".as_bytes().to_vec())],
        )
        .await;
    for death in 1..=3 {
        let started = Instant::now();
        let job = loop {
            let mut slot = app.app.jobs.register_worker().await.expect("worker");
            match slot.claim().await.expect("claim") {
                Some(job) if job.kind == JobKind::ExtractText.as_str() => break (slot, job),
                Some(other) => slot.finish(&other).await.expect("set aside"),
                None => {}
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "never due again"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let (slot, claimed) = job;
        assert!(
            claimed.exhausted.is_none(),
            "death {death} came before the limit"
        );
        assert_eq!(claimed.crashes, death - 1);
        drop(slot); // the worker dies with the job running
    }

    // the dead worker's session ends, and its lock with it, only when PostgreSQL notices
    let started = Instant::now();
    let (_, status, attempts, crashes, error) = loop {
        dangan::jobs::runner::run_until_idle(&app.app)
            .await
            .expect("run");
        let state = job_state(&app, "extract_text").await.expect("the job");
        if state.1 != "running" || started.elapsed() > Duration::from_secs(10) {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((status.as_str(), attempts, crashes), ("failed", 3, 3));
    let error = error.unwrap_or_default();
    assert!(error.contains("died 3 times"), "{error}");

    let id = record["id"].as_str().expect("id");
    let body = app.get_json(&format!("/api/v1/records/{id}")).await;
    let text = &body["files"][0]["text"];
    assert_eq!(text["status"], "failed", "{body}");
    assert!(
        text["error"]
            .as_str()
            .is_some_and(|error| error.contains("text extraction given up")),
        "{body}"
    );
    // an administrator queues it again once the cause is mended; it then runs
    let job_id = job_state(&app, "extract_text").await.expect("job").0;
    let retried: Value = app
        .post(&format!("/api/v1/jobs/{job_id}/retry"))
        .send()
        .await
        .expect("retry")
        .json()
        .await
        .expect("job JSON");
    assert_eq!(
        (
            &retried["status"],
            &retried["attempts"],
            &retried["crashes"]
        ),
        (&json!("queued"), &json!(0), &json!(0))
    );
    dangan::jobs::runner::run_until_idle(&app.app)
        .await
        .expect("run");
    let (_, status, ..) = job_state(&app, "extract_text").await.expect("job");
    assert_eq!(status, "done");
}

fn spawn_worker(app: &TestApp, url: &str) -> Dangan {
    Dangan::start(
        "worker",
        url,
        app.data_dir.path(),
        &[
            ("DANGAN_WORKER__RETRY_BASE", "1s"),
            ("DANGAN_WORKER__POLL_INTERVAL", "200ms"),
        ],
    )
}

/// The text extraction job of `file_id`.
async fn extraction_job(
    app: &TestApp,
    file_id: &str,
) -> Option<(String, i32, i32, Option<String>)> {
    sqlx::query_as(
        "select status, attempts, crashes, last_error from jobs
         where kind = 'extract_text' and payload ->> 'file_id' = $1",
    )
    .bind(file_id)
    .fetch_optional(&app.pool)
    .await
    .expect("job row")
}

/// Waits for the condition on the extraction job of `file_id`, while the worker lives.
async fn wait_for_job(
    app: &TestApp,
    worker: &mut Dangan,
    file_id: &str,
    what: &str,
    done: impl Fn(&str, i32) -> bool,
) {
    let started = Instant::now();
    loop {
        if let Some((status, attempts, ..)) = extraction_job(app, file_id).await
            && done(&status, attempts)
        {
            return;
        }
        assert!(worker.is_running(), "the worker exited:\n{}", worker.logs());
        if started.elapsed() > Duration::from_secs(60) {
            let jobs: Vec<(String, String, i32, i32)> =
                sqlx::query_as("select kind, status, attempts, crashes from jobs order by id")
                    .fetch_all(&app.pool)
                    .await
                    .expect("jobs");
            panic!(
                "{what} did not happen within a minute: {jobs:?}\n{}",
                worker.logs()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn record_json(app: &TestApp, record: &Value) -> Value {
    app.get_json(&format!(
        "/api/v1/records/{}",
        record["id"].as_str().expect("id")
    ))
    .await
}

#[sqlx::test]
async fn a_worker_killed_three_times_in_the_middle_of_a_job_leaves_it_failed_and_the_queue_moving(
    pool: PgPool,
) {
    // OCR of a real scan: several seconds of work, done again from the start by each attempt
    let scan = corpus("scans/scan_sc.jpg");
    let app = TestApp::spawn(pool).await;
    let url = database_url(&app.pool).await;
    let record = app
        .file_record(
            &json!({ "title": "身份證復印件（掃描）" }),
            vec![TestFile::new("scan.jpg", scan)],
        )
        .await;
    let file_id = record["files"][0]["id"].as_str().expect("file id");

    for attempt in 1..=3 {
        let mut worker = spawn_worker(&app, &url);
        wait_for_job(
            &app,
            &mut worker,
            file_id,
            "the OCR running",
            |status, attempts| status == "running" && attempts == attempt,
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await; // in the middle of it
        worker.kill();
    }

    let mut worker = spawn_worker(&app, &url);
    wait_for_job(
        &app,
        &mut worker,
        file_id,
        "the job given up",
        |status, _| status == "failed",
    )
    .await;
    let (_, attempts, crashes, error) = extraction_job(&app, file_id).await.expect("job");
    assert_eq!((attempts, crashes), (3, 3));
    assert!(
        error
            .as_deref()
            .is_some_and(|error| error.contains("died 3 times")),
        "{error:?}"
    );
    let body = record_json(&app, &record).await;
    let text = &body["files"][0]["text"];
    assert_eq!(text["status"], "failed", "{body}");
    assert!(
        text["error"]
            .as_str()
            .is_some_and(|error| error.contains("died 3 times")),
        "{body}"
    );

    // the queue moves on: a new filing is extracted by the same worker
    let after = app
        .file_record(
            &json!({ "title": "之後歸檔" }),
            vec![TestFile::new(
                "after.txt",
                "隊列仍在運行".as_bytes().to_vec(),
            )],
        )
        .await;
    let started = Instant::now();
    while record_json(&app, &after).await["files"][0]["text"]["status"] != "done" {
        assert!(worker.is_running(), "{}", worker.logs());
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the queue did not move:\n{}",
            worker.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, ..) = extraction_job(&app, file_id).await.expect("job");
    assert_eq!(status, "failed", "a given-up job is never run again");
}
