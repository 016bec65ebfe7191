//! Retention arithmetic (保管期限): when a record falls due, and the rule that says so.
//! Formation-year periods count from 1 January of the year after the document date;
//! event-based periods count from the event (e.g. `employment_ended`).

use std::fmt;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::validation::ValidationError;

/// The trigger value of policies that count from the formation year.
pub const FORMATION_YEAR: &str = "formation_year";

/// What starts a retention clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Trigger {
    /// 1 January of the year after the document date.
    FormationYear,
    /// The date of the latest event of this type (of the record, or of its party).
    Event(String),
}

impl Trigger {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let text = text.trim();
        if text == FORMATION_YEAR {
            return Ok(Trigger::FormationYear);
        }
        let valid = !text.is_empty()
            && text.len() <= 64
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(ValidationError::new(
                "trigger",
                format!(
                    "{text:?} is neither \"formation_year\" nor an event type like \"employment_ended\""
                ),
            ));
        }
        Ok(Trigger::Event(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Trigger::FormationYear => FORMATION_YEAR,
            Trigger::Event(event) => event,
        }
    }
}

impl From<Trigger> for String {
    fn from(trigger: Trigger) -> Self {
        trigger.as_str().to_owned()
    }
}

impl TryFrom<String> for Trigger {
    type Error = ValidationError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Trigger::parse(&text)
    }
}

/// A retention policy as the arithmetic needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub code: String,
    /// `None` is permanent (永久).
    pub years: Option<u32>,
    pub trigger: Trigger,
}

/// The outcome: a due date (none for permanent records or events still to come) and the
/// rule that produced it, in words an archivist can check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Retention {
    pub due_on: Option<NaiveDate>,
    pub reason: String,
}

impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// What the computation knows about one record.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    pub doc_date: Option<NaiveDate>,
    /// The date of the policy's trigger event, if it happened.
    pub event_date: Option<NaiveDate>,
    /// A due date set by appraisal; the result is never earlier.
    pub min_due_on: Option<NaiveDate>,
    /// Made permanent by appraisal: never due, whatever the policy says.
    pub permanent: bool,
}

/// Computes the due date of a record under `policy`.
pub fn due_date(policy: &Policy, facts: Facts) -> Retention {
    if facts.permanent {
        return Retention {
            due_on: None,
            reason: format!("{}: made permanent by appraisal", policy.code),
        };
    }
    let Some(years) = policy.years else {
        return Retention {
            due_on: None,
            reason: format!("{}: permanent", policy.code),
        };
    };
    let computed = match &policy.trigger {
        Trigger::FormationYear => match facts.doc_date {
            Some(doc_date) => {
                let start = first_of_next_year(doc_date);
                Retention {
                    due_on: add_years(start, years),
                    reason: format!(
                        "{}: {years} years from {start}, the 1 January after the document date {doc_date}",
                        policy.code
                    ),
                }
            }
            None => Retention {
                due_on: None,
                reason: format!(
                    "{}: counts from the document date, which is unknown",
                    policy.code
                ),
            },
        },
        Trigger::Event(event) => match facts.event_date {
            Some(date) => Retention {
                due_on: add_years(date, years),
                reason: format!("{}: {years} years after {event} on {date}", policy.code),
            },
            None => Retention {
                due_on: None,
                reason: format!(
                    "{}: {years} years after {event}, which has not happened yet",
                    policy.code
                ),
            },
        },
    };
    apply_minimum(computed, facts.min_due_on)
}

/// An appraisal's extension wins over a shorter computed date; it never shortens one.
fn apply_minimum(retention: Retention, min_due_on: Option<NaiveDate>) -> Retention {
    match (retention.due_on, min_due_on) {
        (Some(due_on), Some(minimum)) if minimum > due_on => Retention {
            due_on: Some(minimum),
            reason: format!(
                "kept until {minimum} by appraisal (the rule alone gives {due_on}: {})",
                retention.reason
            ),
        },
        _ => retention,
    }
}

fn first_of_next_year(date: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(date.year() + 1, 1, 1).unwrap_or(date)
}

