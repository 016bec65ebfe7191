//! Planner statistics of the tables that grow with every filing. A bulk import into a young
//! database outruns autovacuum, which visits a database once a minute: meanwhile every pooled
//! connection keeps plans made when `file_texts` held two finished texts, and scans whole
//! tables where an index finds one row (measured: 10 000 PDFs filed, PostgreSQL's CPU per
//! file 14.4 ms with autovacuum alone, 5.7 ms with fresh statistics). Analyzing such a table
//! also makes those connections plan again.

use sqlx::PgConnection;

use super::DbError;

/// The tables whose statistics are kept fresh, those every filing, extraction and check
/// writes to and reads back by key, with the statement that analyzes each.
const GROWING: [(&str, &str); 9] = [
    ("records", "analyze records"),
    ("record_files", "analyze record_files"),
    ("file_texts", "analyze file_texts"),
    ("blobs", "analyze blobs"),
    ("jobs", "analyze jobs"),
    ("audit_events", "analyze audit_events"),
    ("index_changes", "analyze index_changes"),
    ("integrity_checks", "analyze integrity_checks"),
    (
        "integrity_record_results",
        "analyze integrity_record_results",
    ),
];

/// Changes since a table's last analysis that make it stale: this many at least, and half
/// its rows, so that a table growing tenfold is analyzed a handful of times.
const MIN_CHANGES: i64 = 500;

/// Advisory lock class of the analysis ("stat" in ASCII): one process analyzes at a time.
const ANALYZE_LOCK: i64 = 0x7374_6174;

/// Analyzes the growing tables that changed by half their rows (and `MIN_CHANGES`) since
/// their last analysis; returns their names. Another process analyzing meanwhile: nothing.
pub async fn refresh_statistics(conn: &mut PgConnection) -> Result<Vec<String>, DbError> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let ours = sqlx::query_scalar!(
        r#"select pg_try_advisory_xact_lock($1) as "ours!""#,
        ANALYZE_LOCK
    )
    .fetch_one(&mut *tx)
    .await?;
    if !ours {
        return Ok(Vec::new());
    }
    let stale = sqlx::query_scalar!(
        r#"select relname::text as "name!" from pg_stat_user_tables
           where schemaname = current_schema() and relname = any($1)
             and n_mod_since_analyze >= greatest($2, n_live_tup / 2)"#,
        &GROWING.map(|(name, _)| name.to_owned())[..],
        MIN_CHANGES
    )
    .fetch_all(&mut *tx)
    .await?;
    for (name, analyze) in GROWING {
        if stale.iter().any(|stale| stale == name) {
            sqlx::query(analyze).execute(&mut *tx).await?;
        }
    }
    tx.commit().await?;
    Ok(stale)
}
