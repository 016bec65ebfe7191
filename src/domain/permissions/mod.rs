//! Who may see which records (R11): the one decision every path asks.
//!
//! Each category carries an [`AccessRule`] (rules as data): the grants that see its records
//! without a loan and the role that approves its loans. [`may_see`] decides for one record
//! from its [`RecordFacts`]; [`Visibility`] is the same decision made once for a viewer over
//! every category, in a form the search index and SQL turn into filters. The two agree by
//! construction and by the property test at the bottom of this file.
//!
//! A record the viewer may not see is reported exactly as a missing one (404).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::catalogue::{OpenStatus, SecurityLevel};
use super::user::Role;

mod capability;
mod change;

pub use capability::Capability;
pub use change::{ChangeRefusal, check_change};

text_enum!(
    /// Who sees a category's records without a loan: a role, or `department_manager`, the
    /// manager of the record's department (for a record in a party's folder, the party's
    /// current department).
    Grant {
        Admin => "admin",
        Archivist => "archivist",
        Director => "director",
        GeneralManager => "general_manager",
        DepartmentManager => "department_manager",
    }
);

text_enum!(
    /// Who approves loans of a category's records.
    Approver { Director => "director", GeneralManager => "general_manager" }
);

impl Approver {
    /// The role that holds this approval.
    pub fn role(self) -> Role {
        match self {
            Approver::Director => Role::Director,
            Approver::GeneralManager => Role::GeneralManager,
        }
    }
}

/// Levels a department manager sees by grant; secret and confidential records only on loan.
pub const MANAGER_LEVELS: [SecurityLevel; 2] = [SecurityLevel::Public, SecurityLevel::Internal];

/// The access rule of a category (R11: "who may see and who approves is set per category").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessRule {
    /// Who sees the category's records without a loan.
    pub see: Vec<Grant>,
    /// Who approves loans of them (a confidential record's always need the general manager).
    pub loan_approver: Approver,
    /// Who reviews and signs off a new folder of the category (R5: "reviewed by their
    /// supervisor"); none: folders need no sign-off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_off: Option<Approver>,
}

impl AccessRule {
    /// The rule of a category that sets none: the records office, the director, the general
    /// manager and the record's department manager; loans approved by the director.
    pub fn standard() -> Self {
        Self {
            see: vec![
                Grant::Admin,
                Grant::Archivist,
                Grant::Director,
                Grant::GeneralManager,
                Grant::DepartmentManager,
            ],
            loan_approver: Approver::Director,
            sign_off: None,
        }
    }

    /// Personnel files (人事): the records office, the director and the employee's
    /// department manager; loans approved by the director.
    pub fn personnel() -> Self {
        Self {
            see: vec![
                Grant::Admin,
                Grant::Archivist,
                Grant::Director,
                Grant::DepartmentManager,
            ],
            loan_approver: Approver::Director,
            sign_off: None,
        }
    }

    /// Customer files (客戶): the records office and the general manager; anyone else only
    /// through a loan the general manager approves.
    pub fn customers() -> Self {
        Self {
            see: vec![Grant::Admin, Grant::Archivist, Grant::GeneralManager],
            loan_approver: Approver::GeneralManager,
            sign_off: Some(Approver::GeneralManager),
        }
    }

    /// The same grants once each, in a stable order.
    pub fn normalised(mut self) -> Self {
        self.see
            .sort_by_key(|grant| Grant::ALL.iter().position(|g| g == grant));
        self.see.dedup();
        self
    }

    /// Who approves a loan of a record of `level` under this rule.
    pub fn approver_for(&self, level: SecurityLevel) -> Approver {
        if level == SecurityLevel::Confidential {
            Approver::GeneralManager
        } else {
            self.loan_approver
        }
    }
}

/// A category as the rules see it: its id, its parent and the rule it sets, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRule {
    pub id: Uuid,
    pub parent: Option<Uuid>,
    pub own: Option<AccessRule>,
}

/// The rule in force for a category: its own, else its nearest ancestor's, else the standard
/// rule; with the category the rule comes from (`None` for the standard rule).
pub fn rule_in_force(categories: &[CategoryRule], id: Uuid) -> (AccessRule, Option<Uuid>) {
    let mut current = Some(id);
    // a cycle cannot be stored, but a walk never takes more steps than there are categories
    for _ in 0..=categories.len() {
        let Some(category) = current.and_then(|id| categories.iter().find(|c| c.id == id)) else {
            break;
        };
        if let Some(rule) = &category.own {
            return (rule.clone(), Some(category.id));
        }
        current = category.parent;
    }
    (AccessRule::standard(), None)
}

/// The person asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: Uuid,
    pub role: Role,
    pub department: Option<Uuid>,
    /// The employee folder (party) that is the viewer's own.
    pub party_id: Option<Uuid>,
}

/// What the decision needs to know of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordFacts<'a> {
    pub id: Uuid,
    /// The rule of the record's category (or [`AccessRule::standard`] without one).
    pub rule: &'a AccessRule,
    /// The record's category; `None` for an unclassified record.
    pub category: Option<Uuid>,
    /// The department whose manager the record belongs to: for a record in a party's
    /// folder the party's current department, else the record's own.
    pub department: Option<Uuid>,
    pub level: SecurityLevel,
    pub open: OpenStatus,
    /// The party whose folder holds the record.
    pub party_id: Option<Uuid>,
    /// The viewer holds an approved loan of it that has not run out.
    pub on_loan: bool,
}

