//! Background job kinds, their statuses and the retry schedule.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

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

/// A job with what it works on: stored as its kind (the `kind` column) and the rest as the
/// `payload` JSON, e.g. `extract_text` with `{"file_id": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// The text of one stored file.
    ExtractText {
        file_id: Uuid,
    },
    /// Staging objects older than `staging_max_age_secs` (default an hour) collected.
    Housekeeping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        staging_max_age_secs: Option<u64>,
    },
    /// The items of an approved destruction batch destroyed.
    DestroyBatch {
        batch_id: Uuid,
    },
    Reminders,
    /// A fixity sweep of its check; a scheduled sweep creates its check first.
    FixitySweep {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        check_id: Option<Uuid>,
    },
    /// A four-properties check; `record_id` names the record of a check made at filing.
    FourProperties {
        check_id: Uuid,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        record_id: Option<Uuid>,
    },
    AuditSeal,
}

/// A stored job that this version cannot run: an unknown kind (a newer dangan may have
/// queued it) or a payload that does not fit its kind.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UnknownJob(String);

impl Job {
    pub fn kind(&self) -> JobKind {
        match self {
            Job::ExtractText { .. } => JobKind::ExtractText,
            Job::Housekeeping { .. } => JobKind::Housekeeping,
            Job::DestroyBatch { .. } => JobKind::DestroyBatch,
            Job::Reminders => JobKind::Reminders,
            Job::FixitySweep { .. } => JobKind::FixitySweep,
            Job::FourProperties { .. } => JobKind::FourProperties,
            Job::AuditSeal => JobKind::AuditSeal,
        }
    }

    /// What a schedule of `kind` queues; `None` for kinds that need an event's payload.
    pub fn scheduled(kind: JobKind, staging_max_age_secs: u64) -> Option<Job> {
        match kind {
            JobKind::Housekeeping => Some(Job::Housekeeping {
                staging_max_age_secs: Some(staging_max_age_secs),
            }),
            JobKind::Reminders => Some(Job::Reminders),
            JobKind::FixitySweep => Some(Job::FixitySweep { check_id: None }),
            JobKind::AuditSeal => Some(Job::AuditSeal),
            JobKind::ExtractText | JobKind::DestroyBatch | JobKind::FourProperties => None,
        }
    }

    /// The `payload` column: everything but the kind.
    pub fn payload(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        match value.as_object_mut() {
            Some(fields) => {
                fields.remove("kind");
                value
            }
            None => Value::Object(serde_json::Map::new()),
        }
    }

    /// The job stored as `kind` and `payload`.
    pub fn from_stored(kind: &str, payload: &Value) -> Result<Job, UnknownJob> {
        if JobKind::parse(kind).is_none() {
            return Err(UnknownJob(format!(
                "unknown job kind {kind:?}; a newer dangan may have queued it"
            )));
        }
        let mut fields = match payload {
            Value::Object(fields) => fields.clone(),
            Value::Null => serde_json::Map::new(),
            other => {
                return Err(UnknownJob(format!(
                    "the payload of a {kind} job is not an object: {other}"
                )));
            }
        };
        fields.insert("kind".into(), Value::String(kind.to_owned()));
        serde_json::from_value(Value::Object(fields))
            .map_err(|error| UnknownJob(format!("the payload of a {kind} job: {error}")))
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
    fn a_job_is_stored_as_its_kind_and_the_rest_and_read_back() {
        let id = Uuid::now_v7();
        let jobs = [
            Job::ExtractText { file_id: id },
            Job::Housekeeping {
                staging_max_age_secs: Some(60),
            },
            Job::DestroyBatch { batch_id: id },
            Job::Reminders,
            Job::FixitySweep { check_id: None },
            Job::FourProperties {
                check_id: id,
                record_id: Some(id),
            },
            Job::AuditSeal,
        ];
        for job in jobs {
            let payload = job.payload();
            assert!(payload.get("kind").is_none(), "{payload}");
            let back = Job::from_stored(job.kind().as_str(), &payload).expect("read back");
            assert_eq!(back, job);
        }
        assert_eq!(
            Job::ExtractText { file_id: id }.payload(),
            serde_json::json!({ "file_id": id })
        );
        assert_eq!(Job::Reminders.payload(), serde_json::json!({}));
        // the payloads queued before the kinds were typed still read
        assert_eq!(
            Job::from_stored("housekeeping", &serde_json::json!({})).expect("old"),
            Job::Housekeeping {
                staging_max_age_secs: None
            }
        );
        assert_eq!(
            Job::from_stored(
                "reminders",
                &serde_json::json!({ "staging_max_age_secs": 5 })
            )
            .expect("extra fields"),
            Job::Reminders
        );
    }

    #[test]
    fn a_stored_job_of_no_known_kind_or_a_payload_not_its_own_is_refused() {
        let unknown = Job::from_stored("from_the_future", &serde_json::json!({}));
        assert!(unknown.is_err_and(|error| error.to_string().contains("unknown job kind")));
        let bad = Job::from_stored("extract_text", &serde_json::json!({}));
        assert!(bad.is_err_and(|error| error.to_string().contains("file_id")));
        let not_object = Job::from_stored("destroy_batch", &serde_json::json!([1]));
        assert!(not_object.is_err());
    }

    #[test]
    fn only_kinds_that_need_no_event_are_scheduled() {
        for kind in JobKind::ALL {
            assert_eq!(
                Job::scheduled(*kind, 60).is_some(),
                kind.is_schedulable(),
                "{kind:?}"
            );
        }
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
