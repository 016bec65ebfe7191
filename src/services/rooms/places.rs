//! The paper side of the rooms: places inside places (a box on a shelf), what a place holds,
//! its printed label, and the register of movements (進出庫).

use std::collections::BTreeSet;

use chrono::Datelike;
use uuid::Uuid;

use super::{RoomService, find_room};
use crate::db::{self, PgConnection};
use crate::domain::audit::AuditAction;
use crate::domain::location::Location;
use crate::domain::permissions::Capability;
use crate::print::{self, labels::PlaceLabel};
use crate::services::{Actor, ServiceError, ServiceResult, access, printed, require};

use super::types::{LocationView, MovementView, NewMovement, PlaceView, PlacedItem};

/// Checks `location` against the rooms' registered places (a room by its code, and the
/// cabinet, shelf and box it names among that room's places).
pub(crate) async fn check_location(
    conn: &mut PgConnection,
    location: &Location,
) -> ServiceResult<()> {
    let room = location.room.as_deref().unwrap_or_default().trim();
    let places = match room {
        "" => None,
        code => db::rooms::places_by_room_code(conn, code).await?,
    };
    location.check_places(places.as_deref())?;
    Ok(())
}

/// The id of the place coded `parent` in room `room_id` that a new place of `kind` stands
/// in: a box stands on a shelf or in a cabinet, a shelf in a cabinet; nothing stands in a box.
pub(super) async fn parent_of(
    conn: &mut PgConnection,
    room_id: Uuid,
    parent: &str,
    kind: &str,
) -> ServiceResult<Uuid> {
    let row = db::places::location_by_code(conn, room_id, parent)
        .await?
        .ok_or_else(|| {
            ServiceError::Validation(format!("parent: the room has no place {parent:?}"))
        })?;
    let fits = match kind {
        "box" => ["shelf", "cabinet", "other"].contains(&row.kind.as_str()),
        "shelf" => ["cabinet", "other"].contains(&row.kind.as_str()),
        _ => row.kind == "other",
    };
    if !fits {
        return Err(ServiceError::Validation(format!(
            "parent: a {kind} cannot stand in the {} {parent}",
            row.kind
        )));
    }
    Ok(row.id)
}

impl RoomService {
    /// The room, the place and the records kept in it (and in the places inside it) that
    /// the caller may see.
    async fn placed(
        &self,
        actor: &Actor,
        room_id: Uuid,
        place_id: Uuid,
    ) -> ServiceResult<(
        db::rooms::RoomRow,
        db::rooms::LocationRow,
        Vec<db::places::PlacedRecord>,
    )> {
        require(actor, Capability::KeepRooms)?;
        let mut conn = db::acquire(&self.pool).await?;
        let room = find_room(&mut conn, room_id, false).await?;
        let place = db::places::location(&mut conn, room_id, place_id)
            .await?
            .ok_or_else(|| {
                ServiceError::NotFound(format!("room {} has no place {place_id}", room.code))
            })?;
        let visibility = access::standing_visibility(&mut conn, actor).await?;
        let records = db::places::records_in(&mut conn, &room.code, place_id, &visibility).await?;
        Ok((room, place, records))
    }

    /// A place with the records kept in it (and in the places inside it) that the caller
    /// may see; a record they may not see is not listed.
    pub async fn place(
        &self,
        actor: &Actor,
        room_id: Uuid,
        place_id: Uuid,
    ) -> ServiceResult<PlaceView> {
        let (room, place, records) = self.placed(actor, room_id, place_id).await?;
        Ok(PlaceView {
            room_id,
            room_code: room.code,
            place: LocationView::from(place),
            contents: records
                .into_iter()
                .map(|row| PlacedItem {
                    record_id: row.id,
                    archival_code: row.archival_code,
                    title: row.title,
                    carrier: row.carrier,
                    location: row.location,
                })
                .collect(),
        })
    }

