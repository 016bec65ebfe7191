//! Lending (借閱, R11, R12): who may borrow and who approves, how long a loan runs, and the
//! watermark a borrowed download carries.

use chrono::{DateTime, Days, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::user::Role;
use super::validation::ValidationError;

text_enum!(
    /// Where a loan is: asked for, then approved or rejected; an approved loan is returned.
    LoanStatus { Requested => "requested", Approved => "approved", Rejected => "rejected", Returned => "returned" }
);

/// The longest loan, in days.
pub const MAX_DAYS: i32 = 365;

/// Whether `role` may borrow records. Auditors read the audit trail, never the documents.
pub fn may_borrow(role: Role) -> bool {
    role != Role::Auditor
}

/// Whether `role` may approve or reject a loan of a record; a customer's records need the
/// general manager (R11). Nobody approves their own loan.
pub fn may_approve_loan(role: Role, customer_record: bool) -> bool {
    match role {
        Role::Admin | Role::GeneralManager => true,
        Role::Director => !customer_record,
        _ => false,
    }
}

/// Whether `role` registers loans and returns for others (the records office), and sees
/// every loan.
pub fn keeps_loans(role: Role) -> bool {
    matches!(
        role,
        Role::Admin | Role::Archivist | Role::Director | Role::GeneralManager
    )
}

/// The longest loan in hours (taken out for a visit and back the same day).
pub const MAX_HOURS: i32 = 12;

/// How long a loan runs once approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    /// Through the last of so many days.
    Days(i32),
    /// So many hours from the approval (a visit).
    Hours(i32),
    /// Read in the reading room: back the same day.
    SameDay,
}

impl Term {
    /// The term from a request's `days`, `hours` and `reading_room`: days, or hours, or a
    /// reading-room loan that runs the day it is approved (optionally for some hours).
    pub fn of(
        days: Option<i32>,
        hours: Option<i32>,
        reading_room: bool,
    ) -> Result<Term, ValidationError> {
        match (days, hours) {
            (Some(_), Some(_)) => Err(ValidationError::new(
                "hours",
                "a loan runs days or hours, not both",
            )),
            (Some(_), None) if reading_room => Err(ValidationError::new(
                "days",
                "a reading-room loan is returned the same day; leave days out (or give hours)",
            )),
            (Some(days), None) if (1..=MAX_DAYS).contains(&days) => Ok(Term::Days(days)),
            (Some(_), None) => Err(ValidationError::new(
                "days",
                format!("between 1 and {MAX_DAYS}"),
            )),
            (None, Some(hours)) if (1..=MAX_HOURS).contains(&hours) => Ok(Term::Hours(hours)),
            (None, Some(_)) => Err(ValidationError::new(
                "hours",
                format!("between 1 and {MAX_HOURS}: a longer loan runs days"),
            )),
            (None, None) if reading_room => Ok(Term::SameDay),
            (None, None) => Err(ValidationError::new(
                "days",
                "say how long the loan runs: days, hours, or a reading-room loan",
            )),
        }
    }

    /// The days stored with the loan (0 for a loan of the same day).
    pub fn days(self) -> i32 {
        match self {
            Term::Days(days) => days,
            Term::Hours(_) | Term::SameDay => 0,
        }
    }

    pub fn hours(self) -> Option<i32> {
        match self {
            Term::Hours(hours) => Some(hours),
            _ => None,
        }
    }
}

/// A loan request's purpose, checked.
pub fn check_purpose(purpose: &str) -> Result<String, ValidationError> {
    let purpose = purpose.trim();
    if purpose.is_empty() {
        return Err(ValidationError::new("purpose", "required"));
    }
    if purpose.chars().count() > 1000 {
        return Err(ValidationError::new(
            "purpose",
            "longer than 1000 characters",
        ));
    }
    Ok(purpose.to_owned())
}

/// The last day of a loan of `days` approved on `approved_on`: the loan runs through it.
pub fn due_on(approved_on: NaiveDate, days: i32) -> NaiveDate {
    let days = u64::try_from(days).unwrap_or(0);
    approved_on
        .checked_add_days(Days::new(days))
        .unwrap_or(NaiveDate::MAX)
}

/// The line a borrowed copy carries: who borrowed it, under which loan, and when it was
/// downloaded, so a leaked copy names its borrower (R12, R13).
pub fn watermark_line(username: &str, loan_id: impl std::fmt::Display, at: DateTime<Tz>) -> String {
    format!(
        "loan {loan_id} | {username} | {} | no copies 借閱副本 未經許可不得複製",
        at.format("%Y-%m-%d %H:%M %Z")
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn customer_records_need_the_general_manager() {
        assert!(may_approve_loan(Role::GeneralManager, true));
        assert!(may_approve_loan(Role::Director, false));
        assert!(!may_approve_loan(Role::Director, true));
        assert!(!may_approve_loan(Role::Archivist, false));
        assert!(!may_approve_loan(Role::Staff, false));
        assert!(!may_borrow(Role::Auditor));
        assert!(may_borrow(Role::Staff));
    }

    #[test]
    fn requests_need_a_purpose_and_a_length_within_a_year() {
        assert_eq!(check_purpose("  審計 ").ok().as_deref(), Some("審計"));
        assert_eq!(
            check_purpose(" ").err().map(|e| e.field),
            Some("purpose".into())
        );
        for days in [0, -1, 366] {
            assert_eq!(
                Term::of(Some(days), None, false).err().map(|e| e.field),
                Some("days".into())
            );
        }
        assert_eq!(Term::of(Some(365), None, false), Ok(Term::Days(365)));
    }

    #[test]
    fn a_loan_runs_days_or_hours_and_a_reading_room_loan_the_same_day() {
        assert_eq!(Term::of(None, Some(3), false), Ok(Term::Hours(3)));
        assert_eq!(Term::of(None, Some(3), true), Ok(Term::Hours(3)));
        assert_eq!(Term::of(None, None, true), Ok(Term::SameDay));
        assert_eq!(Term::SameDay.days(), 0);
        let field = |term: Result<Term, ValidationError>| term.err().map(|e| e.field);
        assert_eq!(
            field(Term::of(Some(2), Some(3), false)),
            Some("hours".into())
        );
        assert_eq!(field(Term::of(Some(2), None, true)), Some("days".into()));
        assert_eq!(field(Term::of(None, Some(13), false)), Some("hours".into()));
        assert_eq!(field(Term::of(None, None, false)), Some("days".into()));
    }

    #[test]
    fn a_loan_runs_through_its_last_day() {
        let approved = NaiveDate::from_ymd_opt(2026, 12, 30).expect("date");
        assert_eq!(
            due_on(approved, 7),
            NaiveDate::from_ymd_opt(2027, 1, 6).expect("date")
        );
    }

    #[test]
    fn the_watermark_names_borrower_loan_and_time_and_pdf_text_stays_ascii() {
        let at = chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 11, 29, 9, 5, 0)
            .single()
            .expect("time");
        let line = watermark_line("li.lei", "L1", at);
        assert!(line.contains("li.lei") && line.contains("L1"), "{line}");
        assert!(line.contains("2026-11-29 09:05 CST"), "{line}");
    }
}
