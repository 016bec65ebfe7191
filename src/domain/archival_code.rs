//! Archival codes (檔號) in the DA/T 22 style: `fonds-category·year-retention-department-item`,
//! e.g. `Z109-WS·2024-D30-BGS-0007`. DA/T 22 makes the organisation segment optional: a record
//! without a department is `Z109-WS·2024-D30-0007`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::validation::{ValidationError, check_code};

/// The separator between the category and the year (U+00B7 MIDDLE DOT).
pub const YEAR_SEPARATOR: char = '·';
/// Look-alike dots people type for the year separator; they parse as [`YEAR_SEPARATOR`].
const YEAR_SEPARATOR_VARIANTS: [char; 3] = ['·', '・', '•'];

/// One archival code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArchivalCode {
    pub fonds: String,
    pub category: String,
    pub year: i32,
    pub retention: String,
    /// The organisation (department) segment; absent for records without a department.
    pub department: Option<String>,
    /// Item number within its class, from 1; shown with at least four digits.
    pub item: u32,
}

impl ArchivalCode {
    /// Parses and validates a code; look-alike middle dots are accepted.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let invalid = |reason: &str| {
            ValidationError::new(
                "archival_code",
                format!(
                    "{text:?} is not an archival code like Z109-WS·2024-D30-BGS-0007: {reason}"
                ),
            )
        };
        let text = text.trim();
        let (head, tail) = text
            .split_once(|c| YEAR_SEPARATOR_VARIANTS.contains(&c))
            .ok_or_else(|| invalid("the middle dot before the year is missing"))?;
        let head: Vec<&str> = head.split('-').collect();
        let tail: Vec<&str> = tail.split('-').collect();
        let ([fonds, category], [year, retention, department @ .., item]) =
            (head.as_slice(), tail.as_slice())
        else {
            return Err(invalid(
                "expected fonds-category·year-retention-department-item",
            ));
        };
        let department = match department {
            [] => None,
            [department] => Some(*department),
            _ => {
                return Err(invalid(
                    "expected fonds-category·year-retention-department-item",
                ));
            }
        };
        for (field, value) in [
            ("fonds", Some(fonds)),
            ("category", Some(category)),
            ("retention", Some(retention)),
            ("department", department.as_ref()),
        ] {
            if let Some(value) = value {
                check_code(field, value).map_err(|error| invalid(&error.to_string()))?;
            }
        }
        if year.len() != 4 || !year.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid("the year must have four digits"));
        }
        if item.len() < 4 || !item.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid("the item number must have at least four digits"));
        }
        let item: u32 = item
            .parse()
            .map_err(|_| invalid("the item number is too large"))?;
        if item == 0 {
            return Err(invalid("item numbers start at 0001"));
        }
        Ok(Self {
            fonds: (*fonds).to_owned(),
            category: (*category).to_owned(),
            year: year.parse().map_err(|_| invalid("bad year"))?,
            retention: (*retention).to_owned(),
            department: department.map(str::to_owned),
            item,
        })
    }
}

impl ArchivalCode {
    /// The code of the class without the item number: every item of the class starts so.
    pub fn class_prefix(&self) -> String {
        let mut prefix = format!(
            "{}-{}{YEAR_SEPARATOR}{:04}-{}-",
            self.fonds, self.category, self.year, self.retention
        );
        if let Some(department) = &self.department {
            prefix.push_str(department);
            prefix.push('-');
        }
        prefix
    }
}

impl fmt::Display for ArchivalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:04}", self.class_prefix(), self.item)
    }
}

impl FromStr for ArchivalCode {
    type Err = ValidationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for ArchivalCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ArchivalCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn code(item: u32) -> ArchivalCode {
        ArchivalCode {
            fonds: "Z109".into(),
            category: "WS".into(),
            year: 2024,
            retention: "D30".into(),
            department: Some("BGS".into()),
            item,
        }
    }

    #[test]
    fn formats_as_da_t_22() {
        assert_eq!(code(7).to_string(), "Z109-WS·2024-D30-BGS-0007");
        assert_eq!(code(12345).to_string(), "Z109-WS·2024-D30-BGS-12345");
    }

    #[test]
    fn parses_valid_codes_including_chinese_departments_and_look_alike_dots() {
        let cases = [
            ("Z109-WS·2024-D30-BGS-0007", "BGS", 7),
            ("Z109-WS・2024-D30-BGS-0007", "BGS", 7),
            ("Z109-RS·2023-LZ2-人事部-0150", "人事部", 150),
            (" Z109-WS·2024-D30-BGS-10000 ", "BGS", 10000),
        ];
        for (text, department, item) in cases {
            let parsed = ArchivalCode::parse(text).expect(text);
            assert_eq!(parsed.department.as_deref(), Some(department));
            assert_eq!(parsed.item, item);
        }
    }

    #[test]
    fn the_department_segment_is_optional() {
        let code = ArchivalCode {
            department: None,
            ..code(7)
        };
        assert_eq!(code.to_string(), "Z109-WS·2024-D30-0007");
        assert_eq!(code.class_prefix(), "Z109-WS·2024-D30-");
        assert_eq!(
            ArchivalCode::parse("Z109-WS·2024-D30-0007").ok(),
            Some(code)
        );
    }

    #[test]
    fn rejects_malformed_codes() {
        for text in [
            "",
            "Z109-WS-2024-D30-BGS-0007",
            "Z109·2024-D30-BGS-0007",
            "Z109-WS·24-D30-BGS-0007",
            "Z109-WS·2024-D30-BGS-007",
            "Z109-WS·2024-D30-BGS-0000",
            "Z109-WS·2024-0007",
            "Z109-WS·2024-D30-BGS-X-0007",
            "Z 109-WS·2024-D30-BGS-0007",
            "Z109-WS·2024-D30-BGS-00x7",
            "Z109-W-S·2024-D30-BGS-0007",
        ] {
            assert!(
                ArchivalCode::parse(text).is_err(),
                "{text:?} should be rejected"
            );
        }
    }

    fn code_part() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Z][A-Z0-9]{0,5}",
            "[一-龥]{1,4}",
            "[A-Z]{1,2}[一-龥]{1,2}",
        ]
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(
            fonds in code_part(),
            category in code_part(),
            year in 1900i32..=2999,
            retention in code_part(),
            department in proptest::option::of(code_part()),
            item in 1u32..=999_999,
        ) {
            let code = ArchivalCode { fonds, category, year, retention, department, item };
            let text = code.to_string();
            prop_assert_eq!(ArchivalCode::parse(&text).expect("round trip"), code);
        }
    }
}
