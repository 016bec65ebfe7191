//! The benchmark's documents filed in a scratch dangan installation: its own database
//! (`dangan_bench_search_<pid>`) and data directory. Rows go in with set-based statements, as
//! an import would leave them (records with their codes, files, extracted texts); then the
//! search index is built by dangan's own rebuild from PostgreSQL, the path of
//! `dangan reindex`, and timed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use anyhow::Context;
use dangan::app::Stores;
use dangan::config::Settings;
use dangan::index::RecordDocument;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};
use uuid::Uuid;

/// The first administrator's password, for the server's login.
pub const PASSWORD: &str = "bench-password";
const CHUNK: usize = 10_000;

pub struct Installation {
    pub url: String,
    pub data_dir: PathBuf,
    admin: PgConnectOptions,
    name: String,
}

/// dangan's own index build over the installation.
pub struct Built {
    pub records: u64,
    pub seconds: f64,
    pub disk_bytes: u64,
}

impl Installation {
    /// Creates the database and data directory, migrates, files `documents` and rebuilds the
    /// index; returns the installation and how long the rebuild took.
    pub async fn create(
        database_url: &str,
        work: &Path,
        documents: &[RecordDocument],
    ) -> anyhow::Result<(Self, Built)> {
        let admin = PgConnectOptions::from_str(database_url)
            .with_context(|| format!("DATABASE_URL {database_url:?} is not a PostgreSQL URL"))?;
        let name = format!("dangan_bench_search_{}", std::process::id());
        let mut connection = PgConnection::connect_with(&admin).await?;
        // the name is ours (a number)
        sqlx::query(AssertSqlSafe(format!("create database {name}")))
            .execute(&mut connection)
            .await?;
        connection.close().await?;
        let base = database_url
            .rsplit_once('/')
            .map_or(database_url, |(server, _)| server);
        let installation = Self {
            url: format!("{base}/{name}"),
            data_dir: work.join("dangan"),
            admin,
            name,
        };
        let built = installation.fill(documents).await?;
        Ok((installation, built))
    }

    async fn fill(&self, documents: &[RecordDocument]) -> anyhow::Result<Built> {
        let settings = Settings::from_sources(
            None,
            vec![
                ("DANGAN_DATABASE_URL".to_owned(), self.url.clone()),
                (
                    "DANGAN_DATA_DIR".to_owned(),
                    self.data_dir.display().to_string(),
                ),
            ],
        )?;
        let (stores, app) = Stores::open_app(&settings).await?;
        app.auth.ensure_admin(Some(PASSWORD)).await?;
        let pool = stores.database.pool.clone();
        let codes = Codes::register(&pool, documents).await?;
        let started = Instant::now();
        for (n, chunk) in documents.chunks(CHUNK).enumerate() {
            insert_chunk(&pool, &codes, chunk).await?;
            if (n + 1) % 10 == 0 {
                super::progress(&format!(
                    "  {} records filed ({:.0} s)",
                    (n + 1) * CHUNK,
                    started.elapsed().as_secs_f64()
                ));
            }
        }
        // no analyze here: the rebuild refreshes the statistics it needs itself, as it must
        // for `dangan reindex` right after an import
        super::progress(&format!(
            "dangan: {} records filed in {:.0} s; rebuilding the index from PostgreSQL (dangan reindex)",
            documents.len(),
            started.elapsed().as_secs_f64()
        ));
        let started = Instant::now();
        let records = app
            .search
            .rebuild(|done, total| {
                if done % 100_000 == 0 && done > 0 {
                    super::progress(&format!("  {done} of {total} records indexed"));
                }
            })
            .await?;
        let seconds = started.elapsed().as_secs_f64();
        // what housekeeping and autovacuum do after an import, done before the clock runs
        super::progress("dangan: pruning the change log and vacuuming, as after an import");
        while app.search.prune_change_log().await? > 0 {}
        sqlx::query("vacuum (analyze)").execute(&pool).await?;
        stores
            .database
            .close(std::time::Duration::from_secs(10))
            .await;
        Ok(Built {
            records,
            seconds,
            disk_bytes: super::disk_usage(&stores.index_dir),
        })
    }

    pub async fn drop_all(self) -> anyhow::Result<()> {
        let mut connection = PgConnection::connect_with(&self.admin).await?;
        sqlx::query(AssertSqlSafe(format!(
            "drop database if exists {} with (force)",
            self.name
        )))
        .execute(&mut connection)
        .await?;
        std::fs::remove_dir_all(&self.data_dir).ok();
        Ok(())
    }
}

