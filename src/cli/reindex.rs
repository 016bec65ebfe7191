//! `dangan reindex`: rebuilds the search index from PostgreSQL into a new generation, with a
//! progress bar; a running server keeps searching the old one and switches when it is done.

use crate::app::Stores;
use crate::config::Settings;

use super::progress::Progress;

/// Rebuilds the index and reports how many records it holds.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let (stores, app) = Stores::open_app(&settings).await?;
    let progress = Progress::new(0, "records");
    let result = app
        .search
        .rebuild(|done, total| progress.show(done, total))
        .await;
    drop(progress);
    stores
        .database
        .close(settings.database.connect_timeout)
        .await;
    let indexed = result?;
    println!(
        "search index rebuilt: {indexed} records; a running server switches to it within seconds"
    );
    Ok(())
}
