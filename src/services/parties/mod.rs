//! Parties (當事人) and their folders (案卷): one folder per employee or customer holds its
//! records in document-date order and shows the checklist items still missing; events such as
//! `employment_ended` move the folder out of the active set and restart retention clocks.

use std::collections::HashSet;

use chrono::Utc;
use uuid::Uuid;

use super::access::{self, require_folder};
use super::{Actor, ServiceError, ServiceResult, filing};
use crate::db::{self, PgConnection, Pool};
use crate::domain::audit::AuditAction;
use crate::domain::catalogue::{ChecklistItem, missing_items};
use crate::domain::party::{FOLLOW_UP, PartyIdentifier, PartyKind, PartyStatus};
use crate::domain::permissions::Capability;
use crate::domain::record::{Patch, RecordStatus};
use crate::domain::validation::ValidationError;
use crate::services::paging::{bad_cursor, next_cursor, page_size};
use crate::services::require;

pub use crate::domain::party::EventInput;
pub use handover::{HandoverInput, HandoverView};
pub use sign_off::{SignOffInput, SignOffView};
pub use types::*;

mod cover;
mod handover;
mod sign_off;
mod types;

/// Parties, their folders and events.
#[derive(Clone)]
pub struct PartyService {
    pool: Pool,
    /// Where loans' due dates fall.
    timezone: chrono_tz::Tz,
}

impl PartyService {
    pub fn new(pool: Pool, timezone: chrono_tz::Tz) -> Self {
        Self { pool, timezone }
    }

    fn today(&self) -> chrono::NaiveDate {
        Utc::now().with_timezone(&self.timezone).date_naive()
    }