/// Ids of the catalogue's codes (categories, fonds, departments, retention periods) that the
/// documents use, registered where the preset lacks them.
struct Codes(HashMap<(&'static str, String), Uuid>);

impl Codes {
    async fn register(pool: &PgPool, documents: &[RecordDocument]) -> anyhow::Result<Self> {
        let mut codes = HashMap::new();
        let tables = [
            (
                "categories",
                "(id, code, name_hans, name_hant, name_en) select gen_random_uuid(), c, c, c, c",
            ),
            ("fonds", "(id, code, name) select gen_random_uuid(), c, c"),
            (
                "departments",
                "(id, code, name) select gen_random_uuid(), c, c",
            ),
            (
                "retention_policies",
                "(id, code, name) select gen_random_uuid(), c, c",
            ),
        ];
        for (table, insert) in tables {
            let mut wanted: Vec<String> = documents
                .iter()
                .filter_map(|document| match table {
                    "categories" => document.category.clone(),
                    "fonds" => document.fonds.clone(),
                    "departments" => document.department.clone(),
                    _ => document.retention.clone(),
                })
                .collect();
            wanted.sort();
            wanted.dedup();
            // table names and columns are literals of this function
            sqlx::query(AssertSqlSafe(format!(
                "insert into {table} {insert} from unnest($1::text[]) as t (c) on conflict (code) do nothing"
            )))
            .bind(&wanted)
            .execute(pool)
            .await
            .with_context(|| format!("registering the codes of {table}"))?;
            let rows: Vec<(Uuid, String)> = sqlx::query_as(AssertSqlSafe(format!(
                "select id, code from {table} where code = any($1)"
            )))
            .bind(&wanted)
            .fetch_all(pool)
            .await?;
            codes.extend(rows.into_iter().map(|(id, code)| ((table, code), id)));
        }
        Ok(Self(codes))
    }

    fn id(&self, table: &'static str, code: Option<&String>) -> Option<Uuid> {
        code.and_then(|code| self.0.get(&(table, code.clone())).copied())
    }
}

/// Records, then the blobs, files and extracted texts of those that have text: one
/// transaction per chunk, as an import commits.
async fn insert_chunk(
    pool: &PgPool,
    codes: &Codes,
    chunk: &[RecordDocument],
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let column = |f: fn(&RecordDocument) -> Option<String>| chunk.iter().map(f).collect::<Vec<_>>();
    let ids: Vec<Uuid> = chunk.iter().map(|d| d.id).collect();
    let titles: Vec<String> = chunk.iter().map(|d| d.title.clone()).collect();
    let reference = |table, f: fn(&RecordDocument) -> Option<&String>| {
        chunk
            .iter()
            .map(|d| codes.id(table, f(d)))
            .collect::<Vec<_>>()
    };
    sqlx::query(
        "insert into records (id, title, description, archival_code, doc_number, category_id,
                              fonds_id, department_id, retention_policy_id, security_level,
                              open_status, year, doc_date, carrier)
         select *, 'electronic' from unnest($1::uuid[], $2::text[], $3::text[], $4::text[],
              $5::text[], $6::uuid[], $7::uuid[], $8::uuid[], $9::uuid[], $10::text[],
              $11::text[], $12::int4[], $13::date[])",
    )
    .bind(&ids)
    .bind(&titles)
    .bind(column(|d| d.description.clone()))
    .bind(column(|d| d.archival_code.clone()))
    .bind(column(|d| d.doc_number.clone()))
    .bind(reference("categories", |d| d.category.as_ref()))
    .bind(reference("fonds", |d| d.fonds.as_ref()))
    .bind(reference("departments", |d| d.department.as_ref()))
    .bind(reference("retention_policies", |d| d.retention.as_ref()))
    .bind(
        chunk
            .iter()
            .map(|d| d.security_level.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        chunk
            .iter()
            .map(|d| d.open_status.clone())
            .collect::<Vec<_>>(),
    )
    .bind(chunk.iter().map(|d| d.year).collect::<Vec<_>>())
    .bind(chunk.iter().map(|d| d.doc_date).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .context("filing records")?;

    let with_text: Vec<(&RecordDocument, &String)> = chunk
        .iter()
        .flat_map(|d| d.texts.first().map(|text| (d, text)))
        .collect();
    let records: Vec<Uuid> = with_text.iter().map(|(d, _)| d.id).collect();
    let files: Vec<Uuid> = with_text.iter().map(|_| Uuid::now_v7()).collect();
    let texts: Vec<&str> = with_text.iter().map(|(_, text)| text.as_str()).collect();
    let digests: Vec<Vec<u8>> = texts
        .iter()
        .map(|text| Sha256::digest(text.as_bytes()).to_vec())
        .collect();
    let sizes: Vec<i64> = texts.iter().map(|text| text.len() as i64).collect();
    sqlx::query(
        "insert into blobs (sha256, size, refcount)
         select *, 1 from unnest($1::bytea[], $2::int8[]) on conflict do nothing",
    )
    .bind(&digests)
    .bind(&sizes)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into record_files (id, record_id, position, sha256, size, media_type, filename)
         select id, record_id, 0, sha256, size, 'text/plain', 'text.txt'
         from unnest($1::uuid[], $2::uuid[], $3::bytea[], $4::int8[]) as t (id, record_id, sha256, size)",
    )
    .bind(&files)
    .bind(&records)
    .bind(&digests)
    .bind(&sizes)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into file_texts (file_id, record_id, status, method, text)
         select file_id, record_id, 'done', 'text', text
         from unnest($1::uuid[], $2::uuid[], $3::text[]) as t (file_id, record_id, text)",
    )
    .bind(&files)
    .bind(&records)
    .bind(&texts)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
