//! The seed rules, loans, opening, own folders, inheritance, and `Visibility` deciding as
//! `may_see` does (proptest).

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
        .prop_map(|(see, loan_approver)| AccessRule {
            see,
            loan_approver,
            sign_off: None,
        })
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
        // the shortcut of the index filter: every record but the viewer's own folder
        if visibility.every_category && !own_folder {
            prop_assert!(may_see(&viewer, &record));
        }
    }
}

#[test]
fn who_sees_every_category_by_role_under_the_seed_rules() {
    let personnel = AccessRule::personnel();
    let customers = AccessRule::customers();
    let rules = [
        (Some(Uuid::from_u128(40)), &personnel),
        (Some(Uuid::from_u128(41)), &customers),
    ];
    let every = |role| Visibility::of(&viewer(role), rules, Vec::new()).every_category;
    assert!(every(Role::Admin));
    assert!(every(Role::Archivist));
    assert!(!every(Role::Staff));
    assert!(!every(Role::DeptManager));
    assert!(
        !every(Role::Director),
        "the customer files are not the director's"
    );
    assert!(!every(Role::Auditor));
}
