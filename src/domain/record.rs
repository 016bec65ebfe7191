//! Record metadata as clients send it, and the rules it must meet before it is filed.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::catalogue::{Carrier, Location, OpenStatus, SecurityLevel};
pub use super::patch::Patch;
use super::validation::{ValidationError, bounded_text, check_code, optional_text, short_text};

/// The longest title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = super::validation::MAX_SHORT_TEXT_CHARS;
/// The longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
/// The longest stored filename, in characters.
pub const MAX_FILENAME_CHARS: usize = 255;

text_enum!(
    /// Where a record is in its life: kept, withdrawn as filed by mistake (作廢: a tombstone
    /// that keeps its catalogue entry and audit trail), or destroyed at the end of its
    /// retention.
    RecordStatus { Active => "active", Withdrawn => "withdrawn", Destroyed => "destroyed" }
);

text_enum!(
    /// How far the text extraction of a file got: pending from its filing until its
    /// extraction job has run; then done, failed (no text, and why), or unsupported (a type
    /// that carries no text to extract).
    TextStatus { Pending => "pending", Done => "done", Failed => "failed", Unsupported => "unsupported" }
);

/// Metadata of a record as sent in the `metadata` part of an upload (DA/T 22 / DA/T 46).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordMetadataInput {
    /// Title (題名); required.
    pub title: String,
    /// Document date, `YYYY-MM-DD`; defaults to the filing date.
    #[serde(default)]
    pub doc_date: Option<NaiveDate>,
    /// Year (年度) of the archival code; defaults to the document date's year.
    #[serde(default)]
    pub year: Option<i32>,
    /// Fonds code (全宗號), e.g. `Z109`; defaults to the installation's default fonds.
    #[serde(default)]
    pub fonds: Option<String>,
    /// Category code (門類), e.g. `WS`.
    #[serde(default)]
    pub category: Option<String>,
    /// Retention policy code (保管期限), e.g. `D30`; defaults to the category's.
    #[serde(default)]
    pub retention: Option<String>,
    /// Department code, e.g. `BGS`; defaults to the uploader's department.
    #[serde(default)]
    pub department: Option<String>,
    /// The employee or customer whose folder holds the record.
    #[serde(default)]
    pub party_id: Option<Uuid>,
    /// The employee (party id) who keeps the record in their care; handed over to a
    /// successor before they leave.
    #[serde(default)]
    pub custodian: Option<Uuid>,
    /// Document number (文號).
    #[serde(default)]
    pub doc_number: Option<String>,
    /// Responsible party (責任者).
    #[serde(default)]
    pub responsible: Option<String>,
    #[serde(default)]
    pub pages: Option<u32>,
    #[serde(default)]
    pub security_level: Option<SecurityLevel>,
    #[serde(default)]
    pub open_status: Option<OpenStatus>,
    /// Defaults to `electronic` when files are attached, else `paper`.
    #[serde(default)]
    pub carrier: Option<Carrier>,
    /// Storage location of a physical record.
    #[serde(default)]
    pub location: Option<Location>,
    /// Free-text description; what a non-paper item is.
    #[serde(default)]
    pub description: Option<String>,
    /// Chinese title or translation of a foreign-language item.
    #[serde(default)]
    pub translated_title: Option<String>,
    /// The folder checklist item this record fulfils, e.g. `id_card`.
    #[serde(default)]
    pub doc_type: Option<String>,
    /// Custom fields, validated against the category's definitions.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom: Option<Map<String, Value>>,
    /// The files of the upload, in the order of their parts: which are copies and why.
    /// Files not described are originals.
    #[serde(default)]
    pub files: Vec<super::file_origin::FileOriginInput>,
}

/// Metadata that met every rule that needs no database; codes are still to be resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordMetadata {
    pub title: String,
    pub doc_date: NaiveDate,
    pub year: i32,
    pub fonds: Option<String>,
    pub category: Option<String>,
    pub retention: Option<String>,
    pub department: Option<String>,
    pub party_id: Option<Uuid>,
    pub custodian: Option<Uuid>,
    pub doc_number: Option<String>,
    pub responsible: Option<String>,
    pub pages: Option<u32>,
    pub security_level: Option<SecurityLevel>,
    pub open_status: Option<OpenStatus>,
    pub carrier: Option<Carrier>,
    pub location: Option<Location>,
    pub description: Option<String>,
    pub translated_title: Option<String>,
    pub doc_type: Option<String>,
    pub custom: Map<String, Value>,
}

impl RecordMetadataInput {
    /// Applies the rules; `filed_on` is the default document date.
    pub fn validate(self, filed_on: NaiveDate) -> Result<RecordMetadata, ValidationError> {
        let title = check_title(&self.title)?;
        let doc_date = self.doc_date.unwrap_or(filed_on);
        let year = self.year.unwrap_or_else(|| doc_date.year());
        check_year(year)?;
        let code =
            |field: &str, value: Option<String>| -> Result<Option<String>, ValidationError> {
                let value = optional_text(value);
                if let Some(code) = &value {
                    check_code(field, code)?;
                }
                Ok(value)
            };
        Ok(RecordMetadata {
            title,
            doc_date,
            year,
            fonds: code("fonds", self.fonds)?,
            category: code("category", self.category)?,
            retention: code("retention", self.retention)?,
            department: code("department", self.department)?,
            party_id: self.party_id,
            custodian: self.custodian,
            doc_number: short_text("doc_number", self.doc_number)?,
            responsible: short_text("responsible", self.responsible)?,
            pages: self.pages,
            security_level: self.security_level,
            open_status: self.open_status,
            carrier: self.carrier,
            location: self.location.filter(|location| !location.is_empty()),
            description: long_text("description", self.description)?,
            translated_title: short_text("translated_title", self.translated_title)?,
            doc_type: short_text("doc_type", self.doc_type)?,
            custom: self.custom.unwrap_or_default(),
        })
    }
}

