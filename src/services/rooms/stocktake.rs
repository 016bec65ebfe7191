//! Stock-takes (庫檢): begin one for a room or a place, note what is seen in each box (by
//! scanning the printed codes or ticking), close it; the report lists what was found,
//! missing, misplaced and unexpected, is kept, prints, and a finding opens a reminder.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{RoomService, find_room};
use crate::db::{self, PgConnection};
use crate::domain::audit::AuditAction;
use crate::domain::permissions::{Capability, Visibility};
use crate::domain::reminder::{NewReminder, Recipient, ReminderKind};
use crate::domain::stocktake::{Finding, FindingCounts, ItemState, PlaceTree};
use crate::domain::user::Role;
use crate::print::{self, table::Table};
use crate::services::export::Download;
use crate::services::{Actor, ServiceError, ServiceResult, access, printed, require};

/// Items one request may note as seen.
pub const MAX_SIGHTINGS: usize = 1000;

/// A stock-take to begin: `POST /api/v1/stocktakes`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStocktake {
    /// The room's id.
    pub room: Uuid,
    /// A place of the room (its id or code) to take stock of with the places inside it;
    /// omitted, the whole room.
    #[serde(default)]
    pub place: Option<String>,
}

/// Items seen in one place: `POST /api/v1/stocktakes/{id}/sightings`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Sightings {
    /// The place they were seen in: its id (the QR code of its label) or its code.
    pub place: String,
    /// Each item's archival code or record id, as scanned or ticked.
    pub items: Vec<String>,
}

/// Which stock-takes to list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StocktakeListQuery {
    /// Only this room's.
    pub room: Option<Uuid>,
}

/// How a stock-take's report is sent: `json`, or `pdf` printed on A4.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    #[default]
    Json,
    Pdf,
}

/// How to send a stock-take's report.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `json` (default) or `pdf`.
    #[serde(default)]
    pub format: ReportFormat,
}

/// One item of a stock-take and what was found of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StocktakeItem {
    /// `None` for a code that named no record the scanner may see.
    pub record_id: Option<Uuid>,
    /// The archival code (or id) of the record, or the code as scanned.
    pub code: String,
    pub title: Option<String>,
    pub finding: Finding,
    /// Where the catalogue says it is kept.
    pub expected_location: Option<Value>,
    /// The code of the place it was seen in.
    pub seen_place: Option<String>,
    pub seen_at: Option<DateTime<Utc>>,
    pub seen_by: Option<String>,
}

/// A stock-take with its report (items the reader may see).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StocktakeView {
    pub id: Uuid,
    pub room_id: Uuid,
    pub room_code: String,
    pub place_id: Option<Uuid>,
    pub place_code: Option<String>,
    pub started_at: DateTime<Utc>,
    pub started_by: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
    pub finished_by: Option<String>,
    pub counts: FindingCounts,
    pub items: Vec<StocktakeItem>,
}

/// Stock-takes, newest first (without their items).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StocktakeList {
    pub stocktakes: Vec<StocktakeView>,
}

