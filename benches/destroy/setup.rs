//! One scratch installation for the destroy benchmark: its own database and data directory,
//! `items` records appraised for destruction in one approved batch with its job queued, and
//! `bystanders` records outside it; each record has one small file of its own, written to the
//! local object store. Rows go in with a few set-based statements.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Context;
use dangan::app::Stores;
use dangan::blobs::BlobKey;
use dangan::config::Settings;
use dangan::domain::Sha256Digest;
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};
use uuid::Uuid;

pub struct Scratch {
    pub url: String,
    pub data_dir: PathBuf,
    pub pool: PgPool,
    pub batch_id: Uuid,
    admin: PgConnectOptions,
    name: String,
    batch_digests: Vec<Sha256Digest>,
    bystander_digests: Vec<Sha256Digest>,
}

/// One record to make: its id, title and file.
struct Item {
    id: Uuid,
    digest: Sha256Digest,
    content: Vec<u8>,
}

fn make_items(label: &str, count: usize, offset: usize) -> Vec<Item> {
    (offset..offset + count)
        .map(|n| {
            let line = format!("dangan destroy benchmark {label} item {n}\n");
            let content = line.repeat(1024 / line.len() + 1).into_bytes();
            let digest = Sha256Digest::from_slice(&Sha256::digest(&content)).expect("32 bytes");
            Item {
                id: Uuid::now_v7(),
                digest,
                content,
            }
        })
        .collect()
}

impl Scratch {
    pub async fn create(
        database_url: &str,
        work: &Path,
        label: &str,
        items: usize,
        bystanders: usize,
    ) -> anyhow::Result<Self> {
        let admin = PgConnectOptions::from_str(database_url)
            .with_context(|| format!("DATABASE_URL {database_url:?} is not a PostgreSQL URL"))?;
        let name = format!("dangan_bench_destroy_{label}_{}", std::process::id());
        let mut connection = PgConnection::connect_with(&admin)
            .await
            .context("connecting to PostgreSQL (set DATABASE_URL)")?;
        // the name is ours (a label and a number)
        sqlx::query(AssertSqlSafe(format!("drop database if exists {name}")))
            .execute(&mut connection)
            .await?;
        sqlx::query(AssertSqlSafe(format!("create database {name}")))
            .execute(&mut connection)
            .await?;
        connection.close().await?;
        let url = {
            let base = database_url
                .rsplit_once('/')
                .map_or(database_url, |(server, _)| server);
            format!("{base}/{name}")
        };
        let data_dir = work.join(format!(
            "dangan-bench-destroy-{label}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&data_dir)?;
        eprintln!("[{label}] setting up {items} approved items and {bystanders} bystanders");

        let settings = Settings::from_sources(
            None,
            vec![
                ("DANGAN_DATABASE_URL".to_owned(), url.clone()),
                ("DANGAN_DATA_DIR".to_owned(), data_dir.display().to_string()),
            ],
        )?;
        let (stores, app) = Stores::open_app(&settings).await?;
        let pool = stores.database.pool.clone();
        let batch = make_items(label, items, 0);
        let others = make_items(label, bystanders, items);
        write_objects(&data_dir, batch.iter().chain(&others))?;
        let batch_id = insert_rows(&pool, &batch, &others).await?;
        eprintln!("[{label}] indexing the set-up before the clock starts");
        app.search.catch_up().await?;
        stores
            .database
            .close(std::time::Duration::from_secs(10))
            .await;
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await?;
        Ok(Self {
            url,
            data_dir,
            pool,
            batch_id,
            admin,
            name,
            batch_digests: batch.iter().map(|item| item.digest).collect(),
            bystander_digests: others.iter().map(|item| item.digest).collect(),
        })
    }

    /// Objects still stored: of the batch's items, and of the bystanders.
    pub fn objects_left(&self) -> anyhow::Result<(usize, usize)> {
        let stored = |digests: &[Sha256Digest]| {
            digests
                .iter()
                .filter(|digest| object_path(&self.data_dir, **digest).exists())
                .count()
        };
        Ok((stored(&self.batch_digests), stored(&self.bystander_digests)))
    }

    pub async fn drop_all(self) -> anyhow::Result<()> {
        self.pool.close().await;
        let mut connection = PgConnection::connect_with(&self.admin).await?;
        sqlx::query(AssertSqlSafe(format!(
            "drop database {} with (force)",
            self.name
        )))
        .execute(&mut connection)
        .await?;
        std::fs::remove_dir_all(&self.data_dir).ok();
        Ok(())
    }
}

fn object_path(data_dir: &Path, digest: Sha256Digest) -> PathBuf {
    data_dir
        .join("objects")
        .join(BlobKey::Content(digest).path().as_ref())
}

fn write_objects<'a>(data_dir: &Path, items: impl Iterator<Item = &'a Item>) -> anyhow::Result<()> {
    for item in items {
        let path = object_path(data_dir, item.digest);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &item.content)?;
    }
    Ok(())
}

