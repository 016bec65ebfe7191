//! Who may see which records: the policy by role, department and security level (密級).
//! The search index turns a [`Visibility`] into part of its query; record reads check
//! [`Visibility::allows`]. Hidden records are reported as absent (404), never as forbidden.

use uuid::Uuid;

use super::catalogue::SecurityLevel;
use super::user::Role;

const PUBLIC: &[SecurityLevel] = &[SecurityLevel::Public];
const UP_TO_INTERNAL: &[SecurityLevel] = &[SecurityLevel::Public, SecurityLevel::Internal];
const UP_TO_SECRET: &[SecurityLevel] = &[
    SecurityLevel::Public,
    SecurityLevel::Internal,
    SecurityLevel::Secret,
];

/// One way a record may be visible: its department (any when `None`) and its level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibilityRule {
    pub department: Option<Uuid>,
    pub levels: &'static [SecurityLevel],
}

/// The records a user may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Every record.
    All,
    /// Records matching at least one rule; none when the list is empty.
    AnyOf(Vec<VisibilityRule>),
}

impl Visibility {
    /// The policy for a user of `role` in `department`:
    /// - admin, archivist, director, general manager: every record;
    /// - department manager: public records, and their department's up to secret;
    /// - staff: public records, and their department's internal ones;
    /// - auditor: public records (the audit trail is theirs, not the content).
    pub fn of(role: Role, department: Option<Uuid>) -> Self {
        let public = VisibilityRule {
            department: None,
            levels: PUBLIC,
        };
        let own = |levels| {
            department.map(|department| VisibilityRule {
                department: Some(department),
                levels,
            })
        };
        match role {
            Role::Admin | Role::Archivist | Role::Director | Role::GeneralManager => {
                Visibility::All
            }
            Role::DeptManager => Visibility::AnyOf(
                [Some(public), own(UP_TO_SECRET)]
                    .into_iter()
                    .flatten()
                    .collect(),
            ),
            Role::Staff => Visibility::AnyOf(
                [Some(public), own(UP_TO_INTERNAL)]
                    .into_iter()
                    .flatten()
                    .collect(),
            ),
            Role::Auditor => Visibility::AnyOf(vec![public]),
        }
    }

    /// Whether a record of `level` in `department` is visible.
    pub fn allows(&self, level: SecurityLevel, department: Option<Uuid>) -> bool {
        match self {
            Visibility::All => true,
            Visibility::AnyOf(rules) => rules.iter().any(|rule| {
                rule.levels.contains(&level)
                    && (rule.department.is_none() || rule.department == department)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_sees_what_the_policy_says() {
        let own = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        // (role, level, record department, visible)
        let cases = [
            (Role::Admin, SecurityLevel::Confidential, Some(other), true),
            (Role::Archivist, SecurityLevel::Secret, None, true),
            (Role::Director, SecurityLevel::Confidential, Some(own), true),
            (Role::DeptManager, SecurityLevel::Secret, Some(own), true),
            (
                Role::DeptManager,
                SecurityLevel::Confidential,
                Some(own),
                false,
            ),
            (
                Role::DeptManager,
                SecurityLevel::Internal,
                Some(other),
                false,
            ),
            (Role::DeptManager, SecurityLevel::Public, Some(other), true),
            (Role::Staff, SecurityLevel::Internal, Some(own), true),
            (Role::Staff, SecurityLevel::Secret, Some(own), false),
            (Role::Staff, SecurityLevel::Internal, None, false),
            (Role::Staff, SecurityLevel::Public, None, true),
            (Role::Auditor, SecurityLevel::Public, Some(own), true),
            (Role::Auditor, SecurityLevel::Internal, Some(own), false),
        ];
        for (role, level, department, visible) in cases {
            assert_eq!(
                Visibility::of(role, Some(own)).allows(level, department),
                visible,
                "{role:?} {level:?} {department:?}"
            );
        }
    }

    #[test]
    fn a_user_without_department_sees_only_public_records() {
        let visibility = Visibility::of(Role::Staff, None);
        assert!(visibility.allows(SecurityLevel::Public, Some(Uuid::from_u128(3))));
        assert!(!visibility.allows(SecurityLevel::Internal, None));
    }
}
