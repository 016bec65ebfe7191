//! Planner statistics of the growing tables, refreshed as a bulk import outgrows them.

use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::helpers::TestApp;

async fn analyzed(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(
        "select analyze_count + autoanalyze_count from pg_stat_user_tables where relname = $1",
    )
    .bind(table)
    .fetch_one(&app.pool)
    .await
    .expect("table statistics")
}

#[sqlx::test]
async fn a_table_that_grew_is_analyzed_once_and_then_left_alone(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    // autovacuum would analyze it too, in its own time
    sqlx::query("alter table jobs set (autovacuum_enabled = false)")
        .execute(&app.pool)
        .await
        .expect("autovacuum off");
    let before = analyzed(&app, "jobs").await;
    sqlx::query(
        "insert into jobs (kind, status, finished_at)
         select 'housekeeping', 'done', now() from generate_series(1, 2000)",
    )
    .execute(&app.pool)
    .await
    .expect("many jobs");

    // the server's counters of changes reach the statistics views within a second or so
    let deadline = Instant::now() + Duration::from_secs(20);
    let refreshed = loop {
        let tables = app.app.jobs.refresh_statistics().await.expect("refresh");
        if tables.iter().any(|table| table == "jobs") || Instant::now() > deadline {
            break tables;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        refreshed.iter().any(|table| table == "jobs"),
        "{refreshed:?}"
    );
    assert_eq!(analyzed(&app, "jobs").await, before + 1);
    let planned: f32 = sqlx::query_scalar("select reltuples from pg_class where relname = 'jobs'")
        .fetch_one(&app.pool)
        .await
        .expect("reltuples");
    assert!(planned >= 2000.0, "the planner sees the rows: {planned}");

    // nothing changed since: nothing is analyzed again
    let again = app.app.jobs.refresh_statistics().await.expect("refresh");
    assert!(!again.iter().any(|table| table == "jobs"), "{again:?}");
}
