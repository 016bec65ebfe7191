//! The inputs and views of the storage-room endpoints.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::storage_care::{ClimateTarget, PlanItem};

/// A room to create: `POST /api/v1/rooms`. Omitted, the targets are those for paper, the
/// plan is the ten protections weekly, and two readings a day are expected.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoom {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub readings_per_day: Option<i32>,
    #[serde(default)]
    pub targets: Option<Vec<ClimateTarget>>,
    #[serde(default)]
    pub plan: Option<Vec<PlanItem>>,
}

/// Changes to a room: `PATCH /api/v1/rooms/{id}`; omitted fields stay.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomPatch {
    pub name: Option<String>,
    pub readings_per_day: Option<i32>,
    pub targets: Option<Vec<ClimateTarget>>,
}

/// A place inside a room: `POST /api/v1/rooms/{id}/locations`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLocation {
    /// Unique in the room, e.g. `C01-S3-B12`.
    pub code: String,
    /// `cabinet`, `shelf`, `box` or `other`.
    pub kind: String,
    #[serde(default)]
    pub label: Option<String>,
    /// The code of the place it stands in: a box's shelf, a shelf's cabinet.
    #[serde(default)]
    pub parent: Option<String>,
    /// A box's width on its shelf in millimetres, for the holdings' shelf metres.
    #[serde(default)]
    pub width_mm: Option<i32>,
}

/// A place inside a room as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LocationView {
    pub id: Uuid,
    pub code: String,
    pub kind: String,
    pub label: Option<String>,
    /// The place it stands in.
    pub parent_id: Option<Uuid>,
    pub width_mm: Option<i32>,
}

impl From<crate::db::rooms::LocationRow> for LocationView {
    fn from(row: crate::db::rooms::LocationRow) -> Self {
        Self {
            id: row.id,
            code: row.code,
            kind: row.kind,
            label: row.label,
            parent_id: row.parent_id,
            width_mm: row.width_mm,
        }
    }
}

/// A place with what is kept in it (and in the places inside it) that the caller may see:
/// `GET /api/v1/rooms/{id}/locations/{location_id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlaceView {
    pub room_id: Uuid,
    pub room_code: String,
    #[serde(flatten)]
    pub place: LocationView,
    pub contents: Vec<PlacedItem>,
}

/// A record kept in a place.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlacedItem {
    pub record_id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    pub carrier: String,
    #[schema(value_type = Option<Object>)]
    pub location: Option<serde_json::Value>,
}

/// A movement of a physical item to register (進出庫): `POST /api/v1/records/{id}/movements`.
/// `to` is where it now is (validated against the rooms' places); none when it left the
/// store room (a loan, a transfer).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMovement {
    #[serde(default)]
    pub to: Option<crate::domain::location::Location>,
    pub reason: String,
}

/// A registered movement: who moved the item, when, from where, to where and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MovementView {
    pub id: Uuid,
    pub record_id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub from: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub to: Option<serde_json::Value>,
    pub reason: String,
}

/// An item of a room's inspection plan with its next due date.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanItemView {
    pub code: String,
    pub name: String,
    pub interval_days: i32,
    pub next_due_on: NaiveDate,
}

/// A room as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoomView {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub readings_per_day: i32,
    pub targets: Vec<ClimateTarget>,
    pub plan: Vec<PlanItemView>,
    /// The earliest next due date of the plan; absent when the plan is empty.
    pub next_inspection_due_on: Option<NaiveDate>,
    pub locations: Vec<LocationView>,
    pub created_at: DateTime<Utc>,
}

/// The rooms.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoomList {
    pub items: Vec<RoomView>,
}

/// A room's new plan: `PUT /api/v1/rooms/{id}/plan`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlan {
    pub items: Vec<PlanItem>,
}

/// The result of one plan item in an inspection.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemResult {
    /// The plan item's code.
    pub item: String,
    /// Whether the item was found in order.
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// An inspection to record: `POST /api/v1/rooms/{id}/inspections`. `inspected_on` defaults
/// to today; each listed item's next inspection falls due its interval after that day.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInspection {
    #[serde(default)]
    pub inspected_on: Option<NaiveDate>,
    pub results: Vec<ItemResult>,
    #[serde(default)]
    pub remarks: Option<String>,
}

/// A recorded inspection.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InspectionView {
    pub id: Uuid,
    pub room_id: Uuid,
    pub inspected_on: NaiveDate,
    pub inspected_by: Option<Uuid>,
    pub inspector: Option<String>,
    pub results: Vec<ItemResult>,
    pub remarks: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The room's next inspection after this one.
    pub next_inspection_due_on: Option<NaiveDate>,
}

/// A room's inspections, latest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InspectionList {
    pub items: Vec<InspectionView>,
}
