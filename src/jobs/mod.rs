//! Background work of a `serve` process. For now: the housekeeping loop that collects
//! abandoned staging objects and expired login tokens.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::App;

/// Runs housekeeping every `interval` until `stop` is cancelled.
pub fn spawn_housekeeping(
    app: App,
    interval: Duration,
    staging_max_age: Duration,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = ticker.tick() => housekeeping(&app, staging_max_age).await,
            }
        }
    })
}

/// One round of housekeeping; failures are logged and retried next round.
pub async fn housekeeping(app: &App, staging_max_age: Duration) {
    match app.ingest.collect_staging(staging_max_age).await {
        Ok(0) => {}
        Ok(count) => tracing::info!(count, "collected abandoned staging objects"),
        Err(error) => tracing::warn!(%error, "staging collection failed; will retry"),
    }
    match app.auth.purge_expired_tokens().await {
        Ok(0) => {}
        Ok(count) => tracing::debug!(count, "expired login tokens removed"),
        Err(error) => tracing::warn!(%error, "token purge failed; will retry"),
    }
}
