//! Legal holds: placed on listed records or on a whole party's folder, released one by one.
//! A record is held while any active hold covers it; party holds are resolved at each check,
//! so records filed into the folder after the hold are covered too.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, PgConnection, Pool};
use crate::domain::audit::AuditAction;
use crate::domain::permissions::Capability;
use crate::services::require;

/// A hold to place: `POST /api/v1/holds`, with either `record_ids` or `party_id`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHold {
    pub reason: String,
    #[serde(default)]
    pub record_ids: Option<Vec<Uuid>>,
    #[serde(default)]
    pub party_id: Option<Uuid>,
}

/// A legal hold as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoldView {
    pub id: Uuid,
    pub reason: String,
    /// The records listed on the hold; absent for a hold on a party's folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_ids: Option<Vec<Uuid>>,
    /// The party whose whole folder is held; absent for a hold on listed records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// The active holds.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HoldList {
    pub items: Vec<HoldView>,
}

/// Places, lists and releases legal holds.
#[derive(Clone)]
pub struct HoldService {
    pool: Pool,
}

impl HoldService {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// Places a hold on the listed records or on a party's folder. Audited once per listed
    /// record (or once for the party).
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, actor: &Actor, input: NewHold) -> ServiceResult<HoldView> {
        require(actor, Capability::Dispose)?;
        let reason = input.reason.trim().to_owned();
        if reason.is_empty() {
            return Err(ServiceError::Validation("reason: required".into()));
        }
        let mut tx = db::begin(&self.pool).await?;
        let hold = db::holds::HoldRow {
            id: Uuid::now_v7(),
            reason,
            party_id: input.party_id,
            created_by: Some(actor.user_id),
            created_at: Utc::now(),
            released_by: None,
            released_at: None,
        };
        let record_ids = match (input.record_ids, input.party_id) {
            (Some(ids), None) => {
                let ids = existing_records(&mut tx, ids).await?;
                // a record the caller may not see is answered as a missing one
                let visibility = super::access::standing_visibility(&mut tx, actor).await?;
                let visible = db::access::visible_records(&mut tx, &ids, &visibility).await?;
                if let Some(hidden) = ids.iter().find(|id| !visible.contains(id)) {
                    return Err(ServiceError::Validation(format!(
                        "record_ids: no active record {hidden}"
                    )));
                }
                Some(ids)
            }
            (None, Some(party_id)) => {
                if super::access::folder_access(&mut tx, actor, party_id)
                    .await?
                    .is_none()
                    || !db::holds::lock_party(&mut tx, party_id).await?
                {
                    return Err(ServiceError::Validation(format!(
                        "party_id: no party {party_id}"
                    )));
                }
                None
            }
            _ => {
                return Err(ServiceError::Validation(
                    "give either record_ids or party_id".into(),
                ));
            }
        };
        db::holds::insert(&mut tx, &hold).await?;
        let details = serde_json::json!({
            "hold_id": hold.id, "reason": hold.reason,
            "record_ids": record_ids, "party_id": hold.party_id,
        });
        // one event in each held record's trail, or one of no record for a party's hold
        let subjects: Vec<Option<Uuid>> = match &record_ids {
            Some(ids) => {
                db::holds::add_records(&mut tx, hold.id, ids).await?;
                ids.iter().copied().map(Some).collect()
            }
            None => vec![None],
        };
        for record_id in subjects {
            db::audit::append(
                &mut tx,
                Some(actor.user_id),
                AuditAction::HoldCreated,
                record_id,
                &details,
            )
            .await?;
        }
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(hold_view(hold, record_ids))
    }

    /// Releases a hold. Unknown holds are 404; a hold already released is 409.
    #[tracing::instrument(skip_all, fields(hold.id = %id))]
    pub async fn release(&self, actor: &Actor, id: Uuid) -> ServiceResult<()> {
        require(actor, Capability::Dispose)?;
        let mut tx = db::begin(&self.pool).await?;
        let hold = db::holds::lock(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("hold {id} not found")))?;
        if let Some(released_at) = hold.released_at {
            return Err(ServiceError::Conflict(format!(
                "hold {id} was already released at {released_at}"
            )));
        }
        db::holds::release(&mut tx, id, actor.user_id).await?;
        let listed = db::holds::listed_records(&mut tx, &[id]).await?;
        let details =
            serde_json::json!({ "hold_id": id, "reason": hold.reason, "party_id": hold.party_id });
        if listed.is_empty() {
            db::audit::append(
                &mut tx,
                Some(actor.user_id),
                AuditAction::HoldReleased,
                None,
                &details,
            )
            .await?;
        }
        for covering in listed {
            let record_id = Some(covering.record_id);
            db::audit::append(
                &mut tx,
                Some(actor.user_id),
                AuditAction::HoldReleased,
                record_id,
                &details,
            )
            .await?;
        }
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(())
    }

    /// The holds not yet released, oldest first.
    pub async fn list(&self, actor: &Actor) -> ServiceResult<HoldList> {
        require(actor, Capability::Dispose)?;
        let mut conn = db::acquire(&self.pool).await?;
        let holds = db::holds::active(&mut conn).await?;
        let ids: Vec<Uuid> = holds.iter().map(|hold| hold.id).collect();
        let mut listed: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for covering in db::holds::listed_records(&mut conn, &ids).await? {
            listed
                .entry(covering.hold_id)
                .or_default()
                .push(covering.record_id);
        }
        // only the records and folders the caller may see are named
        let all: Vec<Uuid> = listed.values().flatten().copied().collect();
        let visibility = super::access::standing_visibility(&mut conn, actor).await?;
        let visible = db::access::visible_records(&mut conn, &all, &visibility).await?;
        let mut items = Vec::with_capacity(holds.len());
        for hold in holds {
            let records = match hold.party_id {
                Some(party) => {
                    if super::access::folder_access(&mut conn, actor, party)
                        .await?
                        .is_none()
                    {
                        continue;
                    }
                    None
                }
                None => {
                    let records: Vec<Uuid> = listed
                        .remove(&hold.id)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|id| visible.contains(id))
                        .collect();
                    if records.is_empty() {
                        continue;
                    }
                    Some(records)
                }
            };
            items.push(hold_view(hold, records));
        }
        Ok(HoldList { items })
    }
}

