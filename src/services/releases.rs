//! Release review (R18, 解密/開放鑒定): opening records or lowering their security level
//! never happens by editing; an archivist proposes it for a list of records with a reason, a
//! director or general manager other than the proposer approves (every record changes in
//! one transaction, each audited) or rejects. Records that have reached the review age
//! (`catalogue.review_after_years` after their year) are listed for review.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::holds::holds_covering;
use super::paging::page_size;
use super::reminders::decisions::{DECIDERS, Waiting, decided};
use super::{Actor, ServiceError, ServiceResult, access, require};
use crate::db::{self, Pool};
use crate::domain::audit::AuditAction;
use crate::domain::catalogue::{OpenStatus, SecurityLevel};
use crate::domain::permissions::Capability;
use crate::domain::proposal::ProposalStatus;
use crate::domain::record::RecordStatus;
use crate::domain::reminder::ReminderKind;

/// `POST /api/v1/releases`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRelease {
    pub record_ids: Vec<Uuid>,
    /// `true`: the records become open (開放); `false`: controlled.
    #[serde(default)]
    pub open: Option<bool>,
    /// The lower security level the records get (解密).
    #[serde(default)]
    pub security_level: Option<SecurityLevel>,
    pub reason: String,
}

/// One record of a release.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReleaseItemView {
    pub record_id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    pub level_before: String,
    pub open_before: String,
    /// The record's level and open status now.
    pub security_level: String,
    pub open_status: String,
}

/// A release as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReleaseView {
    pub id: Uuid,
    pub status: ProposalStatus,
    pub open_status: Option<String>,
    pub security_level: Option<String>,
    pub reason: String,
    pub proposed_by: Uuid,
    pub proposed_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The records the caller may see.
    pub items: Vec<ReleaseItemView>,
}

/// Query of `GET /api/v1/releases`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReleaseFilter {
    pub status: Option<ProposalStatus>,
    pub limit: Option<i64>,
}

/// Query of `GET /api/v1/releases/due`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReviewDueFilter {
    /// The year to look from (default: this year).
    pub year: Option<i32>,
    pub limit: Option<i64>,
}

/// A record due for release review.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewDue {
    pub id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    pub year: i32,
    pub security_level: String,
    pub open_status: String,
}

/// Release reviews.
#[derive(Clone)]
pub struct ReleaseService {
    pool: Pool,
    timezone: chrono_tz::Tz,
    review_after_years: u32,
}

impl ReleaseService {
    pub fn new(pool: Pool, timezone: chrono_tz::Tz, review_after_years: u32) -> Self {
        Self {
            pool,
            timezone,
            review_after_years,
        }
    }

    fn today(&self) -> chrono::NaiveDate {
        Utc::now().with_timezone(&self.timezone).date_naive()
    }

