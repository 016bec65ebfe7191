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
        Stocktake => "stocktake",
        Approval => "approval",
        Shredding => "shredding",
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

text_enum!(
    /// The unit of a [`Period`].
    PeriodUnit { Day => "day", Week => "week", Month => "month", Year => "year" }
);

/// A span of calendar time in one unit: `30 days`, `3 months`, `1 year`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub count: u32,
    pub unit: PeriodUnit,
}

impl Period {
    /// Parses `N day(s)|week(s)|month(s)|year(s)`, in English or Chinese (`30天`, `3個月`,
    /// `1年`); N from 1 to 1200.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
        let unit_text = text[digits.len()..].trim().to_lowercase();
        let count: u32 = digits
            .parse()
            .map_err(|_| format!("{text:?} is not a period such as \"30 days\" or \"3 months\""))?;
        let unit = match unit_text.trim_end_matches('s') {
            "day" | "天" | "日" => PeriodUnit::Day,
            "week" | "週" | "周" => PeriodUnit::Week,
            "month" | "個月" | "个月" | "月" => PeriodUnit::Month,
            "year" | "年" => PeriodUnit::Year,
            _ => {
                return Err(format!(
                    "{text:?}: the unit is one of days, weeks, months, years"
                ));
            }
        };
        if !(1..=1200).contains(&count) {
            return Err(format!("{text:?}: the count is between 1 and 1200"));
        }
        Ok(Self { count, unit })
    }

    /// Months and days, as PostgreSQL intervals hold them.
    pub fn months_and_days(self) -> (i32, i32) {
        let count = i32::try_from(self.count).unwrap_or(i32::MAX);
        match self.unit {
            PeriodUnit::Day => (0, count),
            PeriodUnit::Week => (0, count.saturating_mul(7)),
            PeriodUnit::Month => (count, 0),
            PeriodUnit::Year => (count.saturating_mul(12), 0),
        }
    }

    /// The period of `months` and `days` in its plainest unit (days win when both are set).
    pub fn from_months_and_days(months: i32, days: i32) -> Option<Self> {
        let (count, unit) = match (months, days) {
            (0, days) if days > 0 && days % 7 == 0 && days < 30 => (days / 7, PeriodUnit::Week),
            (_, days) if days > 0 => (days + months * 30, PeriodUnit::Day),
            (months, 0) if months > 0 && months % 12 == 0 => (months / 12, PeriodUnit::Year),
            (months, 0) if months > 0 => (months, PeriodUnit::Month),
            _ => return None,
        };
        Some(Self {
            count: u32::try_from(count).ok()?,
            unit,
        })
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = if self.count == 1 { "" } else { "s" };
        write!(f, "{} {}{plural}", self.count, self.unit.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_in_english_and_chinese_and_print_back() {
        let cases = [
            ("30 days", 30, PeriodUnit::Day, "30 days"),
            ("1 day", 1, PeriodUnit::Day, "1 day"),
            ("3 months", 3, PeriodUnit::Month, "3 months"),
            ("2 weeks", 2, PeriodUnit::Week, "2 weeks"),
            ("1 year", 1, PeriodUnit::Year, "1 year"),
            ("15天", 15, PeriodUnit::Day, "15 days"),
            ("3個月", 3, PeriodUnit::Month, "3 months"),
            ("3个月", 3, PeriodUnit::Month, "3 months"),
        ];
        for (text, count, unit, printed) in cases {
            let period = Period::parse(text).expect(text);
            assert_eq!((period.count, period.unit), (count, unit), "{text}");
            assert_eq!(period.to_string(), printed);
        }
        for bad in ["", "days", "0 days", "3 fortnights", "-1 day", "5000 years"] {
            assert!(Period::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn periods_survive_the_trip_through_months_and_days() {
        for text in ["30 days", "2 weeks", "3 months", "2 years", "1 day"] {
            let period = Period::parse(text).expect(text);
            let (months, days) = period.months_and_days();
            assert_eq!(
                Period::from_months_and_days(months, days),
                Some(period),
                "{text}"
            );
        }
        assert_eq!(Period::from_months_and_days(0, 0), None);
    }

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