/// Users, blobs, records with their files, appraisals, the approved batch and its job.
async fn insert_rows(pool: &PgPool, batch: &[Item], others: &[Item]) -> anyhow::Result<Uuid> {
    let mut tx = pool.begin().await?;
    let users: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    sqlx::query(
        "insert into users (id, username, password_hash, role)
         select id, 'bench_' || n, 'not a hash', 'archivist'
         from unnest($1::uuid[]) with ordinality as t (id, n)",
    )
    .bind(&users)
    .execute(&mut *tx)
    .await?;
    let all: Vec<&Item> = batch.iter().chain(others).collect();
    let ids: Vec<Uuid> = all.iter().map(|item| item.id).collect();
    let digests: Vec<Vec<u8>> = all
        .iter()
        .map(|item| item.digest.as_bytes().to_vec())
        .collect();
    let sizes: Vec<i64> = all.iter().map(|item| item.content.len() as i64).collect();
    sqlx::query("insert into blobs (sha256, size, refcount) select * , 1 from unnest($1::bytea[], $2::int8[])")
        .bind(&digests)
        .bind(&sizes)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into records (id, title, doc_date, year, carrier, retention_due_on, created_by)
         select id, '基準測試記錄 ' || n, date '2000-01-01', 2000, 'electronic', date '2011-01-01', $2
         from unnest($1::uuid[]) with ordinality as t (id, n)",
    )
    .bind(&ids)
    .bind(users[0])
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into record_files (id, record_id, position, sha256, size, media_type, filename)
         select gen_random_uuid(), id, 0, sha256, size, 'text/plain', 'item.txt'
         from unnest($1::uuid[], $2::bytea[], $3::int8[]) as t (id, sha256, size)",
    )
    .bind(&ids)
    .bind(&digests)
    .bind(&sizes)
    .execute(&mut *tx)
    .await?;
    let batch_ids: Vec<Uuid> = batch.iter().map(|item| item.id).collect();
    sqlx::query(
        "insert into appraisals (id, record_id, decision, reason, decided_by)
         select gen_random_uuid(), id, 'destroy', '期滿無保存價值', $2 from unnest($1::uuid[]) as t (id)",
    )
    .bind(&batch_ids)
    .bind(users[0])
    .execute(&mut *tx)
    .await?;
    let batch_id = Uuid::now_v7();
    sqlx::query(
        "insert into destruction_batches (id, as_of, status, supervisors, created_by, approved_at)
         values ($1, date '2026-12-31', 'approved', array['監銷人'], $2, now())",
    )
    .bind(batch_id)
    .bind(users[0])
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into batch_items (batch_id, position, record_id)
         select $1, (n - 1)::int4, id from unnest($2::uuid[]) with ordinality as t (id, n)",
    )
    .bind(batch_id)
    .bind(&batch_ids)
    .execute(&mut *tx)
    .await?;
    sqlx::query("insert into batch_approvals (batch_id, user_id) select $1, unnest($2::uuid[])")
        .bind(batch_id)
        .bind(&users[1..])
        .execute(&mut *tx)
        .await?;
    sqlx::query("insert into jobs (kind, payload, dedupe_key) values ('destroy_batch', $1, $2)")
        .bind(serde_json::json!({ "batch_id": batch_id }))
        .bind(batch_id.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(batch_id)
}
