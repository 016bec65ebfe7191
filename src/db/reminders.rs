//! Reminders, their deliveries by e-mail and webhook, and the deadline rules of the
//! regulations.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use super::access::visibility_json;
use crate::domain::permissions::Visibility;
use crate::domain::reminder::{NewReminder, Recipient, ReminderKind, ReminderStatus};

/// A reminder as stored.
#[derive(Debug, Clone)]
pub struct ReminderRow {
    pub id: Uuid,
    pub kind: ReminderKind,
    pub subject: String,
    pub due_on: NaiveDate,
    pub status: ReminderStatus,
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

/// Raises a reminder unless one with its key exists; `Some(id)` when it is new.
pub async fn raise(
    conn: &mut PgConnection,
    reminder: &NewReminder,
) -> Result<Option<Uuid>, DbError> {
    let (role, user) = match reminder.recipient {
        Recipient::Role(role) => (Some(role.as_str()), None),
        Recipient::User(user) => (None, Some(user)),
    };
    let id = sqlx::query_scalar!(
        "insert into reminders (id, kind, subject, due_on, recipient_role, recipient_user, key,
                                record_id, room_id, party_id, details)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         on conflict (key) do nothing
         returning id",
        Uuid::now_v7(),
        reminder.kind.as_str(),
        reminder.subject,
        reminder.due_on,
        role,
        user,
        reminder.key,
        reminder.record_id,
        reminder.room_id,
        reminder.party_id,
        reminder.details,
    )
    .fetch_optional(conn)
    .await?;
    Ok(id)
}

/// Closes the open reminders of `kind` about `room_id` other than the one keyed `keep`:
/// their cause has moved on (an inspection was done, the plan changed).
pub async fn close_room_reminders(
    conn: &mut PgConnection,
    room_id: Uuid,
    kind: &str,
    keep: &str,
    by: Option<Uuid>,
) -> Result<u64, DbError> {
    let closed = sqlx::query!(
        "update reminders set status = 'done', done_at = now(), done_by = $4
         where room_id = $1 and kind = $2 and key <> $3 and status <> 'done'",
        room_id,
        kind,
        keep,
        by,
    )
    .execute(conn)
    .await?;
    Ok(closed.rows_affected())
}

/// Closes the open reminders whose key starts with `prefix`: the decision they waited
/// for was made (by `by`).
pub async fn close_keyed(
    conn: &mut PgConnection,
    prefix: &str,
    by: Option<Uuid>,
) -> Result<u64, DbError> {
    let closed = sqlx::query!(
        "update reminders set status = 'done', done_at = now(), done_by = $2
         where starts_with(key, $1) and status <> 'done'",
        prefix,
        by,
    )
    .execute(conn)
    .await?;
    Ok(closed.rows_affected())
}

/// A follow-up visit on `date` answers the party's open follow-up reminders due by then, or,
/// when none is due yet, the next one.
pub async fn close_follow_ups(
    conn: &mut PgConnection,
    party_id: Uuid,
    date: NaiveDate,
    by: Uuid,
) -> Result<u64, DbError> {
    let closed = sqlx::query!(
        "update reminders set status = 'done', done_at = now(), done_by = $3
         where id in (
             select id from reminders
             where party_id = $1 and kind = 'follow_up' and status <> 'done'
               and (due_on <= $2 or id = (select id from reminders
                                           where party_id = $1 and kind = 'follow_up'
                                             and status <> 'done'
                                           order by due_on, id limit 1)))",
        party_id,
        date,
        by,
    )
    .execute(conn)
    .await?;
    Ok(closed.rows_affected())
}

/// The party's folder was signed off: the reminders of the rules that stop then close.
pub async fn close_signed_off(
    conn: &mut PgConnection,
    party_id: Uuid,
    by: Uuid,
) -> Result<u64, DbError> {
    let closed = sqlx::query!(
        "update reminders set status = 'done', done_at = now(), done_by = $2
         where party_id = $1 and status <> 'done'
           and details->>'rule' in (select code from deadline_rules where stop_when = 'signed_off')",
        party_id,
        by,
    )
    .execute(conn)
    .await?;
    Ok(closed.rows_affected())
}

/// Filters of the reminder list; `None` means any.
#[derive(Debug, Clone)]
pub struct ReminderQuery<'a> {
    pub due_before: Option<NaiveDate>,
    pub kind: Option<&'a str>,
    pub status: Option<&'a str>,
    pub room_id: Option<Uuid>,
    /// Only reminders for this role or this user; `None` for all (admins).
    pub addressed_to: Option<(&'a str, Uuid)>,
    pub after: Option<(NaiveDate, Uuid)>,
    pub limit: i64,
    /// A reminder naming a record or a party's folder is listed only to those who see it.
    pub visibility: &'a Visibility,
}

