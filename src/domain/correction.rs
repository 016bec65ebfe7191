//! Corrections of filed records (issue 19): files added or replaced after filing, and
//! records withdrawn (作廢) because they were filed by mistake.

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::file_origin::FileOriginInput;
use super::validation::{ValidationError, short_text};

/// The `metadata` part of `POST /api/v1/records/{id}/files`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileAdditionInput {
    /// A current file of the record that the one sent file replaces (a bad scan); the
    /// replaced file stays in the record's history. Omitted: the files are added.
    #[serde(default)]
    pub replaces: Option<Uuid>,
    /// Why: required when replacing, e.g. 掃描不清，重新掃描.
    #[serde(default)]
    pub reason: Option<String>,
    /// Original or copy, per file in the order sent.
    #[serde(default)]
    pub files: Vec<FileOriginInput>,
}

/// A checked [`FileAdditionInput`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAddition {
    /// The file replaced and why.
    pub replaces: Option<(Uuid, String)>,
    /// Why an added file is a copy, by position; `None`: an original.
    pub copy_notes: Vec<Option<String>>,
    /// Why files were added, if said.
    pub reason: Option<String>,
}

impl FileAdditionInput {
    pub fn validate(self) -> Result<FileAddition, ValidationError> {
        let reason = short_text("reason", self.reason)?;
        let copy_notes = self
            .files
            .into_iter()
            .enumerate()
            .map(|(at, origin)| origin.validate(at))
            .collect::<Result<Vec<_>, _>>()?;
        let replaces = match (self.replaces, reason.clone()) {
            (Some(file), Some(reason)) => Some((file, reason)),
            (Some(_), None) => {
                return Err(ValidationError::new(
                    "reason",
                    "say why the file is replaced (e.g. 掃描不清，重新掃描); it stays in the record's history",
                ));
            }
            (None, _) => None,
        };
        Ok(FileAddition {
            replaces,
            copy_notes,
            reason,
        })
    }
}

impl FileAddition {
    /// Checks the number of files sent against what the addition says.
    pub fn check_count(&self, sent: usize) -> Result<(), ValidationError> {
        if sent == 0 {
            return Err(ValidationError::new(
                "file",
                "send the file to add or the replacement as a `file` part",
            ));
        }
        if self.replaces.is_some() && sent != 1 {
            return Err(ValidationError::new(
                "file",
                format!("a replacement is one file, but {sent} were sent"),
            ));
        }
        if self.copy_notes.len() > sent {
            return Err(ValidationError::new(
                "files",
                format!(
                    "describes {} files, but {sent} were sent",
                    self.copy_notes.len()
                ),
            ));
        }
        Ok(())
    }
}

/// `POST /api/v1/records/{id}/withdrawals`: why the record was filed by mistake.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWithdrawal {
    /// e.g. 誤歸入他人檔案.
    pub reason: String,
}

impl NewWithdrawal {
    pub fn validate(self) -> Result<String, ValidationError> {
        short_text("reason", Some(self.reason))?.ok_or_else(|| {
            ValidationError::new("reason", "say why the record was filed by mistake")
        })
    }
}

/// `POST /api/v1/withdrawals/{id}/approve` and `/reject`: an optional note.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalDecision {
    #[serde(default)]
    pub note: Option<String>,
}

impl WithdrawalDecision {
    pub fn validate(self) -> Result<Option<String>, ValidationError> {
        short_text("note", self.note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_needs_a_reason_and_exactly_one_file() {
        let file = Uuid::nil();
        let missing = FileAdditionInput {
            replaces: Some(file),
            reason: Some("  ".into()),
            files: Vec::new(),
        };
        assert_eq!(
            missing.validate().map_err(|e| e.field),
            Err("reason".into())
        );
        let replacement = FileAdditionInput {
            replaces: Some(file),
            reason: Some("掃描不清".into()),
            files: Vec::new(),
        }
        .validate()
        .expect("valid");
        assert_eq!(replacement.replaces, Some((file, "掃描不清".into())));
        assert!(replacement.check_count(1).is_ok());
        assert!(replacement.check_count(2).is_err());
        assert!(replacement.check_count(0).is_err());
    }

    #[test]
    fn added_files_may_be_copies_with_their_reason() {
        let addition = FileAdditionInput {
            replaces: None,
            reason: None,
            files: vec![FileOriginInput {
                copy: true,
                copy_note: Some("原件存人事部".into()),
            }],
        }
        .validate()
        .expect("valid");
        assert_eq!(addition.copy_notes, vec![Some("原件存人事部".to_owned())]);
        assert!(addition.check_count(2).is_ok());
        assert!(addition.check_count(0).is_err());
        let two_notes_one_file = FileAddition {
            copy_notes: vec![None, None],
            ..addition
        };
        assert!(two_notes_one_file.check_count(1).is_err());
    }

    #[test]
    fn a_withdrawal_says_why() {
        let blank = NewWithdrawal { reason: " ".into() };
        assert!(blank.validate().is_err());
        let said = NewWithdrawal {
            reason: "誤歸入他人檔案".into(),
        };
        assert_eq!(said.validate(), Ok("誤歸入他人檔案".to_owned()));
    }
}
