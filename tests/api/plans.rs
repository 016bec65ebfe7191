//! The look-ups every filing makes find their rows through an index even under a prepared
//! statement's generic plan (which sqlx's cached statements get after a few runs): a
//! lookup that scans the table costs nothing in a test database and grows with every record
//! filed. Each look-up is planned in the shape the filing path asks it, with sequential scans
//! priced out, and must not read the table whole.

use sqlx::PgPool;
use sqlx::Row;

/// The generic plan of `sql` (one uuid parameter), prepared as `name`, as text.
async fn generic_plan(pool: &PgPool, name: &str, sql: &str) -> String {
    let mut conn = pool.acquire().await.expect("connection");
    for setting in [
        "set plan_cache_mode = force_generic_plan",
        "set enable_seqscan = off",
    ] {
        sqlx::query(setting)
            .execute(&mut *conn)
            .await
            .expect("setting");
    }
    // the statements are this file's own literals
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "prepare {name}(uuid) as {sql}"
    )))
    .execute(&mut *conn)
    .await
    .expect("prepare");
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "explain execute {name}('00000000-0000-0000-0000-000000000000')"
    )))
    .fetch_all(&mut *conn)
    .await
    .expect("explain");
    rows.iter()
        .map(|row| row.get::<String, _>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

#[sqlx::test]
async fn a_records_files_texts_and_audit_chain_are_found_by_index(pool: PgPool) {
    for (at, (table, sql)) in [
        (
            "record_files",
            "select id from record_files where record_id = $1 order by position, created_at",
        ),
        (
            "record_files",
            "select f.id, t.status from record_files f left join file_texts t on t.file_id = f.id
             where f.record_id = any(array[$1])",
        ),
        (
            "file_texts",
            "select status from file_texts where record_id = $1",
        ),
        (
            "audit_events",
            "select id, hash from audit_events where record_id = $1 and id > 0 order by id",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let plan = generic_plan(&pool, &format!("probe_{at}"), sql).await;
        assert!(
            !plan.contains(&format!("Seq Scan on {table}")),
            "{sql}\nscans {table} whole:\n{plan}"
        );
    }
}