impl RoomService {
    /// Begins a stock-take of a room or of one of its places: the records the catalogue
    /// keeps there (that the starter may see) are its expected items.
    pub async fn begin_stocktake(
        &self,
        actor: &Actor,
        input: NewStocktake,
    ) -> ServiceResult<StocktakeView> {
        require(actor, Capability::KeepRooms)?;
        let mut tx = db::begin(&self.pool).await?;
        let room = find_room(&mut tx, input.room, false).await?;
        let place = match input.place.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(place) => Some(place_in(&mut tx, room.id, &room.code, place).await?),
        };
        let visibility = access::standing_visibility(&mut tx, actor).await?;
        let id = Uuid::now_v7();
        let expected = db::stocktakes::begin(
            &mut tx,
            id,
            room.id,
            &room.code,
            place,
            actor.user_id,
            &visibility,
        )
        .await?;
        let details = serde_json::json!({
            "stocktake": id, "room": room.code, "place": place, "expected": expected
        });
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::StocktakeStarted,
            None,
            &details,
        )
        .await?;
        let view = report(&mut tx, &visibility, id).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(view)
    }

    /// Notes items as seen in a place of the stock-take's scope; seen again, the later place
    /// counts. A code naming no record the caller may see is kept as scanned (unexpected).
    pub async fn note_sightings(
        &self,
        actor: &Actor,
        id: Uuid,
        input: Sightings,
    ) -> ServiceResult<StocktakeView> {
        require(actor, Capability::KeepRooms)?;
        if input.items.len() > MAX_SIGHTINGS {
            return Err(ServiceError::Validation(format!(
                "items: at most {MAX_SIGHTINGS} a request; send the rest in another"
            )));
        }
        let mut tx = db::begin(&self.pool).await?;
        let stocktake = open_stocktake(&mut tx, id).await?;
        let place = place_in(
            &mut tx,
            stocktake.room_id,
            &stocktake.room_code,
            input.place.trim(),
        )
        .await?;
        if let Some(scope) = stocktake.place_id {
            let tree = place_tree(&mut tx, stocktake.room_id).await?;
            if !tree.is_within(place, scope) {
                return Err(ServiceError::Validation(format!(
                    "place: {} is not inside {}, the place this stock-take covers",
                    input.place.trim(),
                    stocktake.place_code.unwrap_or_default()
                )));
            }
        }
        let visibility = access::standing_visibility(&mut tx, actor).await?;
        for item in &input.items {
            let code = item.trim();
            if code.is_empty() {
                continue;
            }
            let record = db::stocktakes::record_by_code(&mut tx, code, &visibility).await?;
            let (record_id, code) = match record {
                Some((record_id, code)) => (Some(record_id), code),
                None => (None, code.to_owned()),
            };
            db::stocktakes::see(&mut tx, id, record_id, &code, place, actor.user_id).await?;
        }
        let view = report(&mut tx, &visibility, id).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(view)
    }

    /// Closes a stock-take: what was not seen is missing, the report is kept, and a finding
    /// (missing, misplaced or unexpected items) opens a reminder to the keepers.
    pub async fn finish_stocktake(&self, actor: &Actor, id: Uuid) -> ServiceResult<StocktakeView> {
        require(actor, Capability::KeepRooms)?;
        let mut tx = db::begin(&self.pool).await?;
        let stocktake = open_stocktake(&mut tx, id).await?;
        db::stocktakes::finish(&mut tx, id, actor.user_id).await?;
        let visibility = access::standing_visibility(&mut tx, actor).await?;
        let view = report(&mut tx, &visibility, id).await?;
        let counts = view.counts;
        if counts.troubles() > 0 {
            let mut reminder = NewReminder::new(
                ReminderKind::Stocktake,
                format!("stocktake:{id}"),
                format!(
                    "庫房 {} 庫檢發現：缺失 {}、錯放 {}、多出 {} · stock-take findings",
                    stocktake.room_code, counts.missing, counts.misplaced, counts.unexpected
                ),
                self.today(),
                Recipient::Role(Role::Archivist),
            );
            reminder.room_id = Some(stocktake.room_id);
            reminder.details = serde_json::json!({
                "stocktake": id, "missing": counts.missing, "misplaced": counts.misplaced,
                "unexpected": counts.unexpected
            });
            db::reminders::raise(&mut tx, &reminder).await?;
        }
        let details = serde_json::json!({ "stocktake": id, "counts": counts });
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::StocktakeFinished,
            None,
            &details,
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(view)
    }

    /// A stock-take with its report.
    pub async fn stocktake(&self, actor: &Actor, id: Uuid) -> ServiceResult<StocktakeView> {
        require(actor, Capability::KeepRooms)?;
        let mut conn = db::acquire(&self.pool).await?;
        let visibility = access::standing_visibility(&mut conn, actor).await?;
        report(&mut conn, &visibility, id).await
    }

    /// The report printed on A4: every item with its finding, troubles first.
    pub async fn stocktake_pdf(&self, actor: &Actor, id: Uuid) -> ServiceResult<Download> {
        let view = self.stocktake(actor, id).await?;
        let table = printed_report(&view);
        let pdf = printed(move || print::table::table_pdf(&table)).await?;
        let day = view.started_at.with_timezone(&self.timezone).date_naive();
        Ok(Download::whole(
            pdf,
            "application/pdf",
            format!("库检报告-{}-{}.pdf", view.room_code, day.format("%Y%m%d")),
        ))
    }

    /// The latest stock-takes, without their items.
    pub async fn stocktakes(
        &self,
        actor: &Actor,
        room: Option<Uuid>,
    ) -> ServiceResult<StocktakeList> {
        require(actor, Capability::KeepRooms)?;
        let mut conn = db::acquire(&self.pool).await?;
        let rows = db::stocktakes::list(&mut conn, room, 200).await?;
        Ok(StocktakeList {
            stocktakes: rows
                .into_iter()
                .map(|row| view(row, FindingCounts::default(), Vec::new()))
                .collect(),
        })
    }
}

