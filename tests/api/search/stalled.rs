//! A long transaction anywhere on the server (a backup's dump, a slow export, another
//! database's work) keeps the change log's position from passing the entries written since
//! it began. The index must still follow every committed change, however many there are.

use serde_json::json;
use sqlx::Connection;

use super::{search, settle};
use crate::helpers::{TestApp, database_url};

#[sqlx::test]
async fn a_long_transaction_elsewhere_does_not_stall_the_index(pool: sqlx::PgPool) {
    let app = TestApp::spawn(pool).await;
    settle(&app).await;
    // a transaction that stays open, with a transaction id: the server's oldest
    let mut long = sqlx::PgConnection::connect(&database_url(&app.pool).await)
        .await
        .expect("connect");
    let mut held = long.begin().await.expect("begin");
    sqlx::query("select pg_current_xact_id()")
        .execute(&mut *held)
        .await
        .expect("an id");
    // more committed log entries behind it than one batch of the indexer reads
    sqlx::query("insert into index_changes (record_id) select gen_random_uuid() from generate_series(1, 2500)")
        .execute(&app.pool)
        .await
        .expect("entries");
    app.file_record(
        &json!({"title": "長事務之後歸檔的合同 qzxstalled", "category": "WS"}),
        vec![],
    )
    .await;
    settle(&app).await;
    assert_eq!(search(&app, "qzxstalled").await["total"], 1);
    held.rollback().await.expect("rollback");
}
