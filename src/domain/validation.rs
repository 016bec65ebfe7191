//! Values that break a rule, and the checks shared by every kind of input: short texts and
//! classification codes.

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

/// The longest short text (a title, a document number, a name) accepted, in characters.
pub const MAX_SHORT_TEXT_CHARS: usize = 1000;

/// A trimmed text, `None` when empty, at most [`MAX_SHORT_TEXT_CHARS`] characters.
pub(crate) fn short_text(
    field: &str,
    value: Option<String>,
) -> Result<Option<String>, ValidationError> {
    bounded_text(field, value, MAX_SHORT_TEXT_CHARS)
}

/// A trimmed text, `None` when empty, at most `max` characters.
pub(crate) fn bounded_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    let value = optional_text(value);
    if value
        .as_ref()
        .is_some_and(|text| text.chars().count() > max)
    {
        return Err(ValidationError::new(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(value)
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

/// A trimmed text; `None` when nothing is left.
pub(crate) fn optional_text(value: Option<String>) -> Option<String> {
    value
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}
