//! Posted forms: their fields (repeated names kept, as checkboxes send them), the CSRF
//! check, and the message of a refusal in the user's language.

use axum::body::Bytes;
use uuid::Uuid;

use super::message_of;
use super::session::WebUser;
use crate::services::ServiceError;

/// The fields of a posted `application/x-www-form-urlencoded` body.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &Bytes) -> Self {
        Self(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`, empty if absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The value of `name`, trimmed; `None` when absent or blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        Some(self.get(name).trim().to_owned()).filter(|value| !value.is_empty())
    }

    /// The id in `name`; `None` when absent or blank, a validation error when not an id.
    pub fn uuid(&self, name: &str) -> Result<Option<Uuid>, ServiceError> {
        self.optional(name)
            .map(|value| {
                value
                    .parse()
                    .map_err(|_| ServiceError::Validation(format!("{name}: {value:?}")))
            })
            .transpose()
    }

    /// Every id in `name` (ticked checkboxes), a validation error for one that is not an id.
    pub fn uuids(&self, name: &str) -> Result<Vec<Uuid>, ServiceError> {
        self.all(name)
            .map(|id| {
                id.parse()
                    .map_err(|_| ServiceError::Validation(format!("{name}: {id:?}")))
            })
            .collect()
    }

    /// `Forbidden` with the translated message unless the form carries the session's token.
    pub fn check_csrf(&self, user: &WebUser) -> Result<(), ServiceError> {
        csrf(user, Some(self.get("csrf")))
    }
}

/// `Forbidden` with the translated message unless `token` is the session's CSRF token.
pub fn csrf(user: &WebUser, token: Option<&str>) -> Result<(), ServiceError> {
    if user.csrf_ok(token) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(csrf_message(user)))
    }
}

fn csrf_message(user: &WebUser) -> String {
    user.texts.get("error.csrf").to_owned()
}

/// The message of a refusal in the user's language: the CSRF one as it is (it is
/// translated already), any other from its code.
pub fn refusal(user: &WebUser, error: &ServiceError) -> String {
    match error {
        ServiceError::Forbidden(text) if *text == csrf_message(user) => text.clone(),
        other => message_of(user.texts, other),
    }
}
