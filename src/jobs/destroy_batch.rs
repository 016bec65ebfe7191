//! `destroy_batch {batch_id}`: destroys the items of an approved batch (see
//! `services::destruction`), brings the search index up to date, then marks the batch done.
//!
//! The index is caught up here, in whatever process runs the job, so that no destroyed
//! record can still be found once the batch reports done. A process whose index directory
//! is held by another process's writer (a `dangan worker` beside `dangan serve` on one
//! data dir) waits for that process to apply the same changes, and a process that is not
//! the indexer lets go of the writer afterwards. If that wait runs out, the job is retried
//! with backoff and the batch stays `running`. Item destruction itself is never repeated.

use anyhow::anyhow;
use uuid::Uuid;

use super::JobError;
use crate::app::App;
use crate::domain::ErrorCode;
use crate::services::ServiceError;
use crate::services::destruction::Progress;

/// Runs (or resumes) batch `id`.
pub async fn run(app: &App, id: Uuid) -> Result<(), JobError> {
    match app.destruction.execute(id).await.map_err(job_error)? {
        Progress::Done => return Ok(()),
        Progress::Settled => {}
    }
    app.search.catch_up_once().await.map_err(job_error)?;
    app.destruction.finish(id).await.map_err(job_error)
}

fn job_error(error: ServiceError) -> JobError {
    match error.code() {
        ErrorCode::NotFound | ErrorCode::Conflict | ErrorCode::Validation => {
            JobError::Permanent(anyhow!(error))
        }
        _ => JobError::Retry(anyhow!(error)),
    }
}
