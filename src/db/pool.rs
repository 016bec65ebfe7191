//! Connections: where the database is, the two pools (requests and background work), and
//! the embedded cluster when dangan runs its own.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{DbError, PgConnection, Pool, embedded};

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
    on_this_machine(url)
        && url::Url::parse(url)
            .is_ok_and(|parsed| !parsed.query_pairs().any(|(key, _)| key == "sslmode"))
}

/// Whether `url` reaches PostgreSQL on this machine: loopback or a socket.
fn on_this_machine(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
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

    /// Whether the server runs on this machine, so that its backends are processes here.
    fn is_local(&self) -> bool {
        match self {
            Target::Url(url) => on_this_machine(url),
            Target::Socket { .. } => true,
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

/// Which work a pool's connections serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Requests someone waits for: searches, pages, reads and edits.
    Requests,
    /// Bulk work (uploads, extraction, indexing, jobs): its backends, when they run on this
    /// machine, are lowered to background priority (see [`crate::priority`]).
    Background,
}

/// The two pools of a process: one per [`Priority`].
#[derive(Clone)]
pub struct Pools {
    pub requests: Pool,
    pub background: Pool,
}

impl From<Pool> for Pools {
    /// One pool for both, at normal priority: for tools and tests that need no split.
    fn from(pool: Pool) -> Self {
        Self {
            requests: pool.clone(),
            background: pool,
        }
    }
}

/// Connects, retrying until `connect_timeout` so that a server still starting is waited for.
pub async fn connect(target: &Target, settings: PoolSettings) -> Result<Pool, DbError> {
    connect_for(target, settings, Priority::Requests).await
}

/// As [`connect`], for work of `priority`.
pub async fn connect_for(
    target: &Target,
    settings: PoolSettings,
    priority: Priority,
) -> Result<Pool, DbError> {
    let mut options = target.options()?;
    if options.get_application_name().is_none() {
        // which pool a backend serves, in pg_stat_activity
        options = options.application_name(match priority {
            Priority::Requests => "dangan",
            Priority::Background => "dangan background",
        });
    }
    let started = Instant::now();
    let lower = priority == Priority::Background && target.is_local();
    loop {
        let attempt = pool_options(settings, lower)
            .connect_with(options.clone())
            .await;
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
    Ok(pool_options(settings, false).connect_lazy_with(target.options()?))
}

/// A connection idle for longer than this is pinged before it is handed out.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The pool's options. sqlx pings a connection before every hand-out by default, one round
/// trip in each of the dozen a filing takes; here only a connection that sat idle is pinged
/// (the server may have restarted meanwhile). One that is handed straight on was pinged when
/// it came back (sqlx tests every returned connection), and a failure on it closes it.
/// With `lower_backends`, each new connection's backend is lowered to background priority.
fn pool_options(settings: PoolSettings, lower_backends: bool) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if lower_backends {
                    lower_backend(conn).await;
                }
                Ok(())
            })
        })
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

/// Lowers the backend behind `conn` to background priority, when this process may (same
/// user or root); said once when it may not, and the work then runs at normal priority.
async fn lower_backend(conn: &mut PgConnection) {
    static SAID: std::sync::Once = std::sync::Once::new();
    let outcome = match sqlx::query_scalar::<_, i32>("select pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await
    {
        Ok(pid) => {
            let pid = u32::try_from(pid).unwrap_or_default();
            // a pid of another machine's server, or of a server in another pid namespace,
            // may name an unrelated process here: only a postgres process is touched
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim_end() == "postgres" {
                crate::priority::lower_process(pid).map_err(|error| error.to_string())
            } else {
                Err(format!("process {pid} here is not a PostgreSQL backend"))
            }
        }
        Err(error) => Err(error.to_string()),
    };
    if let Err(error) = outcome {
        SAID.call_once(|| {
            tracing::info!(
                %error,
                "PostgreSQL backends of background work keep normal priority (run dangan as \
                 PostgreSQL's user or root for searches to go first during bulk work)"
            );
        });
    }
}

/// Connections of background work at most, beside `max_connections` for requests.
fn background_connections(settings: PoolSettings) -> PoolSettings {
    PoolSettings {
        max_connections: (settings.max_connections / 2).max(2),
        ..settings
    }
}

/// An open database: the pools, and the embedded cluster when dangan runs its own.
pub struct Database {
    /// Requests someone waits for.
    pub pool: Pool,
    /// Bulk work, at background priority on this machine.
    pub background: Pool,
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
        Self::connect(Target::Url(url.to_owned()), settings, None).await
    }

    /// Opens both pools on `target`.
    async fn connect(
        target: Target,
        settings: PoolSettings,
        embedded: Option<embedded::EmbeddedPostgres>,
    ) -> Result<Self, DbError> {
        let pool = connect(&target, settings).await?;
        let background = connect_for(
            &target,
            background_connections(settings),
            Priority::Background,
        )
        .await?;
        Ok(Self {
            pool,
            background,
            target,
            embedded,
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
        Self::connect(embedded.target().clone(), settings, Some(embedded)).await
    }

    /// Both pools, for the services.
    pub fn pools(&self) -> Pools {
        Pools {
            requests: self.pool.clone(),
            background: self.background.clone(),
        }
    }

    /// Closes the pools, then stops the embedded cluster if dangan started it.
    pub async fn close(self, timeout: Duration) {
        self.pool.close().await;
        self.background.close().await;
        if let Some(embedded) = self.embedded {
            let _ = tokio::task::spawn_blocking(move || embedded.stop(timeout)).await;
        }
    }
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
