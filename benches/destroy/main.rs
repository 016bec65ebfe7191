//! `scripts/bench destroy` (issue 5): BENCH_ITEMS approved items (default 100 000), each a
//! record with one small file of its own, destroyed by a release `dangan worker`: seconds
//! to finish (target ≤ 60 s). Then the same run again, killed with SIGKILL at one third and
//! at two thirds and restarted each time: total seconds, and exactly-once checked (every
//! item destroyed once, one audit event each, every object gone, the records outside the
//! batch untouched with their objects).
//!
//! Each run has its own scratch database and data directory; the search index is brought up
//! to date before the clock starts, so the run measures destruction (and the index catching
//! up with the deletions), not the first indexing of the set-up.
//!
//! Environment: BENCH_ITEMS, DATABASE_URL (a maintenance database; default
//! postgres://postgres@127.0.0.1:5432/postgres), BENCH_WORK (default the temporary directory).

mod setup;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::PgPool;

use setup::Scratch;

/// Records of the same installation that are not in the batch: they must survive.
const BYSTANDERS: usize = 1000;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("destroy benchmark failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let items: usize = std::env::var("BENCH_ITEMS")
        .ok()
        .map(|value| value.parse())
        .transpose()
        .context("BENCH_ITEMS is not a number")?
        .unwrap_or(100_000);
    let database_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let work = std::env::var_os("BENCH_WORK").map_or_else(std::env::temp_dir, PathBuf::from);
    let runtime = tokio::runtime::Runtime::new()?;

    let clean = runtime.block_on(async {
        let scratch = Scratch::create(&database_url, &work, "clean", items, BYSTANDERS).await?;
        let seconds = destroy(&scratch, items, &[]).await;
        let checked = check(&scratch, items).await;
        scratch.drop_all().await?;
        anyhow::Ok((seconds?, checked?))
    })?;
    let killed = runtime.block_on(async {
        let scratch = Scratch::create(&database_url, &work, "killed", items, BYSTANDERS).await?;
        let thirds = [items / 3, items * 2 / 3];
        let seconds = destroy(&scratch, items, &thirds).await;
        let checked = check(&scratch, items).await;
        scratch.drop_all().await?;
        anyhow::Ok((seconds?, checked?))
    })?;

    println!("\ndestruction of {items} approved items, each with its own small file");
    println!(
        "  one worker, uninterrupted     {:7.1} s  {:8.0} items/s  (target <= 60 s)",
        clean.0,
        items as f64 / clean.0
    );
    println!(
        "  killed at 1/3 and 2/3, resumed {:6.1} s  {:8.0} items/s",
        killed.0,
        items as f64 / killed.0
    );
    println!("  exactly once, both runs: {} / {}", clean.1, killed.1);
    Ok(())
}

/// Runs `dangan worker` on the scratch installation until the batch is done, killing it
/// with SIGKILL (and starting another) each time the destroyed items pass a mark; seconds.
async fn destroy(scratch: &Scratch, items: usize, kill_at: &[usize]) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut worker = spawn_worker(&scratch.url, &scratch.data_dir)?;
    let mut marks = kill_at.iter().copied().peekable();
    let mut last_report = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (status, destroyed) = progress(&scratch.pool, scratch.batch_id).await?;
        if status == "done" {
            break;
        }
        if let Some(mark) = marks.peek()
            && destroyed as usize >= *mark
        {
            worker.kill().context("SIGKILL the worker")?;
            worker.wait()?;
            eprintln!("  killed the worker at {destroyed} of {items} items; starting another");
            marks.next();
            worker = spawn_worker(&scratch.url, &scratch.data_dir)?;
        }
        if let Ok(Some(status)) = worker.try_wait() {
            bail!("the worker exited ({status}); see its log");
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "  {destroyed} of {items} destroyed, {:.0} s",
                started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
        if started.elapsed() > Duration::from_secs(1800) {
            bail!("the batch did not finish within 30 minutes");
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    worker.kill().ok();
    worker.wait().ok();
    Ok(seconds)
}

fn spawn_worker(url: &str, data_dir: &Path) -> anyhow::Result<Child> {
    Command::new(env!("CARGO_BIN_EXE_dangan"))
        .arg("worker")
        .env("DANGAN_DATABASE_URL", url)
        .env("DANGAN_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .env_remove("DANGAN_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting dangan worker")
}

async fn progress(pool: &PgPool, batch_id: uuid::Uuid) -> anyhow::Result<(String, i64)> {
    let status: String = sqlx::query_scalar("select status from destruction_batches where id = $1")
        .bind(batch_id)
        .fetch_one(pool)
        .await?;
    let destroyed: i64 = sqlx::query_scalar(
        "select count(*) from batch_items where batch_id = $1 and outcome = 'destroyed'",
    )
    .bind(batch_id)
    .fetch_one(pool)
    .await?;
    Ok((status, destroyed))
}

/// Exactly once: every item destroyed, one audit event and one released reference each, no
/// object of the batch left; the bystanders active with their objects.
async fn check(scratch: &Scratch, items: usize) -> anyhow::Result<&'static str> {
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&scratch.pool)
            .await
    };
    let destroyed = count("select count(*) from batch_items where outcome = 'destroyed'").await?;
    let audited =
        count("select count(*) from audit_events where action = 'record.destroyed'").await?;
    let status_destroyed = count("select count(*) from records where status = 'destroyed'").await?;
    let released = count("select count(*) from blobs where refcount = 0").await?;
    let active = count("select count(*) from records where status = 'active'").await?;
    let expected = items as i64;
    if (destroyed, audited, status_destroyed, released) != (expected, expected, expected, expected)
    {
        bail!(
            "not exactly once: {destroyed} items destroyed, {audited} audit events, \
             {status_destroyed} records destroyed, {released} blobs released, of {items}"
        );
    }
    if active != BYSTANDERS as i64 {
        bail!("{active} records outside the batch are active; expected {BYSTANDERS}");
    }
    let (batch_objects, bystander_objects) = scratch.objects_left()?;
    if batch_objects != 0 || bystander_objects != BYSTANDERS {
        bail!(
            "{batch_objects} objects of destroyed items remain, {bystander_objects} of \
             {BYSTANDERS} bystanders' objects remain"
        );
    }
    Ok("yes")
}
