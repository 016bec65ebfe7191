//! Originals and copies (原件/複印件): "歸檔的文件材料應為原件…複印件須註明原因".

use serde::Deserialize;
use utoipa::ToSchema;

use super::validation::{ValidationError, short_text};

/// Whether a file sent with an upload is the original (原件) or a copy (複印件): a copy is
/// filed only with the reason why (「歸檔的文件材料應為原件…複印件須註明原因」).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileOriginInput {
    /// The file is a copy (複印件), not the original.
    #[serde(default)]
    pub copy: bool,
    /// Why a copy is filed instead of the original, e.g. 原件存人事部.
    #[serde(default)]
    pub copy_note: Option<String>,
}

impl FileOriginInput {
    /// The reason a copy is filed (`None`: an original); `at` is the file's position.
    pub fn validate(self, at: usize) -> Result<Option<String>, ValidationError> {
        let field = format!("files[{at}].copy_note");
        let note = short_text(&field, self.copy_note)?;
        match (self.copy, note) {
            (true, Some(note)) => Ok(Some(note)),
            (true, None) => Err(ValidationError::new(
                field,
                "a copy is filed only with the reason the original is not (e.g. 原件存人事部)",
            )),
            (false, Some(_)) => Err(ValidationError::new(
                field,
                "only a copy takes a note: set copy to true, or leave the note out",
            )),
            (false, None) => Ok(None),
        }
    }
}
