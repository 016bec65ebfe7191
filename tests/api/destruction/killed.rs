//! A `dangan worker` killed with SIGKILL in the middle of a batch: a restarted worker resumes
//! it and every item ends destroyed exactly once, with no object of a destroyed blob left.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::PgPool;

use super::{approve_twice, batch_json, create_batch, due_record, outcomes, stored};
use crate::helpers::{TestApp, database_url};

const ITEMS: usize = 60;

fn spawn_worker(app: &TestApp, url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_dangan"))
        .arg("worker")
        .env("DANGAN_DATABASE_URL", url)
        .env("DANGAN_DATA_DIR", app.data_dir.path())
        // small chunks, so that the kill lands between two of them
        .env("DANGAN_WORKER__DESTRUCTION_CHUNK", "4")
        .env_remove("DANGAN_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the worker starts")
}

async fn destroyed_items(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from batch_items where outcome = 'destroyed'")
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

#[sqlx::test]
async fn a_worker_killed_mid_batch_resumes_to_exactly_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut records: Vec<Value> = Vec::with_capacity(ITEMS);
    for number in 0..ITEMS {
        let content = format!("content of record {number}");
        records.push(due_record(&app, &format!("批量銷毀 {number}"), content.as_bytes()).await);
    }
    let refs: Vec<&Value> = records.iter().collect();
    let created = create_batch(&app, &refs).await;
    approve_twice(&app, &created).await;
    let url = database_url(&app.pool).await;

    let mut worker = spawn_worker(&app, &url);
    let started = Instant::now();
    while destroyed_items(&app).await == 0 && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    worker.kill().expect("SIGKILL");
    worker.wait().expect("reaped");
    let at_kill = destroyed_items(&app).await;
    assert!(at_kill > 0, "the worker destroyed nothing within a minute");
    eprintln!("killed the worker after {at_kill} of {ITEMS} items");

    let mut worker = spawn_worker(&app, &url);
    let started = Instant::now();
    while batch_json(&app, &created).await["status"] != "done"
        && started.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.kill().expect("stop the second worker");
    worker.wait().expect("reaped");

    let after = batch_json(&app, &created).await;
    assert_eq!(after["status"], "done", "killed at {at_kill} of {ITEMS}");
    assert!(
        outcomes(&after)
            .iter()
            .all(|outcome| outcome == "destroyed")
    );
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'record.destroyed'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(audited, ITEMS as i64);
    let released: i64 = sqlx::query_scalar("select count(*) from blobs where refcount = 0")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(released, ITEMS as i64);
    for record in &records {
        assert!(!stored(&app, &record["files"][0]["sha256"]));
    }
}

#[sqlx::test]
async fn a_batch_whose_worker_died_three_times_is_given_up_and_resumes_once_retried(pool: PgPool) {
    let app = TestApp::spawn_with(pool, &[("DANGAN_WORKER__RETRY_BASE", "50ms")]).await;
    let records = [
        due_record(&app, "重試銷毀 一", b"first").await,
        due_record(&app, "重試銷毀 二", b"second").await,
    ];
    let created = create_batch(&app, &[&records[0], &records[1]]).await;
    // the filing jobs are done first, so that only the batch is left
    dangan::jobs::runner::run_until_idle(&app.app)
        .await
        .expect("run");
    approve_twice(&app, &created).await;
    for _ in 0..3 {
        let started = Instant::now();
        let slot = loop {
            let mut slot = app.app.jobs.register_worker().await.expect("worker");
            if let Some(job) = slot.claim().await.expect("claim") {
                assert_eq!(job.kind, "destroy_batch");
                break slot;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "never due again"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        drop(slot); // the worker dies running the batch
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    dangan::jobs::runner::run_until_idle(&app.app)
        .await
        .expect("run");
    let (job_id, status, error): (i64, String, Option<String>) =
        sqlx::query_as("select id, status, last_error from jobs where kind = 'destroy_batch'")
            .fetch_one(&app.pool)
            .await
            .expect("job");
    assert_eq!(status, "failed");
    assert!(error.is_some_and(|error| error.contains("died 3 times")));
    assert_ne!(batch_json(&app, &created).await["status"], "done");
    assert_eq!(destroyed_items(&app).await, 0);

    let response = app
        .post(&format!("/api/v1/jobs/{job_id}/retry"))
        .send()
        .await
        .expect("retry");
    assert_eq!(response.status(), 200);
    dangan::jobs::runner::run_until_idle(&app.app)
        .await
        .expect("run");
    let after = batch_json(&app, &created).await;
    assert_eq!(after["status"], "done", "{after}");
    assert!(
        outcomes(&after)
            .iter()
            .all(|outcome| outcome == "destroyed")
    );
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'record.destroyed'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(audited, 2, "each item destroyed once");
    let again = app
        .post(&format!("/api/v1/jobs/{job_id}/retry"))
        .send()
        .await
        .expect("retry a done job");
    assert_eq!(again.status(), 409);
}
