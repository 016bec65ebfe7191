//! `fixity_sweep {check_id?}`: a fixity sweep (a scheduled one creates its check first);
//! `four_properties {check_id}`: a four-properties check, which at filing waits for the
//! record's text extraction so that usability can be judged.

use std::time::Duration;

use anyhow::anyhow;
use uuid::Uuid;

use super::JobError;
use crate::app::App;
use crate::services::integrity::{FILING_CHECK_FALLBACK, FourCheckRun};

/// Runs (or resumes) a sweep; on the last failed attempt the check is marked failed.
pub async fn sweep(app: &App, check_id: Option<Uuid>, last_attempt: bool) -> Result<(), JobError> {
    let id = match check_id {
        Some(id) => id,
        None => app
            .integrity
            .new_sweep()
            .await
            .map_err(|error| JobError::Retry(anyhow!(error)))?,
    };
    match app.integrity.sweep(id, &|_| {}).await {
        Ok(()) => Ok(()),
        Err(error) => {
            if last_attempt {
                app.integrity.fail(id, &error.to_string()).await.ok();
            }
            Err(JobError::Retry(anyhow!(error)))
        }
    }
}

/// Marks the check of a given-up job failed with the reason.
pub async fn give_up(app: &App, check_id: Uuid, reason: &str) -> anyhow::Result<()> {
    app.integrity.fail(check_id, reason).await?;
    Ok(())
}

/// How long a check asked for later waits before it looks again at a text still being
/// extracted. A filing check (`at_filing`: its job names the record) waits FILING_CHECK_FALLBACK:
/// the extraction that finishes its record wakes it before.
const EXTRACTION_WAIT: Duration = Duration::from_secs(15);

/// Runs a four-properties check once the record's texts are extracted; until then the job
/// waits (extraction always ends, in a text or in a recorded failure).
pub async fn four_properties(app: &App, id: Uuid, at_filing: bool) -> Result<(), JobError> {
    let run = app
        .integrity
        .run_four_check(id, true)
        .await
        .map_err(|error| JobError::Retry(anyhow!(error)))?;
    if run == FourCheckRun::AwaitsExtraction {
        let wait = if at_filing {
            FILING_CHECK_FALLBACK
        } else {
            EXTRACTION_WAIT
        };
        return Err(JobError::NotYet(
            wait,
            "the record's text is still being extracted",
        ));
    }
    Ok(())
}
