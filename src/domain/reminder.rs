//! Reminders: one kind of thing with a due date, whatever raised it (an inspection falling
//! due, a missed reading, an alert, retention running out, a deadline of the regulations).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::user::Role;

text_enum!(
    /// What a reminder is about; the string is the `kind` of `GET /api/v1/reminders`.
    ReminderKind {
        Inspection => "inspection",
        MissedReading => "missed_reading",
        Alert => "alert",
        Retention => "retention",
        Deadline => "deadline",
        FollowUp => "follow_up",
        Review => "review",
        Loan => "loan",
    }
);

text_enum!(
    /// Where a reminder is: `open`, seen (`acknowledged`), or `done`.
    ReminderStatus { Open => "open", Acknowledged => "acknowledged", Done => "done" }
);

text_enum!(
    /// A way a reminder leaves dangan besides the in-app list.
    DeliveryChannel { Email => "email", Webhook => "webhook" }
);

/// Who a reminder is for: everyone with a role, or one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    Role(Role),
    User(Uuid),
}

/// A reminder to raise. `key` names its cause: at most one reminder exists per key, so
/// raising the same cause again (every sweep does) changes nothing.
#[derive(Debug, Clone)]
pub struct NewReminder {
    pub kind: ReminderKind,
    pub subject: String,
    pub due_on: NaiveDate,
    pub recipient: Recipient,
    pub key: String,
    pub record_id: Option<Uuid>,
    pub room_id: Option<Uuid>,
    pub party_id: Option<Uuid>,
    pub details: serde_json::Value,
}

impl NewReminder {
    /// A reminder about nothing in particular (no record, room or party).
    pub fn new(
        kind: ReminderKind,
        key: String,
        subject: String,
        due_on: NaiveDate,
        recipient: Recipient,
    ) -> Self {
        Self {
            kind,
            subject,
            due_on,
            recipient,
            key,
            record_id: None,
            room_id: None,
            party_id: None,
            details: serde_json::Value::Object(Default::default()),
        }
    }
}

/// Whether `role` may see, acknowledge and close a reminder addressed to `recipient`
/// (admins see every reminder).
pub fn is_addressed_to(recipient: Recipient, user_id: Uuid, role: Role) -> bool {
    role == Role::Admin
        || match recipient {
            Recipient::Role(addressed) => addressed == role,
            Recipient::User(addressed) => addressed == user_id,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reminder_reaches_its_role_its_user_and_admins_only() {
        let archivist = Uuid::now_v7();
        let to_role = Recipient::Role(Role::Archivist);
        assert!(is_addressed_to(to_role, archivist, Role::Archivist));
        assert!(is_addressed_to(to_role, Uuid::now_v7(), Role::Admin));
        assert!(!is_addressed_to(to_role, archivist, Role::Staff));
        let to_user = Recipient::User(archivist);
        assert!(is_addressed_to(to_user, archivist, Role::Staff));
        assert!(!is_addressed_to(to_user, Uuid::now_v7(), Role::Archivist));
    }

    #[test]
    fn kinds_keep_their_contract_strings() {
        assert_eq!(ReminderKind::MissedReading.as_str(), "missed_reading");
        assert_eq!(
            ReminderKind::parse("follow_up"),
            Some(ReminderKind::FollowUp)
        );
        assert_eq!(ReminderKind::parse("nonsense"), None);
    }
}