/// Reminders by due date (earliest first), then id.
pub async fn list(
    conn: &mut PgConnection,
    query: ReminderQuery<'_>,
) -> Result<Vec<ReminderRow>, DbError> {
    let (role, user) = query.addressed_to.unzip();
    let (after_due, after_id) = query.after.unzip();
    Ok(sqlx::query_as!(
        ReminderRow,
        r#"select id, kind as "kind: ReminderKind", subject, due_on, status as "status: ReminderStatus",
                recipient_role, recipient_user, record_id,
                room_id, party_id, details, created_at, acknowledged_at, done_at
         from reminders
         where ($1::date is null or due_on < $1)
           and ($2::text is null or kind = $2)
           and (case when $3::text is null then status <> 'done' when $3 = 'all' then true
                     else status = $3 end)
           and ($4::uuid is null or room_id = $4)
           and ($5::text is null or recipient_role = $5 or recipient_user = $6)
           and ($7::date is null or (due_on, id) > ($7, $8::uuid))
           and (record_id is null or exists (
                select 1 from records r where r.id = reminders.record_id and record_visible(r, $10)))
           and (party_id is null or exists (
                select 1 from parties p where p.id = reminders.party_id and party_visible(p, $10)))
         order by due_on, id
         limit $9"#,
        query.due_before,
        query.kind,
        query.status,
        query.room_id,
        role,
        user,
        after_due,
        after_id,
        query.limit,
        visibility_json(query.visibility),
    )
    .fetch_all(conn)
    .await?)
}

/// One reminder, locked for a status change.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<ReminderRow>, DbError> {
    Ok(sqlx::query_as!(
        ReminderRow,
        r#"select id, kind as "kind: ReminderKind", subject, due_on, status as "status: ReminderStatus",
                recipient_role, recipient_user, record_id,
                room_id, party_id, details, created_at, acknowledged_at, done_at
         from reminders where id = $1 for update"#,
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// Marks a reminder acknowledged (seen) or done by `by`.
pub async fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: ReminderStatus,
    by: Uuid,
) -> Result<(), DbError> {
    sqlx::query!(
        "update reminders set status = $2,
             acknowledged_at = coalesce(acknowledged_at, now()),
             acknowledged_by = coalesce(acknowledged_by, $3),
             done_at = case when $2 = 'done' then now() end,
             done_by = case when $2 = 'done' then $3 end
         where id = $1",
        id,
        status.as_str(),
        by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims up to `limit` open reminders due by `due_by` that `channel` has not carried yet,
/// or whose earlier send certainly failed and may be tried again now: the claim row is
/// written first, so each goes out at most once per channel.
pub async fn claim_deliveries(
    conn: &mut PgConnection,
    channel: &str,
    due_by: NaiveDate,
    limit: i64,
) -> Result<Vec<ReminderRow>, DbError> {
    Ok(sqlx::query_as!(
        ReminderRow,
        r#"with claimed as (
               insert into reminder_deliveries (reminder_id, channel)
               select r.id, $1 from reminders r
               where r.status = 'open' and r.due_on <= $2
                 and not exists (select 1 from reminder_deliveries d
                                 where d.reminder_id = r.id and d.channel = $1
                                   and (d.retry_at is null or d.retry_at > now()))
               order by r.due_on, r.id
               limit $3
               on conflict (reminder_id, channel) do update
                   set retry_at = null, error = null, claimed_at = now()
                   where reminder_deliveries.retry_at <= now()
               returning reminder_id)
           select r.id, r.kind as "kind: ReminderKind", r.subject, r.due_on,
                  r.status as "status: ReminderStatus", r.recipient_role,
                  r.recipient_user, r.record_id, r.room_id, r.party_id, r.details,
                  r.created_at, r.acknowledged_at, r.done_at
           from reminders r join claimed c on c.reminder_id = r.id
           order by r.due_on, r.id"#,
        channel,
        due_by,
        limit,
    )
    .fetch_all(conn)
    .await?)
}

/// Records how a claimed delivery went.
pub async fn finish_delivery(
    conn: &mut PgConnection,
    reminder_id: Uuid,
    channel: &str,
    error: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query!(
        "update reminder_deliveries
         set sent_at = case when $3::text is null then now() end, error = $3
         where reminder_id = $1 and channel = $2",
        reminder_id,
        channel,
        error,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives a claimed delivery that certainly did not go out back, to be tried again after
/// `retry_in`.
pub async fn retry_delivery_later(
    conn: &mut PgConnection,
    reminder_id: Uuid,
    channel: &str,
    error: &str,
    retry_in: std::time::Duration,
) -> Result<(), DbError> {
    let seconds = retry_in.as_secs_f64();
    sqlx::query!(
        "update reminder_deliveries
         set retry_at = now() + make_interval(secs => $4), error = $3
         where reminder_id = $1 and channel = $2 and sent_at is null",
        reminder_id,
        channel,
        error,
        seconds,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The addresses of the active users with `role`, or of one user.
pub async fn recipient_emails(
    conn: &mut PgConnection,
    role: Option<&str>,
    user: Option<Uuid>,
) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar!(
        r#"select email as "email!" from users
           where active and email is not null and (role = $1 or id = $2)
           order by username"#,
        role,
        user,
    )
    .fetch_all(conn)
    .await?)
}
