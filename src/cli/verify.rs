//! `dangan verify`: a fixity sweep from the command line, with a progress bar: every stored
//! blob re-read and compared with its SHA-256 and size. Exit status 1 when anything is
//! changed or missing.

use crate::app::Stores;
use crate::config::Settings;

use super::progress::Progress;

/// Runs a sweep, prints its figures; fails when content is damaged.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let (stores, app) = Stores::open_app(&settings).await?;
    let result = async {
        let id = app.integrity.new_sweep().await?;
        let progress = Progress::new(0, "blobs");
        app.integrity
            .sweep(id, &|tick| {
                progress.bar().set_length(tick.total);
                progress.bar().set_position(tick.checked);
                progress
                    .bar()
                    .set_message(format!("{} MB read", tick.bytes / 1_000_000));
            })
            .await?;
        drop(progress);
        app.integrity.summary(id).await
    }
    .await;
    stores
        .database
        .close(settings.database.connect_timeout)
        .await;
    let check = result?;
    let count = |value: &serde_json::Value| value.as_array().map_or(0, Vec::len);
    println!(
        "fixity sweep {}: {} blobs checked, {} ok, {} changed, {} missing, {} objects unreferenced, {:.1} MB read",
        check.id,
        check.checked,
        check.ok,
        count(&check.mismatched),
        count(&check.missing),
        count(&check.unreferenced),
        check.bytes as f64 / 1e6,
    );
    for (what, entries) in [("changed", &check.mismatched), ("missing", &check.missing)] {
        for entry in entries.as_array().into_iter().flatten() {
            println!("  {what}: {} records {}", entry["sha256"], entry["records"]);
        }
    }
    if count(&check.mismatched) + count(&check.missing) > 0 {
        anyhow::bail!(
            "stored content is damaged; see GET /api/v1/integrity/checks/{} and restore those objects from a backup",
            check.id
        );
    }
    Ok(())
}