/// Stock-take `id`, locked and still open.
async fn open_stocktake(
    conn: &mut PgConnection,
    id: Uuid,
) -> ServiceResult<db::stocktakes::StocktakeRow> {
    let row = db::stocktakes::get(conn, id, true)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no stock-take {id}")))?;
    if row.finished_at.is_some() {
        return Err(ServiceError::Conflict(format!(
            "stock-take {id} is finished; begin a new one"
        )));
    }
    Ok(row)
}

/// The place of room `room_id` that `place` names, by id or by code.
async fn place_in(
    conn: &mut PgConnection,
    room_id: Uuid,
    room_code: &str,
    place: &str,
) -> ServiceResult<Uuid> {
    let row = match Uuid::parse_str(place) {
        Ok(id) => db::places::location(conn, room_id, id).await?,
        Err(_) => db::places::location_by_code(conn, room_id, place).await?,
    };
    row.map(|row| row.id).ok_or_else(|| {
        ServiceError::Validation(format!("place: room {room_code} has no place {place:?}"))
    })
}

async fn place_tree(conn: &mut PgConnection, room_id: Uuid) -> ServiceResult<PlaceTree> {
    let places = db::rooms::locations(conn, room_id).await?;
    Ok(PlaceTree::new(
        places.into_iter().map(|place| (place.id, place.parent_id)),
    ))
}

/// Stock-take `id` with the items `visibility` lets the reader see and what was found of each.
async fn report(
    conn: &mut PgConnection,
    visibility: &Visibility,
    id: Uuid,
) -> ServiceResult<StocktakeView> {
    let row = db::stocktakes::get(conn, id, false)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no stock-take {id}")))?;
    let tree = place_tree(conn, row.room_id).await?;
    let finished = row.finished_at.is_some();
    let mut counts = FindingCounts::default();
    let items = db::stocktakes::items(conn, id, visibility)
        .await?
        .into_iter()
        .map(|item| {
            let finding = ItemState {
                expected: item.expected,
                expected_place: item.expected_place_id,
                seen_place: item.seen_place_id,
            }
            .finding(&tree, finished);
            counts.add(item.expected, finding);
            StocktakeItem {
                record_id: item.record_id,
                code: item.code,
                title: item.title,
                finding,
                expected_location: item.expected_location,
                seen_place: item.seen_place_code,
                seen_at: item.seen_at,
                seen_by: item.seen_by,
            }
        })
        .collect();
    Ok(view(row, counts, items))
}

fn view(
    row: db::stocktakes::StocktakeRow,
    counts: FindingCounts,
    items: Vec<StocktakeItem>,
) -> StocktakeView {
    StocktakeView {
        id: row.id,
        room_id: row.room_id,
        room_code: row.room_code,
        place_id: row.place_id,
        place_code: row.place_code,
        started_at: row.started_at,
        started_by: row.started_by,
        finished_at: row.finished_at,
        finished_by: row.finished_by,
        counts,
        items,
    }
}

fn printed_report(view: &StocktakeView) -> Table {
    let finding = |finding: Finding| match finding {
        Finding::Found => "在位",
        Finding::Pending => "未清点",
        Finding::Missing => "缺失",
        Finding::Misplaced => "错放",
        Finding::Unexpected => "多出",
    };
    let mut items: Vec<&StocktakeItem> = view.items.iter().collect();
    items.sort_by_key(|item| (item.finding == Finding::Found, item.finding.as_str()));
    let counts = view.counts;
    Table {
        title: format!("库检报告 {}", view.room_code),
        subtitle: format!(
            "范围 {} · 开始 {} {} · 结束 {} · 应在 {} 在位 {} 缺失 {} 错放 {} 多出 {}",
            view.place_code.as_deref().unwrap_or("全库房"),
            view.started_at.format("%Y-%m-%d %H:%M"),
            view.started_by.as_deref().unwrap_or_default(),
            view.finished_at
                .map(|at| at.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|| "进行中".into()),
            counts.expected,
            counts.found,
            counts.missing,
            counts.misplaced,
            counts.unexpected
        ),
        headings: ["档号", "题名", "结果", "应在位置", "实见位置"]
            .map(String::from)
            .to_vec(),
        widths: vec![3.0, 5.0, 1.2, 2.5, 1.8],
        rows: items
            .into_iter()
            .map(|item| {
                vec![
                    item.code.clone(),
                    item.title.clone().unwrap_or_default(),
                    finding(item.finding).into(),
                    item.expected_location
                        .as_ref()
                        .and_then(|value| {
                            serde_json::from_value::<crate::domain::location::Location>(
                                value.clone(),
                            )
                            .ok()
                        })
                        .map(|location| location.display())
                        .unwrap_or_default(),
                    item.seen_place.clone().unwrap_or_default(),
                ]
            })
            .collect(),
        signatures: Vec::new(),
    }
}
