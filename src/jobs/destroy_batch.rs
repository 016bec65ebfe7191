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
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::JobError;
use crate::app::App;
use crate::domain::ErrorCode;
use crate::services::ServiceError;
use crate::services::destruction::Progress;

#[derive(Deserialize)]
struct Payload {
    batch_id: Uuid,
}

/// Runs (or resumes) the batch.
pub async fn run(app: &App, payload: &Value) -> Result<(), JobError> {
    let payload = Payload::deserialize(payload)
        .map_err(|error| JobError::Permanent(anyhow!("payload is not {{batch_id}}: {error}")))?;
    let id = payload.batch_id;
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
