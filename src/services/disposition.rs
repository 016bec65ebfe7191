//! Disposition (處置): the list of records due by a date, and appraisal (鑒定) decisions
//! that extend a record's retention, make it permanent, or find it fit for destruction.
//! Appraisals stick: later recomputation never undoes them.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::holds::{ensure_not_held, holds_covering};
use super::paging::{bad_cursor, next_cursor, page_size};
use super::records::record_not_found;
use super::{Actor, ServiceError, ServiceResult, filing};
use crate::db::disposition::{AppraisalRow, DueKey, DueQuery, DueRow};
use crate::db::{self, PgConnection, Pool};
use crate::domain::audit::AuditAction;
use crate::domain::disposition::{Decision, extended_due, is_due};
use crate::domain::permissions::Capability;
use crate::domain::record::RecordStatus;
use crate::services::require;

/// Filters of `GET /api/v1/disposition/due`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct DueFilter {
    /// Required: list records due on or before this date (`YYYY-MM-DD`), past or future.
    pub as_of: Option<String>,
    /// Category code, e.g. `WS`.
    pub category: Option<String>,
    /// Department code, e.g. `BGS`.
    pub department: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// One due record, with the rule that made it due, its holds and its latest appraisal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DueRecord {
    pub id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    pub doc_date: NaiveDate,
    pub category: Option<String>,
    pub retention: Option<String>,
    pub department: Option<String>,
    pub party_id: Option<Uuid>,
    pub retention_due_on: NaiveDate,
    /// The rule that produced `retention_due_on`.
    pub retention_reason: Option<String>,
    /// Active legal holds covering the record.
    pub holds: Vec<Uuid>,
    /// The decision in force, if the record was appraised.
    pub appraisal: Option<AppraisalSummary>,
}

/// A page of the due list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DuePage {
    pub as_of: NaiveDate,
    pub items: Vec<DueRecord>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// An appraisal decision: `POST /api/v1/disposition/appraisals`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAppraisal {
    pub record_id: Uuid,
    pub decision: Decision,
    /// Years to add; required (at least 1) for `extend`, ignored otherwise.
    #[serde(default)]
    pub years: Option<u32>,
    pub reason: String,
}

/// An appraisal as the due list shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppraisalSummary {
    pub id: Uuid,
    pub decision: Decision,
    pub years: Option<i32>,
    pub reason: String,
    pub decided_by: Option<Uuid>,
    pub decided_at: DateTime<Utc>,
}

/// A recorded appraisal and the record's due date after it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppraisalView {
    pub id: Uuid,
    pub record_id: Uuid,
    pub decision: Decision,
    pub years: Option<i32>,
    pub reason: String,
    pub decided_by: Option<Uuid>,
    pub decided_at: DateTime<Utc>,
    /// The record's due date after the decision; null when permanent.
    pub retention_due_on: Option<NaiveDate>,
    pub retention_reason: Option<String>,
}

/// The due list and appraisals.
#[derive(Clone)]
pub struct DispositionService {
    pool: Pool,
    timezone: chrono_tz::Tz,
}

impl DispositionService {
    /// `timezone` decides which day "today" is when checking that a record is due.
    pub fn new(pool: Pool, timezone: chrono_tz::Tz) -> Self {
        Self { pool, timezone }
    }

    fn today(&self) -> chrono::NaiveDate {
        Utc::now().with_timezone(&self.timezone).date_naive()
    }

