//! Filing rules shared by uploads, metadata changes and imports: resolving the codes of a
//! record's classification, assigning its archival code (檔號) and computing its retention
//! due date. Everything here runs inside the caller's transaction.

use chrono::NaiveDate;
use serde_json::Value;
use uuid::Uuid;

use super::{Actor, ServiceError, ServiceResult, holds};
use crate::db::classification::{ClassCodes, ClassRows};
pub use crate::db::records::RetentionScope;
use crate::db::records::{ArchivalClass, RecordValues, RetentionFacts};
use crate::db::{self, PgConnection};
use crate::domain::archival_code::ArchivalCode;
use crate::domain::catalogue::{
    Carrier, ChecklistItem, FieldDefinition, OpenStatus, SecurityLevel, check_custom,
};
use crate::domain::party::{PartyKind, PartyStatus};
use crate::domain::record::RecordMetadata;
use crate::domain::retention::{self, Facts, Policy, Trigger};

/// A record's metadata with every code resolved to its row.
pub struct Classified {
    pub metadata: RecordMetadata,
    pub fonds: Option<(Uuid, String)>,
    pub category: Option<(Uuid, String)>,
    pub retention: Option<(Uuid, String)>,
    pub department: Option<(Uuid, String)>,
    pub carrier: Carrier,
    pub security_level: SecurityLevel,
    pub open_status: OpenStatus,
    location: Option<Value>,
    custom: Value,
}

impl Classified {
    /// The values to store.
    pub fn values(&self) -> ServiceResult<RecordValues<'_>> {
        let metadata = &self.metadata;
        Ok(RecordValues {
            title: &metadata.title,
            doc_date: metadata.doc_date,
            year: metadata.year,
            fonds_id: self.fonds.as_ref().map(|(id, _)| *id),
            category_id: self.category.as_ref().map(|(id, _)| *id),
            retention_policy_id: self.retention.as_ref().map(|(id, _)| *id),
            department_id: self.department.as_ref().map(|(id, _)| *id),
            party_id: metadata.party_id,
            custodian_id: metadata.custodian,
            doc_number: metadata.doc_number.as_deref(),
            responsible: metadata.responsible.as_deref(),
            pages: metadata
                .pages
                .map(i32::try_from)
                .transpose()
                .map_err(|_| ServiceError::Validation("pages: too many".into()))?,
            security_level: self.security_level.as_str(),
            open_status: self.open_status.as_str(),
            carrier: self.carrier.as_str(),
            location: self.location.clone(),
            description: metadata.description.as_deref(),
            translated_title: metadata.translated_title.as_deref(),
            doc_type: metadata.doc_type.as_deref(),
            custom: &self.custom,
        })
    }

    /// The archival class, when every required part of the code is known (the department
    /// is optional, as DA/T 22 allows).
    pub fn class(&self) -> Option<(ArchivalClass, ArchivalCode)> {
        let ((fonds_id, fonds), (category_id, category), (retention_id, retention)) = (
            self.fonds.clone()?,
            self.category.clone()?,
            self.retention.clone()?,
        );
        let (department_id, department) = self.department.clone().unzip();
        Some((
            ArchivalClass {
                fonds_id,
                category_id,
                year: self.metadata.year,
                retention_policy_id: retention_id,
                department_id,
            },
            ArchivalCode {
                fonds,
                category,
                year: self.metadata.year,
                retention,
                department,
                item: 0,
            },
        ))
    }
}

