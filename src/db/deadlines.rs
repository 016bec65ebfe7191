//! What the reminder sweep reads to raise reminders: retention due dates, the deadlines of
//! the rules (R22) and the months branches filed in; and the deadline rules themselves.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;

/// A retention due date and how many active records fall due on it.
#[derive(Debug, Clone)]
pub struct DueGroup {
    pub due_on: NaiveDate,
    pub records: i64,
}

/// The retention due dates up to `until` of active records, with their counts.
pub async fn retention_due_dates(
    conn: &mut PgConnection,
    until: NaiveDate,
) -> Result<Vec<DueGroup>, DbError> {
    Ok(sqlx::query_as!(
        DueGroup,
        r#"select retention_due_on as "due_on!", count(*) as "records!"
           from records where status = 'active' and retention_due_on <= $1
           group by retention_due_on order by retention_due_on"#,
        until
    )
    .fetch_all(conn)
    .await?)
}

/// A deadline of a rule for one party.
#[derive(Debug, Clone)]
pub struct DeadlineRow {
    pub rule: String,
    pub kind: String,
    pub subject: String,
    pub recipient_role: String,
    pub trigger: String,
    pub party_id: Uuid,
    pub party_identifier: String,
    pub party_name: String,
    pub trigger_on: NaiveDate,
    pub due_on: NaiveDate,
}

/// The deadlines of the active rules falling on days `since..=until`: for a repeating rule
/// its latest occurrence by `until`. A rule's trigger is the party's latest event of that
/// type, `folder_created` (the party's creation day in `zone`) or `record_filed` (the day of
/// the latest filing into the folder). Repeating rules apply to active parties only; a rule
/// that stops at the sign-off raises nothing for a signed-off folder.
pub async fn deadlines(
    conn: &mut PgConnection,
    since: NaiveDate,
    until: NaiveDate,
    zone: &str,
) -> Result<Vec<DeadlineRow>, DbError> {
    Ok(sqlx::query_as!(
        DeadlineRow,
        r#"with triggered as (
               select r.code as rule, r.kind, r.subject, r.recipient_role, r.trigger,
                      r.delay, r.repeat_every, p.id as party_id,
                      p.identifier as party_identifier, p.name as party_name,
                      case when r.trigger = 'folder_created'
                           then (p.created_at at time zone $3)::date
                           when r.trigger = 'record_filed'
                           then (select max((rec.created_at at time zone $3)::date)
                                 from records rec where rec.party_id = p.id)
                           else (select max(e.date) from events e
                                 where e.party_id = p.id and e.type = r.trigger)
                      end as trigger_on
               from deadline_rules r join parties p on p.kind = r.party_kind
               where r.active and (r.repeat_every is null or p.status = 'active')
                 and not (r.stop_when = 'signed_off' and p.signed_off_at is not null))
           select t.rule as "rule!", t.kind as "kind!", t.subject as "subject!",
                  t.recipient_role as "recipient_role!", t.trigger as "trigger!",
                  t.party_id as "party_id!", t.party_identifier as "party_identifier!",
                  t.party_name as "party_name!", t.trigger_on as "trigger_on!",
                  d.due_on as "due_on!"
           from triggered t
           cross join lateral (
               select max(slot)::date as due_on
               from generate_series((t.trigger_on + t.delay)::timestamp, $2::date::timestamp,
                                    coalesce(t.repeat_every, interval '1000 years')) as slot
           ) d
           where t.trigger_on is not null and d.due_on is not null and d.due_on >= $1
           order by d.due_on, t.rule, t.party_id"#,
        since,
        until,
        zone,
    )
    .fetch_all(conn)
    .await?)
}

/// A deadline rule as stored; its periods as months and days.
#[derive(Debug, Clone)]
pub struct RuleRow {
    pub code: String,
    pub party_kind: String,
    pub trigger: String,
    pub delay_months: i32,
    pub delay_days: i32,
    pub repeat_months: Option<i32>,
    pub repeat_days: Option<i32>,
    pub kind: String,
    pub subject: String,
    pub recipient_role: String,
    pub active: bool,
    /// `signed_off`: the rule stops once the party's folder is signed off.
    pub stop_when: Option<String>,
}

/// The deadline rules, by code.
pub async fn rules(conn: &mut PgConnection) -> Result<Vec<RuleRow>, DbError> {
    Ok(sqlx::query_as!(
        RuleRow,
        r#"select code, party_kind, trigger,
                  (extract(year from delay) * 12 + extract(month from delay))::int4 as "delay_months!",
                  extract(day from delay)::int4 as "delay_days!",
                  (extract(year from repeat_every) * 12 + extract(month from repeat_every))::int4
                      as repeat_months,
                  extract(day from repeat_every)::int4 as repeat_days,
                  kind, subject, recipient_role, active, stop_when
           from deadline_rules order by code"#
    )
    .fetch_all(conn)
    .await?)
}

/// Creates the rule with `rule.code`, or with `replace` replaces the one that exists;
/// returns whether it was written.
pub async fn write_rule(
    conn: &mut PgConnection,
    rule: &RuleRow,
    replace: bool,
) -> Result<bool, DbError> {
    Ok(sqlx::query!(
        "insert into deadline_rules (code, party_kind, trigger, delay, repeat_every, kind, subject,
                                     recipient_role, active, stop_when)
         values ($1, $2, $3, make_interval(months => $4, days => $5),
                 case when $6::int4 is null then null
                      else make_interval(months => $6, days => coalesce($7, 0)) end,
                 $8, $9, $10, $11, $12)
         on conflict (code) do update
         set party_kind = excluded.party_kind, trigger = excluded.trigger, delay = excluded.delay,
             repeat_every = excluded.repeat_every, kind = excluded.kind,
             subject = excluded.subject, recipient_role = excluded.recipient_role,
             active = excluded.active, stop_when = excluded.stop_when
         where $13",
        rule.code,
        rule.party_kind,
        rule.trigger,
        rule.delay_months,
        rule.delay_days,
        rule.repeat_months,
        rule.repeat_days,
        rule.kind,
        rule.subject,
        rule.recipient_role,
        rule.active,
        rule.stop_when,
        replace,
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// What a branch filed in one month: the first filing day and how many records.
#[derive(Debug, Clone)]
pub struct BranchMonth {
    pub code: String,
    pub name: String,
    pub month: NaiveDate,
    pub first_filed: NaiveDate,
    pub records: i64,
}

/// The months since `since` (a day in `zone`) in which each branch department filed active
/// records.
pub async fn branch_months(
    conn: &mut PgConnection,
    since: NaiveDate,
    zone: &str,
) -> Result<Vec<BranchMonth>, DbError> {
    Ok(sqlx::query_as!(
        BranchMonth,
        r#"select d.code, d.name,
                  date_trunc('month', r.created_at at time zone $2)::date as "month!",
                  min((r.created_at at time zone $2)::date) as "first_filed!",
                  count(*) as "records!"
           from records r join departments d on d.id = r.department_id
           where d.branch and r.status = 'active'
             and r.created_at >= ($1::date::timestamp at time zone $2)
           group by d.code, d.name, 3
           order by d.code, 3"#,
        since,
        zone
    )
    .fetch_all(conn)
    .await?)
}
