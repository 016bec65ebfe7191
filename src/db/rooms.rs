//! Storage rooms: their places, climate targets, inspection plans and inspections.
//! Readings are in [`super::readings`].

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use crate::domain::storage_care::{ClimateTarget, PlanItem};

/// A room as stored.
#[derive(Debug, Clone)]
pub struct RoomRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub readings_per_day: i32,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, room: &RoomRow, by: Uuid) -> Result<(), DbError> {
    sqlx::query!(
        "insert into rooms (id, code, name, readings_per_day, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6)",
        room.id,
        room.code,
        room.name,
        room.readings_per_day,
        by,
        room.created_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Changes a room's name and expected readings per day.
pub async fn update(conn: &mut PgConnection, room: &RoomRow) -> Result<(), DbError> {
    sqlx::query!(
        "update rooms set name = $2, readings_per_day = $3, updated_at = now() where id = $1",
        room.id,
        room.name,
        room.readings_per_day,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn all(conn: &mut PgConnection) -> Result<Vec<RoomRow>, DbError> {
    Ok(sqlx::query_as!(
        RoomRow,
        "select id, code, name, readings_per_day, created_at from rooms order by code"
    )
    .fetch_all(conn)
    .await?)
}

/// One room; `lock` holds it until the transaction ends (readings and inspections of one
/// room are then checked one after the other).
pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<RoomRow>, DbError> {
    let row = if lock {
        sqlx::query_as!(
            RoomRow,
            "select id, code, name, readings_per_day, created_at from rooms where id = $1 for update",
            id
        )
        .fetch_optional(conn)
        .await?
    } else {
        sqlx::query_as!(
            RoomRow,
            "select id, code, name, readings_per_day, created_at from rooms where id = $1",
            id
        )
        .fetch_optional(conn)
        .await?
    };
    Ok(row)
}

/// Replaces a room's climate targets.
pub async fn set_targets(
    conn: &mut PgConnection,
    room_id: Uuid,
    targets: &[ClimateTarget],
) -> Result<(), DbError> {
    sqlx::query!("delete from room_targets where room_id = $1", room_id)
        .execute(&mut *conn)
        .await?;
    for target in targets {
        sqlx::query!(
            "insert into room_targets (room_id, carrier, temperature_min_c, temperature_max_c,
                 humidity_min_pct, humidity_max_pct, temperature_swing_c, humidity_swing_pct)
             values ($1, $2, $3::float8, $4::float8, $5::float8, $6::float8, $7::float8, $8::float8)",
            room_id,
            target.carrier.as_str(),
            target.temperature_min_c,
            target.temperature_max_c,
            target.humidity_min_pct,
            target.humidity_max_pct,
            target.temperature_swing_c,
            target.humidity_swing_pct,
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A stored target, carrier as text.
#[derive(Debug, Clone)]
pub struct TargetRow {
    pub carrier: String,
    pub temperature_min_c: f64,
    pub temperature_max_c: f64,
    pub humidity_min_pct: f64,
    pub humidity_max_pct: f64,
    pub temperature_swing_c: f64,
    pub humidity_swing_pct: f64,
}

pub async fn targets(conn: &mut PgConnection, room_id: Uuid) -> Result<Vec<TargetRow>, DbError> {
    Ok(sqlx::query_as!(
        TargetRow,
        r#"select carrier, temperature_min_c::float8 as "temperature_min_c!",
                  temperature_max_c::float8 as "temperature_max_c!",
                  humidity_min_pct::float8 as "humidity_min_pct!",
                  humidity_max_pct::float8 as "humidity_max_pct!",
                  temperature_swing_c::float8 as "temperature_swing_c!",
                  humidity_swing_pct::float8 as "humidity_swing_pct!"
           from room_targets where room_id = $1 order by carrier"#,
        room_id
    )
    .fetch_all(conn)
    .await?)
}

/// A place inside a room: a cabinet, shelf or box, in the place `parent_id` (a box on its
/// shelf), `width_mm` wide on its shelf (a box).
#[derive(Debug, Clone)]
pub struct LocationRow {
    pub id: Uuid,
    pub code: String,
    pub kind: String,
    pub label: Option<String>,
    pub parent_id: Option<Uuid>,
    pub width_mm: Option<i32>,
}

pub async fn insert_location(
    conn: &mut PgConnection,
    room_id: Uuid,
    location: &LocationRow,
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into room_locations (id, room_id, code, kind, label, parent_id, width_mm)
         values ($1, $2, $3, $4, $5, $6, $7)",
        location.id,
        room_id,
        location.code,
        location.kind,
        location.label,
        location.parent_id,
        location.width_mm,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn locations(
    conn: &mut PgConnection,
    room_id: Uuid,
) -> Result<Vec<LocationRow>, DbError> {
    Ok(sqlx::query_as!(
        LocationRow,
        "select id, code, kind, label, parent_id, width_mm from room_locations
         where room_id = $1 order by code",
        room_id
    )
    .fetch_all(conn)
    .await?)
}

/// The places (kind and code) of the room with code `room_code`; `None` when there is no
/// such room.
pub async fn places_by_room_code(
    conn: &mut PgConnection,
    room_code: &str,
) -> Result<Option<Vec<(String, String)>>, DbError> {
    let Some(room_id) = sqlx::query_scalar!("select id from rooms where code = $1", room_code)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let places = sqlx::query!(
        "select kind, code from room_locations where room_id = $1",
        room_id
    )
    .fetch_all(conn)
    .await?;
    Ok(Some(
        places.into_iter().map(|row| (row.kind, row.code)).collect(),
    ))
}

/// An item of a room's inspection plan with its next due date.
#[derive(Debug, Clone)]
pub struct PlanItemRow {
    pub code: String,
    pub name: String,
    pub interval_days: i32,
    pub next_due_on: NaiveDate,
}

/// Replaces a room's plan. Items kept keep their next due date; new ones are due on
/// `due_on`.
pub async fn set_plan(
    conn: &mut PgConnection,
    room_id: Uuid,
    items: &[PlanItem],
    due_on: NaiveDate,
) -> Result<(), DbError> {
    let codes: Vec<&str> = items.iter().map(|item| item.code.as_str()).collect();
    sqlx::query!(
        "delete from inspection_items where room_id = $1 and code <> all($2::text[])",
        room_id,
        &codes as &[&str],
    )
    .execute(&mut *conn)
    .await?;
    for (position, item) in items.iter().enumerate() {
        sqlx::query!(
            "insert into inspection_items (room_id, code, name, interval_days, next_due_on, position)
             values ($1, $2, $3, $4, $5, $6)
             on conflict (room_id, code) do update
             set name = excluded.name, interval_days = excluded.interval_days,
                 position = excluded.position",
            room_id,
            item.code,
            item.name,
            item.interval_days,
            due_on,
            i32::try_from(position).unwrap_or(i32::MAX),
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn plan(conn: &mut PgConnection, room_id: Uuid) -> Result<Vec<PlanItemRow>, DbError> {
    Ok(sqlx::query_as!(
        PlanItemRow,
        "select code, name, interval_days, next_due_on from inspection_items
         where room_id = $1 order by position, code",
        room_id
    )
    .fetch_all(conn)
    .await?)
}

/// Moves the listed items' next due date to `inspected_on` plus their interval.
pub async fn advance_plan(
    conn: &mut PgConnection,
    room_id: Uuid,
    codes: &[String],
    inspected_on: NaiveDate,
) -> Result<(), DbError> {
    sqlx::query!(
        "update inspection_items set next_due_on = $3::date + interval_days
         where room_id = $1 and code = any($2)",
        room_id,
        codes,
        inspected_on,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An inspection as stored; `results` is `[{item, ok, remarks}]`.
#[derive(Debug, Clone)]
pub struct InspectionRow {
    pub id: Uuid,
    pub room_id: Uuid,
    pub inspected_on: NaiveDate,
    pub inspected_by: Option<Uuid>,
    pub inspector: Option<String>,
    pub remarks: Option<String>,
    pub results: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_inspection(
    conn: &mut PgConnection,
    inspection: &InspectionRow,
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into inspections (id, room_id, inspected_on, inspected_by, remarks, results, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
        inspection.id,
        inspection.room_id,
        inspection.inspected_on,
        inspection.inspected_by,
        inspection.remarks,
        inspection.results,
        inspection.created_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A room's inspections, latest first.
pub async fn inspections(
    conn: &mut PgConnection,
    room_id: Uuid,
    limit: i64,
) -> Result<Vec<InspectionRow>, DbError> {
    Ok(sqlx::query_as!(
        InspectionRow,
        r#"select i.id, i.room_id, i.inspected_on, i.inspected_by, u.username as "inspector?",
                  i.remarks, i.results, i.created_at
           from inspections i left join users u on u.id = i.inspected_by
           where i.room_id = $1
           order by i.inspected_on desc, i.created_at desc
           limit $2"#,
        room_id,
        limit,
    )
    .fetch_all(conn)
    .await?)
}
