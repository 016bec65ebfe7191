//! PostgreSQL: the connection pool, migrations, the embedded cluster, and every query
//! (one module per table group). Functions take `&mut PgConnection`; services own the
//! transactions.

pub mod access;
pub mod audit;
pub mod backup;
pub mod blobs;
pub mod catalogue;
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

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
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
    /// A unique or foreign-key constraint refused the change; `constraint` names it.
    #[error("constraint {constraint} refused the change")]
    Constraint { constraint: String },
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

    /// The name of the violated constraint, if that is what happened.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            DbError::Constraint { constraint } => Some(constraint),
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
                match (
                    db.is_unique_violation() || db.is_foreign_key_violation(),
                    db.constraint(),
                ) {
                    (true, Some(constraint)) => DbError::Constraint {
                        constraint: constraint.to_owned(),
                    },
                    _ => DbError::Other(error),
                }
            }
            _ => DbError::Other(error),
        }
    }
}

/// Where the database is: a URL from the configuration, or the embedded cluster's socket.
#[derive(Clone)]
pub enum Target {
    Url(String),
    Socket {
        dir: PathBuf,
        user: String,
        database: String,
    },
}

/// Whether `url` reaches PostgreSQL on this machine (loopback or a socket) and leaves
/// `sslmode` unsaid.
fn loopback_without_sslmode(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    if parsed.query_pairs().any(|(key, _)| key == "sslmode") {
        return false;
    }
    let socket = parsed
        .query_pairs()
        .any(|(key, value)| key == "host" && value.starts_with('/'));
    // postgres: is not a special scheme to `url`, so an address comes as a name
    let host = parsed.host_str().unwrap_or_default();
    let address = host.trim_start_matches('[').trim_end_matches(']');
    socket
        || host.is_empty()
        || host == "localhost"
        || address
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Target {
    fn options(&self) -> Result<PgConnectOptions, DbError> {
        match self {
            Target::Url(url) => {
                let options: PgConnectOptions = url.parse().map_err(DbError::Other)?;
                Ok(if loopback_without_sslmode(url) {
                    // TLS to a server on this machine protects nothing and costs every
                    // query an encryption on both sides; a URL that names sslmode decides
                    options.ssl_mode(sqlx::postgres::PgSslMode::Disable)
                } else {
                    options
                })
            }
            Target::Socket {
                dir,
                user,
                database,
            } => Ok(PgConnectOptions::new()
                .socket(dir)
                .username(user)
                .database(database)),
        }
    }

    /// Where the database is, without any password.
    pub fn describe(&self) -> String {
        match self {
            Target::Url(url) => match url::Url::parse(url) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("***"));
                    }
                    parsed.to_string()
                }
                Err(_) => "an unparsable URL".to_owned(),
            },
            Target::Socket { dir, database, .. } => {
                format!(
                    "embedded cluster (socket {}, database {database})",
                    dir.display()
                )
            }
        }
    }
}

/// Pool sizing and timeouts.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub connect_timeout: Duration,
}

/// Connects, retrying until `connect_timeout` so that a server still starting is waited for.
pub async fn connect(target: &Target, settings: PoolSettings) -> Result<Pool, DbError> {
    let options = target.options()?;
    let started = Instant::now();
    loop {
        let attempt = pool_options(settings).connect_with(options.clone()).await;
        match attempt.map_err(DbError::from) {
            Ok(pool) => return Ok(pool),
            Err(DbError::Unavailable(error)) if started.elapsed() < settings.connect_timeout => {
                tracing::info!(target = %target.describe(), %error, "database not reachable yet; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// A pool that connects on first use; requests fail with 503 while the server is away.
pub fn connect_lazy(target: &Target, settings: PoolSettings) -> Result<Pool, DbError> {
    Ok(pool_options(settings).connect_lazy_with(target.options()?))
}

/// A connection idle for longer than this is pinged before it is handed out.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The pool's options. sqlx pings a connection before every hand-out by default, one round
/// trip in each of the dozen a filing takes; here only a connection that sat idle is pinged
/// (the server may have restarted meanwhile). One that is handed straight on was pinged when
/// it came back (sqlx tests every returned connection), and a failure on it closes it.
fn pool_options(settings: PoolSettings) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// An open database: the pool, and the embedded cluster when dangan runs its own.
pub struct Database {
    pub pool: Pool,
    pub target: Target,
    pub embedded: Option<embedded::EmbeddedPostgres>,
}

impl Database {
    /// Connects to `url`, or starts (creating on first use) the embedded cluster under
    /// `data_dir` when there is none.
    pub async fn open(
        url: Option<&str>,
        data_dir: &std::path::Path,
        settings: PoolSettings,
    ) -> Result<Self, DbError> {
        let Some(url) = url else {
            return Self::open_embedded(data_dir, settings).await;
        };
        let target = Target::Url(url.to_owned());
        let pool = connect(&target, settings).await?;
        Ok(Self {
            pool,
            target,
            embedded: None,
        })
    }

    async fn open_embedded(
        data_dir: &std::path::Path,
        settings: PoolSettings,
    ) -> Result<Self, DbError> {
        let dir = data_dir.to_path_buf();
        let timeout = settings.connect_timeout;
        let embedded =
            tokio::task::spawn_blocking(move || embedded::EmbeddedPostgres::start(&dir, timeout))
                .await
                .map_err(|error| embedded::EmbeddedError::Command {
                    action: "starting PostgreSQL".into(),
                    detail: error.to_string(),
                })??;
        let maintenance = connect(&embedded.maintenance_target(), settings).await?;
        let exists = sqlx::query_scalar!(
            r#"select exists (select 1 from pg_database where datname = $1) as "exists!""#,
            embedded::DATABASE
        )
        .fetch_one(&maintenance)
        .await?;
        if !exists {
            sqlx::query("create database dangan")
                .execute(&maintenance)
                .await?;
        }
        maintenance.close().await;
        let target = embedded.target().clone();
        let pool = connect(&target, settings).await?;
        Ok(Self {
            pool,
            target,
            embedded: Some(embedded),
        })
    }

    /// Closes the pool, then stops the embedded cluster if dangan started it.
    pub async fn close(self, timeout: Duration) {
        self.pool.close().await;
        if let Some(embedded) = self.embedded {
            let _ = tokio::task::spawn_blocking(move || embedded.stop(timeout)).await;
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

/// Takes a connection from the pool.
pub async fn acquire(pool: &Pool) -> Result<PooledConnection, DbError> {
    Ok(pool.acquire().await?)
}

/// Checks that the database answers.
pub async fn ping(pool: &Pool) -> Result<(), DbError> {
    sqlx::query!("select 1 as one").fetch_one(pool).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::loopback_without_sslmode;

    #[test]
    fn tls_is_left_out_only_on_this_machine_and_only_when_the_url_is_silent() {
        for local in [
            "postgres://postgres@127.0.0.1:5432/dangan",
            "postgres://u@localhost/dangan",
            "postgres://u@[::1]:5432/dangan",
            "postgres:///dangan?host=/var/run/postgresql",
        ] {
            assert!(loopback_without_sslmode(local), "{local}");
        }
        for remote_or_said in [
            "postgres://u@db.example.cn/dangan",
            "postgres://u@10.0.0.5/dangan",
            "postgres://u@127.0.0.1/dangan?sslmode=require",
        ] {
            assert!(
                !loopback_without_sslmode(remote_or_said),
                "{remote_or_said}"
            );
        }
    }
}
