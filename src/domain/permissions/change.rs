//! Who may change what of a record they see (item 5 of the access rules, R18).

use super::Capability;
use crate::domain::catalogue::{OpenStatus, SecurityLevel};
use crate::domain::record::RecordMetadata;
use crate::domain::user::Role;

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
    before: &RecordMetadata,
    after: &RecordMetadata,
) -> Result<(), ChangeRefusal> {
    if !role.may(Capability::EditRecords) {
        return Err(ChangeRefusal::Forbidden(format!(
            "a {} does not change records; ask the records office",
            role.as_str()
        )));
    }
    let level =
        |metadata: &RecordMetadata| metadata.security_level.unwrap_or(SecurityLevel::Internal);
    let rank = |level: SecurityLevel| SecurityLevel::ALL.iter().position(|l| *l == level);
    if rank(level(after)) < rank(level(before)) {
        return Err(ChangeRefusal::NeedsReview(format!(
            "lowering the security level from {} to {} is a declassification: propose it with \
             POST /api/v1/releases",
            level(before).as_str(),
            level(after).as_str()
        )));
    }
    let open = |metadata: &RecordMetadata| metadata.open_status.unwrap_or(OpenStatus::Controlled);
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
