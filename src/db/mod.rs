//! PostgreSQL: the connection pool, migrations, the embedded cluster, and every query
//! (one module per table group). Functions take `&mut PgConnection`; services own the
//! transactions.

pub mod access;
pub mod audit;
pub mod backup;
pub mod blobs;
pub mod catalogue;
pub mod classification;
pub mod corrections;
pub mod deadlines;
pub mod destroy;
pub mod destruction;
pub mod disposition;
pub mod embedded;
pub mod export;
pub mod holds;
pub mod imports;
pub mod integrity;
pub mod jobs;
pub mod loans;
pub mod parties;
pub mod places;
pub mod planner;
pub mod readings;
pub mod records;
pub mod releases;
pub mod reminders;
pub mod reports;
pub mod rooms;
pub mod search;
pub mod stats;
pub mod stocktakes;
pub mod texts;
pub mod tokens;
pub mod users;
pub mod variants;

mod conflict;
mod enums;
mod pool;

pub use conflict::Conflict;

pub use pool::{
    Database, PoolSettings, Pools, Priority, Target, connect, connect_for, connect_lazy,
};
pub use sqlx::{PgConnection, PgPool as Pool, Postgres};

use crate::domain::ErrorCode;

/// A connection taken from the pool for as long as it is held.
pub type PooledConnection = sqlx::pool::PoolConnection<Postgres>;

/// A transaction on the pool; commit it with `.commit().await`.
pub type Tx = sqlx::Transaction<'static, Postgres>;

/// What went wrong talking to PostgreSQL.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The server cannot be reached or is shutting down; callers see 503.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// A unique or foreign-key constraint refused the change: `conflict` is the rule,
    /// `constraint` its name in the schema.
    #[error("constraint {constraint} refused the change")]
    Constraint {
        conflict: Conflict,
        constraint: String,
    },
    /// Any other database error: a fault of ours.
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("embedded PostgreSQL: {0}")]
    Embedded(#[from] embedded::EmbeddedError),
    /// A value the database cannot hold (a number out of range, a NUL character in text):
    /// bad input, not a fault of ours; callers see 400.
    #[error("a value cannot be stored: {0}")]
    InvalidValue(String),
    /// A PostgreSQL program (pg_dump, pg_restore) failed; the text says how.
    #[error("{0}")]
    Tool(String),
}

impl DbError {
    /// The API error code this failure maps to.
    pub fn code(&self) -> ErrorCode {
        match self {
            DbError::Unavailable(_) | DbError::Embedded(_) => ErrorCode::Unavailable,
            DbError::Constraint { .. } => ErrorCode::Conflict,
            DbError::InvalidValue(_) => ErrorCode::Validation,
            DbError::Other(_) | DbError::Migrate(_) | DbError::Tool(_) => ErrorCode::Internal,
        }
    }

    /// The rule of the schema that refused the change, if that is what happened.
    pub fn conflict(&self) -> Option<Conflict> {
        match self {
            DbError::Constraint { conflict, .. } => Some(*conflict),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for DbError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::BeginFailed => DbError::Unavailable(error),
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                // 08: connection exception; 57P0x: shutdown in progress; 53300: too many connections.
                if code.starts_with("08") || code.starts_with("57P") || code == "53300" {
                    return DbError::Unavailable(error);
                }
                // 22: data exception, a value the column cannot hold
                if code.starts_with("22") {
                    return DbError::InvalidValue(db.message().to_owned());
                }
                let unique = db.is_unique_violation();
                match (unique || db.is_foreign_key_violation(), db.constraint()) {
                    (true, Some(constraint)) => DbError::Constraint {
                        conflict: Conflict::of(constraint, unique),
                        constraint: constraint.to_owned(),
                    },
                    _ => DbError::Other(error),
                }
            }
            _ => DbError::Other(error),
        }
    }
}

/// Applies the migrations in `migrations/` that this database has not seen.
pub async fn migrate(pool: &Pool) -> Result<(), DbError> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
}

/// Starts a transaction.
pub async fn begin(pool: &Pool) -> Result<Tx, DbError> {
    Ok(pool.begin().await?)
}

/// A commit that did not succeed: the server refused it (the transaction is rolled back), or
/// the connection failed on the way, so the commit may have happened with its reply lost.
#[derive(Debug)]
pub enum CommitFailure {
    RolledBack(DbError),
    Unknown(DbError),
}

/// Commits `tx`, telling a refused commit from one whose outcome is unknown.
pub async fn commit(tx: Tx) -> Result<(), CommitFailure> {
    tx.commit().await.map_err(|error| match error {
        sqlx::Error::Database(_) => CommitFailure::RolledBack(error.into()),
        other => CommitFailure::Unknown(other.into()),
    })
}

/// Rolls `tx` back now, releasing its locks (a dropped transaction rolls back only when its
/// connection is next used).
pub async fn rollback(tx: Tx) -> Result<(), DbError> {
    Ok(tx.rollback().await?)
}

/// A transaction's id, read before its commit, so that the commit's outcome can be asked
/// for when its reply is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XactId(i64);

/// What became of a transaction, as the server's commit log tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XactOutcome {
    Committed,
    Aborted,
    /// Its commit is still running (or its backend has not yet seen the connection end).
    InProgress,
}

/// The id of `tx`'s transaction, assigned now if it has none yet. Read it first thing in a
/// write that must tell a lost commit reply from a lost commit (a round trip made before
/// the write takes its locks, not while it holds them), or with its audit event
/// ([`audit::append_with_xact_id`]).
pub async fn xact_id(tx: &mut Tx) -> Result<XactId, DbError> {
    let id = sqlx::query_scalar!(r#"select pg_current_xact_id()::text::bigint as "id!""#)
        .fetch_one(&mut **tx)
        .await?;
    Ok(XactId(id))
}

/// What became of the transaction `xact`; `None` when the server no longer knows (an id
/// older than the commit log it keeps, which an outcome asked for at once never is).
pub async fn xact_outcome(pool: &Pool, xact: XactId) -> Result<Option<XactOutcome>, DbError> {
    let status = sqlx::query_scalar!(
        "select pg_xact_status($1::bigint::text::xid8) as status",
        xact.0
    )
    .fetch_one(pool)
    .await?;
    Ok(match status.as_deref() {
        Some("committed") => Some(XactOutcome::Committed),
        Some("aborted") => Some(XactOutcome::Aborted),
        Some("in progress") => Some(XactOutcome::InProgress),
        _ => None,
    })
}

/// Takes a connection from the pool.
pub async fn acquire(pool: &Pool) -> Result<PooledConnection, DbError> {
    Ok(pool.acquire().await?)
}

/// Checks that the database answers.
pub async fn ping(pool: &Pool) -> Result<(), DbError> {
    sqlx::query!("select 1 as one").fetch_one(pool).await?;
    Ok(())
}
