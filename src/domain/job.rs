//! Background job kinds, their statuses and the retry schedule.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

text_enum!(
    /// What a job does; the string is the `kind` column. `extract_text`: the text of one
    /// stored file (PDF text layer, OCR, office formats); `housekeeping`: abandoned staging
    /// objects and expired login tokens removed; `destroy_batch`: the items of an approved
    /// destruction batch destroyed one by one; `reminders`: missed readings, retention
    /// falling due and deadlines looked for, due reminders sent by e-mail and webhook;
    /// `fixity_sweep`: every stored blob re-hashed; `four_properties`: the four-properties
    /// check of records (at filing, or asked for); `audit_seal`: the audit trail's events
    /// sealed into one hash chain and its head anchored in the object store.
    JobKind {
        ExtractText => "extract_text",
        Housekeeping => "housekeeping",
        DestroyBatch => "destroy_batch",
        Reminders => "reminders",
        FixitySweep => "fixity_sweep",
        FourProperties => "four_properties",
        AuditSeal => "audit_seal",
    }
);
text_enum!(
    /// Where a job is in its life.
    JobStatus { Queued => "queued", Running => "running", Done => "done", Failed => "failed" }
);

impl JobKind {
    /// Whether the kind can run on a schedule (it needs no payload from an event).
    pub fn is_schedulable(self) -> bool {
        matches!(
            self,
            JobKind::Housekeeping | JobKind::Reminders | JobKind::FixitySweep | JobKind::AuditSeal
        )
    }
}

/// How long to wait before attempt `attempts + 1` after `attempts` failed ones: `base`
/// doubled per failure, capped at `max`. `None` when the attempts are used up.
pub fn retry_delay(
    attempts: i32,
    max_attempts: i32,
    base: Duration,
    max: Duration,
) -> Option<Duration> {
    if attempts >= max_attempts {
        return None;
    }
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    Some(base.saturating_mul(1 << doublings).min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap_then_stop() {
        let base = Duration::from_secs(5);
        let max = Duration::from_secs(60);
        let delays: Vec<_> = (1..=6).map(|n| retry_delay(n, 6, base, max)).collect();
        assert_eq!(
            delays,
            vec![
                Some(Duration::from_secs(5)),
                Some(Duration::from_secs(10)),
                Some(Duration::from_secs(20)),
                Some(Duration::from_secs(40)),
                Some(Duration::from_secs(60)),
                None,
            ]
        );
    }

    #[test]
    fn kinds_and_statuses_round_trip_through_their_strings() {
        assert_eq!(
            JobKind::parse(JobKind::ExtractText.as_str()),
            Some(JobKind::ExtractText)
        );
        for status in [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Done,
            JobStatus::Failed,
        ] {
            assert_eq!(JobStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(JobKind::parse("nonsense"), None);
    }
}
