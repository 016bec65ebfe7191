//! The paper side: what stands in a place of a storage room, and the register of movements
//! (進出庫).

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use super::access::visibility_json;
use super::rooms::LocationRow;
use crate::domain::permissions::Visibility;

/// A place of room `room_id` by its id.
pub async fn location(
    conn: &mut PgConnection,
    room_id: Uuid,
    id: Uuid,
) -> Result<Option<LocationRow>, DbError> {
    Ok(sqlx::query_as!(
        LocationRow,
        "select id, code, kind, label, parent_id, width_mm from room_locations
         where room_id = $1 and id = $2",
        room_id,
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// A place of room `room_id` by its code.
pub async fn location_by_code(
    conn: &mut PgConnection,
    room_id: Uuid,
    code: &str,
) -> Result<Option<LocationRow>, DbError> {
    Ok(sqlx::query_as!(
        LocationRow,
        "select id, code, kind, label, parent_id, width_mm from room_locations
         where room_id = $1 and code = $2",
        room_id,
        code
    )
    .fetch_optional(conn)
    .await?)
}

/// A record kept in a place, as its label and contents list show it.
#[derive(Debug, Clone)]
pub struct PlacedRecord {
    pub id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    pub doc_date: NaiveDate,
    pub carrier: String,
    pub fonds: Option<String>,
    pub category: Option<String>,
    pub retention: Option<String>,
    pub location: Option<Value>,
}

/// The live records `visibility` lets the caller see that are kept in place `place_id` of
/// the room coded `room_code`, or in a place inside it (a box on a shelf), by code.
pub async fn records_in(
    conn: &mut PgConnection,
    room_code: &str,
    place_id: Uuid,
    visibility: &Visibility,
) -> Result<Vec<PlacedRecord>, DbError> {
    Ok(sqlx::query_as!(
        PlacedRecord,
        r#"with recursive inside as (
               select id, kind, code from room_locations where id = $2
               union all
               select l.id, l.kind, l.code from room_locations l join inside i on l.parent_id = i.id)
           select r.id, r.archival_code, r.title, r.doc_date, r.carrier,
                  f.code as "fonds?", c.code as "category?", p.code as "retention?", r.location
           from records r
           left join fonds f on f.id = r.fonds_id
           left join categories c on c.id = r.category_id
           left join retention_policies p on p.id = r.retention_policy_id
           where r.status = 'active' and r.location->>'room' = $1
             and exists (select 1 from inside i where r.location->>i.kind = i.code)
             and record_visible(r, $3)
           order by r.archival_code nulls last, r.created_at"#,
        room_code,
        place_id,
        visibility_json(visibility)
    )
    .fetch_all(conn)
    .await?)
}

/// One registered movement of a physical item.
#[derive(Debug, Clone)]
pub struct MovementRow {
    pub id: Uuid,
    pub record_id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
    pub from_location: Option<Value>,
    pub to_location: Option<Value>,
    pub reason: String,
}

/// A movement to register: record `record_id` goes `to` a place (or out) for `reason`, on
/// loan `loan_id` when a loan takes it out or brings it back.
#[derive(Debug, Clone)]
pub struct Movement<'a> {
    pub id: Uuid,
    pub record_id: Uuid,
    pub actor_id: Uuid,
    pub to: Option<&'a Value>,
    pub reason: &'a str,
    pub loan_id: Option<Uuid>,
}

/// Moves the record and registers the movement from where it was; returns the location it
/// had, or `None` when there is no such live record.
pub async fn move_record(
    conn: &mut PgConnection,
    movement: &Movement<'_>,
) -> Result<Option<Option<Value>>, DbError> {
    let Some(from) = sqlx::query_scalar!(
        "select location from records where id = $1 and status = 'active' for update",
        movement.record_id
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    sqlx::query!(
        "update records set location = $2, updated_at = now() where id = $1",
        movement.record_id,
        movement.to
    )
    .execute(&mut *conn)
    .await?;
    note_movement(conn, movement, from.as_ref()).await?;
    Ok(Some(from))
}

/// Registers a movement of the record from `from` that has already happened (its location
/// was edited with the rest of its metadata).
pub async fn note_movement(
    conn: &mut PgConnection,
    movement: &Movement<'_>,
    from: Option<&Value>,
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into record_movements
             (id, record_id, actor_id, from_location, to_location, reason, loan_id)
         values ($1, $2, $3, $4, $5, $6, $7)",
        movement.id,
        movement.record_id,
        movement.actor_id,
        from,
        movement.to,
        movement.reason,
        movement.loan_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The movements of record `record_id`, oldest first.
pub async fn movements(
    conn: &mut PgConnection,
    record_id: Uuid,
) -> Result<Vec<MovementRow>, DbError> {
    Ok(sqlx::query_as!(
        MovementRow,
        r#"select m.id, m.record_id, m.at, u.username as "actor?", m.from_location, m.to_location,
                  m.reason
           from record_movements m left join users u on u.id = m.actor_id
           where m.record_id = $1 order by m.at, m.id"#,
        record_id
    )
    .fetch_all(conn)
    .await?)
}

/// A physical item lent on loan `loan_id` leaves its place: the movement out is registered
/// and the record has no place until it is back.
pub async fn lend_out(
    conn: &mut PgConnection,
    record_id: Uuid,
    actor_id: Uuid,
    loan_id: Uuid,
    reason: &str,
) -> Result<(), DbError> {
    sqlx::query!(
        "with out as (
             select id, location from records where id = $2 for update),
         moved as (
             update records r set location = null, updated_at = now()
             from out where r.id = out.id)
         insert into record_movements
             (id, record_id, actor_id, from_location, to_location, reason, loan_id)
         select $1, out.id, $3, out.location, null, $4, $5 from out",
        Uuid::now_v7(),
        record_id,
        actor_id,
        reason,
        loan_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A physical item returned from loan `loan_id` goes back to the place it left; returns that
/// place.
pub async fn bring_back(
    conn: &mut PgConnection,
    record_id: Uuid,
    actor_id: Uuid,
    loan_id: Uuid,
    reason: &str,
) -> Result<Option<Value>, DbError> {
    let left = sqlx::query_scalar!(
        "select from_location from record_movements
         where loan_id = $1 and record_id = $2 order by at, id limit 1",
        loan_id,
        record_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .flatten();
    let Some(to) = left else {
        return Ok(None);
    };
    let moved = Movement {
        id: Uuid::now_v7(),
        record_id,
        actor_id,
        to: Some(&to),
        reason,
        loan_id: Some(loan_id),
    };
    move_record(conn, &moved).await?;
    Ok(Some(to))
}
