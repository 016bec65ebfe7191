//! Storage rooms (庫房, R19, R20): the rooms, their places, climate targets, inspection
//! plans (十防) and inspections. A room always has one open inspection reminder, due on the
//! earliest next due date of its plan; recording an inspection moves it.

mod log;
mod places;
mod readings;
mod stocktake;
mod types;

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

pub use log::LogMonth;
pub(crate) use places::{check_location, note_edited_location};
pub use readings::*;
pub use stocktake::*;
pub use types::*;

use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, PgConnection, Pool};
use crate::domain::audit::AuditAction;
use crate::domain::catalogue::Carrier;
use crate::domain::permissions::Capability;
use crate::domain::reminder::{NewReminder, Recipient, ReminderKind};
use crate::domain::storage_care::{self, ClimateTarget};
use crate::domain::user::Role;
use crate::services::require;

/// Rooms, their plans and inspections.
#[derive(Clone)]
pub struct RoomService {
    pool: Pool,
    timezone: chrono_tz::Tz,
}

impl RoomService {
    pub fn new(pool: Pool, timezone: chrono_tz::Tz) -> Self {
        Self { pool, timezone }
    }

    fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.timezone).date_naive()
    }

    /// Creates a room; its first inspection is due at once.
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, actor: &Actor, input: NewRoom) -> ServiceResult<RoomView> {
        require(actor, Capability::KeepRooms)?;
        let code = input.code.trim().to_owned();
        let name = input.name.trim().to_owned();
        if code.is_empty() || name.is_empty() {
            return Err(ServiceError::Validation("code and name: required".into()));
        }
        let readings_per_day = check_readings_per_day(input.readings_per_day.unwrap_or(2))?;
        let targets = checked_targets(input.targets.unwrap_or(vec![ClimateTarget::PAPER]))?;
        let plan = input.plan.unwrap_or_else(storage_care::default_plan);
        storage_care::validate_plan(&plan).map_err(ServiceError::Validation)?;
        let room = db::rooms::RoomRow {
            id: Uuid::now_v7(),
            code,
            name,
            readings_per_day,
            created_at: Utc::now(),
        };
        let mut tx = db::begin(&self.pool).await?;
        db::rooms::insert(&mut tx, &room, actor.user_id)
            .await
            .map_err(|error| match error.conflict() {
                Some(db::Conflict::RoomCode) => {
                    ServiceError::Conflict(format!("a room with code {} exists", room.code))
                }
                _ => error.into(),
            })?;
        db::rooms::set_targets(&mut tx, room.id, &targets).await?;
        db::rooms::set_plan(&mut tx, room.id, &plan, self.today()).await?;
        refresh_inspection_reminder(&mut tx, &room, Some(actor.user_id)).await?;
        let details = serde_json::json!({"room_id": room.id, "code": room.code});
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::RoomCreated,
            None,
            &details,
        )
        .await?;
        let view = room_view(&mut tx, room).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(view)
    }

    pub async fn list(&self) -> ServiceResult<RoomList> {
        let mut conn = db::acquire(&self.pool).await?;
        let mut items = Vec::new();
        for room in db::rooms::all(&mut conn).await? {
            items.push(room_view(&mut conn, room).await?);
        }
        Ok(RoomList { items })
    }

    pub async fn get(&self, id: Uuid) -> ServiceResult<RoomView> {
        let mut conn = db::acquire(&self.pool).await?;
        let room = find_room(&mut conn, id, false).await?;
        room_view(&mut conn, room).await
    }

    /// Renames a room, changes its expected readings or replaces its targets.
    #[tracing::instrument(skip_all, fields(room.id = %id))]
    pub async fn update(
        &self,
        actor: &Actor,
        id: Uuid,
        patch: RoomPatch,
    ) -> ServiceResult<RoomView> {
        require(actor, Capability::KeepRooms)?;
        let mut tx = db::begin(&self.pool).await?;
        let mut room = find_room(&mut tx, id, true).await?;
        if let Some(name) = patch.name {
            let name = name.trim().to_owned();
            if name.is_empty() {
                return Err(ServiceError::Validation("name: cannot be empty".into()));
            }
            room.name = name;
        }
        if let Some(count) = patch.readings_per_day {
            room.readings_per_day = check_readings_per_day(count)?;
        }
        db::rooms::update(&mut tx, &room).await?;
        if let Some(targets) = patch.targets {
            db::rooms::set_targets(&mut tx, id, &checked_targets(targets)?).await?;
        }
        let details = serde_json::json!({"room_id": id, "code": room.code});
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::RoomUpdated,
            None,
            &details,
        )
        .await?;
        let view = room_view(&mut tx, room).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(view)
    }

    /// Replaces a room's inspection plan; new items are due at once, kept ones keep their
    /// next due date.
    #[tracing::instrument(skip_all, fields(room.id = %id))]
    pub async fn set_plan(
        &self,
        actor: &Actor,
        id: Uuid,
        plan: NewPlan,
    ) -> ServiceResult<RoomView> {
        require(actor, Capability::KeepRooms)?;
        storage_care::validate_plan(&plan.items).map_err(ServiceError::Validation)?;
        let mut tx = db::begin(&self.pool).await?;
        let room = find_room(&mut tx, id, true).await?;
        db::rooms::set_plan(&mut tx, id, &plan.items, self.today()).await?;
        refresh_inspection_reminder(&mut tx, &room, Some(actor.user_id)).await?;
        let details = serde_json::json!({"room_id": id, "plan": plan.items});
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::RoomPlanChanged,
            None,
            &details,
        )
        .await?;
        let view = room_view(&mut tx, room).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(view)
    }

    /// Adds a place (cabinet, shelf, box) to a room.
    pub async fn add_location(
        &self,
        actor: &Actor,
        id: Uuid,
        input: NewLocation,
    ) -> ServiceResult<LocationView> {
        require(actor, Capability::KeepRooms)?;
        let code = input.code.trim().to_owned();
        if code.is_empty() {
            return Err(ServiceError::Validation("code: required".into()));
        }
        if !["cabinet", "shelf", "box", "other"].contains(&input.kind.as_str()) {
            return Err(ServiceError::Validation(
                "kind: one of cabinet, shelf, box, other".into(),
            ));
        }
        if input
            .width_mm
            .is_some_and(|width| !(1..=5000).contains(&width))
        {
            return Err(ServiceError::Validation(
                "width_mm: between 1 and 5000".into(),
            ));
        }
        let mut tx = db::begin(&self.pool).await?;
        find_room(&mut tx, id, true).await?;
        let parent_id = match input.parent.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(parent) => Some(places::parent_of(&mut tx, id, parent, &input.kind).await?),
        };
        let location = db::rooms::LocationRow {
            id: Uuid::now_v7(),
            code,
            kind: input.kind,
            label: input.label,
            parent_id,
            width_mm: input.width_mm,
        };
        db::rooms::insert_location(&mut tx, id, &location)
            .await
            .map_err(|error| match error.conflict() {
                Some(db::Conflict::PlaceCode) => ServiceError::Conflict(format!(
                    "the room already has a place {}",
                    location.code
                )),
                _ => error.into(),
            })?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(location.into())
    }

    /// Records an inspection: who, when, each item's result. Each listed item's next
    /// inspection falls due its interval after the inspection day; an item found wanting
    /// raises an alert.
    #[tracing::instrument(skip_all, fields(room.id = %id))]
    pub async fn inspect(
        &self,
        actor: &Actor,
        id: Uuid,
        input: NewInspection,
    ) -> ServiceResult<InspectionView> {
        require(actor, Capability::KeepRooms)?;
        let today = self.today();
        let inspected_on = input.inspected_on.unwrap_or(today);
        if inspected_on > today {
            return Err(ServiceError::Validation(
                "inspected_on: cannot be in the future".into(),
            ));
        }
        if input.results.is_empty() {
            return Err(ServiceError::Validation(
                "results: list the result of at least one plan item".into(),
            ));
        }
        let mut tx = db::begin(&self.pool).await?;
        let room = find_room(&mut tx, id, true).await?;
        let plan = db::rooms::plan(&mut tx, id).await?;
        let mut codes = Vec::new();
        for result in &input.results {
            if !plan.iter().any(|item| item.code == result.item) {
                return Err(ServiceError::Validation(format!(
                    "results: {:?} is not an item of the room's plan",
                    result.item
                )));
            }
            if codes.contains(&result.item) {
                return Err(ServiceError::Validation(format!(
                    "results: {:?} is listed twice",
                    result.item
                )));
            }
            codes.push(result.item.clone());
        }
        let inspection = db::rooms::InspectionRow {
            id: Uuid::now_v7(),
            room_id: id,
            inspected_on,
            inspected_by: Some(actor.user_id),
            inspector: Some(actor.username.clone()),
            remarks: input.remarks.filter(|text| !text.trim().is_empty()),
            results: serde_json::to_value(&input.results)
                .map_err(|error| ServiceError::Internal(error.to_string()))?,
            created_at: Utc::now(),
        };
        db::rooms::insert_inspection(&mut tx, &inspection).await?;
        db::rooms::advance_plan(&mut tx, id, &codes, inspected_on).await?;
        let next = refresh_inspection_reminder(&mut tx, &room, Some(actor.user_id)).await?;
        for failed in input.results.iter().filter(|result| !result.ok) {
            let name = plan.iter().find(|item| item.code == failed.item);
            let name = name.map_or(failed.item.as_str(), |item| item.name.as_str());
            let mut alert = NewReminder::new(
                ReminderKind::Alert,
                format!("alert:inspection:{}:{}", inspection.id, failed.item),
                format!(
                    "庫房 {} 檢查發現問題 inspection found a problem: {name}",
                    room.code
                ),
                inspected_on,
                Recipient::Role(Role::Archivist),
            );
            alert.room_id = Some(id);
            alert.details = serde_json::json!({
                "inspection_id": inspection.id, "item": failed.item, "remarks": failed.remarks,
            });
            db::reminders::raise(&mut tx, &alert).await?;
        }
        let details = serde_json::json!({"room_id": id, "inspection_id": inspection.id});
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::RoomInspected,
            None,
            &details,
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(inspection_view(inspection, next))
    }

    /// A room's inspections, latest first.
    pub async fn inspections(&self, id: Uuid) -> ServiceResult<InspectionList> {
        let mut conn = db::acquire(&self.pool).await?;
        find_room(&mut conn, id, false).await?;
        let rows = db::rooms::inspections(&mut conn, id, 500).await?;
        Ok(InspectionList {
            items: rows
                .into_iter()
                .map(|row| inspection_view(row, None))
                .collect(),
        })
    }
}

