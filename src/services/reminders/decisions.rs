//! Decisions waiting for someone (issue 19, item 2): a destruction batch to approve or to
//! see shredded, a release or a withdrawal to review. Each is a reminder to those who
//! decide, raised in the transaction of the request and closed in that of the decision,
//! so the reminder list is the one place that says what waits for a user.

use chrono::NaiveDate;
use serde_json::Value;

use crate::db::{self, PgConnection};
use crate::domain::reminder::{NewReminder, Recipient, ReminderKind};
use crate::domain::user::Role;
use crate::services::ServiceResult;

/// What waits: its kind, the key of its cause (`batch_approval:{id}`), what to show.
pub(crate) struct Waiting {
    pub kind: ReminderKind,
    pub key: String,
    pub subject: String,
    pub due_on: NaiveDate,
    /// The record it is about: the reminder is listed only to those who see it.
    pub record_id: Option<uuid::Uuid>,
    pub details: Value,
}

impl Waiting {
    /// Raises one reminder per recipient, keyed `{key}:{recipient}`.
    pub(crate) async fn raise(
        self,
        conn: &mut PgConnection,
        recipients: &[Recipient],
    ) -> ServiceResult<()> {
        for recipient in recipients {
            let mut reminder = NewReminder::new(
                self.kind,
                recipient_key(&self.key, *recipient),
                self.subject.clone(),
                self.due_on,
                *recipient,
            );
            reminder.details = self.details.clone();
            reminder.record_id = self.record_id;
            db::reminders::raise(conn, &reminder).await?;
        }
        Ok(())
    }
}

/// The key of the reminder of `key` to `recipient`.
pub(crate) fn recipient_key(key: &str, recipient: Recipient) -> String {
    match recipient {
        Recipient::Role(role) => format!("{key}:{}", role.as_str()),
        Recipient::User(user) => format!("{key}:{user}"),
    }
}

/// The decision `key` waited for was made: its reminders close.
pub(crate) async fn decided(
    conn: &mut PgConnection,
    key: &str,
    by: Option<uuid::Uuid>,
) -> ServiceResult<()> {
    db::reminders::close_keyed(conn, &format!("{key}:"), by).await?;
    Ok(())
}

/// Those who approve destruction, releases and withdrawals (R11: "the office director and
/// the general manager approve lending and destruction").
pub(crate) const DECIDERS: [Recipient; 2] = [
    Recipient::Role(Role::Director),
    Recipient::Role(Role::GeneralManager),
];

/// The recipients of a batch's shredding reminder: each named supervisor who is a user,
/// and the records office for those who are not (it enters their confirmation).
pub(crate) async fn supervisors(
    conn: &mut PgConnection,
    names: &[String],
) -> ServiceResult<Vec<Recipient>> {
    let mut recipients = Vec::new();
    for name in names {
        let recipient = match db::users::find_by_username(conn, name).await? {
            Some(user) if user.active => Recipient::User(user.id),
            _ => Recipient::Role(Role::Archivist),
        };
        if !recipients.contains(&recipient) {
            recipients.push(recipient);
        }
    }
    Ok(recipients)
}
