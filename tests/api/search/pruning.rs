//! The change log is pruned behind every registered reader: a lagging node holds pruning
//! back until it has caught up, and a new node after pruning rebuilds from the tables.

use dangan::services::search::SearchService;
use serde_json::json;

use super::{file, sample, search, settle};
use crate::helpers::TestApp;

async fn changes_left(app: &TestApp) -> i64 {
    app.count("index_changes").await
}

async fn active_records(app: &TestApp) -> u64 {
    let count: i64 = sqlx::query_scalar("select count(*) from records where status = 'active'")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    u64::try_from(count).expect("count")
}

/// Another node's index over the same database.
fn node(app: &TestApp, dir: &tempfile::TempDir) -> SearchService {
    SearchService::new(
        app.pool.clone().into(),
        dir.path().join("index"),
        32 << 20,
        chrono_tz::Asia::Shanghai,
    )
}

#[sqlx::test]
async fn the_log_is_pruned_behind_every_reader_and_a_new_node_rebuilds(pool: sqlx::PgPool) {
    let app = TestApp::spawn(pool).await;
    sample(&app).await;
    settle(&app).await;
    let lagging_dir = tempfile::tempdir().expect("temp dir");
    let lagging = node(&app, &lagging_dir);
    lagging.catch_up().await.expect("second node caught up");

    file(
        &app,
        json!({ "title": "修剪之後的新檔案", "category": "WS" }),
    )
    .await;
    settle(&app).await;
    assert!(changes_left(&app).await > 0);
    app.app.search.prune_change_log().await.expect("prune");
    assert!(
        changes_left(&app).await > 0,
        "the lagging node has not read the newest entries yet"
    );
    lagging.catch_up().await.expect("lagging node catches up");
    assert_eq!(
        lagging.num_docs().await.expect("docs"),
        active_records(&app).await
    );
    // A reader's position passes only entries below the server's oldest running transaction,
    // and the server is shared: another test's long transaction (see `stalled`) holds every
    // reader back until it ends. Both readers catch up again until they have passed it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut pruned = app.app.search.prune_change_log().await.expect("prune");
    while changes_left(&app).await > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        lagging.catch_up().await.expect("lagging node catches up");
        app.app
            .search
            .catch_up()
            .await
            .expect("serving node catches up");
        pruned += app.app.search.prune_change_log().await.expect("prune");
    }
    assert!(pruned > 0);
    assert_eq!(
        changes_left(&app).await,
        0,
        "every reader has passed every entry"
    );

    // the serving node goes on following changes after pruning
    file(&app, json!({ "title": "再後來的檔案", "category": "WS" })).await;
    settle(&app).await;
    assert_eq!(search(&app, "再後來的檔案").await["total"], 1);
    assert_eq!(search(&app, "修剪之後").await["total"], 1);

    // a new node cannot replay a pruned log: it rebuilds from the tables, then follows
    let fresh_dir = tempfile::tempdir().expect("temp dir");
    let fresh = node(&app, &fresh_dir);
    fresh.catch_up().await.expect("new node catches up");
    assert_eq!(
        fresh.num_docs().await.expect("docs"),
        active_records(&app).await
    );
    file(&app, json!({ "title": "新節點之後", "category": "WS" })).await;
    settle(&app).await;
    fresh.catch_up().await.expect("new node follows");
    assert_eq!(
        fresh.num_docs().await.expect("docs"),
        active_records(&app).await
    );
}
