//! The audit trail's hash chain. Each event of a record carries
//! `sha256(previous hash || "id|action|record_id|actor_id|details")`, written by the
//! database when the event is inserted (migration `…0011`); this is the same formula, for
//! checking the chain outside the database.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Declares the audit actions with the name the trail stores for each.
macro_rules! audit_actions {
    ($($(#[$meta:meta])* $variant:ident => $name:literal,)+) => {
        /// What an audit event says was done: the trail's `action`, `subject.verb`. Every
        /// event written names one of these; listings filter by the name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AuditAction { $($(#[$meta])* $variant,)+ }

        impl AuditAction {
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)+];

            /// The name stored in the trail (and covered by its hash chain).
            pub const fn as_str(self) -> &'static str {
                match self { $(AuditAction::$variant => $name,)+ }
            }
        }
    };
}

audit_actions! {
    /// Filed, with its files and metadata.
    RecordCreated => "record.created",
    RecordUpdated => "record.updated",
    /// Its metadata read (the record page or `GET /records/{id}`).
    RecordViewed => "record.viewed",
    /// An event of its life noted by hand (a transfer, a repair).
    RecordEvent => "record.event",
    RecordFilesAdded => "record.files_added",
    RecordFileReplaced => "record.file_replaced",
    RecordMoved => "record.moved",
    RecordHandedOver => "record.handed_over",
    RecordAppraised => "record.appraised",
    RecordReleased => "record.released",
    RecordWithdrawalProposed => "record.withdrawal_proposed",
    RecordWithdrawn => "record.withdrawn",
    RecordWithdrawalRejected => "record.withdrawal_rejected",
    RecordDestroyed => "record.destroyed",
    /// Its paper original shredded after its digital copy was destroyed.
    RecordShredded => "record.shredded",
    /// A file's content read: download, preview, print, marked copy.
    FileRead => "file.read",
    FileStamped => "file.stamped",
    PartyCreated => "party.created",
    PartyUpdated => "party.updated",
    PartyViewed => "party.viewed",
    PartyEvent => "party.event",
    PartyHandover => "party.handover",
    PartySignedOff => "party.signed_off",
    /// A search, with the records its page showed (R13).
    Search => "search",
    SearchVariants => "search.variants",
    LoanRequested => "loan.requested",
    LoanApproved => "loan.approved",
    LoanRejected => "loan.rejected",
    LoanReturned => "loan.returned",
    BorrowerRegistered => "borrower.registered",
    HoldCreated => "hold.created",
    HoldReleased => "hold.released",
    ReleaseProposed => "release.proposed",
    ReleaseApproved => "release.approved",
    ReleaseRejected => "release.rejected",
    DispositionDueListed => "disposition.due_listed",
    DestructionListDownloaded => "destruction.list_downloaded",
    BatchCreated => "batch.created",
    BatchApproved => "batch.approved",
    BatchAwaitingShredding => "batch.awaiting_shredding",
    BatchDone => "batch.done",
    FondsCreated => "fonds.created",
    FondsUpdated => "fonds.updated",
    DepartmentCreated => "department.created",
    DepartmentUpdated => "department.updated",
    CategoryCreated => "category.created",
    CategoryUpdated => "category.updated",
    RetentionPolicyCreated => "retention_policy.created",
    RetentionPolicyUpdated => "retention_policy.updated",
    CatalogueDeleted => "catalogue.deleted",
    CataloguePresetApplied => "catalogue.preset_applied",
    CatalogueExported => "catalogue.exported",
    RoomCreated => "room.created",
    RoomUpdated => "room.updated",
    RoomPlanChanged => "room.plan_changed",
    RoomInspected => "room.inspected",
    StocktakeStarted => "stocktake.started",
    StocktakeFinished => "stocktake.finished",
    ReminderStatus => "reminder.status",
    ReminderRuleSaved => "reminder_rule.saved",
    IntegrityReportDownloaded => "integrity.report_downloaded",
    UserCreated => "user.created",
    UserUpdated => "user.updated",
    UserPasswordReset => "user.password_reset",
    UserPasswordChanged => "user.password_changed",
    LoginFailed => "auth.login_failed",
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit event of a record, as the chain covers it; `details` is the JSON text as
/// PostgreSQL prints the stored `jsonb`.
#[derive(Debug, Clone)]
pub struct ChainedEvent {
    pub id: i64,
    pub action: String,
    pub record_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub details: String,
    pub hash: Option<Vec<u8>>,
}

impl ChainedEvent {
    /// The hash this event must carry after an event with hash `previous` (none for the
    /// record's first event).
    pub fn expected_hash(&self, previous: Option<&[u8]>) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(previous.unwrap_or_default());
        let actor = self.actor_id.map(|id| id.to_string()).unwrap_or_default();
        hasher.update(
            format!(
                "{}|{}|{}|{}|{}",
                self.id, self.action, self.record_id, actor, self.details
            )
            .as_bytes(),
        );
        hasher.finalize().into()
    }
}

