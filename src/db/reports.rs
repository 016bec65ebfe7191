//! The period report (issue 19, item 3): holdings, additions, destructions and withdrawals
//! by category and year; use (利用) by purpose and department; overdue loans; storage-room
//! alerts and inspections. Dates are days in the installation's zone, `[from, to]`.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use super::access::visibility_json;
use crate::domain::permissions::Visibility;

/// Records of one category and year in one part of the report: `holdings` (active at the
/// end of the period), `added` (filed in it), `destroyed`, `withdrawn`.
#[derive(Debug, Clone)]
pub struct CategoryYearCount {
    pub part: String,
    pub category: Option<String>,
    pub year: i32,
    pub records: i64,
}

/// The record counts of the period, of records `visibility` admits.
pub async fn record_counts(
    conn: &mut PgConnection,
    visibility: &Visibility,
    from: NaiveDate,
    to: NaiveDate,
    timezone: &str,
) -> Result<Vec<CategoryYearCount>, DbError> {
    Ok(sqlx::query_as!(
        CategoryYearCount,
        r#"with bounds as (
               select ($2::date::timestamp at time zone $4) as starts,
                      (($3::date + 1)::timestamp at time zone $4) as ends
           ),
           gone as (
               select e.record_id, e.action, e.at
               from audit_events e, bounds
               where e.action in ('record.destroyed', 'record.withdrawn') and e.at < bounds.ends
           ),
           parts as (
               select 'holdings' as part, r.id from records r, bounds
               where r.created_at < bounds.ends
                 and not exists (select 1 from gone g where g.record_id = r.id)
               union all
               select 'added', r.id from records r, bounds
               where r.created_at >= bounds.starts and r.created_at < bounds.ends
               union all
               select case g.action when 'record.destroyed' then 'destroyed' else 'withdrawn' end,
                      g.record_id
               from gone g, bounds where g.at >= bounds.starts
           )
           select p.part as "part!", c.code as "category?", r.year, count(*) as "records!"
           from parts p join records r on r.id = p.id
           left join categories c on c.id = r.category_id
           where record_visible(r, $1)
           group by p.part, c.code, r.year
           order by p.part, c.code nulls last, r.year"#,
        visibility_json(visibility),
        from,
        to,
        timezone
    )
    .fetch_all(conn)
    .await?)
}

/// Use (利用) of one purpose or department: loans that were granted (卷次: each loan is one
/// record lent) and readers (人次: a borrower on one day).
#[derive(Debug, Clone)]
pub struct UseCount {
    /// `purpose` or `department`.
    pub dimension: String,
    pub key: Option<String>,
    pub loans: i64,
    pub readers: i64,
}

/// Loans requested in the period and granted (approved, returned), of visible records, by
/// purpose and by the borrower's department (an outside borrower's organisation), with the
/// totals (`dimension` `total`).
pub async fn use_counts(
    conn: &mut PgConnection,
    visibility: &Visibility,
    from: NaiveDate,
    to: NaiveDate,
    timezone: &str,
) -> Result<Vec<UseCount>, DbError> {
    Ok(sqlx::query_as!(
        UseCount,
        r#"with used as (
               select l.purpose,
                      coalesce(d.code, '外单位 ' || o.organisation) as department,
                      coalesce(l.borrower_id, l.outside_borrower_id)::text || '/' ||
                          ((l.requested_at at time zone $4)::date)::text as visit
               from loans l
               join records r on r.id = l.record_id
               left join users u on u.id = l.borrower_id
               left join departments d on d.id = u.department_id
               left join outside_borrowers o on o.id = l.outside_borrower_id
               where l.status in ('approved', 'returned')
                 and (l.requested_at at time zone $4)::date between $2 and $3
                 and record_visible(r, $1)
           )
           select case when grouping(purpose) = 0 then 'purpose'
                       when grouping(department) = 0 then 'department'
                       else 'total' end as "dimension!",
                  coalesce(purpose, department) as key,
                  count(*) as "loans!", count(distinct visit) as "readers!"
           from used
           group by grouping sets ((purpose), (department), ())
           order by 1, 3 desc, 2"#,
        visibility_json(visibility),
        from,
        to,
        timezone
    )
    .fetch_all(conn)
    .await?)
}

/// A loan that was due in the period and came back late or not at all.
#[derive(Debug, Clone)]
pub struct OverdueRow {
    pub id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    pub borrower: String,
    pub due_on: NaiveDate,
    pub returned_at: Option<DateTime<Utc>>,
}

pub async fn overdue(
    conn: &mut PgConnection,
    visibility: &Visibility,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
    timezone: &str,
) -> Result<Vec<OverdueRow>, DbError> {
    Ok(sqlx::query_as!(
        OverdueRow,
        r#"select l.id, r.archival_code, r.title,
                  coalesce(u.username, o.name || '（' || o.organisation || '）') as "borrower!",
                  l.due_on as "due_on!", l.returned_at
           from loans l
           join records r on r.id = l.record_id
           left join users u on u.id = l.borrower_id
           left join outside_borrowers o on o.id = l.outside_borrower_id
           where l.due_on between $2 and $3
             and ((l.status = 'approved' and l.due_on < $4)
                  or (l.status = 'returned' and (l.returned_at at time zone $5)::date > l.due_on))
             and record_visible(r, $1)
           order by l.due_on, l.id"#,
        visibility_json(visibility),
        from,
        to,
        today,
        timezone
    )
    .fetch_all(conn)
    .await?)
}

/// A storage room's alerts raised and inspections done in the period.
#[derive(Debug, Clone)]
pub struct RoomCount {
    pub code: String,
    pub name: String,
    pub alerts: i64,
    pub inspections: i64,
}

pub async fn room_counts(
    conn: &mut PgConnection,
    from: NaiveDate,
    to: NaiveDate,
    timezone: &str,
) -> Result<Vec<RoomCount>, DbError> {
    Ok(sqlx::query_as!(
        RoomCount,
        r#"select rm.code, rm.name,
                  (select count(*) from reminders a
                   where a.room_id = rm.id and a.kind = 'alert'
                     and (a.created_at at time zone $3)::date between $1 and $2) as "alerts!",
                  (select count(*) from inspections i
                   where i.room_id = rm.id and i.inspected_on between $1 and $2) as "inspections!"
           from rooms rm order by rm.code"#,
        from,
        to,
        timezone
    )
    .fetch_all(conn)
    .await?)
}
