//! `extract_text {file_id}`: the text of one stored file, for search.

use anyhow::anyhow;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::JobError;
use crate::app::App;

#[derive(Deserialize)]
struct Payload {
    file_id: Uuid,
}

/// Runs the extraction; failures of the content itself are stored, not retried.
pub async fn run(app: &App, payload: &Value, last_attempt: bool) -> Result<(), JobError> {
    let payload = Payload::deserialize(payload)
        .map_err(|error| JobError::Permanent(anyhow!("payload is not {{file_id}}: {error}")))?;
    app.extraction
        .extract(payload.file_id, last_attempt)
        .await
        .map_err(|error| JobError::Retry(anyhow!(error)))
}