/// Whether `viewer` may see the record: never an auditor, never one's own folder; else on
/// an approved loan, once the record is opened, or by a grant of its category's rule.
pub fn may_see(viewer: &Viewer, record: &RecordFacts<'_>) -> bool {
    if viewer.role == Role::Auditor {
        return false;
    }
    if record.party_id.is_some() && record.party_id == viewer.party_id {
        return false;
    }
    if record.on_loan || record.open == OpenStatus::Open {
        return true;
    }
    record
        .rule
        .see
        .iter()
        .any(|&grant| admits(grant, viewer, record.department, record.level))
}

/// Whether one grant admits the viewer to a record of `department` and `level`.
fn admits(grant: Grant, viewer: &Viewer, department: Option<Uuid>, level: SecurityLevel) -> bool {
    match grant {
        Grant::Admin => viewer.role == Role::Admin,
        Grant::Archivist => viewer.role == Role::Archivist,
        Grant::Director => viewer.role == Role::Director,
        Grant::GeneralManager => viewer.role == Role::GeneralManager,
        Grant::DepartmentManager => {
            viewer.role == Role::DeptManager
                && viewer.department.is_some()
                && viewer.department == department
                && MANAGER_LEVELS.contains(&level)
        }
    }
}

/// The category key of unclassified records in [`Visibility`], the index and SQL.
pub const NO_CATEGORY: &str = "none";

/// [`may_see`] decided once for a viewer over every category: the index and SQL filters are
/// built from it. Category keys are category ids as text, or [`NO_CATEGORY`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Visibility {
    /// Nothing at all (auditors).
    pub nothing: bool,
    /// The viewer's own folder, never shown.
    pub own_party: Option<Uuid>,
    /// Records held on an approved, running loan.
    pub loaned: Vec<Uuid>,
    /// Categories whose every record the viewer sees by role.
    pub categories: Vec<String>,
    /// `categories` holds every category and the unclassified: the viewer sees every record
    /// but their own folder, and filters need not list the categories.
    pub every_category: bool,
    /// What the viewer sees as a department manager, if they are one.
    pub managed: Option<Managed>,
}

/// The records a department manager sees by grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Managed {
    pub department: Uuid,
    /// Categories whose rule grants `department_manager`.
    pub categories: Vec<String>,
    /// Levels seen this way.
    pub levels: Vec<SecurityLevel>,
}

impl Visibility {
    /// The visibility of `viewer`, given each category's rule (`None` for unclassified
    /// records, which follow the standard rule) and the records on loan to them.
    pub fn of<'a>(
        viewer: &Viewer,
        rules: impl IntoIterator<Item = (Option<Uuid>, &'a AccessRule)>,
        loaned: Vec<Uuid>,
    ) -> Self {
        let nothing = viewer.role == Role::Auditor;
        let mut categories = Vec::new();
        let mut managed = Vec::new();
        let mut every_category = !nothing;
        let standard = AccessRule::standard();
        let mut rules: Vec<(Option<Uuid>, &AccessRule)> = rules.into_iter().collect();
        if !rules.iter().any(|(category, _)| category.is_none()) {
            rules.push((None, &standard));
        }
        for (category, rule) in rules {
            let key = category_key(category);
            let by_role = rule.see.iter().any(|&grant| {
                grant != Grant::DepartmentManager
                    && admits(grant, viewer, None, SecurityLevel::Public)
            });
            every_category &= by_role;
            if by_role {
                categories.push(key);
            } else if rule.see.contains(&Grant::DepartmentManager) {
                managed.push(key);
            }
        }
        let managed = match (viewer.role, viewer.department) {
            (Role::DeptManager, Some(department)) if !managed.is_empty() => Some(Managed {
                department,
                categories: managed,
                levels: MANAGER_LEVELS.to_vec(),
            }),
            _ => None,
        };
        Self {
            nothing,
            own_party: viewer.party_id,
            loaned,
            categories,
            every_category,
            managed,
        }
    }

    /// The decision of [`may_see`] for a record; `facts.rule` and `facts.on_loan` are not
    /// read: the visibility holds both.
    pub fn allows(&self, facts: &RecordFacts<'_>) -> bool {
        if self.nothing {
            return false;
        }
        if facts.party_id.is_some() && facts.party_id == self.own_party {
            return false;
        }
        if self.loaned.contains(&facts.id) || facts.open == OpenStatus::Open {
            return true;
        }
        let key = category_key(facts.category);
        if self.categories.contains(&key) {
            return true;
        }
        self.managed.as_ref().is_some_and(|managed| {
            managed.categories.contains(&key)
                && managed.levels.contains(&facts.level)
                && facts.department == Some(managed.department)
        })
    }
}

impl Visibility {
    /// Whether the viewer sees a party's folder (its data, checklist and record list): as
    /// an internal record of the folder category in the party's department, never their own.
    pub fn allows_folder(
        &self,
        party_id: Uuid,
        folder_category: Option<Uuid>,
        department: Option<Uuid>,
    ) -> bool {
        let standard = AccessRule::standard();
        let facts = RecordFacts {
            // a folder is never on loan and never open: only grants admit to it
            id: Uuid::nil(),
            rule: &standard,
            category: folder_category,
            department,
            level: SecurityLevel::Internal,
            open: OpenStatus::Controlled,
            party_id: Some(party_id),
            on_loan: false,
        };
        self.allows(&facts)
    }
}

/// The key of a category in [`Visibility`]: its id, or [`NO_CATEGORY`].
pub fn category_key(category: Option<Uuid>) -> String {
    category.map_or_else(|| NO_CATEGORY.to_owned(), |id| id.to_string())
}

#[cfg(test)]
mod tests;
