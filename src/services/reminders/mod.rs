//! The one reminders engine (R19–R22): everything with a due date, for a role or a user,
//! acknowledged or done in the app and delivered once per channel by e-mail and webhook.
//! Reminders are raised where their cause arises (a reading, an inspection, a room) and by
//! the scheduled sweep (`sweep`); `delivery` sends those that fell due.

pub(crate) mod decisions;
mod delivery;
pub(crate) mod rules;
mod sweep;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use rules::{RuleInput, RuleList, RuleView};
pub use sweep::SweepReport;

use super::paging::bad_cursor;
use super::{Actor, ServiceError, ServiceResult};
use crate::config::ReminderSettings;
use crate::db::{self, Pool};
use crate::domain::audit::AuditAction;
use crate::domain::reminder::{Recipient, ReminderKind, ReminderStatus, is_addressed_to};
use crate::domain::user::Role;

/// Filters of `GET /api/v1/reminders`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReminderFilter {
    /// Only reminders due before this day.
    pub due_before: Option<NaiveDate>,
    /// `inspection`, `missed_reading`, `alert`, `retention`, `deadline`, `follow_up`,
    /// `review`, `loan`.
    pub kind: Option<String>,
    /// `open`, `acknowledged`, `done` or `all`; default: not done.
    pub status: Option<String>,
    /// Only the reminders about one storage room.
    pub room_id: Option<Uuid>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
    /// The `x-next-cursor` header of the previous page.
    pub cursor: Option<String>,
}

/// A reminder as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReminderView {
    pub id: Uuid,
    pub kind: ReminderKind,
    pub subject: String,
    pub due_on: NaiveDate,
    pub status: ReminderStatus,
    /// Due before today and not done.
    pub overdue: bool,
    pub recipient_role: Option<String>,
    pub recipient_user: Option<Uuid>,
    pub record_id: Option<Uuid>,
    pub room_id: Option<Uuid>,
    pub party_id: Option<Uuid>,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
}

/// One page of reminders and the cursor of the next.
#[derive(Debug, Clone)]
pub struct ReminderPage {
    pub items: Vec<ReminderView>,
    pub next_cursor: Option<String>,
}

/// Lists reminders, marks them seen or done, sweeps for new ones and delivers them.
#[derive(Clone)]
pub struct ReminderService {
    pool: Pool,
    timezone: chrono_tz::Tz,
    settings: ReminderSettings,
    http: reqwest::Client,
    mailer: Option<delivery::Mailer>,
}

impl ReminderService {
    pub fn new(pool: Pool, timezone: chrono_tz::Tz, settings: ReminderSettings) -> Self {
        Self {
            pool,
            timezone,
            mailer: delivery::Mailer::from_settings(&settings),
            settings,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
        }
    }