/// The active holds covering each of `record_ids`, by record; records that are not held are
/// absent. Party holds are resolved now, from the records' current folders. For use inside
/// the caller's transaction (appraisal, retention changes, destruction).
pub async fn holds_covering(
    conn: &mut PgConnection,
    record_ids: &[Uuid],
) -> ServiceResult<BTreeMap<Uuid, Vec<Uuid>>> {
    let mut held: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    if record_ids.is_empty() {
        return Ok(held);
    }
    for covering in db::holds::covering(conn, record_ids).await? {
        held.entry(covering.record_id)
            .or_default()
            .push(covering.hold_id);
    }
    Ok(held)
}

/// Refuses with `on_hold` when any active hold covers the record.
pub async fn ensure_not_held(
    conn: &mut PgConnection,
    record_id: Uuid,
    what: &str,
) -> ServiceResult<()> {
    let held = holds_covering(conn, &[record_id]).await?;
    match held.get(&record_id) {
        Some(holds) if !holds.is_empty() => Err(ServiceError::OnHold(format!(
            "record {record_id} is on legal hold ({}); {what}",
            holds
                .iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        _ => Ok(()),
    }
}

/// The listed ids, deduplicated, after checking that each is an active record.
async fn existing_records(conn: &mut PgConnection, mut ids: Vec<Uuid>) -> ServiceResult<Vec<Uuid>> {
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(ServiceError::Validation(
            "record_ids: list at least one record".into(),
        ));
    }
    let found = db::holds::lock_active_records(conn, &ids).await?;
    if let Some(missing) = ids.iter().find(|id| !found.contains(id)) {
        return Err(ServiceError::Validation(format!(
            "record_ids: no active record {missing}"
        )));
    }
    Ok(ids)
}

fn hold_view(hold: db::holds::HoldRow, record_ids: Option<Vec<Uuid>>) -> HoldView {
    HoldView {
        id: hold.id,
        reason: hold.reason,
        record_ids,
        party_id: hold.party_id,
        created_by: hold.created_by,
        created_at: hold.created_at,
    }
}
