//! Background work: the job runner and one module per job kind, and the housekeeping loop
//! that collects abandoned staging objects and expired login tokens.

pub mod extract_text;
pub mod indexer;
pub mod runner;

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::domain::job::JobKind;
use crate::services::jobs::ClaimedJob;

/// Why a job run failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt later (a tool timed out, a store was unreachable).
    #[error("{0:#}")]
    Retry(anyhow::Error),
    /// Will fail the same way every time (unknown kind, bad payload).
    #[error("{0:#}")]
    Permanent(anyhow::Error),
}

/// Runs one claimed job by its kind.
pub async fn execute(app: &App, job: &ClaimedJob) -> Result<(), JobError> {
    let last_attempt = job.attempts >= job.max_attempts;
    match JobKind::parse(&job.kind) {
        Some(JobKind::ExtractText) => extract_text::run(app, &job.payload, last_attempt).await,
        None => Err(JobError::Permanent(anyhow::anyhow!(
            "unknown job kind {:?}; a newer dangan may have queued it",
            job.kind
        ))),
    }
}

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
