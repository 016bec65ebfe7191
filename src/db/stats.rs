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
