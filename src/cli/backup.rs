//! `dangan backup DIR` and `dangan restore DIR`: a consistent copy of the database and the
//! stored content, and its way back into an empty data directory (see `services::backup`).

use std::path::PathBuf;

use crate::app::{App, Stores};
use crate::config::Settings;
use crate::services::backup;

use super::progress::Progress;

/// Backs up into `dir`, copying only content an earlier backup there does not hold.
pub async fn backup(settings: Settings, dir: PathBuf) -> anyhow::Result<()> {
    let stores = Stores::open(&settings).await?;
    let progress = Progress::new(0, "files");
    let result = backup::backup(&stores.database, &stores.blobs, &dir, |done, total| {
        progress.show(done, total)
    })
    .await;
    drop(progress);
    stores
        .database
        .close(settings.database.connect_timeout)
        .await;
    let summary = result?;
    println!(
        "backup {}: {} files ({} copied now, {:.1} MB; the rest were in an earlier backup)",
        summary.snapshot.display(),
        summary.objects,
        summary.copied,
        summary.bytes_copied as f64 / 1e6,
    );
    if summary.missing > 0 {
        println!(
            "warning: {} files the database names were not in the object store; \
             run `dangan verify` to see which",
            summary.missing
        );
    }
    Ok(())
}

/// Restores the newest backup in `dir` (or `snapshot`) into the configured data directory
/// and database, which must be empty, then rebuilds the search index.
pub async fn restore(
    settings: Settings,
    dir: PathBuf,
    snapshot: Option<String>,
) -> anyhow::Result<()> {
    let stores = Stores::open_unmigrated(&settings).await?;
    let result = async {
        let progress = Progress::new(0, "files");
        let summary = backup::restore(
            &stores.database,
            &stores.blobs,
            &dir,
            snapshot.as_deref(),
            |done, total| progress.show(done, total),
        )
        .await?;
        drop(progress);
        stores.migrate().await?;
        let app = App::new(
            &settings,
            stores.database.pools(),
            stores.blobs.clone(),
            stores.index_dir.clone(),
        );
        let progress = Progress::new(0, "records");
        let indexed = app
            .search
            .rebuild(|done, total| progress.show(done, total))
            .await?;
        drop(progress);
        anyhow::Ok((summary, indexed))
    }
    .await;
    stores
        .database
        .close(settings.database.connect_timeout)
        .await;
    let (summary, indexed) = result?;
    println!(
        "restored {}: {} files ({:.1} MB), {indexed} records indexed",
        summary.snapshot.display(),
        summary.objects,
        summary.bytes as f64 / 1e6,
    );
    Ok(())
}
