//! `extract_text {file_id}`: the text of one stored file, for search.

use anyhow::anyhow;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::JobError;
use crate::app::App;
use crate::services::extraction::ExtractionFailure;

#[derive(Deserialize)]
struct Payload {
    file_id: Uuid,
}

/// Runs the extraction; failures of the content itself are stored, not retried.
pub async fn run(app: &App, payload: &Value, last_attempt: bool) -> Result<(), JobError> {
    let payload = Payload::deserialize(payload)
        .map_err(|error| JobError::Permanent(anyhow!("payload is not {{file_id}}: {error}")))?;
    match app.extraction.extract(payload.file_id, last_attempt).await {
        Ok(()) => Ok(()),
        Err(error @ ExtractionFailure::Permanent(_)) => Err(JobError::Permanent(anyhow!(error))),
        Err(error) => Err(JobError::Retry(anyhow!(error))),
    }
}

/// Stores the failure of an extraction that is given up, so the file shows why it has no text.
pub async fn give_up(app: &App, payload: &Value, reason: &str) -> anyhow::Result<()> {
    let payload = Payload::deserialize(payload)?;
    app.extraction
        .record_failure(payload.file_id, &format!("text extraction {reason}"))
        .await?;
    Ok(())
}