    /// Today in the installation's time zone.
    pub fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.timezone).date_naive()
    }

    /// The reminders addressed to the actor (all of them for admins), earliest due first.
    pub async fn list(&self, actor: &Actor, filter: ReminderFilter) -> ServiceResult<ReminderPage> {
        let kind = match filter.kind.as_deref() {
            Some(kind) => Some(ReminderKind::parse(kind).ok_or_else(|| {
                ServiceError::Validation(format!("kind: no reminder kind {kind:?}"))
            })?),
            None => None,
        };
        let status = match filter.status.as_deref() {
            None => None,
            Some("all") => Some("all"),
            Some(status) => Some(
                ReminderStatus::parse(status)
                    .ok_or_else(|| {
                        ServiceError::Validation(format!(
                            "status: one of open, acknowledged, done, all (not {status:?})"
                        ))
                    })?
                    .as_str(),
            ),
        };
        let limit = filter.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(ServiceError::Validation("limit: between 1 and 1000".into()));
        }
        let after = filter.cursor.as_deref().map(parse_cursor).transpose()?;
        let addressed_to =
            (actor.role != Role::Admin).then_some((actor.role.as_str(), actor.user_id));
        let mut conn = db::acquire(&self.pool).await?;
        let visibility =
            crate::services::access::visibility(&mut conn, actor, self.today()).await?;
        let rows = db::reminders::list(
            &mut conn,
            db::reminders::ReminderQuery {
                visibility: &visibility,
                due_before: filter.due_before,
                kind: kind.map(ReminderKind::as_str),
                status,
                room_id: filter.room_id,
                addressed_to,
                after,
                limit: limit + 1,
            },
        )
        .await?;
        let more = rows.len() as i64 > limit;
        let today = self.today();
        let items: Vec<ReminderView> = rows
            .into_iter()
            .take(limit as usize)
            .map(|row| reminder_view(row, today))
            .collect();
        let next_cursor = more
            .then(|| {
                items
                    .last()
                    .map(|last| format!("{}_{}", last.due_on, last.id))
            })
            .flatten();
        Ok(ReminderPage { items, next_cursor })
    }

    /// Marks a reminder seen: it stays in the list until done.
    pub async fn acknowledge(&self, actor: &Actor, id: Uuid) -> ServiceResult<ReminderView> {
        self.set_status(actor, id, ReminderStatus::Acknowledged)
            .await
    }

    /// Marks a reminder done.
    pub async fn complete(&self, actor: &Actor, id: Uuid) -> ServiceResult<ReminderView> {
        self.set_status(actor, id, ReminderStatus::Done).await
    }

    async fn set_status(
        &self,
        actor: &Actor,
        id: Uuid,
        status: ReminderStatus,
    ) -> ServiceResult<ReminderView> {
        let mut tx = db::begin(&self.pool).await?;
        let row = db::reminders::lock(&mut tx, id)
            .await?
            .filter(|row| is_addressed_to(recipient(row), actor.user_id, actor.role))
            .ok_or_else(|| ServiceError::NotFound(format!("no reminder {id}")))?;
        if row.status == ReminderStatus::Done {
            return Err(ServiceError::Conflict(format!(
                "reminder {id} is already done"
            )));
        }
        // an inspection is done when it is recorded, with its findings (issue 19)
        if status == ReminderStatus::Done && row.kind == ReminderKind::Inspection {
            let room = row
                .room_id
                .map_or_else(|| "{room}".to_owned(), |room| room.to_string());
            return Err(ServiceError::Conflict(format!(
                "an inspection reminder is done by recording the inspection: \
                 POST /api/v1/rooms/{room}/inspections"
            )));
        }
        db::reminders::set_status(&mut tx, id, status, actor.user_id).await?;
        let details = serde_json::json!({"reminder_id": id, "kind": row.kind, "status": status});
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::ReminderStatus,
            row.record_id,
            &details,
        )
        .await?;
        let row = db::reminders::lock(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no reminder {id}")))?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(reminder_view(row, self.today()))
    }
}

fn recipient(row: &db::reminders::ReminderRow) -> Recipient {
    match (
        row.recipient_user,
        row.recipient_role
            .as_deref()
            .and_then(|role| Role::parse(role).ok()),
    ) {
        (Some(user), _) => Recipient::User(user),
        (None, Some(role)) => Recipient::Role(role),
        // A reminder for a role this version does not know reaches admins only.
        (None, None) => Recipient::Role(Role::Admin),
    }
}

fn parse_cursor(cursor: &str) -> ServiceResult<(NaiveDate, Uuid)> {
    let invalid = bad_cursor;
    let (due_on, id) = cursor.split_once('_').ok_or_else(invalid)?;
    Ok((
        due_on.parse().map_err(|_| invalid())?,
        id.parse().map_err(|_| invalid())?,
    ))
}

fn reminder_view(row: db::reminders::ReminderRow, today: NaiveDate) -> ReminderView {
    ReminderView {
        overdue: row.due_on < today && row.status != ReminderStatus::Done,
        id: row.id,
        kind: row.kind,
        subject: row.subject,
        due_on: row.due_on,
        status: row.status,
        recipient_role: row.recipient_role,
        recipient_user: row.recipient_user,
        record_id: row.record_id,
        room_id: row.room_id,
        party_id: row.party_id,
        details: row.details,
        created_at: row.created_at,
        acknowledged_at: row.acknowledged_at,
        done_at: row.done_at,
    }
}
