//! Faults between dangan and its stores: what an upload does when PostgreSQL's reply to its
//! commit is lost, when the object store cannot be written.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::helpers::proxy::CommitCutter;

mod chaos;
mod load;
mod outages;
use crate::helpers::{TestApp, TestFile, corpus};

const MARKER: &str = "提交應答丟失 commit-reply-lost";

/// The commit happened and only its reply was lost: the record is filed, its content stays
/// and downloads byte for byte (before, the content was deleted and the record pointed at
/// nothing).
#[sqlx::test]
async fn an_upload_whose_commit_reply_is_lost_keeps_its_record_and_content(pool: PgPool) {
    upload_through_a_lost_reply(pool, Duration::ZERO).await;
}

/// As above, and the database then seems gone for 1.5 s (every connection cut, new ones
/// refused): the upload asks again until it can tell that its commit happened, and answers
/// 201 (before, it answered 503 although the record was filed).
#[sqlx::test]
async fn an_upload_whose_commit_reply_is_lost_in_an_outage_still_answers_filed(pool: PgPool) {
    upload_through_a_lost_reply(pool, Duration::from_millis(1500)).await;
}

/// Files a record whose title is the marker through a proxy that loses its commit's reply
/// (and then seems down for `outage`), and checks that it was filed whole.
async fn upload_through_a_lost_reply(pool: PgPool, outage: Duration) {
    let database: String = sqlx::query_scalar("select current_database()")
        .fetch_one(&pool)
        .await
        .expect("database");
    let cutter = CommitCutter::start(&database, MARKER, outage).await;
    let proxied = PgPoolOptions::new()
        .max_connections(4)
        .connect(&cutter.url)
        .await
        .expect("connect through the proxy");
    let app = TestApp::spawn(proxied).await;
    let pdf = corpus("pdf/debian-faq.zh-cn.pdf");

    let response = app
        .upload(
            &json!({ "title": MARKER }),
            vec![TestFile::new("常見問題.pdf", pdf.clone())],
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        cutter.cuts(),
        1,
        "the commit's reply was cut: {status} {body}"
    );
    assert_eq!(status, 201, "the record committed after all: {body}");

    // seen from a connection of its own, not through the proxy
    let titles: Vec<String> = sqlx::query_scalar("select title from records")
        .fetch_all(&pool)
        .await
        .expect("records");
    assert_eq!(titles, vec![MARKER.to_owned()]);
    let id = body["id"].as_str().expect("id");
    let file_id = body["files"][0]["id"].as_str().expect("file id");
    let download = app
        .get_bytes(&format!("/api/v1/records/{id}/files/{file_id}"))
        .await;
    assert_eq!(download, pdf);
}