    #[tracing::instrument(skip_all)]
    pub async fn create(&self, actor: &Actor, input: NewParty) -> ServiceResult<PartyView> {
        require(actor, Capability::KeepFolders)?;
        let identifier = PartyIdentifier::parse(&input.identifier)?;
        let name = required_text("name", &input.name)?;
        let mut tx = db::begin(&self.pool).await?;
        let department_id = department_id(&mut tx, input.department.as_deref()).await?;
        let contacts = serde_json::to_value(&input.contacts).map_err(internal)?;
        let status = input.status.unwrap_or(PartyStatus::Active);
        let id = Uuid::now_v7();
        db::parties::insert(
            &mut tx,
            id,
            input.kind,
            identifier.as_str(),
            &db::parties::PartyValues {
                name: &name,
                department_id,
                status,
                industry: input.industry.as_deref(),
                nature: input.nature.as_deref(),
                region: input.region.as_deref(),
                customer_type: input.customer_type.as_deref(),
                grade: input.grade.as_deref(),
                credit_limit: input.credit_limit,
                contacts: &contacts,
            },
            Some(actor.user_id),
        )
        .await
        .map_err(|error| match error.conflict() {
            Some(db::Conflict::PartyIdentifier) => ServiceError::Conflict(format!(
                "a {} with identifier {:?} exists",
                input.kind.as_str(),
                identifier.as_str()
            )),
            _ => error.into(),
        })?;
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::PartyCreated,
            None,
            &serde_json::json!({ "party_id": id, "kind": input.kind, "identifier": identifier.as_str(), "name": name }),
        )
        .await?;
        let party = find(&mut tx, id).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(party)
    }

    pub async fn update(
        &self,
        actor: &Actor,
        id: Uuid,
        patch: PartyPatch,
    ) -> ServiceResult<PartyView> {
        let mut tx = db::begin(&self.pool).await?;
        require_folder(&mut tx, actor, id).await?;
        require(actor, Capability::KeepFolders)?;
        let before = find(&mut tx, id).await?;
        let name = match patch.name {
            Patch::Unchanged => before.name.clone(),
            Patch::Clear => return Err(ValidationError::new("name", "is required").into()),
            Patch::Set(name) => required_text("name", &name)?,
        };
        let department = patch.department.apply(before.department.clone());
        let department_id = department_id(&mut tx, department.as_deref()).await?;
        let status = patch
            .status
            .apply(Some(before.status))
            .unwrap_or(PartyStatus::Active);
        let contacts = patch
            .contacts
            .apply(Some(before.contacts.clone()))
            .unwrap_or_default();
        let contacts = serde_json::to_value(&contacts).map_err(internal)?;
        let (industry, nature, region) = (
            patch.industry.apply(before.industry.clone()),
            patch.nature.apply(before.nature.clone()),
            patch.region.apply(before.region.clone()),
        );
        let (customer_type, grade) = (
            patch.customer_type.apply(before.customer_type.clone()),
            patch.grade.apply(before.grade.clone()),
        );
        db::parties::update(
            &mut tx,
            id,
            &db::parties::PartyValues {
                name: &name,
                department_id,
                status,
                industry: industry.as_deref(),
                nature: nature.as_deref(),
                region: region.as_deref(),
                customer_type: customer_type.as_deref(),
                grade: grade.as_deref(),
                credit_limit: patch.credit_limit.apply(before.credit_limit),
                contacts: &contacts,
            },
        )
        .await?;
        let after = find(&mut tx, id).await?;
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::PartyUpdated,
            None,
            &serde_json::json!({ "party_id": id, "before": before, "after": after }),
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(after)
    }

    /// The party, its folder's records in document-date order and the missing checklist
    /// items, to whoever the folder category's rule admits; only the records the viewer may
    /// see are listed (the checklist counts them all). The view is audited.
    pub async fn folder(&self, actor: &Actor, id: Uuid) -> ServiceResult<PartyFolder> {
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        require_folder(&mut conn, actor, id).await?;
        let party = find(&mut conn, id).await?;
        let folder_category =
            db::catalogue::folder_category(&mut conn, party.kind.as_str()).await?;
        let folder_codes: HashSet<String> = match &folder_category {
            Some(category) => folder_category_codes(&mut conn, &category.code).await?,
            None => HashSet::new(),
        };
        let records = db::records::of_party(&mut conn, id).await?;
        let ids: Vec<Uuid> = records.iter().map(|record| record.id).collect();
        let visibility = access::visibility(&mut conn, actor, self.today()).await?;
        let visible: HashSet<Uuid> = db::access::visible_records(&mut conn, &ids, &visibility)
            .await?
            .into_iter()
            .collect();
        let (in_folder, outside): (Vec<_>, Vec<_>) = records.into_iter().partition(|record| {
            record
                .category
                .as_ref()
                .is_some_and(|code| folder_codes.contains(code))
        });
        let checklist: Vec<ChecklistItem> = folder_category
            .as_ref()
            .map(|category| serde_json::from_value(category.checklist.clone()))
            .transpose()
            .map_err(internal)?
            .unwrap_or_default();
        let present: HashSet<&str> = in_folder
            .iter()
            .filter(|record| record.status == RecordStatus::Active)
            .filter_map(|record| record.doc_type.as_deref())
            .collect();
        let missing = missing_items(&checklist, &present, party.status == PartyStatus::Departed)
            .into_iter()
            .cloned()
            .collect();
        let events = db::parties::events(&mut conn, id).await?;
        let shown = |records: Vec<db::records::RecordRow>| -> Vec<RecordSummary> {
            records
                .into_iter()
                .filter(|record| visible.contains(&record.id))
                .map(summary)
                .collect()
        };
        let sign_off = sign_off::sign_off_of(&mut conn, id).await?;
        let folder = PartyFolder {
            party,
            sign_off,
            folder_category: folder_category.map(|category| category.code),
            records: shown(in_folder),
            missing,
            other_records: shown(outside),
            events: events.into_iter().map(EventView::from).collect(),
        };
        let listed: Vec<Uuid> = folder
            .records
            .iter()
            .chain(&folder.other_records)
            .map(|record| record.id)
            .collect();
        db::audit::append(
            &mut conn,
            Some(actor.user_id),
            AuditAction::PartyViewed,
            None,
            &serde_json::json!({ "party_id": id, "records_shown": listed }),
        )
        .await?;
        Ok(folder)
    }

    /// Parties whose folder the caller may see.
    pub async fn list(&self, actor: &Actor, filter: PartyFilter) -> ServiceResult<PartyPage> {
        let limit = page_size(filter.limit, 50, 500);
        let after = match filter.cursor.as_deref() {
            Some(cursor) => Some(
                cursor
                    .split_once(':')
                    .filter(|(kind, _)| PartyKind::parse(kind).is_some())
                    .ok_or_else(bad_cursor)?,
            ),
            None => None,
        };
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        let visibility = access::Rules::load(&mut conn)
            .await?
            .visibility(actor, Vec::new());
        let rows = db::parties::list(
            &mut conn,
            &visibility,
            filter.kind.map(PartyKind::as_str),
            filter.status.map(PartyStatus::as_str),
            filter.department.as_deref(),
            i64::from(limit) + 1,
            after,
        )
        .await?;
        let mut items: Vec<PartyView> = rows
            .into_iter()
            .map(party_view)
            .collect::<ServiceResult<_>>()?;
        let next_cursor = next_cursor(&mut items, limit, |party| {
            format!("{}:{}", party.kind.as_str(), party.identifier)
        });
        Ok(PartyPage { items, next_cursor })
    }

    /// Records an event of the party. `employment_ended` takes the folder out of the active
    /// set; every record of the party gets its due date recomputed.
    #[tracing::instrument(skip_all, fields(party.id = %id))]
    pub async fn add_event(
        &self,
        actor: &Actor,
        id: Uuid,
        input: EventInput,
    ) -> ServiceResult<EventView> {
        let event = input.validate()?;
        let mut tx = db::begin(&self.pool).await?;
        require_folder(&mut tx, actor, id).await?;
        // events move retention clocks: the records office's alone
        super::require(actor, Capability::RecordEvents)?;
        let party = find(&mut tx, id).await?;
        if event.status_after(party.kind) == Some(PartyStatus::Departed) {
            let in_custody = db::parties::custody_count(&mut tx, id).await?;
            if in_custody > 0 {
                return Err(ServiceError::Conflict(format!(
                    "{} {} still keeps {in_custody} records; hand them over to a successor first \
                     (POST /api/v1/parties/{id}/handover)",
                    party.identifier, party.name
                )));
            }
            let borrowed = db::loans::open_of_party(&mut tx, id).await?;
            if !borrowed.is_empty() {
                return Err(ServiceError::Conflict(format!(
                    "{} {} still has {} borrowed records to return first (loans {})",
                    party.identifier,
                    party.name,
                    borrowed.len(),
                    borrowed
                        .iter()
                        .map(Uuid::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let row = db::parties::EventRow {
            id: Uuid::now_v7(),
            party_id: Some(id),
            record_id: None,
            r#type: event.r#type.clone(),
            date: event.date,
            note: event.note.clone(),
            outcome: event.outcome.clone(),
            next_step: event.next_step.clone(),
            created_by: Some(actor.user_id),
            created_at: Utc::now(),
        };
        db::parties::insert_event(&mut tx, &row).await?;
        if row.r#type == FOLLOW_UP {
            db::reminders::close_follow_ups(&mut tx, id, row.date, actor.user_id).await?;
        }
        if let Some(status) = event.status_after(party.kind) {
            db::parties::set_status(&mut tx, id, status).await?;
        }
        let recomputed =
            filing::recompute_retention(&mut tx, filing::RetentionScope::Party(id)).await?;
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::PartyEvent,
            None,
            &serde_json::json!({
                "party_id": id, "type": row.r#type, "date": row.date, "note": row.note,
                "outcome": row.outcome, "next_step": row.next_step,
                "records_recomputed": recomputed,
            }),
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(EventView::from(row))
    }
}

async fn find(conn: &mut PgConnection, id: Uuid) -> ServiceResult<PartyView> {
    let row = db::parties::find(conn, id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("party {id} not found")))?;
    party_view(row)
}

async fn department_id(conn: &mut PgConnection, code: Option<&str>) -> ServiceResult<Option<Uuid>> {
    let Some(code) = code else { return Ok(None) };
    let department = db::catalogue::find_department(conn, code)
        .await?
        .ok_or_else(|| {
            ServiceError::Validation(format!("department: no department with code {code:?}"))
        })?;
    Ok(Some(department.id))
}

/// The folder category and its sub-categories.
async fn folder_category_codes(
    conn: &mut PgConnection,
    root: &str,
) -> ServiceResult<HashSet<String>> {
    let categories = db::catalogue::list_categories(conn).await?;
    let mut codes: HashSet<String> = HashSet::from([root.to_owned()]);
    loop {
        let before = codes.len();
        for category in &categories {
            if category
                .parent_code
                .as_ref()
                .is_some_and(|parent| codes.contains(parent))
            {
                codes.insert(category.code.clone());
            }
        }
        if codes.len() == before {
            return Ok(codes);
        }
    }
}

fn required_text(field: &str, value: &str) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    Ok(value.to_owned())
}

fn internal(error: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(error.to_string())
}

fn party_view(row: db::parties::PartyRow) -> ServiceResult<PartyView> {
    Ok(PartyView {
        id: row.id,
        kind: row.kind,
        identifier: row.identifier,
        name: row.name,
        department: row.department,
        status: row.status,
        industry: row.industry,
        nature: row.nature,
        region: row.region,
        customer_type: row.customer_type,
        grade: row.grade,
        credit_limit: row.credit_limit,
        contacts: serde_json::from_value(row.contacts).unwrap_or_default(),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn summary(record: db::records::RecordRow) -> RecordSummary {
    RecordSummary {
        id: record.id,
        archival_code: record.archival_code,
        title: record.title,
        doc_date: record.doc_date,
        doc_number: record.doc_number,
        responsible: record.responsible,
        category: record.category,
        doc_type: record.doc_type,
        pages: record.pages,
        status: record.status,
        retention_due_on: record.retention_due_on,
    }
}
