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
        }
    }

    /// Customer files (客戶): the records office and the general manager; anyone else only
    /// through a loan the general manager approves.
    pub fn customers() -> Self {
        Self {
            see: vec![Grant::Admin, Grant::Archivist, Grant::GeneralManager],
            loan_approver: Approver::GeneralManager,
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

/// What a role may do, apart from seeing records (which [`may_see`] decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// File new records (upload, import).
    FileRecords,
    /// Change a visible record's descriptive metadata (title, dates, numbers, description).
    EditRecords,
    /// Change a record's department, party, category or custodian, raise its security
    /// level or control it (劃控): the records office.
    Reclassify,
    /// Add events that move retention clocks: the records office.
    RecordEvents,
    /// Create and change parties and their folders, hand custody over.
    KeepFolders,
    /// See the due list, appraise, place and release holds, create destruction batches.
    Dispose,
    /// Approve a destruction batch (never one's own).
    ApproveDestruction,
    /// Register loans for others, take back physical items, see every loan.
    KeepLoans,
    /// Keep storage rooms: readings, inspections, plans.
    KeepRooms,
    /// Start and read integrity checks.
    CheckIntegrity,
    /// Read the audit trail.
    ReadAudit,
    /// Export the catalogue and read statistics (of the records one may see).
    ExportCatalogue,
    /// See and retry background jobs.
    KeepQueue,
    /// Users, departments, fonds, categories, retention policies, access rules.
    Administer,
    /// Propose opening or declassifying records (R18).
    ProposeRelease,
    /// Approve or reject a release proposed by someone else.
    ReviewRelease,
}

impl Capability {
    /// What the capability lets one do, for a refusal: "a staff may not {…}".
    pub fn describe(self) -> &'static str {
        match self {
            Capability::FileRecords => "file records",
            Capability::EditRecords => "change records",
            Capability::Reclassify => "reclassify records",
            Capability::RecordEvents => "add events that move retention (the records office does)",
            Capability::KeepFolders => "create or change folders",
            Capability::Dispose => "appraise records or manage holds and destruction",
            Capability::ApproveDestruction => "approve destruction",
            Capability::KeepLoans => "register loans for others or see every loan",
            Capability::KeepRooms => "keep storage rooms",
            Capability::CheckIntegrity => "run or read integrity checks",
            Capability::ReadAudit => "read the audit trail",
            Capability::ExportCatalogue => "export the catalogue or read statistics",
            Capability::KeepQueue => "see or retry background jobs",
            Capability::Administer => "administer users and the catalogue set-up",
            Capability::ProposeRelease => "propose a release",
            Capability::ReviewRelease => "approve or reject a release",
        }
    }
}

impl Role {
    /// The capability table: one row per capability, the roles that hold it.
    pub fn may(self, capability: Capability) -> bool {
        use Capability::*;
        use Role::*;
        let holders: &[Role] = match capability {
            FileRecords => &[
                Admin,
                Archivist,
                Director,
                GeneralManager,
                DeptManager,
                Staff,
            ],
            EditRecords => &[Admin, Archivist, Director, GeneralManager],
            Reclassify | RecordEvents | KeepLoans | KeepRooms | KeepQueue | ProposeRelease => {
                &[Admin, Archivist]
            }
            KeepFolders => &[Admin, Archivist, Director],
            Dispose | ApproveDestruction => &[Admin, Archivist, Director, GeneralManager],
            CheckIntegrity | ReadAudit => &[Admin, Archivist, Auditor],
            ExportCatalogue => &[Admin, Archivist, Director, GeneralManager, DeptManager],
            Administer => &[Admin],
            ReviewRelease => &[Director, GeneralManager],
        };
        holders.contains(&self)
    }
}

/// Why a change of a record is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeRefusal {
    /// The role may not change this field (403).
    Forbidden(String),
    /// No role may make this change by editing: it goes through a release review (409).
    NeedsReview(String),
}

