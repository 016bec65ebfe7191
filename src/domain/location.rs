//! Where a physical record is kept, and the check of a location against the storage rooms'
//! registered places.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::validation::ValidationError;

/// Where a physical record is kept: storage room (庫房), row, cabinet, shelf, box codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cabinet: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shelf: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#box: Option<String>,
}

impl Location {
    pub fn is_empty(&self) -> bool {
        [
            &self.room,
            &self.row,
            &self.cabinet,
            &self.shelf,
            &self.r#box,
        ]
        .iter()
        .all(|part| part.as_deref().is_none_or(|text| text.trim().is_empty()))
    }

    /// Checks the location against the storage rooms: a location names its room, which must
    /// exist (`places` is `None` when no room has that code), and each cabinet, shelf or box
    /// it names must be one of the room's places of that kind (`places` as kind and code).
    /// Rows are not registered places and are taken as written.
    pub fn check_places(&self, places: Option<&[(String, String)]>) -> Result<(), ValidationError> {
        let given = |part: &Option<String>| {
            part.as_deref()
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        let Some(room) = given(&self.room) else {
            return Err(ValidationError::new(
                "location.room",
                "name the storage room (its code) the record is kept in",
            ));
        };
        let Some(places) = places else {
            return Err(ValidationError::new(
                "location.room",
                format!("no storage room has the code {room:?}; set rooms up under /rooms first"),
            ));
        };
        for (kind, part) in [
            ("cabinet", &self.cabinet),
            ("shelf", &self.shelf),
            ("box", &self.r#box),
        ] {
            let Some(code) = given(part) else { continue };
            if !places.iter().any(|(k, c)| k == kind && *c == code) {
                return Err(ValidationError::new(
                    format!("location.{kind}"),
                    format!(
                        "room {room} has no {kind} {code:?}; register it among the room's places first"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `room/row/cabinet/shelf/box`, skipping parts not given.
    pub fn display(&self) -> String {
        [
            &self.room,
            &self.row,
            &self.cabinet,
            &self.shelf,
            &self.r#box,
        ]
        .iter()
        .filter_map(|part| part.as_deref())
        .collect::<Vec<_>>()
        .join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_display_their_given_parts() {
        let location = Location {
            room: Some("K1".into()),
            cabinet: Some("03".into()),
            r#box: Some("12".into()),
            ..Location::default()
        };
        assert_eq!(location.display(), "K1/03/12");
        assert!(Location::default().is_empty());
    }

    fn places() -> Vec<(String, String)> {
        vec![("shelf".into(), "S3".into()), ("box".into(), "B1".into())]
    }

    #[test]
    fn a_location_names_a_registered_room_and_its_places() {
        let at = |room: Option<&str>, shelf: Option<&str>, r#box: Option<&str>| Location {
            room: room.map(Into::into),
            row: Some("2".into()),
            shelf: shelf.map(Into::into),
            r#box: r#box.map(Into::into),
            ..Location::default()
        };
        let places = places();
        assert!(
            at(Some("K1"), Some("S3"), Some("B1"))
                .check_places(Some(&places))
                .is_ok()
        );
        assert!(
            at(Some("K1"), None, None)
                .check_places(Some(&places))
                .is_ok()
        );
        let field = |location: Location, places: Option<&[(String, String)]>| {
            location.check_places(places).map_err(|error| error.field)
        };
        assert_eq!(
            field(at(Some("K1"), Some("S4"), None), Some(&places)),
            Err("location.shelf".into())
        );
        assert_eq!(
            field(at(Some("K1"), None, Some("S3")), Some(&places)),
            Err("location.box".into())
        );
        assert_eq!(
            field(at(Some("K9"), None, None), None),
            Err("location.room".into())
        );
        assert_eq!(
            field(at(None, Some("S3"), None), Some(&places)),
            Err("location.room".into())
        );
    }
}