pub(crate) async fn find_room(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> ServiceResult<db::rooms::RoomRow> {
    db::rooms::get(conn, id, lock)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no room {id}")))
}

fn check_readings_per_day(count: i32) -> ServiceResult<i32> {
    if (0..=1440).contains(&count) {
        return Ok(count);
    }
    Err(ServiceError::Validation(
        "readings_per_day: between 0 and 1440".into(),
    ))
}

fn checked_targets(targets: Vec<ClimateTarget>) -> ServiceResult<Vec<ClimateTarget>> {
    let mut carriers = Vec::new();
    for target in &targets {
        target
            .validate()
            .map_err(|reason| ServiceError::Validation(format!("targets: {reason}")))?;
        if carriers.contains(&target.carrier) {
            return Err(ServiceError::Validation(format!(
                "targets: {} is listed twice",
                target.carrier.as_str()
            )));
        }
        carriers.push(target.carrier);
    }
    Ok(targets)
}

/// The room's targets, parsed.
pub(crate) async fn room_targets(
    conn: &mut PgConnection,
    room_id: Uuid,
) -> ServiceResult<Vec<ClimateTarget>> {
    let rows = db::rooms::targets(conn, room_id).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(ClimateTarget {
                carrier: Carrier::parse(&row.carrier)?,
                temperature_min_c: row.temperature_min_c,
                temperature_max_c: row.temperature_max_c,
                humidity_min_pct: row.humidity_min_pct,
                humidity_max_pct: row.humidity_max_pct,
                temperature_swing_c: row.temperature_swing_c,
                humidity_swing_pct: row.humidity_swing_pct,
            })
        })
        .collect())
}

