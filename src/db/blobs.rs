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

/// Locks the blob row of content that a failed write stored, creating it at refcount 0 if
/// it is not there, and tells whether no committed write references the content: only then
/// may its object be deleted. An upload of the same content that was waiting for the failed
/// one takes its reference after this transaction ends, and then stores the content again.
pub async fn lock_unreferenced(
    conn: &mut PgConnection,
    sha256: &[u8],
    size: i64,
) -> Result<bool, DbError> {
    let refcount = sqlx::query_scalar!(
        "insert into blobs (sha256, size, refcount) values ($1, $2, 0)
         on conflict (sha256) do update set refcount = blobs.refcount
         returning refcount",
        sha256,
        size
    )
    .fetch_one(conn)
    .await?;
    Ok(refcount == 0)
}

/// Removes the row of content that nothing references or names (a row that
/// [`lock_unreferenced`] made, say); rows that destroyed records' files still name stay.
pub async fn forget_unreferenced(conn: &mut PgConnection, sha256: &[u8]) -> Result<(), DbError> {
    sqlx::query!(
        "delete from blobs b where b.sha256 = $1 and b.refcount = 0
           and not exists (select 1 from record_files f where f.sha256 = b.sha256)",
        sha256
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The reference count of a blob, if it is known.
pub async fn refcount(conn: &mut PgConnection, sha256: &[u8]) -> Result<Option<i32>, DbError> {
    Ok(
        sqlx::query_scalar!("select refcount from blobs where sha256 = $1", sha256)
            .fetch_optional(conn)
            .await?,
    )
}
