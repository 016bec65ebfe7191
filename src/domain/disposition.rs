//! Disposition rules (鑒定, 銷毀): who appraises, what an appraisal does to a due date, and
//! when a change counts as shortening a retention that a legal hold protects.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::retention::add_years;
use super::validation::ValidationError;

text_enum!(
    /// An appraiser's decision on a due record.
    Decision { Destroy => "destroy", Extend => "extend", Permanent => "permanent" }
);

text_enum!(
    /// Where a destruction batch (銷毀清冊) stands: approved by two, run, its paper shredded.
    BatchStatus {
        AwaitingApproval => "awaiting_approval",
        Approved => "approved",
        Running => "running",
        AwaitingShredding => "awaiting_shredding",
        Done => "done",
    }
);

/// Distinct approvals a destruction batch needs before it runs.
pub const APPROVALS_NEEDED: usize = 2;

/// The due date after keeping a record `years` more: counted from the later of the stored
/// and the freshly computed due date.
pub fn extended_due(
    stored: Option<NaiveDate>,
    computed: Option<NaiveDate>,
    years: u32,
) -> Result<NaiveDate, ValidationError> {
    if years == 0 {
        return Err(ValidationError::new(
            "years",
            "extend needs years of at least 1",
        ));
    }
    let base = stored.max(computed).ok_or_else(|| {
        ValidationError::new(
            "decision",
            "the record has no due date to extend (permanent, or its retention clock has not started)",
        )
    })?;
    add_years(base, years)
        .ok_or_else(|| ValidationError::new("years", format!("{years} years is too far")))
}

/// Whether moving a due date from `before` to `after` shortens the retention: an earlier
/// date, or a date where there was none (permanent or not yet started).
pub fn shortens(before: Option<NaiveDate>, after: Option<NaiveDate>) -> bool {
    match (before, after) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(before), Some(after)) => after < before,
    }
}

/// Whether a record due on `due_on` is due on `today`.
pub fn is_due(due_on: Option<NaiveDate>, today: NaiveDate) -> bool {
    due_on.is_some_and(|due_on| due_on <= today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::Role;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("valid date")
    }

    #[test]
    fn extension_counts_from_the_later_due_date() {
        let cases = [
            (
                Some("2025-01-01"),
                Some("2025-01-01"),
                5,
                Some("2030-01-01"),
            ),
            (
                Some("2027-01-01"),
                Some("2025-01-01"),
                5,
                Some("2032-01-01"),
            ),
            (None, Some("2025-01-01"), 1, Some("2026-01-01")),
            (Some("2024-02-29"), None, 1, Some("2025-02-28")),
            (None, None, 5, None),
            (Some("2025-01-01"), None, 0, None),
        ];
        for (stored, computed, years, expected) in cases {
            let result = extended_due(stored.map(date), computed.map(date), years).ok();
            assert_eq!(
                result,
                expected.map(date),
                "{stored:?} {computed:?} {years}"
            );
        }
    }

    #[test]
    fn only_earlier_or_newly_finite_dates_shorten() {
        let (early, late) = (Some(date("2025-01-01")), Some(date("2035-01-01")));
        assert!(shortens(late, early));
        assert!(shortens(None, early));
        assert!(!shortens(early, late));
        assert!(!shortens(early, early));
        assert!(!shortens(early, None));
    }

    #[test]
    fn due_means_on_or_before_today() {
        let today = date("2026-01-01");
        assert!(is_due(Some(today), today));
        assert!(is_due(Some(date("2025-01-01")), today));
        assert!(!is_due(Some(date("2026-01-02")), today));
        assert!(!is_due(None, today));
    }

    #[test]
    fn the_disposing_roles_are_the_four_senior_ones() {
        let allowed: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| role.may(crate::domain::permissions::Capability::Dispose))
            .collect();
        assert_eq!(
            allowed,
            [
                Role::Admin,
                Role::Archivist,
                Role::Director,
                Role::GeneralManager
            ]
        );
    }
}
