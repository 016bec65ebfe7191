//! Users and roles.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::record::ValidationError;

/// What a user is in the archive; the permission rules per role arrive with access control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Archivist,
    Director,
    GeneralManager,
    DeptManager,
    Staff,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::Archivist,
        Role::Director,
        Role::GeneralManager,
        Role::DeptManager,
        Role::Staff,
        Role::Auditor,
    ];

    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Archivist => "archivist",
            Role::Director => "director",
            Role::GeneralManager => "general_manager",
            Role::DeptManager => "dept_manager",
            Role::Staff => "staff",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|role| role.as_str()).collect();
                ValidationError::new(
                    "role",
                    format!("unknown role {text:?}; one of {}", known.join(", ")),
                )
            })
    }
}

/// A login name: 1–64 characters, no whitespace or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let count = text.chars().count();
        if count == 0 || count > 64 {
            return Err(ValidationError::new(
                "username",
                "must be 1 to 64 characters",
            ));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValidationError::new(
                "username",
                "must not contain spaces or control characters",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The shortest password accepted for a new user.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Checks a new password against the policy.
pub fn check_new_password(password: &str) -> Result<(), ValidationError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ValidationError::new(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_parses_from_its_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).expect("known"), role);
        }
        assert!(Role::parse("superuser").is_err());
    }

    #[test]
    fn usernames_accept_chinese_and_reject_blanks() {
        assert!(Username::parse("王曉明").is_ok());
        assert!(Username::parse("").is_err());
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn short_passwords_are_rejected() {
        assert!(check_new_password("1234567").is_err());
        assert!(check_new_password("檔案管理員密碼").is_err());
        assert!(check_new_password("correct horse").is_ok());
    }
}