    /// The printed label of a place (a box's front and spine): fonds, categories, years,
    /// retention and item range of what it holds, and a QR code of its id (A4, PDF).
    pub async fn place_label(
        &self,
        actor: &Actor,
        room_id: Uuid,
        place_id: Uuid,
    ) -> ServiceResult<Vec<u8>> {
        let (room, place, records) = self.placed(actor, room_id, place_id).await?;
        let distinct = |values: Vec<Option<String>>| -> Vec<String> {
            values
                .into_iter()
                .flatten()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        };
        let years: BTreeSet<i32> = records.iter().map(|row| row.doc_date.year()).collect();
        let codes: Vec<&String> = records
            .iter()
            .filter_map(|row| row.archival_code.as_ref())
            .collect();
        let label = PlaceLabel {
            id: place.id.to_string(),
            room: room.code,
            code: place.code,
            kind: place.kind,
            label: place.label,
            fonds: distinct(records.iter().map(|row| row.fonds.clone()).collect()),
            categories: distinct(records.iter().map(|row| row.category.clone()).collect()),
            retention: distinct(records.iter().map(|row| row.retention.clone()).collect()),
            years: years
                .first()
                .zip(years.last())
                .map(|(first, last)| (*first, *last)),
            first_item: codes.first().map(|code| (*code).clone()),
            last_item: codes.last().map(|code| (*code).clone()),
            items: records.len(),
        };
        printed(move || print::labels::place_label(&label)).await
    }

    /// Registers a movement of a physical item (進出庫) and moves it: `to` is validated
    /// against the rooms' places. A record the caller may not see answers as a missing one.
    pub async fn move_record(
        &self,
        actor: &Actor,
        record_id: Uuid,
        input: NewMovement,
    ) -> ServiceResult<MovementView> {
        let reason = input.reason.trim().to_owned();
        let mut tx = db::begin(&self.pool).await?;
        if access::record_access(&mut tx, actor, record_id, self.today())
            .await?
            .is_none()
        {
            return Err(ServiceError::NotFound(format!("no record {record_id}")));
        }
        require(actor, Capability::KeepRooms)?;
        if reason.is_empty() {
            return Err(ServiceError::Validation(
                "reason: say why the item moves".into(),
            ));
        }
        let to = match &input.to {
            Some(location) if !location.is_empty() => {
                check_location(&mut tx, location).await?;
                Some(serde_json::to_value(location).map_err(|error| {
                    ServiceError::Internal(format!("a location as JSON: {error}"))
                })?)
            }
            _ => None,
        };
        let id = Uuid::now_v7();
        let movement = db::places::Movement {
            id,
            record_id,
            actor_id: actor.user_id,
            to: to.as_ref(),
            reason: &reason,
            loan_id: None,
        };
        let from = db::places::move_record(&mut tx, &movement)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no record {record_id}")))?;
        let details =
            serde_json::json!({ "movement": id, "from": from, "to": to, "reason": reason });
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::RecordMoved,
            Some(record_id),
            &details,
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(MovementView {
            id,
            record_id,
            at: chrono::Utc::now(),
            actor: Some(actor.username.clone()),
            from,
            to,
            reason,
        })
    }

    /// The register of a record's movements, oldest first.
    pub async fn movements(
        &self,
        actor: &Actor,
        record_id: Uuid,
    ) -> ServiceResult<Vec<MovementView>> {
        let mut conn = db::acquire(&self.pool).await?;
        if access::record_access(&mut conn, actor, record_id, self.today())
            .await?
            .is_none()
        {
            return Err(ServiceError::NotFound(format!("no record {record_id}")));
        }
        Ok(db::places::movements(&mut conn, record_id)
            .await?
            .into_iter()
            .map(|row| MovementView {
                id: row.id,
                record_id: row.record_id,
                at: row.at,
                actor: row.actor,
                from: row.from_location,
                to: row.to_location,
                reason: row.reason,
            })
            .collect())
    }
}

/// A location changed with the rest of the metadata is a movement too (進出庫): registered.
pub(crate) async fn note_edited_location(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    before: &crate::domain::record::RecordMetadata,
    after: &crate::domain::record::RecordMetadata,
) -> ServiceResult<()> {
    let json = |metadata: &crate::domain::record::RecordMetadata| {
        metadata
            .location
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(|error| ServiceError::Internal(format!("a location as JSON: {error}")))
    };
    let (from, to) = (json(before)?, json(after)?);
    let movement = db::places::Movement {
        id: Uuid::now_v7(),
        record_id: id,
        actor_id: actor.user_id,
        to: to.as_ref(),
        reason: "著录修改 location edited with the record",
        loan_id: None,
    };
    db::places::note_movement(conn, &movement, from.as_ref()).await?;
    Ok(())
}
