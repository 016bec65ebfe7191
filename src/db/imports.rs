//! Rows of import manifests already filed (`import_rows`), so that a re-run skips them.

use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;

/// Which of `keys` were imported before, with the record each went into.
pub async fn imported(
    conn: &mut PgConnection,
    keys: &[String],
) -> Result<Vec<(String, Uuid)>, DbError> {
    let rows = sqlx::query!(
        "select row_key, record_id from import_rows where row_key = any($1)",
        keys
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.row_key, row.record_id))
        .collect())
}

/// Remembers that the rows `keys` were filed as `record_id`; a key taken meanwhile (by a
/// concurrent run) fails with [`Conflict::ImportRow`](super::Conflict::ImportRow).
pub async fn insert(
    conn: &mut PgConnection,
    keys: &[String],
    record_id: Uuid,
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into import_rows (row_key, record_id) select key, $2 from unnest($1::text[]) as key",
        keys,
        record_id
    )
    .execute(conn)
    .await?;
    Ok(())
}
