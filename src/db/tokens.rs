//! Login tokens, kept only as their SHA-256.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;

/// The user a valid token belongs to.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub user_id: Uuid,
    pub username: String,
    pub role: String,
    pub department_id: Option<Uuid>,
    pub party_id: Option<Uuid>,
}

pub async fn insert(
    conn: &mut PgConnection,
    token_hash: &[u8],
    user_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into auth_tokens (token_hash, user_id, expires_at) values ($1, $2, $3)",
        token_hash,
        user_id,
        expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The active user holding an unexpired token with this hash.
pub async fn find_owner(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> Result<Option<TokenOwner>, DbError> {
    Ok(sqlx::query_as!(
        TokenOwner,
        "select u.id as user_id, u.username, u.role, u.department_id, u.party_id
         from auth_tokens t join users u on u.id = t.user_id
         where t.token_hash = $1 and t.expires_at > now() and u.active",
        token_hash
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn delete(conn: &mut PgConnection, token_hash: &[u8]) -> Result<(), DbError> {
    sqlx::query!("delete from auth_tokens where token_hash = $1", token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes expired tokens; returns how many.
pub async fn delete_expired(conn: &mut PgConnection) -> Result<u64, DbError> {
    Ok(
        sqlx::query!("delete from auth_tokens where expires_at <= now()")
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Ends every session of `user_id` but the one whose token hashes to `keep`; returns how many.
pub async fn revoke_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    keep: Option<&[u8]>,
) -> Result<u64, DbError> {
    Ok(sqlx::query!(
        "delete from auth_tokens where user_id = $1 and ($2::bytea is null or token_hash <> $2)",
        user_id,
        keep
    )
    .execute(conn)
    .await?
    .rows_affected())
}
