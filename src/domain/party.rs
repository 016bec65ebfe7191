//! Parties (當事人): employees keyed by employee number (工號), customers by customer code;
//! and the dated events that move retention clocks.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::validation::ValidationError;

/// The event that ends employment: the folder leaves the active set and LZ2 starts counting.
pub const EMPLOYMENT_ENDED: &str = "employment_ended";
/// The event of a departed employee being hired again.
pub const REHIRED: &str = "rehired";
/// A follow-up visit (回訪) to a customer, with its outcome and next step: it answers the
/// follow-up reminders due by its date.
pub const FOLLOW_UP: &str = "follow_up";

/// What kind of party a folder belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    Employee,
    Customer,
}

impl PartyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PartyKind::Employee => "employee",
            PartyKind::Customer => "customer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [PartyKind::Employee, PartyKind::Customer]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// Whether a party's folder is in the active set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartyStatus {
    Active,
    /// An employee who left: the folder is out of the active set (R16).
    Departed,
    /// A former customer.
    Inactive,
}

impl PartyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PartyStatus::Active => "active",
            PartyStatus::Departed => "departed",
            PartyStatus::Inactive => "inactive",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            PartyStatus::Active,
            PartyStatus::Departed,
            PartyStatus::Inactive,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// An employee number (工號) or customer code: 1–32 letters, digits, `-`, `_` or `.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyIdentifier(String);

impl PartyIdentifier {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let text = text.trim();
        let count = text.chars().count();
        let valid = (1..=32).contains(&count)
            && text
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(ValidationError::new(
                "identifier",
                format!(
                    "{text:?} is not an employee number or customer code (1 to 32 letters, digits, - _ .)"
                ),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A contact person of a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A dated event as clients send it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// `employment_ended`, `regularised`, `rehired`, `asset_disposed`, …
    #[serde(rename = "type")]
    pub r#type: String,
    pub date: NaiveDate,
    #[serde(default)]
    pub note: Option<String>,
    /// What came of it (a follow-up visit: 客戶滿意，擬續約).
    #[serde(default)]
    pub outcome: Option<String>,
    /// What comes next (下次回訪帶新報價).
    #[serde(default)]
    pub next_step: Option<String>,
}

impl EventInput {
    /// Event types are lower-case words joined by `_`, as retention triggers name them.
    pub fn validate(self) -> Result<Self, ValidationError> {
        let kind = self.r#type.trim();
        let valid = !kind.is_empty()
            && kind.len() <= 64
            && kind
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(ValidationError::new(
                "type",
                format!("{kind:?} is not an event type like \"employment_ended\""),
            ));
        }
        let text = |value: Option<String>| {
            value
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty())
        };
        Ok(Self {
            r#type: kind.to_owned(),
            date: self.date,
            note: text(self.note),
            outcome: text(self.outcome),
            next_step: text(self.next_step),
        })
    }

    /// The folder status this event leads to, if it changes it.
    pub fn status_after(&self, kind: PartyKind) -> Option<PartyStatus> {
        match (kind, self.r#type.as_str()) {
            (PartyKind::Employee, EMPLOYMENT_ENDED) => Some(PartyStatus::Departed),
            (PartyKind::Employee, REHIRED) => Some(PartyStatus::Active),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_accept_employee_numbers_and_customer_codes() {
        for text in ["E0012", "00451", "KH-2024-001", "深圳01"] {
            assert!(PartyIdentifier::parse(text).is_ok(), "{text}");
        }
        for text in ["", "E 12", "a/b", &"9".repeat(33)] {
            assert!(PartyIdentifier::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn leaving_and_rehiring_change_an_employee_folder_status() {
        let event = |kind: &str| EventInput {
            r#type: kind.into(),
            date: NaiveDate::MIN,
            note: None,
            outcome: None,
            next_step: None,
        };
        assert_eq!(
            event(EMPLOYMENT_ENDED).status_after(PartyKind::Employee),
            Some(PartyStatus::Departed)
        );
        assert_eq!(
            event(REHIRED).status_after(PartyKind::Employee),
            Some(PartyStatus::Active)
        );
        assert_eq!(event("regularised").status_after(PartyKind::Employee), None);
        assert_eq!(
            event(EMPLOYMENT_ENDED).status_after(PartyKind::Customer),
            None
        );
        assert!(event("Employment Ended").validate().is_err());
    }
}