    /// Active records due on or before `as_of`, by due date then archival code.
    #[tracing::instrument(skip_all)]
    pub async fn due(&self, actor: &Actor, filter: DueFilter) -> ServiceResult<DuePage> {
        require(actor, Capability::Dispose)?;
        let as_of = parse_as_of(filter.as_of.as_deref())?;
        let after = filter.cursor.as_deref().map(parse_cursor).transpose()?;
        let limit = page_size(filter.limit, 100, 1000);
        let mut conn = db::acquire(&self.pool).await?;
        let visibility = super::access::standing_visibility(&mut conn, actor).await?;
        let query = DueQuery {
            as_of,
            category: filter.category.as_deref(),
            department: filter.department.as_deref(),
            after: after.as_ref(),
            limit: i64::from(limit) + 1,
            visibility: &visibility,
        };
        let mut rows = db::disposition::due(&mut conn, query).await?;
        let next_cursor = next_cursor(&mut rows, limit, cursor_of);
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        let mut holds = holds_covering(&mut conn, &ids).await?;
        let mut appraisals: HashMap<Uuid, AppraisalSummary> = HashMap::new();
        for row in db::disposition::latest_appraisals(&mut conn, &ids).await? {
            appraisals.insert(row.record_id, appraisal_summary(row)?);
        }
        let items = rows
            .into_iter()
            .map(|row| DueRecord {
                holds: holds.remove(&row.id).unwrap_or_default(),
                appraisal: appraisals.remove(&row.id),
                id: row.id,
                archival_code: row.archival_code,
                title: row.title,
                doc_date: row.doc_date,
                category: row.category,
                retention: row.retention,
                department: row.department,
                party_id: row.party_id,
                retention_due_on: row.retention_due_on,
                retention_reason: row.retention_reason,
            })
            .collect::<Vec<DueRecord>>();
        let shown: Vec<Uuid> = items.iter().map(|item| item.id).collect();
        db::audit::append(
            &mut conn,
            Some(actor.user_id),
            AuditAction::DispositionDueListed,
            None,
            &json!({ "as_of": as_of, "shown": shown }),
        )
        .await?;
        Ok(DuePage {
            as_of,
            items,
            next_cursor,
        })
    }

    /// Records an appraisal decision and applies it to the record's due date. `destroy` needs
    /// a due record that no hold covers; `extend` and `permanent` are kept by every later
    /// recomputation. Audited as `record.appraised` with the due date before and after.
    #[tracing::instrument(skip_all, fields(record.id = %input.record_id))]
    pub async fn appraise(
        &self,
        actor: &Actor,
        input: NewAppraisal,
    ) -> ServiceResult<AppraisalView> {
        require(actor, Capability::Dispose)?;
        let reason = input.reason.trim().to_owned();
        if reason.is_empty() {
            return Err(ServiceError::Validation("reason: required".into()));
        }
        let id = input.record_id;
        let mut tx = db::begin(&self.pool).await?;
        if input.decision == Decision::Destroy {
            // before the record's lock, in the order hold placement and party events take them
            db::holds::share_party_of_record(&mut tx, id).await?;
        }
        if !db::records::lock(&mut tx, id).await? {
            return Err(record_not_found(id));
        }
        super::access::require_record(&mut tx, actor, id, self.today()).await?;
        let before = retention_of(&mut tx, id).await?;
        filing::recompute_retention(&mut tx, filing::RetentionScope::Record(id)).await?;
        let computed = retention_of(&mut tx, id).await?;
        let years = self
            .apply_decision(&mut tx, id, &input, (before.0, computed.0))
            .await?;
        filing::recompute_retention(&mut tx, filing::RetentionScope::Record(id)).await?;
        let after = retention_of(&mut tx, id).await?;
        let row = AppraisalRow {
            id: Uuid::now_v7(),
            record_id: id,
            decision: input.decision.as_str().to_owned(),
            years,
            reason,
            decided_by: Some(actor.user_id),
            decided_at: Utc::now(),
        };
        db::disposition::insert_appraisal(&mut tx, &row).await?;
        let details = json!({
            "appraisal_id": row.id, "decision": row.decision, "years": row.years, "reason": row.reason,
            "before": { "retention_due_on": before.0, "retention_reason": before.1 },
            "after": { "retention_due_on": after.0, "retention_reason": after.1 },
        });
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::RecordAppraised,
            Some(id),
            &details,
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(AppraisalView {
            id: row.id,
            record_id: id,
            decision: input.decision,
            years: row.years,
            reason: row.reason,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            retention_due_on: after.0,
            retention_reason: after.1,
        })
    }

