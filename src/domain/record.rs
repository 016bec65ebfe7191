//! Record metadata as clients send it, and the rules it must meet before it is filed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A value that breaks a rule; `field` names the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    pub field: String,
    pub reason: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// The longest title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 1000;
/// The longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
/// The longest stored filename, in characters.
pub const MAX_FILENAME_CHARS: usize = 255;

/// Metadata of a record as sent in the `metadata` part of an upload.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordMetadataInput {
    /// Title (題名); required.
    pub title: String,
    /// Document date, `YYYY-MM-DD`; defaults to the filing date.
    #[serde(default)]
    pub doc_date: Option<NaiveDate>,
    /// Category code (門類), e.g. `WS`.
    #[serde(default)]
    pub category: Option<String>,
    /// Free-text description.
    #[serde(default)]
    pub description: Option<String>,
}

/// Metadata that met every rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordMetadata {
    pub title: String,
    pub doc_date: NaiveDate,
    pub category: Option<String>,
    pub description: Option<String>,
}

impl RecordMetadataInput {
    /// Applies the rules; `filed_on` is the default document date.
    pub fn validate(self, filed_on: NaiveDate) -> Result<RecordMetadata, ValidationError> {
        let title = self.title.trim().to_owned();
        if title.is_empty() {
            return Err(ValidationError::new("title", "is required"));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(ValidationError::new(
                "title",
                format!("is longer than {MAX_TITLE_CHARS} characters"),
            ));
        }
        let category = optional_text(self.category);
        if let Some(code) = &category {
            check_code("category", code)?;
        }
        let description = optional_text(self.description);
        if description
            .as_ref()
            .is_some_and(|text| text.chars().count() > MAX_DESCRIPTION_CHARS)
        {
            return Err(ValidationError::new(
                "description",
                format!("is longer than {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
        Ok(RecordMetadata {
            title,
            doc_date: self.doc_date.unwrap_or(filed_on),
            category,
            description,
        })
    }
}

/// A code of the classification (category, fonds, department…): 1–16 letters, digits or
/// CJK characters, as DA/T 22 codes are written.
pub fn check_code(field: &str, code: &str) -> Result<(), ValidationError> {
    let count = code.chars().count();
    if count == 0 || count > 16 || !code.chars().all(char::is_alphanumeric) {
        return Err(ValidationError::new(
            field,
            format!("{code:?} is not a code (1 to 16 letters, digits or Chinese characters)"),
        ));
    }
    Ok(())
}

fn optional_text(value: Option<String>) -> Option<String> {
    value
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

/// The filename to keep for an uploaded file: the last path component, without control
/// characters, at most [`MAX_FILENAME_CHARS`] characters; `None` if nothing usable is left.
pub fn clean_filename(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_FILENAME_CHARS)
        .collect();
    (!cleaned.is_empty() && cleaned != "." && cleaned != "..").then_some(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(title: &str) -> RecordMetadataInput {
        RecordMetadataInput {
            title: title.to_owned(),
            doc_date: None,
            category: None,
            description: None,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).expect("valid date")
    }

    #[test]
    fn title_is_required_and_trimmed() {
        assert_eq!(
            input("  ").validate(today()).expect_err("blank").field,
            "title"
        );
        assert_eq!(
            input(" 勞動合同 ").validate(today()).expect("valid").title,
            "勞動合同"
        );
    }

    #[test]
    fn document_date_defaults_to_the_filing_date() {
        assert_eq!(
            input("合同").validate(today()).expect("valid").doc_date,
            today()
        );
    }

    #[test]
    fn category_codes_may_be_latin_or_chinese_but_not_punctuation() {
        let mut record = input("合同");
        record.category = Some("人事".into());
        assert!(record.clone().validate(today()).is_ok());
        record.category = Some("W S".into());
        assert_eq!(
            record.validate(today()).expect_err("space").field,
            "category"
        );
    }

    #[test]
    fn unknown_fields_are_rejected_not_dropped() {
        let parsed = serde_json::from_str::<RecordMetadataInput>(r#"{"title":"x","titel":"y"}"#);
        assert!(parsed.is_err());
    }

    #[test]
    fn filenames_keep_chinese_and_lose_paths_and_controls() {
        assert_eq!(
            clean_filename("身份證復印件.jpg").as_deref(),
            Some("身份證復印件.jpg")
        );
        assert_eq!(
            clean_filename(r"C:\掃描\合同.pdf").as_deref(),
            Some("合同.pdf")
        );
        assert_eq!(
            clean_filename("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(clean_filename("a\u{0}b\n.txt").as_deref(), Some("ab.txt"));
        assert_eq!(clean_filename(".."), None);
        assert_eq!(clean_filename(""), None);
    }
}