/// Changes to a record's metadata (`PATCH /api/v1/records/{id}`): only the fields present
/// change; `null` clears a field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPatch {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub title: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<NaiveDate>)]
    pub doc_date: Patch<NaiveDate>,
    #[serde(default)]
    #[schema(value_type = Option<i32>)]
    pub year: Patch<i32>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub fonds: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub category: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub retention: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub department: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<Uuid>)]
    pub party_id: Patch<Uuid>,
    #[serde(default)]
    #[schema(value_type = Option<Uuid>)]
    pub custodian: Patch<Uuid>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub doc_number: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub responsible: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<u32>)]
    pub pages: Patch<u32>,
    #[serde(default)]
    #[schema(value_type = Option<SecurityLevel>)]
    pub security_level: Patch<SecurityLevel>,
    #[serde(default)]
    #[schema(value_type = Option<OpenStatus>)]
    pub open_status: Patch<OpenStatus>,
    #[serde(default)]
    #[schema(value_type = Option<Carrier>)]
    pub carrier: Patch<Carrier>,
    #[serde(default)]
    #[schema(value_type = Option<Location>)]
    pub location: Patch<Location>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub translated_title: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub doc_type: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub custom: Patch<Map<String, Value>>,
}

impl RecordPatch {
    /// Applies the patch to `current`, checking the result as a new record would be checked.
    pub fn apply_to(self, current: RecordMetadata) -> Result<RecordMetadata, ValidationError> {
        let title = match self.title {
            Patch::Unchanged => current.title,
            Patch::Clear => return Err(ValidationError::new("title", "is required")),
            Patch::Set(title) => title,
        };
        let doc_date = match self.doc_date {
            Patch::Unchanged => current.doc_date,
            Patch::Clear => return Err(ValidationError::new("doc_date", "cannot be cleared")),
            Patch::Set(date) => date,
        };
        let year = match self.year {
            Patch::Unchanged => current.year,
            Patch::Clear => return Err(ValidationError::new("year", "cannot be cleared")),
            Patch::Set(year) => year,
        };
        let input = RecordMetadataInput {
            title,
            doc_date: Some(doc_date),
            year: Some(year),
            fonds: self.fonds.apply(current.fonds),
            category: self.category.apply(current.category),
            retention: self.retention.apply(current.retention),
            department: self.department.apply(current.department),
            party_id: self.party_id.apply(current.party_id),
            custodian: self.custodian.apply(current.custodian),
            doc_number: self.doc_number.apply(current.doc_number),
            responsible: self.responsible.apply(current.responsible),
            pages: self.pages.apply(current.pages),
            security_level: self.security_level.apply(current.security_level),
            open_status: self.open_status.apply(current.open_status),
            carrier: self.carrier.apply(current.carrier),
            location: self.location.apply(current.location),
            description: self.description.apply(current.description),
            translated_title: self.translated_title.apply(current.translated_title),
            doc_type: self.doc_type.apply(current.doc_type),
            custom: Some(self.custom.apply(Some(current.custom)).unwrap_or_default()),
            files: Vec::new(),
        };
        input.validate(doc_date)
    }
}

fn check_title(title: &str) -> Result<String, ValidationError> {
    let title = title.trim().to_owned();
    if title.is_empty() {
        return Err(ValidationError::new("title", "is required"));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(ValidationError::new(
            "title",
            format!("is longer than {MAX_TITLE_CHARS} characters"),
        ));
    }
    Ok(title)
}

fn check_year(year: i32) -> Result<(), ValidationError> {
    if !(1000..=9999).contains(&year) {
        return Err(ValidationError::new(
            "year",
            format!("{year} is not a four-digit year"),
        ));
    }
    Ok(())
}

fn long_text(field: &str, value: Option<String>) -> Result<Option<String>, ValidationError> {
    bounded_text(field, value, MAX_DESCRIPTION_CHARS)
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
            ..RecordMetadataInput::default()
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
    fn the_year_defaults_to_the_document_date_and_must_have_four_digits() {
        let mut record = input("合同");
        record.doc_date = Some(NaiveDate::from_ymd_opt(2019, 7, 1).expect("date"));
        assert_eq!(record.clone().validate(today()).expect("valid").year, 2019);
        record.year = Some(20);
        assert_eq!(
            record.validate(today()).expect_err("short year").field,
            "year"
        );
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_null_clears() {
        let mut original = input("合同");
        original.doc_number = Some("HT-2024-001".into());
        original.responsible = Some("辦公室".into());
        let current = original.validate(today()).expect("valid");
        let patch: RecordPatch =
            serde_json::from_str(r#"{"title": "勞動合同", "doc_number": null}"#)
                .expect("patch parses");
        let changed = patch.apply_to(current).expect("valid patch");
        assert_eq!(changed.title, "勞動合同");
        assert_eq!(changed.doc_number, None);
        assert_eq!(changed.responsible.as_deref(), Some("辦公室"));
        let clear_title: RecordPatch = serde_json::from_str(r#"{"title": null}"#).expect("parses");
        let current = input("x").validate(today()).expect("valid");
        assert_eq!(
            clear_title
                .apply_to(current)
                .expect_err("title required")
                .field,
            "title"
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