    /// Proposes a release of records the proposer sees; each must be active and not held,
    /// and the change must open or lower (raising is an edit of the records office).
    pub async fn propose(&self, actor: &Actor, input: NewRelease) -> ServiceResult<ReleaseView> {
        require(actor, Capability::ProposeRelease)?;
        let reason = input.reason.trim().to_owned();
        if reason.is_empty() {
            return Err(ServiceError::Validation("reason: required".into()));
        }
        if input.record_ids.is_empty() || input.record_ids.len() > 1000 {
            return Err(ServiceError::Validation(
                "record_ids: between 1 and 1000 records".into(),
            ));
        }
        let open = input.open.map(|open| {
            if open {
                OpenStatus::Open
            } else {
                OpenStatus::Controlled
            }
        });
        if open.is_none() && input.security_level.is_none() {
            return Err(ServiceError::Validation(
                "give open and/or security_level: what the records become".into(),
            ));
        }
        let mut ids = input.record_ids.clone();
        ids.sort_unstable();
        ids.dedup();
        let mut tx = db::begin(&self.pool).await?;
        let today = self.today();
        for id in &ids {
            access::require_record(&mut tx, actor, *id, today).await?;
            let facts = db::access::record_facts(&mut tx, *id)
                .await?
                .ok_or_else(|| super::records::record_not_found(*id))?;
            if facts.status != RecordStatus::Active {
                return Err(ServiceError::Conflict(format!(
                    "record {id} is {}; only active records are released",
                    facts.status
                )));
            }
            if let Some(target) = input.security_level {
                let current = facts.security_level;
                if rank(target) > rank(current) {
                    return Err(ServiceError::Validation(format!(
                        "security_level: record {id} is {}; a release lowers a level, the \
                         records office raises one with PATCH",
                        current.as_str()
                    )));
                }
            }
        }
        let held = holds_covering(&mut tx, &ids).await?;
        if let Some((id, _)) = held.iter().find(|(_, holds)| !holds.is_empty()) {
            return Err(ServiceError::OnHold(format!(
                "record {id} is on legal hold; it is not released while held"
            )));
        }
        let id = Uuid::now_v7();
        db::releases::insert(
            &mut tx,
            &db::releases::NewRelease {
                id,
                open_status: open.map(OpenStatus::as_str),
                security_level: input.security_level.map(SecurityLevel::as_str),
                reason: &reason,
                proposed_by: actor.user_id,
            },
        )
        .await?;
        db::releases::insert_items(&mut tx, id, &ids).await?;
        Waiting {
            kind: ReminderKind::Approval,
            key: format!("release:{id}"),
            subject: format!(
                "開放/解密待審批 release awaiting review: {} records — {reason}",
                ids.len()
            ),
            due_on: today,
            record_id: None,
            details: serde_json::json!({ "release_id": id,
                                         "link": format!("/api/v1/releases/{id}") }),
        }
        .raise(&mut tx, &DECIDERS)
        .await?;
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::ReleaseProposed,
            None,
            &serde_json::json!({ "release_id": id, "records": ids, "reason": reason,
                                 "open_status": open, "security_level": input.security_level }),
        )
        .await?;
        let view = self.view_in(&mut tx, actor, id).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(view)
    }

    /// Approves a proposal: every record changes at once, each change audited in its trail.
    pub async fn approve(&self, actor: &Actor, id: Uuid) -> ServiceResult<ReleaseView> {
        self.decide(actor, id, true).await
    }

    /// Rejects a proposal; nothing changes.
    pub async fn reject(&self, actor: &Actor, id: Uuid) -> ServiceResult<ReleaseView> {
        self.decide(actor, id, false).await
    }

    async fn decide(&self, actor: &Actor, id: Uuid, approve: bool) -> ServiceResult<ReleaseView> {
        require(actor, Capability::ReviewRelease)?;
        let mut tx = db::begin(&self.pool).await?;
        let release = db::releases::find(&mut tx, id)
            .await?
            .ok_or_else(|| release_not_found(id))?;
        if release.proposed_by == actor.user_id {
            return Err(ServiceError::Forbidden(
                "a release is decided by someone other than its proposer".into(),
            ));
        }
        if release.status != ProposalStatus::Proposed {
            return Err(ServiceError::Conflict(format!(
                "release {id} is {}; only a proposed release is decided",
                release.status
            )));
        }
        if approve {
            let records = db::releases::lock_records(&mut tx, id).await?;
            let held = holds_covering(&mut tx, &records).await?;
            if let Some((record, _)) = held.iter().find(|(_, holds)| !holds.is_empty()) {
                return Err(ServiceError::OnHold(format!(
                    "record {record} was put on legal hold since the proposal; reject it"
                )));
            }
            let items = db::releases::items(&mut tx, id).await?;
            if let Some(gone) = items
                .iter()
                .find(|item| item.status != RecordStatus::Active)
            {
                return Err(ServiceError::Conflict(format!(
                    "record {} is {} since the proposal; reject it",
                    gone.record_id, gone.status
                )));
            }
            db::releases::apply(&mut tx, &release).await?;
            for item in &items {
                db::audit::append(
                    &mut tx,
                    Some(actor.user_id),
                    AuditAction::RecordReleased,
                    Some(item.record_id),
                    &serde_json::json!({
                        "release_id": id, "reason": release.reason,
                        "before": { "security_level": item.security_level, "open_status": item.open_status },
                        "after": { "security_level": release.security_level.as_deref().unwrap_or(&item.security_level),
                                   "open_status": release.open_status.as_deref().unwrap_or(&item.open_status) },
                    }),
                )
                .await?;
            }
        }
        db::releases::decide(&mut tx, id, ProposalStatus::decided(approve), actor.user_id).await?;
        decided(&mut tx, &format!("release:{id}"), Some(actor.user_id)).await?;
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            if approve {
                AuditAction::ReleaseApproved
            } else {
                AuditAction::ReleaseRejected
            },
            None,
            &serde_json::json!({ "release_id": id }),
        )
        .await?;
        let view = self.view_in(&mut tx, actor, id).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(view)
    }

    /// One release.
    pub async fn get(&self, actor: &Actor, id: Uuid) -> ServiceResult<ReleaseView> {
        require_reader(actor)?;
        let mut conn = db::acquire(&self.pool).await?;
        self.view_in(&mut conn, actor, id).await
    }

    /// Releases newest first.
    pub async fn list(
        &self,
        actor: &Actor,
        filter: ReleaseFilter,
    ) -> ServiceResult<Vec<ReleaseView>> {
        require_reader(actor)?;
        let limit = i64::from(page_size(filter.limit, 50, 500));
        let mut conn = db::acquire(&self.pool).await?;
        let rows = db::releases::list(&mut conn, filter.status, limit).await?;
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            views.push(self.view_in(&mut conn, actor, row.id).await?);
        }
        Ok(views)
    }

    /// Records of review age the caller may see, oldest first.
    pub async fn due(
        &self,
        actor: &Actor,
        filter: ReviewDueFilter,
    ) -> ServiceResult<Vec<ReviewDue>> {
        require_reader(actor)?;
        let year = filter.year.unwrap_or_else(|| self.today().year());
        let formed_by = year - i32::try_from(self.review_after_years).unwrap_or(30);
        let limit = i64::from(page_size(filter.limit, 100, 1000));
        let mut conn = db::acquire(&self.pool).await?;
        let visibility = access::standing_visibility(&mut conn, actor).await?;
        let rows = db::releases::due(&mut conn, formed_by, &visibility, limit).await?;
        Ok(rows
            .into_iter()
            .map(|row| ReviewDue {
                id: row.id,
                archival_code: row.archival_code,
                title: row.title,
                year: row.year,
                security_level: row.security_level,
                open_status: row.open_status,
            })
            .collect())
    }

    async fn view_in(
        &self,
        conn: &mut db::PgConnection,
        actor: &Actor,
        id: Uuid,
    ) -> ServiceResult<ReleaseView> {
        let row = db::releases::find(conn, id)
            .await?
            .ok_or_else(|| release_not_found(id))?;
        let items = db::releases::items(conn, id).await?;
        let ids: Vec<Uuid> = items.iter().map(|item| item.record_id).collect();
        let visibility = access::standing_visibility(conn, actor).await?;
        let visible = db::access::visible_records(conn, &ids, &visibility).await?;
        Ok(ReleaseView {
            id: row.id,
            status: row.status,
            open_status: row.open_status,
            security_level: row.security_level,
            reason: row.reason,
            proposed_by: row.proposed_by,
            proposed_at: row.proposed_at,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            items: items
                .into_iter()
                .filter(|item| visible.contains(&item.record_id))
                .map(|item| ReleaseItemView {
                    record_id: item.record_id,
                    archival_code: item.archival_code,
                    title: item.title,
                    level_before: item.level_before,
                    open_before: item.open_before,
                    security_level: item.security_level,
                    open_status: item.open_status,
                })
                .collect(),
        })
    }
}

/// Who reads releases: those who propose and those who decide.
fn require_reader(actor: &Actor) -> ServiceResult<()> {
    if actor.role.may(Capability::ProposeRelease) || actor.role.may(Capability::ReviewRelease) {
        return Ok(());
    }
    require(actor, Capability::ReviewRelease)
}

fn rank(level: SecurityLevel) -> usize {
    SecurityLevel::ALL
        .iter()
        .position(|known| *known == level)
        .unwrap_or(usize::MAX)
}

fn release_not_found(id: Uuid) -> ServiceError {
    ServiceError::NotFound(format!("release {id} not found"))
}
