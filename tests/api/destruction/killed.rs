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