    /// Checks and applies one decision to the locked record whose due date was `stored` and
    /// is `computed` now; returns the years to store with the appraisal.
    async fn apply_decision(
        &self,
        tx: &mut PgConnection,
        id: Uuid,
        input: &NewAppraisal,
        (stored, computed): (Option<NaiveDate>, Option<NaiveDate>),
    ) -> ServiceResult<Option<i32>> {
        match input.decision {
            Decision::Destroy => {
                ensure_not_held(tx, id, "it cannot be appraised for destruction").await?;
                let today = Utc::now().with_timezone(&self.timezone).date_naive();
                if !is_due(computed, today) {
                    return Err(ServiceError::Conflict(format!(
                        "record {id} is not due until {}; it cannot be appraised for destruction",
                        computed.map_or_else(|| "never".to_owned(), |due| due.to_string())
                    )));
                }
                Ok(None)
            }
            Decision::Extend => {
                let years = input.years.filter(|years| *years >= 1).ok_or_else(|| {
                    ServiceError::Validation("years: extend needs at least 1 year".into())
                })?;
                if stored.is_none() && computed.is_none() {
                    return Err(ServiceError::Conflict(format!(
                        "record {id} has no due date to extend (permanent, or its retention clock has not started)"
                    )));
                }
                let due_on = extended_due(stored, computed, years)?;
                db::disposition::set_min_due_on(tx, id, due_on).await?;
                let years = i32::try_from(years)
                    .map_err(|_| ServiceError::Validation(format!("years: {years} is too many")))?;
                Ok(Some(years))
            }
            Decision::Permanent => {
                db::disposition::set_permanent(tx, id).await?;
                Ok(None)
            }
        }
    }
}

/// The stored due date and reason of an active record.
async fn retention_of(
    conn: &mut PgConnection,
    id: Uuid,
) -> ServiceResult<(Option<NaiveDate>, Option<String>)> {
    let record = db::records::find(conn, id)
        .await?
        .ok_or_else(|| record_not_found(id))?;
    if record.status != RecordStatus::Active {
        return Err(ServiceError::Conflict(format!(
            "record {id} is {}; it cannot be appraised",
            record.status
        )));
    }
    Ok((record.retention_due_on, record.retention_reason))
}

fn parse_as_of(text: Option<&str>) -> ServiceResult<NaiveDate> {
    let text =
        text.ok_or_else(|| ServiceError::Validation("as_of: required, a date YYYY-MM-DD".into()))?;
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| ServiceError::Validation(format!("as_of: {text:?} is not a date YYYY-MM-DD")))
}

/// Cursors read `<due date>/<record id>/<archival code>`.
fn cursor_of(row: &DueRow) -> String {
    format!(
        "{}/{}/{}",
        row.retention_due_on,
        row.id,
        row.archival_code.as_deref().unwrap_or_default()
    )
}

fn parse_cursor(text: &str) -> ServiceResult<DueKey> {
    let invalid = bad_cursor;
    let mut parts = text.splitn(3, '/');
    let (Some(due_on), Some(id), Some(code)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    Ok(DueKey {
        due_on: due_on.parse().map_err(|_| invalid())?,
        id: id.parse().map_err(|_| invalid())?,
        code: code.to_owned(),
    })
}

fn appraisal_summary(row: AppraisalRow) -> ServiceResult<AppraisalSummary> {
    Ok(AppraisalSummary {
        decision: Decision::parse(&row.decision).ok_or_else(|| {
            ServiceError::Internal(format!(
                "appraisal {} has decision {:?}",
                row.id, row.decision
            ))
        })?,
        id: row.id,
        years: row.years,
        reason: row.reason,
        decided_by: row.decided_by,
        decided_at: row.decided_at,
    })
}