/// Resolves the codes of `metadata` and applies the defaults: the default fonds, the
/// category's retention policy, the uploader's department, the folder category of the party.
pub async fn classify(
    conn: &mut PgConnection,
    mut metadata: RecordMetadata,
    actor: &Actor,
    has_files: bool,
) -> ServiceResult<Classified> {
    let party = match metadata.party_id {
        Some(id) => Some(
            db::parties::find(conn, id)
                .await?
                .ok_or_else(|| ServiceError::Validation(format!("party_id: no party {id}")))?,
        ),
        None => None,
    };
    if let Some(id) = metadata.custodian {
        let custodian = db::parties::find(conn, id).await?;
        if !custodian.is_some_and(|party| {
            party.kind == PartyKind::Employee && party.status == PartyStatus::Active
        }) {
            return Err(ServiceError::Validation(format!(
                "custodian: {id} is not an active employee"
            )));
        }
    }
    // a record for someone's folder goes to the folder category of their kind; the retention
    // is the category's unless given; the department the uploader's unless given
    let codes = ClassCodes {
        fonds: metadata.fonds.as_deref(),
        category: metadata.category.as_deref(),
        folder_kind: party.as_ref().map(|party| party.kind.as_str()),
        retention: metadata.retention.as_deref(),
        department: metadata.department.as_deref(),
        department_id: actor.department_id,
    };
    let ClassRows {
        fonds,
        category,
        retention,
        department,
    } = db::classification::find(conn, codes).await?;
    let named = |code: Option<&str>, found: bool, field: &str, what: &str| match code {
        Some(code) if !found => Err(unknown(field, what, code)),
        _ => Ok(()),
    };
    named(codes.fonds, fonds.is_some(), "fonds", "fonds")?;
    named(codes.category, category.is_some(), "category", "category")?;
    let retention_code = codes.retention.or_else(|| {
        category
            .as_ref()
            .and_then(|category| category.retention_code.as_deref())
    });
    named(
        retention_code,
        retention.is_some(),
        "retention",
        "retention policy",
    )?;
    named(
        codes.department,
        department.is_some(),
        "department",
        "department",
    )?;

    let definitions: Vec<FieldDefinition> = match &category {
        Some(category) => serde_json::from_value(category.fields.clone()).map_err(|error| {
            ServiceError::Internal(format!("stored field definitions: {error}"))
        })?,
        None => Vec::new(),
    };
    if category.is_some() || !metadata.custom.is_empty() {
        check_custom(&definitions, &metadata.custom)?;
    }
    if let (Some(doc_type), Some(category)) = (metadata.doc_type.as_deref(), &category) {
        let checklist: Vec<ChecklistItem> =
            serde_json::from_value(category.checklist.clone()).unwrap_or_default();
        if !checklist.is_empty() && !checklist.iter().any(|item| item.code == doc_type) {
            let codes: Vec<&str> = checklist.iter().map(|item| item.code.as_str()).collect();
            return Err(ServiceError::Validation(format!(
                "doc_type: {doc_type:?} is not on the checklist of category {}; one of {}",
                category.code,
                codes.join(", ")
            )));
        }
    }

    metadata.fonds = fonds.as_ref().map(|(_, code)| code.clone());
    metadata.category = category.as_ref().map(|row| row.code.clone());
    metadata.retention = retention.as_ref().map(|(_, code)| code.clone());
    metadata.department = department.as_ref().map(|(_, code)| code.clone());
    if let Some(location) = &metadata.location {
        super::rooms::check_location(conn, location).await?;
    }
    let location = metadata
        .location
        .as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(|error| ServiceError::Internal(error.to_string()))?;
    Ok(Classified {
        carrier: metadata.carrier.unwrap_or(if has_files {
            Carrier::Electronic
        } else {
            Carrier::Paper
        }),
        security_level: metadata.security_level.unwrap_or(SecurityLevel::Internal),
        open_status: metadata.open_status.unwrap_or(OpenStatus::Controlled),
        custom: Value::Object(metadata.custom.clone()),
        location,
        fonds,
        category: category.map(|row| (row.id, row.code)),
        retention,
        department,
        metadata,
    })
}

fn unknown(field: &str, what: &str, code: &str) -> ServiceError {
    ServiceError::Validation(format!("{field}: no {what} with code {code:?}"))
}

