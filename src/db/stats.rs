//! Aggregates for archive statistics: records, files, bytes and pages by category, year,
//! retention, department and carrier; parties by kind; customers by grade, region, industry;
//! of what the caller may see.

use sqlx::PgConnection;

use super::DbError;
use super::access::visibility_json;
use crate::domain::permissions::Visibility;

/// One total of active records: the grand total (`dimension` `total`, no key) or one value
/// (`key`, `None` when not set) of `category`, `year`, `retention`, `department`, `carrier`.
#[derive(Debug, Clone)]
pub struct RecordTotal {
    pub dimension: String,
    pub key: Option<String>,
    pub records: i64,
    /// Files of the records: a content stored once but filed twice counts twice.
    pub files: i64,
    pub bytes: i64,
    pub pages: i64,
}

/// Totals of active records, in one pass over them (grouping sets).
pub async fn record_totals(
    conn: &mut PgConnection,
    visibility: &Visibility,
) -> Result<Vec<RecordTotal>, DbError> {
    Ok(sqlx::query_as!(
        RecordTotal,
        r#"with active as (
               select r.year, r.carrier, r.pages, c.code as category, rp.code as retention,
                      d.code as department, coalesce(fs.files, 0) as files, coalesce(fs.bytes, 0) as bytes
               from records r
               left join categories c on c.id = r.category_id
               left join retention_policies rp on rp.id = r.retention_policy_id
               left join departments d on d.id = r.department_id
               left join (select record_id, count(*) as files, sum(size) as bytes
                          from record_files group by record_id) fs on fs.record_id = r.id
               where r.status = 'active' and record_visible(r, $1)
           )
           select case when grouping(category) = 0 then 'category'
                       when grouping(year) = 0 then 'year'
                       when grouping(retention) = 0 then 'retention'
                       when grouping(department) = 0 then 'department'
                       when grouping(carrier) = 0 then 'carrier'
                       else 'total' end as "dimension!",
                  coalesce(category, year::text, retention, department, carrier) as key,
                  count(*) as "records!",
                  coalesce(sum(files), 0)::int8 as "files!",
                  coalesce(sum(bytes), 0)::int8 as "bytes!",
                  coalesce(sum(pages), 0)::int8 as "pages!"
           from active
           group by grouping sets ((category), (year), (retention), (department), (carrier), ())
           order by 1, 2 nulls last"#,
        visibility_json(visibility)
    )
    .fetch_all(conn)
    .await?)
}

/// A count of parties: of one `kind` (`dimension` `kind`), or of customers with one `grade`,
/// `region` or `industry` (`key` `None` when not set).
#[derive(Debug, Clone)]
pub struct PartyCount {
    pub dimension: String,
    pub key: Option<String>,
    pub count: i64,
}

/// Parties by kind, and customers by grade, region and industry, whatever their status.
pub async fn party_counts(
    conn: &mut PgConnection,
    visibility: &Visibility,
) -> Result<Vec<PartyCount>, DbError> {
    Ok(sqlx::query_as!(
        PartyCount,
        r#"select 'kind' as "dimension!", kind as key, count(*) as "count!"
           from parties p where party_visible(p, $1) group by kind
           union all
           select case when grouping(grade) = 0 then 'grade'
                       when grouping(region) = 0 then 'region'
                       else 'industry' end,
                  coalesce(grade, region, industry), count(*)
           from parties p where kind = 'customer' and party_visible(p, $1)
           group by grouping sets ((grade), (region), (industry))
           order by 1, 2 nulls last"#,
        visibility_json(visibility)
    )
    .fetch_all(conn)
    .await?)
}

/// One line of the holdings ledger (基礎臺帳): the active records of one fonds, category, year
/// and carrier, and the shelf length of the boxes they stand in. A box's width is shared out
/// among the lines by how many of its records each has, so the lines sum to the boxes.
#[derive(Debug, Clone)]
pub struct LedgerRow {
    pub fonds: Option<String>,
    pub category: Option<String>,
    pub year: Option<i32>,
    pub carrier: String,
    pub items: i64,
    /// Folders (卷) the items belong to.
    pub folders: i64,
    pub shelf_mm: f64,
}

/// The ledger's lines over what the caller may see.
pub async fn ledger(
    conn: &mut PgConnection,
    visibility: &Visibility,
) -> Result<Vec<LedgerRow>, DbError> {
    Ok(sqlx::query_as!(
        LedgerRow,
        r#"with placed as (
               select f.code as fonds, c.code as category, r.year, r.carrier, r.party_id,
                      b.id as box_id, b.width_mm
               from records r
               left join fonds f on f.id = r.fonds_id
               left join categories c on c.id = r.category_id
               left join rooms ro on ro.code = r.location->>'room'
               left join room_locations b on b.room_id = ro.id and b.kind = 'box'
                                         and b.code = r.location->>'box'
               where r.status = 'active' and record_visible(r, $1)),
           boxes as (select box_id, count(*) as held from placed where box_id is not null group by box_id)
           select p.fonds, p.category, p.year, p.carrier as "carrier!", count(*) as "items!",
                  count(distinct p.party_id) as "folders!",
                  coalesce(sum(p.width_mm::float8 / b.held), 0)::float8 as "shelf_mm!"
           from placed p left join boxes b on b.box_id = p.box_id
           group by p.fonds, p.category, p.year, p.carrier
           order by p.fonds nulls last, p.category nulls last, p.year nulls last, p.carrier"#,
        visibility_json(visibility)
    )
    .fetch_all(conn)
    .await?)
}

/// Records added (filed) and removed (destroyed) in one year, in `timezone`.
#[derive(Debug, Clone)]
pub struct LedgerYear {
    pub year: i32,
    pub added: i64,
    pub removed: i64,
}

/// Additions and removals per year of what the caller may see.
pub async fn ledger_years(
    conn: &mut PgConnection,
    visibility: &Visibility,
    timezone: &str,
) -> Result<Vec<LedgerYear>, DbError> {
    Ok(sqlx::query_as!(
        LedgerYear,
        r#"select year as "year!", sum(added)::int8 as "added!", sum(removed)::int8 as "removed!"
           from (select extract(year from r.created_at at time zone $2)::int4 as year,
                        1 as added, 0 as removed
                 from records r where record_visible(r, $1)
                 union all
                 select extract(year from e.at at time zone $2)::int4, 0, 1
                 from audit_events e join records r on r.id = e.record_id
                 where e.action = 'record.destroyed' and record_visible(r, $1)) moves
           group by year order by year"#,
        visibility_json(visibility),
        timezone
    )
    .fetch_all(conn)
    .await?)
}
