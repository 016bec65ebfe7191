//! The archive's own groups of search variants and synonyms.

use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;

/// Every group, oldest first.
pub async fn list(conn: &mut PgConnection) -> Result<Vec<Vec<String>>, DbError> {
    Ok(
        sqlx::query_scalar!(r#"select words as "words!" from search_variants order by id"#)
            .fetch_all(conn)
            .await?,
    )
}

/// Replaces every group with `groups`.
pub async fn replace(
    conn: &mut PgConnection,
    groups: &[Vec<String>],
    by: Uuid,
) -> Result<(), DbError> {
    sqlx::query!("delete from search_variants")
        .execute(&mut *conn)
        .await?;
    for words in groups {
        sqlx::query!(
            "insert into search_variants (words, added_by) values ($1, $2)",
            words,
            by
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
