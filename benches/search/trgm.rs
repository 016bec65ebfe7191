//! The peer: PostgreSQL with pg_trgm in a scratch database (UTF-8 ctype, or pg_trgm makes no
//! trigrams of CJK text), a GIN trigram index on the same text, and `ILIKE '%…%'` searches
//! with custom plans (a generic plan turns short patterns into a full GIN scan).

use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection, Row};

/// A scratch database holding the benchmark's text; [`Baseline::drop_database`] removes it.
pub struct Baseline {
    admin: PgConnectOptions,
    name: String,
    connection: Option<PgConnection>,
}

impl Baseline {
    /// Creates the scratch database `dangan_bench_trgm_<pid>`; it is empty until
    /// [`Baseline::prepare`].
    pub async fn create(database_url: &str) -> anyhow::Result<Self> {
        let admin = PgConnectOptions::from_str(database_url)
            .with_context(|| format!("DATABASE_URL {database_url:?} is not a PostgreSQL URL"))?;
        let name = format!("dangan_bench_trgm_{}", std::process::id());
        let mut connection = PgConnection::connect_with(&admin)
            .await
            .context("connecting to PostgreSQL (set DATABASE_URL)")?;
        // the name is ours (a number), the rest literal
        sqlx::query(AssertSqlSafe(format!(
            "create database {name} template template0 encoding 'UTF8' \
             lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'"
        )))
        .execute(&mut connection)
        .await
        .context("creating the scratch database with locale C.UTF-8")?;
        connection.close().await?;
        Ok(Self {
            admin,
            name,
            connection: None,
        })
    }

    /// Connects to the scratch database, adds pg_trgm and checks that it makes CJK trigrams.
    pub async fn prepare(&mut self) -> anyhow::Result<()> {
        let options = self.admin.clone().database(&self.name);
        let connection = self
            .connection
            .insert(PgConnection::connect_with(&options).await?);
        if let Err(error) = sqlx::query("create extension pg_trgm")
            .execute(&mut *connection)
            .await
        {
            bail!(
                "create extension pg_trgm failed ({error}): the server lacks the contrib \
                 modules; on Debian they come with the postgresql-NN package (older: \
                 postgresql-contrib)"
            );
        }
        let trigrams: i64 =
            sqlx::query_scalar("select cardinality(show_trgm('中华人民共和国'))::int8")
                .fetch_one(&mut *connection)
                .await?;
        if trigrams == 0 {
            bail!(
                "pg_trgm makes no trigrams of Chinese text: the database's LC_CTYPE is not UTF-8"
            );
        }
        Ok(())
    }

    fn connection(&mut self) -> anyhow::Result<&mut PgConnection> {
        self.connection.as_mut().context("no connection")
    }

    /// Loads `(id, body)` rows with COPY, then builds the trigram index and analyzes;
    /// returns the seconds of the load and of the index build.
    pub async fn load(
        &mut self,
        bodies: impl Iterator<Item = String>,
    ) -> anyhow::Result<(f64, f64)> {
        let connection = self.connection()?;
        let started = Instant::now();
        sqlx::query("create table docs (id bigint primary key, body text not null)")
            .execute(&mut *connection)
            .await?;
        let mut copy = connection
            .copy_in_raw("copy docs (id, body) from stdin")
            .await?;
        let mut buffer = String::with_capacity(1 << 20);
        for (id, body) in bodies.enumerate() {
            buffer.push_str(&id.to_string());
            buffer.push('\t');
            for c in body.chars() {
                match c {
                    '\\' => buffer.push_str("\\\\"),
                    '\t' => buffer.push_str("\\t"),
                    '\n' => buffer.push_str("\\n"),
                    '\r' => buffer.push_str("\\r"),
                    c => buffer.push(c),
                }
            }
            buffer.push('\n');
            if buffer.len() >= 1 << 20 {
                copy.send(buffer.as_bytes()).await?;
                buffer.clear();
            }
        }
        copy.send(buffer.as_bytes()).await?;
        copy.finish().await?;
        let loaded = started.elapsed().as_secs_f64();
        let started = Instant::now();
        sqlx::query("set maintenance_work_mem = '256MB'")
            .execute(&mut *connection)
            .await?;
        sqlx::query("create index docs_body_trgm on docs using gin (body gin_trgm_ops)")
            .execute(&mut *connection)
            .await?;
        sqlx::query("analyze docs")
            .execute(&mut *connection)
            .await?;
        // sqlx prepares and caches statements: without this, PostgreSQL switches to a
        // generic plan after five runs, several times slower for short patterns
        sqlx::query("set plan_cache_mode = force_custom_plan")
            .execute(&mut *connection)
            .await?;
        Ok((loaded, started.elapsed().as_secs_f64()))
    }

    /// Runs `terms` as `body ILIKE '%term%' AND …` with LIMIT 20; rows and time.
    pub async fn search(&mut self, terms: &[String]) -> anyhow::Result<(usize, Duration)> {
        let sql = format!(
            "select id from docs where {} limit 20",
            conditions(terms.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for term in terms {
            query = query.bind(escape_like(term));
        }
        let started = Instant::now();
        let rows = query.fetch_all(self.connection()?).await?;
        Ok((rows.len(), started.elapsed()))
    }

    /// How many rows match `terms` in all; not timed.
    pub async fn count(&mut self, terms: &[String]) -> anyhow::Result<i64> {
        let sql = format!(
            "select count(*) from docs where {}",
            conditions(terms.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for term in terms {
            query = query.bind(escape_like(term));
        }
        let row = query.fetch_one(self.connection()?).await?;
        Ok(row.try_get(0)?)
    }

    /// Drops the scratch database.
    pub async fn drop_database(mut self) -> anyhow::Result<()> {
        if let Some(connection) = self.connection.take() {
            connection.close().await.ok();
        }
        let mut connection = PgConnection::connect_with(&self.admin).await?;
        sqlx::query(AssertSqlSafe(format!(
            "drop database if exists {} with (force)",
            self.name
        )))
        .execute(&mut connection)
        .await
        .with_context(|| format!("dropping the scratch database {}", self.name))?;
        connection.close().await?;
        Ok(())
    }
}

/// `body ILIKE '%' || $n || '%'` for each term, ANDed: only placeholders vary.
fn conditions(terms: usize) -> String {
    (1..=terms)
        .map(|n| format!("body ilike '%' || ${n} || '%'"))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The term as a LIKE pattern that matches it literally.
fn escape_like(term: &str) -> String {
    let mut escaped = String::with_capacity(term.len());
    for c in term.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
