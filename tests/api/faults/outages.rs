//! Stores that go away under load, and a server killed under load: refusals are clean 503
//! `unavailable` problems, service comes back on its own, every acknowledged record is there
//! with its content, nothing is half-stored, the audit chain holds and `dangan verify` is
//! clean.

use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::PgPool;

use super::load::{
    Load, assert_all_there, assert_clean_refusals, assert_verify_clean, wait_for_a_refusal,
    wait_for_acknowledgements, wait_until_ready,
};
use crate::helpers::child::{CHILD_ADMIN_PASSWORD, Dangan};
use crate::helpers::cluster::Cluster;
use crate::helpers::s3::start_s3;
use crate::helpers::{database_url, login};

#[tokio::test]
async fn postgresql_stopped_under_load_answers_503_and_recovers_with_nothing_lost() {
    let cluster = Cluster::start();
    let url = cluster.url("postgres");
    let data = tempfile::tempdir().expect("temp dir");
    let env = [("DANGAN_DATABASE__ACQUIRE_TIMEOUT", "1s")];
    let mut server = Dangan::start("serve", &url, data.path(), &env);
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;
    let token = login(&client, &server.address, "admin", CHILD_ADMIN_PASSWORD).await;

    let load = Load::start(&server.address, &token, 4);
    wait_for_acknowledgements(&load, 10).await;
    cluster.stop();
    let before = load.acknowledged().await;
    // meanwhile: not ready, and reads and uploads are refused as unavailable
    wait_for_a_refusal(&load).await;
    let ready = client
        .get(format!("{}/readyz", server.address))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 503);
    let (known, _) = load.acknowledged.lock().await[0].clone();
    let read = client
        .get(format!("{}/api/v1/records/{known}", server.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("read");
    assert_eq!(read.status(), 503);
    let body: Value = read.json().await.expect("problem");
    assert_eq!(body["code"], "unavailable", "{body}");
    cluster.resume();
    let recovered = wait_until_ready(&client, &server.address, Duration::from_secs(30)).await;
    wait_for_acknowledgements(&load, before + 10).await;
    let (acknowledged, refused, lost) = load.finish().await;
    eprintln!(
        "{} uploads acknowledged, {} refused during the outage, {lost} connections lost; ready {recovered:?} after PostgreSQL came back",
        acknowledged.len(),
        refused.len()
    );
    assert!(!refused.is_empty(), "the outage was seen");
    assert_eq!(lost, 0, "the server kept answering");
    assert_clean_refusals(&refused);
    assert!(server.is_running(), "{}", server.logs());
    assert_all_there(&client, &server.address, &token, &acknowledged).await;
    server.kill();
    assert_verify_clean(&url, data.path(), &[]);
}

#[sqlx::test]
async fn an_unreachable_object_store_refuses_uploads_cleanly_and_stores_nothing(pool: PgPool) {
    let mut s3 = start_s3().await;
    let url = database_url(&pool).await;
    let env_owned = s3.env();
    let env: Vec<(&str, &str)> = env_owned
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let data = tempfile::tempdir().expect("temp dir");
    let mut server = Dangan::start("serve", &url, data.path(), &env);
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;
    let token = login(&client, &server.address, "admin", CHILD_ADMIN_PASSWORD).await;

    let load = Load::start(&server.address, &token, 4);
    wait_for_acknowledgements(&load, 10).await;
    s3.stop();
    let before = load.acknowledged().await;
    // the store stays away until an upload has been refused (within seconds: few retries)
    let waited = wait_for_a_refusal(&load).await;
    eprintln!("first refusal {waited:?} after the store went away");
    let during = load.acknowledged().await;
    s3.restart().await;
    wait_for_acknowledgements(&load, during + 10).await;
    let (acknowledged, refused, lost) = load.finish().await;
    eprintln!(
        "{} uploads acknowledged ({} while the store was away), {} refused",
        acknowledged.len(),
        during.saturating_sub(before),
        refused.len()
    );
    assert!(!refused.is_empty(), "the outage was seen");
    assert!(
        during - before <= 4,
        "at most the uploads already past the store went on"
    );
    assert_eq!(lost, 0);
    assert_clean_refusals(&refused);
    // nothing half-stored: every record in the database is an acknowledged one
    let records: i64 = sqlx::query_scalar("select count(*) from records")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(records, i64::try_from(acknowledged.len()).expect("count"));
    assert_all_there(&client, &server.address, &token, &acknowledged).await;
    server.kill();
    assert_verify_clean(&url, data.path(), &env);
}

#[sqlx::test]
async fn a_server_killed_under_load_loses_no_acknowledged_record(pool: PgPool) {
    let url = database_url(&pool).await;
    let data = tempfile::tempdir().expect("temp dir");
    let client = reqwest::Client::new();
    let mut acknowledged = Vec::new();
    let env = [("DANGAN_WORKER__RETRY_BASE", "1s")];
    for round in 0..3 {
        let mut server = Dangan::start("serve", &url, data.path(), &env);
        server.wait_ready(&client).await;
        let token = login(&client, &server.address, "admin", CHILD_ADMIN_PASSWORD).await;
        let load = Load::start(&server.address, &token, 4);
        wait_for_acknowledgements(&load, 5 + round * 3).await;
        server.kill(); // SIGKILL, uploads and extractions in flight
        let (acked, refused, _lost) = load.finish().await;
        assert_clean_refusals(&refused);
        acknowledged.extend(acked);
    }
    let mut server = Dangan::start("serve", &url, data.path(), &env);
    server.wait_ready(&client).await;
    let token = login(&client, &server.address, "admin", CHILD_ADMIN_PASSWORD).await;
    eprintln!(
        "{} uploads acknowledged over three kills",
        acknowledged.len()
    );
    assert_all_there(&client, &server.address, &token, &acknowledged).await;
    // every record the database holds is whole: its content is stored (verify below) and
    // its text extraction ends, in a text or a recorded failure, after the restarts
    let started = Instant::now();
    // (a job killed after its text was written but before it was marked done runs again)
    loop {
        let (pending, open): (i64, i64) = sqlx::query_as(
            "select (select count(*) from file_texts where status = 'pending'),
                    (select count(*) from jobs
                      where kind = 'extract_text' and status in ('queued', 'running'))",
        )
        .fetch_one(&pool)
        .await
        .expect("count");
        if pending == 0 && open == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{pending} extractions never ended, {open} jobs of them still open"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // every file's extraction ended once: one text row each, done or failed with its reason
    // (a job killed under it three times is given up), and no job of it left
    let (files, texts, ended): (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from record_files), (select count(*) from file_texts),
                (select count(*) from file_texts
                  where status = 'done' or status = 'failed' and error is not null)",
    )
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!((texts, ended), (files, files));
    server.kill();
    assert_verify_clean(&url, data.path(), &[]);
}