/// Whether `role` may change a visible record from `before` to `after` (R18, item 5 of the
/// access rules): descriptive metadata by those who edit records; department, party,
/// category and custodian, a higher security level and control (劃控) by the records office
/// only; a lower level or opening never by editing, only through a release review.
pub fn check_change(
    role: Role,
    before: &super::record::RecordMetadata,
    after: &super::record::RecordMetadata,
) -> Result<(), ChangeRefusal> {
    if !role.may(Capability::EditRecords) {
        return Err(ChangeRefusal::Forbidden(format!(
            "a {} does not change records; ask the records office",
            role.as_str()
        )));
    }
    let level = |metadata: &super::record::RecordMetadata| {
        metadata.security_level.unwrap_or(SecurityLevel::Internal)
    };
    let rank = |level: SecurityLevel| SecurityLevel::ALL.iter().position(|l| *l == level);
    if rank(level(after)) < rank(level(before)) {
        return Err(ChangeRefusal::NeedsReview(format!(
            "lowering the security level from {} to {} is a declassification: propose it with \
             POST /api/v1/releases",
            level(before).as_str(),
            level(after).as_str()
        )));
    }
    let open = |metadata: &super::record::RecordMetadata| {
        metadata.open_status.unwrap_or(OpenStatus::Controlled)
    };
    if open(before) != OpenStatus::Open && open(after) == OpenStatus::Open {
        return Err(ChangeRefusal::NeedsReview(
            "opening a record (開放) goes through a release review: POST /api/v1/releases".into(),
        ));
    }
    let reclassified = [
        ("department", before.department != after.department),
        ("party_id", before.party_id != after.party_id),
        ("category", before.category != after.category),
        ("custodian", before.custodian != after.custodian),
        ("security_level", level(before) != level(after)),
        ("open_status", open(before) != open(after)),
    ];
    if let Some((field, _)) = reclassified.iter().find(|(_, changed)| *changed)
        && !role.may(Capability::Reclassify)
    {
        return Err(ChangeRefusal::Forbidden(format!(
            "{field} is changed by the records office (admin or archivist) only"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const OWN: Uuid = Uuid::from_u128(1);
    const OTHER: Uuid = Uuid::from_u128(2);

    fn viewer(role: Role) -> Viewer {
        Viewer {
            user_id: Uuid::from_u128(9),
            role,
            department: Some(OWN),
            party_id: Some(Uuid::from_u128(77)),
        }
    }

    fn facts(rule: &AccessRule, department: Uuid, level: SecurityLevel) -> RecordFacts<'_> {
        RecordFacts {
            id: Uuid::from_u128(5),
            rule,
            category: Some(Uuid::from_u128(40)),
            department: Some(department),
            level,
            open: OpenStatus::Controlled,
            party_id: Some(Uuid::from_u128(50)),
            on_loan: false,
        }
    }

    #[test]
    fn the_seed_rules_put_personnel_and_customer_files_where_r11_says() {
        use Role::*;
        use SecurityLevel::*;
        let personnel = AccessRule::personnel();
        let customers = AccessRule::customers();
        let standard = AccessRule::standard();
        // (rule, role, department of the record, level, seen)
        let cases = [
            (&personnel, Director, OTHER, Secret, true),
            (&personnel, GeneralManager, OWN, Internal, false),
            (&personnel, DeptManager, OWN, Internal, true),
            (&personnel, DeptManager, OWN, Secret, false),
            (&personnel, DeptManager, OTHER, Public, false),
            (&personnel, Staff, OWN, Public, false),
            (&personnel, Auditor, OWN, Public, false),
            (&personnel, Archivist, OTHER, Confidential, true),
            (&customers, Director, OWN, Public, false),
            (&customers, GeneralManager, OTHER, Confidential, true),
            (&customers, DeptManager, OWN, Public, false),
            (&customers, Admin, OWN, Internal, true),
            (&standard, Director, OTHER, Secret, true),
            (&standard, DeptManager, OWN, Internal, true),
            (&standard, DeptManager, OTHER, Internal, false),
            (&standard, Staff, OWN, Public, false),
        ];
        for (rule, role, department, level, seen) in cases {
            assert_eq!(
                may_see(&viewer(role), &facts(rule, department, level)),
                seen,
                "{role:?} {department} {level:?} {rule:?}"
            );
        }
    }

    #[test]
    fn loans_and_opening_admit_anyone_but_auditors_and_the_party_themselves() {
        let rule = AccessRule::customers();
        let mut record = facts(&rule, OTHER, SecurityLevel::Secret);
        record.on_loan = true;
        assert!(may_see(&viewer(Role::Staff), &record));
        assert!(!may_see(&viewer(Role::Auditor), &record));
        record.on_loan = false;
        record.open = OpenStatus::Open;
        assert!(may_see(&viewer(Role::Staff), &record));
        let own = viewer(Role::Archivist);
        record.party_id = own.party_id;
        assert!(!may_see(&own, &record), "nobody sees their own folder");
    }

    #[test]
    fn a_sub_category_follows_its_nearest_ancestor_with_a_rule() {
        let (root, child, grandchild, other) = (
            Uuid::from_u128(10),
            Uuid::from_u128(11),
            Uuid::from_u128(12),
            Uuid::from_u128(13),
        );
        let categories = [
            CategoryRule {
                id: root,
                parent: None,
                own: Some(AccessRule::personnel()),
            },
            CategoryRule {
                id: child,
                parent: Some(root),
                own: None,
            },
            CategoryRule {
                id: grandchild,
                parent: Some(child),
                own: None,
            },
            CategoryRule {
                id: other,
                parent: None,
                own: None,
            },
        ];
        assert_eq!(
            rule_in_force(&categories, grandchild),
            (AccessRule::personnel(), Some(root))
        );
        assert_eq!(
            rule_in_force(&categories, other),
            (AccessRule::standard(), None)
        );
    }

    #[test]
    fn a_confidential_loan_needs_the_general_manager() {
        let rule = AccessRule::personnel();
        assert_eq!(rule.approver_for(SecurityLevel::Secret), Approver::Director);
        assert_eq!(
            rule.approver_for(SecurityLevel::Confidential),
            Approver::GeneralManager
        );
    }

    fn any_rule() -> impl Strategy<Value = AccessRule> {
        (
            proptest::sample::subsequence(Grant::ALL.to_vec(), 0..=Grant::ALL.len()),
            proptest::sample::select(Approver::ALL.to_vec()),
        )
            .prop_map(|(see, loan_approver)| AccessRule { see, loan_approver })
    }

    proptest! {
        #[test]
        fn visibility_decides_as_may_see(
            rules in proptest::collection::vec(any_rule(), 3),
            role in proptest::sample::select(Role::ALL.to_vec()),
            category in 0usize..4,
            own_department in proptest::bool::ANY,
            level in proptest::sample::select(SecurityLevel::ALL.to_vec()),
            open in proptest::bool::ANY,
            own_folder in proptest::bool::ANY,
            on_loan in proptest::bool::ANY,
        ) {
            let ids = [Some(Uuid::from_u128(40)), Some(Uuid::from_u128(41)), Some(Uuid::from_u128(42)), None];
            let standard = AccessRule::standard();
            let viewer = viewer(role);
            let rule = rules.get(category).unwrap_or(&standard);
            let record = RecordFacts {
                id: Uuid::from_u128(5),
                rule,
                category: ids[category],
                department: Some(if own_department { OWN } else { OTHER }),
                level,
                open: if open { OpenStatus::Open } else { OpenStatus::Controlled },
                party_id: Some(if own_folder { Uuid::from_u128(77) } else { Uuid::from_u128(50) }),
                on_loan,
            };
            let loaned = if on_loan { vec![record.id] } else { Vec::new() };
            let visibility = Visibility::of(
                &viewer,
                ids[..3].iter().copied().zip(rules.iter()),
                loaned,
            );
            prop_assert_eq!(visibility.allows(&record), may_see(&viewer, &record));
        }
    }
}