/// Keeps one open inspection reminder per room, due on the earliest next due date of its
/// plan and naming the items due then; others are closed. Returns that date.
async fn refresh_inspection_reminder(
    conn: &mut PgConnection,
    room: &db::rooms::RoomRow,
    by: Option<Uuid>,
) -> ServiceResult<Option<NaiveDate>> {
    let plan = db::rooms::plan(conn, room.id).await?;
    let Some(due_on) = plan.iter().map(|item| item.next_due_on).min() else {
        db::reminders::close_room_reminders(conn, room.id, "inspection", "", by).await?;
        return Ok(None);
    };
    let items: Vec<&str> = plan
        .iter()
        .filter(|item| item.next_due_on == due_on)
        .map(|item| item.name.as_str())
        .collect();
    let key = format!("inspection:{}:{due_on}", room.id);
    let mut reminder = NewReminder::new(
        ReminderKind::Inspection,
        key.clone(),
        format!(
            "庫房 {} 定期檢查 inspection due: {}",
            room.code,
            items.join("、")
        ),
        due_on,
        Recipient::Role(Role::Archivist),
    );
    reminder.room_id = Some(room.id);
    reminder.details = serde_json::json!({"room_code": room.code, "items": items});
    db::reminders::close_room_reminders(conn, room.id, "inspection", &key, by).await?;
    db::reminders::raise(conn, &reminder).await?;
    Ok(Some(due_on))
}

async fn room_view(conn: &mut PgConnection, room: db::rooms::RoomRow) -> ServiceResult<RoomView> {
    let targets = room_targets(conn, room.id).await?;
    let plan: Vec<PlanItemView> = db::rooms::plan(conn, room.id)
        .await?
        .into_iter()
        .map(|item| PlanItemView {
            code: item.code,
            name: item.name,
            interval_days: item.interval_days,
            next_due_on: item.next_due_on,
        })
        .collect();
    let locations = db::rooms::locations(conn, room.id)
        .await?
        .into_iter()
        .map(LocationView::from)
        .collect();
    Ok(RoomView {
        next_inspection_due_on: plan.iter().map(|item| item.next_due_on).min(),
        id: room.id,
        code: room.code,
        name: room.name,
        readings_per_day: room.readings_per_day,
        targets,
        plan,
        locations,
        created_at: room.created_at,
    })
}

fn inspection_view(row: db::rooms::InspectionRow, next: Option<NaiveDate>) -> InspectionView {
    InspectionView {
        id: row.id,
        room_id: row.room_id,
        inspected_on: row.inspected_on,
        inspected_by: row.inspected_by,
        inspector: row.inspector,
        results: serde_json::from_value(row.results).unwrap_or_default(),
        remarks: row.remarks,
        created_at: row.created_at,
        next_inspection_due_on: next,
    }
}
