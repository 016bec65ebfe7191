//! One record of a manifest: the paths of its files, checked to stay inside the import
//! directory, and its metadata cells turned into a [`RecordMetadataInput`].

use std::collections::BTreeMap;
use std::fmt;

use sha2::{Digest, Sha256};

use super::headings::{Column, Field};
use super::values;
use crate::domain::catalogue::Location;
use crate::domain::party::{PartyIdentifier, PartyKind};
use crate::domain::record::RecordMetadataInput;
use crate::domain::validation::ValidationError;

/// A file's path relative to the import directory: `/`-separated, without `.`, `..` or a
/// root. Backslashes (Windows) count as separators.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelativePath(String);

impl RelativePath {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ValidationError::new(
                "path",
                "is required (one row per file)",
            ));
        }
        let unified = text.replace('\\', "/");
        let has_drive = unified.as_bytes().get(1) == Some(&b':');
        if unified.starts_with('/') || has_drive {
            return Err(ValidationError::new(
                "path",
                format!("{text:?} is absolute; write it relative to the import directory"),
            ));
        }
        let mut parts = Vec::new();
        for part in unified.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    return Err(ValidationError::new(
                        "path",
                        format!("{text:?} leads out of the import directory"),
                    ));
                }
                part => parts.push(part),
            }
        }
        if parts.is_empty() {
            return Err(ValidationError::new(
                "path",
                format!("{text:?} names no file"),
            ));
        }
        Ok(Self(parts.join("/")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parts between the separators, to join onto the import directory.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The last part: the filename kept with the record.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for RelativePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The stable key of a manifest row in `import_rows`: a version tag and the SHA-256 of the
/// import directory's identity (its canonical path) and the file's relative path. A file of
/// a directory is therefore imported once, whichever manifest lists it and however its
/// metadata is corrected between runs; the same relative path under another directory is
/// another file. Moving the directory between runs makes its files new.
pub fn row_key(directory: &str, path: &RelativePath) -> String {
    let mut hasher = Sha256::new();
    hasher.update(directory.as_bytes());
    hasher.update([0]);
    hasher.update(path.as_str().as_bytes());
    format!("v1:{}", hex::encode(hasher.finalize()))
}

/// Whose folder a record goes to: an identifier, with its kind when the heading or a
/// `employee:` / `customer:` prefix says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyRef {
    pub kind: Option<PartyKind>,
    pub identifier: PartyIdentifier,
}

impl PartyRef {
    pub fn parse(kind: Option<PartyKind>, text: &str) -> Result<Self, ValidationError> {
        let (kind, text) = match text.trim().split_once(':') {
            Some((prefix, rest)) if kind.is_none() => {
                let kind = PartyKind::parse(prefix.trim()).ok_or_else(|| {
                    ValidationError::new(
                        "party",
                        format!("{prefix:?} is not a party kind; write employee:ID or customer:ID"),
                    )
                })?;
                (Some(kind), rest)
            }
            _ => (kind, text),
        };
        let identifier = PartyIdentifier::parse(text)
            .map_err(|error| ValidationError::new("party", error.reason))?;
        Ok(Self { kind, identifier })
    }
}

/// A record's metadata from its cells; the party and the custom fields are resolved against
/// the database before filing.
#[derive(Debug, Clone, Default)]
pub struct RecordDraft {
    pub metadata: RecordMetadataInput,
    pub party: Option<PartyRef>,
    /// Custom field cells by field name, still text.
    pub custom: BTreeMap<String, String>,
}

impl RecordDraft {
    /// Reads the metadata cells (the path and record cells are not metadata). Empty cells
    /// are absent values.
    pub fn from_cells<'a>(
        cells: impl IntoIterator<Item = (&'a Column, &'a str)>,
    ) -> Result<Self, ValidationError> {
        let mut draft = RecordDraft::default();
        let mut location = Location::default();
        for (column, text) in cells {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            match column {
                Column::Custom(name) => {
                    draft.custom.insert(name.clone(), text.to_owned());
                }
                Column::Field(field) => draft.set(*field, text, &mut location)?,
            }
        }
        if !location.is_empty() {
            draft.metadata.location = Some(location);
        }
        Ok(draft)
    }

    fn set(
        &mut self,
        field: Field,
        text: &str,
        location: &mut Location,
    ) -> Result<(), ValidationError> {
        let metadata = &mut self.metadata;
        let owned = || Some(text.to_owned());
        match field {
            Field::Path | Field::Record => {}
            Field::Title => metadata.title = text.to_owned(),
            Field::DocDate => metadata.doc_date = Some(values::parse_date("doc_date", text)?),
            Field::Year => metadata.year = Some(values::parse_year(text)?),
            Field::Fonds => metadata.fonds = owned(),
            Field::Category => metadata.category = owned(),
            Field::Retention => metadata.retention = owned(),
            Field::Department => metadata.department = owned(),
            Field::Party | Field::EmployeeNumber | Field::CustomerCode => {
                if self.party.is_some() {
                    return Err(ValidationError::new(
                        "party",
                        "is given in two columns; fill only one of party, employee number and customer code",
                    ));
                }
                let kind = match field {
                    Field::EmployeeNumber => Some(PartyKind::Employee),
                    Field::CustomerCode => Some(PartyKind::Customer),
                    _ => None,
                };
                self.party = Some(PartyRef::parse(kind, text)?);
            }
            Field::DocNumber => metadata.doc_number = owned(),
            Field::Responsible => metadata.responsible = owned(),
            Field::Pages => metadata.pages = Some(values::parse_pages(text)?),
            Field::SecurityLevel => {
                metadata.security_level = Some(values::parse_security_level(text)?)
            }
            Field::OpenStatus => metadata.open_status = Some(values::parse_open_status(text)?),
            Field::Carrier => metadata.carrier = Some(values::parse_carrier(text)?),
            Field::Description => metadata.description = owned(),
            Field::TranslatedTitle => metadata.translated_title = owned(),
            Field::DocType => metadata.doc_type = owned(),
            Field::Room => location.room = owned(),
            Field::Row => location.row = owned(),
            Field::Cabinet => location.cabinet = owned(),
            Field::Shelf => location.shelf = owned(),
            Field::Box => location.r#box = owned(),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::catalogue::{Carrier, SecurityLevel};

    #[test]
    fn paths_stay_inside_the_import_directory() {
        assert_eq!(
            RelativePath::parse(r"2024\人事\E001 身份證.jpg")
                .expect("valid")
                .as_str(),
            "2024/人事/E001 身份證.jpg"
        );
        assert_eq!(
            RelativePath::parse("./a//b.pdf").expect("valid").as_str(),
            "a/b.pdf"
        );
        assert_eq!(
            RelativePath::parse("a/b.pdf").expect("valid").file_name(),
            "b.pdf"
        );
        for bad in [
            "",
            "  ",
            "/etc/passwd",
            r"C:\scans\a.pdf",
            "../a.pdf",
            "a/../../b",
            "./",
        ] {
            assert_eq!(
                RelativePath::parse(bad).expect_err(bad).field,
                "path",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn row_keys_depend_on_the_directory_and_the_path_only() {
        let path = RelativePath::parse("a/b.pdf").expect("valid");
        let key = row_key("/srv/scans", &path);
        assert!(key.starts_with("v1:") && key.len() == 67, "{key}");
        assert_eq!(
            key,
            row_key(
                "/srv/scans",
                &RelativePath::parse(r"a\b.pdf").expect("valid")
            )
        );
        assert_ne!(key, row_key("/srv/other", &path));
        assert_ne!(
            key,
            row_key(
                "/srv/scans",
                &RelativePath::parse("a/c.pdf").expect("valid")
            )
        );
    }

    #[test]
    fn parties_take_their_kind_from_the_heading_or_a_prefix() {
        let plain = PartyRef::parse(None, "E001").expect("valid");
        assert_eq!((plain.kind, plain.identifier.as_str()), (None, "E001"));
        let prefixed = PartyRef::parse(None, "customer:KH-0042").expect("valid");
        assert_eq!(prefixed.kind, Some(PartyKind::Customer));
        assert_eq!(prefixed.identifier.as_str(), "KH-0042");
        let employee = PartyRef::parse(Some(PartyKind::Employee), "E001").expect("valid");
        assert_eq!(employee.kind, Some(PartyKind::Employee));
        assert_eq!(
            PartyRef::parse(None, "boss:E001")
                .expect_err("bad kind")
                .field,
            "party"
        );
        assert_eq!(
            PartyRef::parse(None, "E 001").expect_err("space").field,
            "party"
        );
    }

    #[test]
    fn cells_become_record_metadata() {
        let columns = [
            Column::Field(Field::Path),
            Column::Field(Field::Title),
            Column::Field(Field::DocDate),
            Column::Field(Field::SecurityLevel),
            Column::Field(Field::Carrier),
            Column::Field(Field::Pages),
            Column::Field(Field::EmployeeNumber),
            Column::Field(Field::Box),
            Column::Custom("amount".into()),
            Column::Field(Field::Responsible),
        ];
        let cells = [
            "a.pdf",
            " 劳动合同 ",
            "2024/5/1",
            "内部",
            "纸质",
            "3",
            "E001",
            "12",
            "100",
            "",
        ];
        let draft = RecordDraft::from_cells(columns.iter().zip(cells)).expect("valid");
        let metadata = &draft.metadata;
        assert_eq!(metadata.title, "劳动合同");
        assert_eq!(metadata.doc_date, NaiveDate::from_ymd_opt(2024, 5, 1));
        assert_eq!(metadata.security_level, Some(SecurityLevel::Internal));
        assert_eq!(metadata.carrier, Some(Carrier::Paper));
        assert_eq!(metadata.pages, Some(3));
        assert_eq!(metadata.responsible, None);
        assert_eq!(
            metadata.location.as_ref().and_then(|l| l.r#box.as_deref()),
            Some("12")
        );
        assert_eq!(
            draft.party.as_ref().map(|p| p.kind),
            Some(Some(PartyKind::Employee))
        );
        assert_eq!(draft.custom.get("amount").map(String::as_str), Some("100"));
    }

    #[test]
    fn a_bad_cell_names_its_field() {
        let columns = [
            Column::Field(Field::Title),
            Column::Field(Field::SecurityLevel),
        ];
        let error = RecordDraft::from_cells(columns.iter().zip(["x", "top secret"]))
            .expect_err("bad level");
        assert_eq!(error.field, "security_level");
        let two_parties = [
            Column::Field(Field::EmployeeNumber),
            Column::Field(Field::CustomerCode),
        ];
        let error = RecordDraft::from_cells(two_parties.iter().zip(["E001", "KH1"]))
            .expect_err("two parties");
        assert_eq!(error.field, "party");
    }
}
