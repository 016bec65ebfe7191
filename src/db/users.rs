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
    pub party_id: Option<Uuid>,
}

/// A new user to insert.
pub struct NewUser<'a> {
    pub id: Uuid,
    pub username: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub department_id: Option<Uuid>,
}

/// Inserts a user; a taken username fails with [`Conflict::Username`](super::Conflict::Username).
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
        "select id, username, password_hash, role, department_id, active, created_at, email, party_id
         from users where username = $1",
        username
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn list(conn: &mut PgConnection) -> Result<Vec<UserRow>, DbError> {
    Ok(sqlx::query_as!(
        UserRow,
        "select id, username, password_hash, role, department_id, active, created_at, email, party_id
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

/// The failures of each login key (`user:<name>`, `addr:<ip>`) and the time of the last.
pub async fn login_failures(
    conn: &mut PgConnection,
    keys: &[String],
) -> Result<Vec<(String, i32, DateTime<Utc>)>, DbError> {
    let rows = sqlx::query!(
        "select key, failures, last_failed_at from login_failures where key = any($1)",
        keys
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.key, row.failures, row.last_failed_at))
        .collect())
}

/// Counts a failed login against each key; a count quiet for `fade_after` starts again.
pub async fn record_login_failure(
    conn: &mut PgConnection,
    keys: &[String],
    fade_after: std::time::Duration,
) -> Result<(), DbError> {
    let fade_secs = fade_after.as_secs_f64();
    sqlx::query!(
        "insert into login_failures (key, failures, last_failed_at)
         select key, 1, now() from unnest($1::text[]) as key
         on conflict (key) do update set
             failures = case when login_failures.last_failed_at < now() - make_interval(secs => $2)
                             then 1 else login_failures.failures + 1 end,
             last_failed_at = now()",
        keys,
        fade_secs
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets the failures of `key` (a successful login).
pub async fn clear_login_failures(conn: &mut PgConnection, key: &str) -> Result<(), DbError> {
    sqlx::query!("delete from login_failures where key = $1", key)
        .execute(conn)
        .await?;
    Ok(())
}

/// A user by id.
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<UserRow>, DbError> {
    Ok(sqlx::query_as!(
        UserRow,
        "select id, username, password_hash, role, department_id, active, created_at, email, party_id
         from users where id = $1 for update",
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// What an administrator changes of a user.
pub struct UserChange<'a> {
    pub role: &'a str,
    pub department_id: Option<Uuid>,
    pub email: Option<&'a str>,
    pub active: bool,
    pub party_id: Option<Uuid>,
}

/// Stores a user's role, department, e-mail, active flag and employee folder.
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    change: &UserChange<'_>,
) -> Result<(), DbError> {
    sqlx::query!(
        "update users set role = $2, department_id = $3, email = $4, active = $5, party_id = $6
         where id = $1",
        id,
        change.role,
        change.department_id,
        change.email,
        change.active,
        change.party_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a new password hash.
pub async fn set_password(conn: &mut PgConnection, id: Uuid, hash: &str) -> Result<(), DbError> {
    sqlx::query!(
        "update users set password_hash = $2 where id = $1",
        id,
        hash
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Active admins.
pub async fn active_admins(conn: &mut PgConnection) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "count!" from users where role = 'admin' and active"#
    )
    .fetch_one(conn)
    .await?)
}