/// `date` plus whole years; 29 February becomes 28 February in common years.
pub fn add_years(date: NaiveDate, years: u32) -> Option<NaiveDate> {
    date.checked_add_months(Months::new(years.checked_mul(12)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("valid date")
    }

    fn policy(code: &str, years: Option<u32>, trigger: &str) -> Policy {
        Policy {
            code: code.into(),
            years,
            trigger: Trigger::parse(trigger).expect("valid trigger"),
        }
    }

    #[test]
    fn due_dates_follow_the_rules() {
        struct Case {
            policy: Policy,
            doc_date: &'static str,
            event: Option<&'static str>,
            min: Option<&'static str>,
            due: Option<&'static str>,
        }
        let cases = [
            // D10 for a 2024 document: counted from 2025-01-01
            Case {
                policy: policy("D10", Some(10), "formation_year"),
                doc_date: "2024-05-01",
                event: None,
                min: None,
                due: Some("2035-01-01"),
            },
            Case {
                policy: policy("D10", Some(10), "formation_year"),
                doc_date: "2024-12-31",
                event: None,
                min: None,
                due: Some("2035-01-01"),
            },
            Case {
                policy: policy("D10", Some(10), "formation_year"),
                doc_date: "2024-01-01",
                event: None,
                min: None,
                due: Some("2035-01-01"),
            },
            Case {
                policy: policy("D30", Some(30), "formation_year"),
                doc_date: "2024-03-01",
                event: None,
                min: None,
                due: Some("2055-01-01"),
            },
            // permanent: never due
            Case {
                policy: policy("Y", None, "formation_year"),
                doc_date: "2024-03-01",
                event: None,
                min: None,
                due: None,
            },
            // LZ2: two years after leaving
            Case {
                policy: policy("LZ2", Some(2), "employment_ended"),
                doc_date: "2020-01-01",
                event: Some("2026-06-30"),
                min: None,
                due: Some("2028-06-30"),
            },
            Case {
                policy: policy("LZ2", Some(2), "employment_ended"),
                doc_date: "2020-01-01",
                event: None,
                min: None,
                due: None,
            },
            // leap day
            Case {
                policy: policy("GZ5", Some(5), "asset_disposed"),
                doc_date: "2010-01-01",
                event: Some("2024-02-29"),
                min: None,
                due: Some("2029-02-28"),
            },
            // an appraisal extension is never undone by recomputation…
            Case {
                policy: policy("D10", Some(10), "formation_year"),
                doc_date: "2014-05-01",
                event: None,
                min: Some("2030-01-01"),
                due: Some("2030-01-01"),
            },
            // …but does not shorten a longer rule either
            Case {
                policy: policy("D30", Some(30), "formation_year"),
                doc_date: "2014-05-01",
                event: None,
                min: Some("2030-01-01"),
                due: Some("2045-01-01"),
            },
        ];
        for case in cases {
            let facts = Facts {
                doc_date: Some(date(case.doc_date)),
                event_date: case.event.map(date),
                min_due_on: case.min.map(date),
                permanent: false,
            };
            let retention = due_date(&case.policy, facts);
            assert_eq!(
                retention.due_on,
                case.due.map(date),
                "{}: {}",
                case.policy.code,
                retention.reason
            );
            assert!(
                retention.reason.starts_with(&case.policy.code)
                    || retention.reason.starts_with("kept until")
            );
        }
    }

    #[test]
    fn reasons_name_the_rule() {
        let retention = due_date(
            &policy("LZ2", Some(2), "employment_ended"),
            Facts {
                doc_date: None,
                event_date: Some(date("2026-06-30")),
                min_due_on: None,
                permanent: false,
            },
        );
        assert_eq!(
            retention.reason,
            "LZ2: 2 years after employment_ended on 2026-06-30"
        );
        let pending = due_date(
            &policy("LZ2", Some(2), "employment_ended"),
            Facts::default(),
        );
        assert!(
            pending.reason.contains("has not happened"),
            "{}",
            pending.reason
        );
    }

    #[test]
    fn a_permanent_appraisal_outlasts_any_rule_and_minimum() {
        let retention = due_date(
            &policy("D10", Some(10), "formation_year"),
            Facts {
                doc_date: Some(date("2014-05-01")),
                event_date: None,
                min_due_on: Some(date("2030-01-01")),
                permanent: true,
            },
        );
        assert_eq!(retention.due_on, None);
        assert!(
            retention.reason.contains("permanent"),
            "{}",
            retention.reason
        );
    }

    #[test]
    fn triggers_are_formation_year_or_event_names() {
        assert_eq!(
            Trigger::parse("formation_year").expect("ok"),
            Trigger::FormationYear
        );
        assert_eq!(
            Trigger::parse("employment_ended").expect("ok"),
            Trigger::Event("employment_ended".into())
        );
        assert!(Trigger::parse("").is_err());
        assert!(Trigger::parse("Employment Ended").is_err());
    }
}
