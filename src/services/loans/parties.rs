//! Who a loan is for and who hears of it: the borrower a request names, and the reminders
//! of requests and due dates.

use chrono::NaiveDate;
use uuid::Uuid;

use super::NewLoanInput;
use crate::db;
use crate::domain::loan::keeps_loans;
use crate::domain::reminder::{NewReminder, Recipient, ReminderKind};
use crate::domain::user::Role;
use crate::services::{Actor, ServiceError, ServiceResult};

/// Who borrows: a user, or an outside borrower.
pub(super) struct Borrower {
    pub(super) id: Option<Uuid>,
    pub(super) outside: Option<Uuid>,
    pub(super) party_id: Option<Uuid>,
}

/// The borrower a request names: the caller, or (for the records office) another active
/// user or a registered outside borrower; an auditor never borrows.
pub(super) async fn borrower_of(
    conn: &mut db::PgConnection,
    actor: &Actor,
    input: &NewLoanInput,
) -> ServiceResult<Borrower> {
    if let Some(outside) = input.outside_borrower {
        return outside_borrower(conn, actor, input, outside).await;
    }
    let me = Borrower {
        id: Some(actor.user_id),
        outside: None,
        party_id: actor.party_id,
    };
    match input.borrower.as_deref().map(str::trim) {
        None => Ok(me),
        Some(name) if name == actor.username => Ok(me),
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
                id: Some(user.id),
                outside: None,
                party_id: user.party_id,
            })
        }
    }
}

/// An outside borrower's loan: registered by the records office, for the reading room or
/// the paper (they have no login to read an electronic copy).
async fn outside_borrower(
    conn: &mut db::PgConnection,
    actor: &Actor,
    input: &NewLoanInput,
    id: Uuid,
) -> ServiceResult<Borrower> {
    if !keeps_loans(actor.role) {
        return Err(ServiceError::Forbidden(
            "only the records office registers loans for outside borrowers".into(),
        ));
    }
    if input.borrower.is_some() {
        return Err(ServiceError::Validation(
            "borrower: name a user or an outside_borrower, not both".into(),
        ));
    }
    if !input.reading_room && !input.physical {
        return Err(ServiceError::Validation(
            "outside_borrower: an outside borrower has no login; lend for the reading room \
             (reading_room) or lend the paper (physical)"
                .into(),
        ));
    }
    db::loans::find_outside(conn, id)
        .await?
        .ok_or_else(|| ServiceError::Validation(format!("outside_borrower: no borrower {id}")))?;
    Ok(Borrower {
        id: None,
        outside: Some(id),
        party_id: None,
    })
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
        "due_at": row.due_at, "physical": row.physical, "reading_room": row.reading_room,
    });
    reminder
}
