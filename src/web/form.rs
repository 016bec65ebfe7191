//! Posted forms: their fields (repeated names kept, as checkboxes send them), the CSRF
//! check, and the message of a refusal in the user's language.

use axum::body::Bytes;

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
