//! What a backup and a restore ask of PostgreSQL: a snapshot that the dump and the list of
//! stored content share, `pg_dump` in that snapshot, and `pg_restore` into an empty database.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use tokio::process::Command;

use super::{DbError, Pool, Target, Tx, embedded};

/// A read-only transaction whose snapshot is exported for `pg_dump --snapshot`; keep it open
/// until the dump is done.
pub struct Snapshot {
    pub tx: Tx,
    pub id: String,
}

/// Opens a repeatable-read transaction and exports its snapshot.
pub async fn snapshot(pool: &Pool) -> Result<Snapshot, DbError> {
    let mut tx = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let id: String = sqlx::query_scalar("select pg_export_snapshot()")
        .fetch_one(&mut *tx)
        .await?;
    Ok(Snapshot { tx, id })
}

/// Every stored content (SHA-256 and size) the snapshot's records and files refer to.
pub async fn stored_content(snapshot: &mut Snapshot) -> Result<Vec<(Vec<u8>, i64)>, DbError> {
    let rows = sqlx::query!("select sha256, size from blobs where refcount > 0 order by sha256")
        .fetch_all(&mut *snapshot.tx)
        .await?;
    Ok(rows.into_iter().map(|row| (row.sha256, row.size)).collect())
}

/// Whether the database has no tables of its own yet (a restore needs one so).
pub async fn is_empty(pool: &Pool) -> Result<bool, DbError> {
    let tables: i64 = sqlx::query_scalar(
        "select count(*) from information_schema.tables where table_schema = 'public'",
    )
    .fetch_one(pool)
    .await?;
    Ok(tables == 0)
}

/// `pg_dump` of the database `target` names, as of `snapshot`, to `out` (custom format).
pub async fn dump(target: &Target, snapshot: &str, out: &Path) -> Result<(), DbError> {
    let mut command = Command::new(program("pg_dump")?);
    command
        .args(connection_args(target))
        .args(["--format=custom", "--no-owner", "--no-privileges"])
        .arg(format!("--snapshot={snapshot}"))
        .arg("--file")
        .arg(out);
    run(command, "pg_dump").await
}

/// `pg_restore` of `dump` into the (empty) database `target` names, in one transaction.
pub async fn restore(target: &Target, dump: &Path) -> Result<(), DbError> {
    let mut command = Command::new(program("pg_restore")?);
    command
        .args(connection_args(target))
        .args([
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
        ])
        .arg(dump);
    run(command, "pg_restore").await
}

/// After a restore, forgets what tied the data to the transaction ids of the cluster it came
/// from (a restore may land in a new cluster, whose ids start lower): the search change log
/// and its readers (the index is rebuilt from the tables), and the transaction of audit
/// events not yet sealed (all of them committed before the dump).
pub async fn forget_transaction_ids(pool: &Pool) -> Result<(), DbError> {
    let mut tx = pool.begin().await?;
    for statement in [
        "delete from index_changes",
        "delete from index_readers",
        "delete from index_log_pruned",
        "update audit_events set tx = null where seal_seq is null",
    ] {
        sqlx::query(statement).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn program(name: &str) -> Result<PathBuf, DbError> {
    embedded::program(name).ok_or_else(|| {
        DbError::Tool(format!(
            "{name} was not found: install PostgreSQL's client programs \
             (apt-get install postgresql-client) or set PG_BIN to their directory"
        ))
    })
}

fn connection_args(target: &Target) -> Vec<OsString> {
    match target {
        Target::Url(url) => vec!["--dbname".into(), url.into()],
        Target::Socket {
            dir,
            user,
            database,
        } => vec![
            "--host".into(),
            dir.into(),
            "--username".into(),
            user.into(),
            "--dbname".into(),
            database.into(),
        ],
    }
}

async fn run(mut command: Command, name: &str) -> Result<(), DbError> {
    let output = command
        .env("LC_ALL", "C.UTF-8")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|error| DbError::Tool(format!("cannot run {name}: {error}")))?;
    if output.status.success() {
        return Ok(());
    }
    Err(DbError::Tool(format!(
        "{name} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    )))
}
