//! `dangan init --preset enterprise`: loads a catalogue preset.

use crate::app::Stores;
use crate::config::Settings;

/// Opens the stores and loads `preset`; adds what is missing and changes nothing that exists.
pub async fn run(settings: Settings, preset: &str) -> anyhow::Result<()> {
    let (stores, app) = Stores::open_app(&settings).await?;
    let result = app.catalogue.apply_preset(None, preset).await;
    stores
        .database
        .close(settings.database.connect_timeout)
        .await;
    let summary = result?;
    println!(
        "preset {preset}: added {} fonds, {} departments, {} retention policies, {} categories, \
         {} deadline rules",
        summary.fonds,
        summary.departments,
        summary.retention_policies,
        summary.categories,
        summary.deadline_rules
    );
    Ok(())
}
