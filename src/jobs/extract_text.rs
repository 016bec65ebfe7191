//! `extract_text {file_id}`: the text of one stored file, for search.

use anyhow::anyhow;
use uuid::Uuid;

use super::JobError;
use crate::app::App;
use crate::services::extraction::ExtractionFailure;

/// Runs the extraction; failures of the content itself are stored, not retried.
pub async fn run(app: &App, file_id: Uuid, last_attempt: bool) -> Result<(), JobError> {
    match app.extraction.extract(file_id, last_attempt).await {
        Ok(()) => Ok(()),
        Err(error @ ExtractionFailure::Permanent(_)) => Err(JobError::Permanent(anyhow!(error))),
        Err(error) => Err(JobError::Retry(anyhow!(error))),
    }
}

/// Stores the failure of an extraction that is given up, so the file shows why it has no text.
pub async fn give_up(app: &App, file_id: Uuid, reason: &str) -> anyhow::Result<()> {
    app.extraction
        .record_failure(file_id, &format!("text extraction {reason}"))
        .await?;
    Ok(())
}
