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
}

/// A place inside a room as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LocationView {
    pub id: Uuid,
    pub code: String,
    pub kind: String,
    pub label: Option<String>,
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
