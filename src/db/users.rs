//! Users: login names, password hashes, roles.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;

/// A user as stored.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub department_id: Option<Uuid>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub email: Option<String>,
}

/// A new user to insert.
pub struct NewUser<'a> {
    pub id: Uuid,
    pub username: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub department_id: Option<Uuid>,
}

/// Inserts a user; a taken username fails with constraint `users_username_key`.
pub async fn insert(conn: &mut PgConnection, user: &NewUser<'_>) -> Result<(), DbError> {
    sqlx::query!(
        "insert into users (id, username, password_hash, role, department_id)
         values ($1, $2, $3, $4, $5)",
        user.id,
        user.username,
        user.password_hash,
        user.role,
        user.department_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets where a user's e-mailed reminders go.
pub async fn set_email(
    conn: &mut PgConnection,
    id: Uuid,
    email: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query!("update users set email = $2 where id = $1", id, email)
        .execute(conn)
        .await?;
    Ok(())
}

/// Inserts the first administrator only if there are no users at all; true if inserted.
pub async fn insert_if_none(conn: &mut PgConnection, user: &NewUser<'_>) -> Result<bool, DbError> {
    let inserted = sqlx::query!(
        "insert into users (id, username, password_hash, role, department_id)
         select $1, $2, $3, $4, $5
         where not exists (select 1 from users)
         on conflict (username) do nothing",
        user.id,
        user.username,
        user.password_hash,
        user.role,
        user.department_id,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn find_by_username(
    conn: &mut PgConnection,
    username: &str,
) -> Result<Option<UserRow>, DbError> {
    Ok(sqlx::query_as!(
        UserRow,
        "select id, username, password_hash, role, department_id, active, created_at, email
         from users where username = $1",
        username
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn list(conn: &mut PgConnection) -> Result<Vec<UserRow>, DbError> {
    Ok(sqlx::query_as!(
        UserRow,
        "select id, username, password_hash, role, department_id, active, created_at, email
         from users order by username"
    )
    .fetch_all(conn)
    .await?)
}

/// The id of the department with this code.
pub async fn department_id(conn: &mut PgConnection, code: &str) -> Result<Option<Uuid>, DbError> {
    Ok(
        sqlx::query_scalar!("select id from departments where code = $1", code)
            .fetch_optional(conn)
            .await?,
    )
}
