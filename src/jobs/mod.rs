//! Background work: the job runner, the scheduler of recurring jobs, the indexer, and one
//! module per job kind; housekeeping collects abandoned staging objects and expired tokens
//! and prunes the search change log.

pub mod destroy_batch;
pub mod extract_text;
pub mod indexer;
pub mod integrity;
pub mod runner;
pub mod scheduler;

use std::time::Duration;

use crate::app::App;
use crate::domain::job::Job;
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
    /// Ran too early: what it needs is not ready yet (a record's text still being
    /// extracted). Runs again after the delay; not a failure and not an attempt.
    #[error("waiting: {1}")]
    NotYet(Duration, &'static str),
}

/// Runs one claimed job by its kind.
pub async fn execute(app: &App, claimed: &ClaimedJob) -> Result<(), JobError> {
    let last_attempt = claimed.attempts >= claimed.max_attempts;
    let job = Job::from_stored(&claimed.kind, &claimed.payload)
        .map_err(|error| JobError::Permanent(error.into()))?;
    match job {
        Job::ExtractText { file_id } => extract_text::run(app, file_id, last_attempt).await,
        Job::DestroyBatch { batch_id } => destroy_batch::run(app, batch_id).await,
        Job::Housekeeping {
            staging_max_age_secs,
        } => {
            let seconds = staging_max_age_secs.unwrap_or(3600);
            housekeeping(app, Duration::from_secs(seconds)).await;
            Ok(())
        }
        Job::Reminders => {
            let today = app.reminders.today();
            app.reminders
                .sweep(today)
                .await
                .map(drop)
                .map_err(|error| JobError::Retry(error.into()))
        }
        Job::FixitySweep { check_id } => integrity::sweep(app, check_id, last_attempt).await,
        Job::FourProperties {
            check_id,
            record_id,
        } => integrity::four_properties(app, check_id, record_id.is_some()).await,
        Job::AuditSeal => app
            .audit
            .seal()
            .await
            .map(drop)
            .map_err(|error| JobError::Retry(error.into())),
    }
}

/// Records the failure of a job that is given up without running (out of attempts, or its
/// worker died too often under it) where users see it: a file's text, a check.
pub async fn give_up(app: &App, claimed: &ClaimedJob, reason: &str) -> anyhow::Result<()> {
    match Job::from_stored(&claimed.kind, &claimed.payload) {
        Ok(Job::ExtractText { file_id }) => extract_text::give_up(app, file_id, reason).await,
        Ok(
            Job::FixitySweep {
                check_id: Some(check_id),
            }
            | Job::FourProperties { check_id, .. },
        ) => integrity::give_up(app, check_id, reason).await,
        // A destruction batch stays `running`, each item destroyed at most once; the failed
        // job is queued again with POST /api/v1/jobs/{id}/retry and resumes it.
        Ok(
            Job::DestroyBatch { .. }
            | Job::Housekeeping { .. }
            | Job::Reminders
            | Job::FixitySweep { check_id: None }
            | Job::AuditSeal,
        )
        | Err(_) => Ok(()),
    }
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
    match app.search.prune_change_log().await {
        Ok(0) => {}
        Ok(count) => tracing::debug!(count, "search change log pruned"),
        Err(error) => tracing::warn!(%error, "change-log pruning failed; will retry"),
    }
}
