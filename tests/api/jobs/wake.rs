//! Wake-ups: a record's filing check waits for every file's text, and the save of the last
//! text wakes it, however the saves of the record's files interleave; the indexer answers the
//! notifications that arrived while it was busy with one catch-up.

use std::time::Duration;

use dangan::db::texts::TextOutcome;
use dangan::domain::record::TextStatus;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{TestApp, TestFile};

fn done() -> TextOutcome<'static> {
    TextOutcome {
        status: TextStatus::Done,
        method: Some("text"),
        text: Some("檔案"),
        pages: None,
        error: None,
    }
}

async fn check_due(app: &TestApp) -> bool {
    sqlx::query_scalar("select run_at <= now() from jobs where kind = 'four_properties'")
        .fetch_one(&app.pool)
        .await
        .expect("the filing check's job")
}

#[sqlx::test]
async fn two_texts_saved_at_once_each_seeing_the_other_pending_still_wake_the_check(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({ "title": "兩個文件" }),
            vec![
                TestFile::new("a.txt", "甲".as_bytes().to_vec()),
                TestFile::new("b.txt", "乙".as_bytes().to_vec()),
            ],
        )
        .await;
    let record_id: Uuid = record["id"].as_str().expect("id").parse().expect("uuid");
    let file = |n: usize| -> Uuid {
        record["files"][n]["id"]
            .as_str()
            .expect("file id")
            .parse()
            .expect("uuid")
    };
    assert!(!check_due(&app).await, "the check waits for the texts");

    // the second file's save is not committed while the first one's runs: each sees the
    // other pending, and neither wakes the check in its own statement
    let mut second = app.pool.begin().await.expect("begin");
    assert!(
        dangan::db::texts::save(&mut second, file(1), record_id, &done())
            .await
            .expect("save b"),
        "the first file is pending"
    );
    let mut first = app.pool.acquire().await.expect("connection");
    let first_save = tokio::time::timeout(
        Duration::from_secs(10),
        dangan::db::texts::save(&mut first, file(0), record_id, &done()),
    )
    .await
    .expect("not blocked by the other save")
    .expect("save a");
    assert!(first_save, "the second file's save was not committed");
    second.commit().await.expect("commit b");
    assert!(!check_due(&app).await, "neither statement woke the check");

    // so each caller that saw others pending looks again after its commit; the later one
    // finds every text saved
    let woken = dangan::db::jobs::wake_filing_checks(&mut first, record_id)
        .await
        .expect("wake");
    assert_eq!(woken, 1);
    assert!(check_due(&app).await);
}

#[sqlx::test]
async fn the_only_text_of_a_record_wakes_its_check_as_it_is_saved(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({ "title": "一個文件" }),
            vec![TestFile::new("a.txt", "甲".as_bytes().to_vec())],
        )
        .await;
    let record_id: Uuid = record["id"].as_str().expect("id").parse().expect("uuid");
    let file: Uuid = record["files"][0]["id"]
        .as_str()
        .expect("file id")
        .parse()
        .expect("uuid");
    assert!(!check_due(&app).await, "the check waits for the text");
    let mut conn = app.pool.acquire().await.expect("connection");
    let others = dangan::db::texts::save(&mut conn, file, record_id, &done())
        .await
        .expect("save");
    assert!(!others);
    assert!(check_due(&app).await, "woken by the save itself");
}

/// The indexer, busy with a batch, answers the filings that notified it meanwhile with one
/// catch-up: the notifications waiting on its connection are drained, not each answered by a
/// catch-up that finds nothing new.
#[sqlx::test]
async fn notifications_that_arrived_while_the_indexer_was_busy_wake_it_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut listener = app
        .app
        .search
        .listen_changes()
        .await
        .expect("listen to the change log");
    for n in 0..4 {
        app.file_record(&json!({ "title": format!("第{n}件") }), Vec::new())
            .await;
    }
    // the four filings' notifications are on the listener's connection by now
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .expect("a notification")
        .expect("the listener's connection");
    assert!(
        listener.drain() >= 3,
        "the other filings' notifications are drained"
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), listener.recv())
            .await
            .is_err(),
        "nothing is left to wake the indexer again"
    );
    // and a filing after the drain wakes it
    app.file_record(&json!({ "title": "第五件" }), Vec::new())
        .await;
    tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .expect("the next filing's notification")
        .expect("the listener's connection");
}
