//! Who a loan is for and who hears of it: the borrower a request names, and the reminders
//! of requests and due dates.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::db;
use crate::domain::loan::keeps_loans;
use crate::domain::reminder::{NewReminder, Recipient, ReminderKind};
use crate::domain::user::Role;
use crate::services::{Actor, ServiceError, ServiceResult};

/// Who borrows.
pub(super) struct Borrower {
    pub(super) id: Uuid,
    pub(super) party_id: Option<Uuid>,
}

/// The borrower a request names: the caller, or (for the records office) another active
/// user; an auditor never borrows.
pub(super) async fn borrower_of(
    conn: &mut db::PgConnection,
    actor: &Actor,
    named: Option<&str>,
) -> ServiceResult<Borrower> {
    match named.map(str::trim) {
        None => Ok(Borrower {
            id: actor.user_id,
            party_id: actor.party_id,
        }),
        Some(name) if name == actor.username => Ok(Borrower {
            id: actor.user_id,
            party_id: actor.party_id,
        }),
        Some(name) => {
            if !keeps_loans(actor.role) {
                return Err(ServiceError::Forbidden(
                    "only the records office registers loans for someone else".into(),
                ));
            }
            let user = db::users::find_by_username(conn, name)
                .await?
                .filter(|user| user.active)
                .ok_or_else(|| ServiceError::Validation(format!("borrower: no user {name:?}")))?;
            if user.role == Role::Auditor.as_str() {
                return Err(ServiceError::Validation(format!(
                    "borrower: {name:?} is an auditor; auditors do not borrow records"
                )));
            }
            Ok(Borrower {
                id: user.id,
                party_id: user.party_id,
            })
        }
    }
}

/// The reminder of a new request, to the role that approves it.
pub(super) fn request_reminder(
    row: &db::loans::LoanRow,
    approver: Role,
    today: NaiveDate,
) -> NewReminder {
    loan_reminder(
        row,
        format!("loan_request:{}", row.id),
        format!(
            "借閱申請待審批 loan request awaiting approval: {} ({}), {} days, by {}",
            row.title,
            row.archival_code.as_deref().unwrap_or("-"),
            row.days,
            row.borrower
        ),
        today,
        Recipient::Role(approver),
    )
}

/// A reminder about a loan; `details.loan_id` ties it to the loan, whose return closes it.
pub(crate) fn loan_reminder(
    row: &db::loans::LoanRow,
    key: String,
    subject: String,
    due_on: NaiveDate,
    recipient: Recipient,
) -> NewReminder {
    let mut reminder = NewReminder::new(ReminderKind::Loan, key, subject, due_on, recipient);
    reminder.record_id = Some(row.record_id);
    reminder.details = serde_json::json!({
        "loan_id": row.id, "borrower": row.borrower, "due_on": row.due_on,
        "physical": row.physical,
    });
    reminder
}