/// Gives the record the next archival code of its class; `None` while the class is incomplete.
/// With `retention`, the record's due date and its reason are stored in the same statement (a
/// new record's, from [`new_record_retention`]): one update of the row, not two, each of
/// which would write a new version of it into every index of `records`.
pub async fn assign_archival_code(
    conn: &mut PgConnection,
    record_id: Uuid,
    classified: &Classified,
    retention: Option<&Retention>,
) -> ServiceResult<Option<String>> {
    let Some((class, mut code)) = classified.class() else {
        if let Some(retention) = retention.filter(|retention| **retention != Retention::default()) {
            db::records::set_retention(
                conn,
                record_id,
                retention.due_on,
                retention.reason.as_deref(),
            )
            .await?;
        }
        return Ok(None);
    };
    let item = db::records::next_item_number(conn, class).await?;
    code.item =
        u32::try_from(item).map_err(|_| ServiceError::Internal("negative item number".into()))?;
    let text = code.to_string();
    let stored = match retention {
        Some(retention) => {
            db::records::set_archival_code_and_retention(
                conn,
                record_id,
                (&text, item),
                retention.due_on,
                retention.reason.as_deref(),
            )
            .await
        }
        None => db::records::set_archival_code(conn, record_id, &text, item).await,
    };
    stored.map_err(|error| match error.conflict() {
        Some(db::Conflict::ArchivalCode) => {
            ServiceError::Conflict(format!("archival code {text} is taken"))
        }
        _ => error.into(),
    })?;
    Ok(Some(text))
}

/// A record's retention as the rules compute it: its due date (none while it is permanent or
/// cannot be known yet) and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retention {
    pub due_on: Option<NaiveDate>,
    pub reason: Option<String>,
}

impl Retention {
    fn of(record: &RetentionFacts) -> ServiceResult<Self> {
        Ok(match (&record.policy_code, &record.trigger) {
            (Some(code), Some(trigger)) => {
                let policy = Policy {
                    code: code.clone(),
                    years: record.years.and_then(|years| u32::try_from(years).ok()),
                    trigger: Trigger::parse(trigger)?,
                };
                let outcome = retention::due_date(
                    &policy,
                    Facts {
                        doc_date: Some(record.doc_date),
                        event_date: record.event_date,
                        min_due_on: record.min_due_on,
                        permanent: record.permanent,
                    },
                );
                Self {
                    due_on: outcome.due_on,
                    reason: Some(outcome.reason),
                }
            }
            _ if record.permanent => Self {
                due_on: None,
                reason: Some("made permanent by appraisal".to_owned()),
            },
            _ => Self::default(),
        })
    }
}

/// The retention of a record inserted by this transaction, computed from its stored facts
/// (its policy, and the events of it and its party) but not stored: the filing stores it with
/// the archival code ([`assign_archival_code`]). A new record is under no hold.
pub async fn new_record_retention(
    conn: &mut PgConnection,
    record_id: Uuid,
) -> ServiceResult<Retention> {
    let facts = db::records::retention_facts(conn, RetentionScope::Record(record_id)).await?;
    facts
        .first()
        .map_or_else(|| Ok(Retention::default()), Retention::of)
}

/// Recomputes the due dates of the selected active records (by record, party or policy) and
/// stores those that changed; returns how many changed. Appraisals stick: the due date never
/// goes below `retention_min_due_on`, and a record made permanent stays permanent. A change
/// that moves a held record's due date earlier is refused with `on_hold` (the caller's
/// transaction must then roll back).
pub async fn recompute_retention(
    conn: &mut PgConnection,
    scope: RetentionScope,
) -> ServiceResult<usize> {
    let facts = db::records::retention_facts(conn, scope).await?;
    let mut changed = 0;
    let mut earlier = Vec::new();
    for record in facts {
        let Retention { due_on, reason } = Retention::of(&record)?;
        if matches!((record.due_on, due_on), (Some(before), Some(after)) if after < before) {
            earlier.push(record.id);
        }
        if due_on != record.due_on || reason != record.reason {
            db::records::set_retention(conn, record.id, due_on, reason.as_deref()).await?;
            changed += 1;
        }
    }
    refuse_if_held(conn, &earlier).await?;
    Ok(changed)
}

/// A held record's due date never moves earlier: `on_hold` names the first such record.
async fn refuse_if_held(conn: &mut PgConnection, earlier: &[Uuid]) -> ServiceResult<()> {
    let held = holds::holds_covering(conn, earlier).await?;
    match held.into_iter().next() {
        Some((record_id, holds)) => Err(ServiceError::OnHold(format!(
            "record {record_id} is on legal hold ({}); its retention cannot be shortened",
            holds
                .iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        None => Ok(()),
    }
}