/// How one record's chain stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordChain {
    pub events: u64,
    /// Events whose stored hash does not follow from their content and the stored hash of
    /// the event before: changed, or following a deleted or changed one.
    pub broken: Vec<i64>,
}

/// Checks a record's events in id order, each against the stored hash of the one before,
/// so a change shows at the event changed (and the one after, when its hash was changed
/// too) and a deleted event shows at its successor.
pub fn check_chain<'a>(events: impl IntoIterator<Item = &'a ChainedEvent>) -> RecordChain {
    let mut chain = RecordChain::default();
    let mut previous: Option<&[u8]> = None;
    for event in events {
        chain.events += 1;
        let expected = event.expected_hash(previous);
        if event.hash.as_deref() != Some(expected.as_slice()) {
            chain.broken.push(event.id);
        }
        previous = event.hash.as_deref();
    }
    chain
}

/// An event of the whole trail's chain, in seal order: `chain_hash` is
/// `sha256(previous chain_hash || "id|action|record_id|actor_id|details")`, with an empty
/// record id for events of no record.
#[derive(Debug, Clone)]
pub struct SealedEvent {
    pub seal_seq: i64,
    pub id: i64,
    pub action: String,
    pub record_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub details: String,
    pub chain_hash: Option<Vec<u8>>,
}

impl SealedEvent {
    /// The chain hash this event must carry after one with chain hash `previous`.
    pub fn expected_hash(&self, previous: Option<&[u8]>) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(previous.unwrap_or_default());
        let actor = self.actor_id.map(|id| id.to_string()).unwrap_or_default();
        let record = self.record_id.map(|id| id.to_string()).unwrap_or_default();
        hasher.update(
            format!(
                "{}|{}|{}|{}|{}",
                self.id, self.action, record, actor, self.details
            )
            .as_bytes(),
        );
        hasher.finalize().into()
    }
}

/// The head of the sealed chain as anchored outside the database.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Anchor {
    pub seal_seq: i64,
    pub event_id: i64,
    /// The chain hash at `seal_seq`, hex.
    pub chain_hash: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_its_own_lower_case_name() {
        let mut names = std::collections::HashSet::new();
        for action in AuditAction::ALL {
            let name = action.as_str();
            assert!(names.insert(name), "{name} named twice");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_'),
                "{name}"
            );
            assert!(name.split('.').count() <= 2, "{name}");
        }
        assert_eq!(AuditAction::RecordDestroyed.to_string(), "record.destroyed");
    }

    fn trail(record_id: Uuid) -> Vec<ChainedEvent> {
        let mut previous: Option<Vec<u8>> = None;
        (1..=4)
            .map(|id| {
                let mut event = ChainedEvent {
                    id,
                    action: "record.updated".into(),
                    record_id,
                    actor_id: None,
                    details: format!(r#"{{"n": {id}}}"#),
                    hash: None,
                };
                let hash = event.expected_hash(previous.as_deref()).to_vec();
                event.hash = Some(hash.clone());
                previous = Some(hash);
                event
            })
            .collect()
    }

    #[test]
    fn an_intact_trail_checks_out_and_a_change_shows_where_it_was_made() {
        let record = Uuid::now_v7();
        let intact = trail(record);
        assert_eq!(
            check_chain(&intact),
            RecordChain {
                events: 4,
                broken: vec![]
            }
        );

        let mut changed = intact.clone();
        changed[1].details = r#"{"n": 99}"#.into();
        assert_eq!(check_chain(&changed).broken, vec![2]);

        let mut deleted = intact.clone();
        deleted.remove(2);
        assert_eq!(check_chain(&deleted).broken, vec![4]);

        let mut rehashed = intact;
        rehashed[0].actor_id = Some(Uuid::now_v7());
        rehashed[0].hash = Some(rehashed[0].expected_hash(None).to_vec());
        assert_eq!(
            check_chain(&rehashed).broken,
            vec![2],
            "the next event no longer follows"
        );
    }
}
