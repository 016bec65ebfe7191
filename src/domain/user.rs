//! Users and roles.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::validation::ValidationError;

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

/// Failed logins of one user name that cost nothing more.
pub const FREE_FAILURES_PER_USER: i32 = 5;
/// Failed logins from one client address that cost nothing more (a shared office address
/// sees several people mistype).
pub const FREE_FAILURES_PER_ADDRESS: i32 = 20;
/// The longest wait a run of failures imposes: the legitimate user is never locked out for
/// long.
pub const MAX_LOGIN_DELAY_SECS: i64 = 300;

/// How long after its last failure the next login of a key (user name or address) must
/// wait, after `failures` failures of which `free` cost nothing: doubling from 1 s, capped.
pub fn login_delay(failures: i32, free: i32) -> std::time::Duration {
    let over = failures.saturating_sub(free);
    if over <= 0 {
        return std::time::Duration::ZERO;
    }
    let seconds = 1_i64
        .checked_shl(u32::try_from(over - 1).unwrap_or(u32::MAX).min(30))
        .unwrap_or(i64::MAX)
        .min(MAX_LOGIN_DELAY_SECS);
    std::time::Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn failed_logins_past_the_free_ones_wait_doubling_delays_up_to_five_minutes() {
        use std::time::Duration;
        let delays: Vec<Duration> = (4..=8).map(|n| super::login_delay(n, 5)).collect();
        assert_eq!(delays, [0, 0, 1, 2, 4].map(Duration::from_secs).to_vec());
        assert_eq!(super::login_delay(40, 5), Duration::from_secs(300));
    }

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
