//! What the party endpoints take and return.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db;
use crate::domain::catalogue::ChecklistItem;
use crate::domain::party::{Contact, PartyKind, PartyStatus};
use crate::domain::record::{Patch, RecordStatus};

/// A party to create: `POST /api/v1/parties`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewParty {
    pub kind: PartyKind,
    /// Employee number (工號) or customer code.
    pub identifier: String,
    pub name: String,
    /// Department code, e.g. `XSB`.
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub status: Option<PartyStatus>,
    #[serde(default)]
    pub industry: Option<String>,
    #[serde(default)]
    pub nature: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub customer_type: Option<String>,
    #[serde(default)]
    pub grade: Option<String>,
    #[serde(default)]
    pub credit_limit: Option<f64>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
}

/// Changes to a party: `PATCH /api/v1/parties/{id}`; `null` clears a field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyPatch {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub department: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<PartyStatus>)]
    pub status: Patch<PartyStatus>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub industry: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub nature: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub region: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub customer_type: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub grade: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<f64>)]
    pub credit_limit: Patch<f64>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Contact>>)]
    pub contacts: Patch<Vec<Contact>>,
}

/// A party as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartyView {
    pub id: Uuid,
    pub kind: PartyKind,
    pub identifier: String,
    pub name: String,
    pub department: Option<String>,
    pub status: PartyStatus,
    pub industry: Option<String>,
    pub nature: Option<String>,
    pub region: Option<String>,
    pub customer_type: Option<String>,
    pub grade: Option<String>,
    pub credit_limit: Option<f64>,
    pub contacts: Vec<Contact>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One line of a folder's item list (卷內文件目錄).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordSummary {
    pub id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    pub doc_date: NaiveDate,
    pub doc_number: Option<String>,
    pub responsible: Option<String>,
    pub category: Option<String>,
    pub doc_type: Option<String>,
    pub pages: Option<i32>,
    pub status: RecordStatus,
    pub retention_due_on: Option<NaiveDate>,
}

/// A party with its folder: `GET /api/v1/parties/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartyFolder {
    #[serde(flatten)]
    pub party: PartyView,
    /// The category whose records make up this kind of folder (e.g. `RS`).
    pub folder_category: Option<String>,
    /// Who signs the folder off, and whether they did (R5).
    pub sign_off: super::SignOffView,
    /// The folder's records in order of document date.
    pub records: Vec<RecordSummary>,
    /// Checklist items no record of the folder fulfils yet.
    pub missing: Vec<ChecklistItem>,
    /// Records about the party kept outside the folder (training records, …).
    pub other_records: Vec<RecordSummary>,
    pub events: Vec<EventView>,
}

/// A dated event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub r#type: String,
    pub date: NaiveDate,
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
    pub party_id: Option<Uuid>,
    pub record_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<db::parties::EventRow> for EventView {
    fn from(row: db::parties::EventRow) -> Self {
        Self {
            id: row.id,
            r#type: row.r#type,
            date: row.date,
            note: row.note,
            outcome: row.outcome,
            next_step: row.next_step,
            party_id: row.party_id,
            record_id: row.record_id,
            created_at: row.created_at,
        }
    }
}

/// A page of parties.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartyPage {
    pub items: Vec<PartyView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /api/v1/parties`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct PartyFilter {
    pub kind: Option<PartyKind>,
    pub status: Option<PartyStatus>,
    pub department: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}
