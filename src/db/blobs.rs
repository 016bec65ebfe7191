//! Content-addressed blobs and their reference counts.

use sqlx::PgConnection;

use super::DbError;

/// Takes one reference to the blob with this digest, creating its row if it is new. The row
/// stays locked until the transaction ends, so concurrent uploads and deletions of the same
/// content are serialised. Returns the size stored for it.
pub async fn add_reference(
    conn: &mut PgConnection,
    sha256: &[u8],
    size: i64,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar!(
        "insert into blobs (sha256, size, refcount) values ($1, $2, 1)
         on conflict (sha256) do update set refcount = blobs.refcount + 1
         returning size",
        sha256,
        size
    )
    .fetch_one(conn)
    .await?)
}

/// The reference count of a blob, if it is known.
pub async fn refcount(conn: &mut PgConnection, sha256: &[u8]) -> Result<Option<i32>, DbError> {
    Ok(
        sqlx::query_scalar!("select refcount from blobs where sha256 = $1", sha256)
            .fetch_optional(conn)
            .await?,
    )
}
