//! What the search index needs from PostgreSQL: the change log after a position, the
//! indexable content of records, and the rows behind a page of hits.

use chrono::NaiveDate;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use super::access::visibility_json;
use crate::domain::permissions::Visibility;

/// One entry of the change log.
#[derive(Debug, Clone)]
pub struct ChangeRow {
    pub tx: i64,
    pub seq: i64,
    pub record_id: Uuid,
    /// Every transaction up to this one has finished: no earlier entry can still appear.
    pub settled: bool,
}

/// A record with everything the index holds of it.
#[derive(Debug, Clone)]
pub struct SourceRow {
    pub id: Uuid,
    pub archival_code: Option<String>,
    pub doc_number: Option<String>,
    pub title: String,
    pub translated_title: Option<String>,
    pub description: Option<String>,
    pub responsible: Option<String>,
    pub party_name: Option<String>,
    pub party_identifier: Option<String>,
    pub custom: Value,
    pub category: Option<String>,
    pub fonds: Option<String>,
    pub department: Option<String>,
    pub department_id: Option<Uuid>,
    pub retention: Option<String>,
    pub security_level: String,
    pub open_status: String,
    pub party_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    /// The department whose manager the record belongs to (see `record_access_department`).
    pub access_department: Option<Uuid>,
    pub year: i32,
    pub doc_date: NaiveDate,
    pub texts: Vec<String>,
    /// Where it is kept: its room's code, and `room/place` for each registered place it is
    /// in, the places around it included (the shelf of its box).
    pub places: Vec<String>,
}

/// The catalogue row behind a hit.
#[derive(Debug, Clone)]
pub struct HitRow {
    pub id: Uuid,
    pub title: String,
    pub archival_code: Option<String>,
    pub doc_date: NaiveDate,
    pub category: Option<String>,
}

/// Committed changes after (`tx`, `seq`) in log order. Entries of transactions that are
/// still running are not visible yet and may later appear behind visible ones; `settled`
/// marks the entries below the oldest running transaction, which the position may pass.
pub async fn changes_after(
    conn: &mut PgConnection,
    tx: i64,
    seq: i64,
    limit: i64,
) -> Result<Vec<ChangeRow>, DbError> {
    Ok(sqlx::query_as!(
        ChangeRow,
        r#"select (tx::text)::bigint as "tx!", seq, record_id,
                  tx < pg_snapshot_xmin(pg_current_snapshot()) as "settled!"
           from index_changes
           where (tx, seq) > ((($1::bigint)::text)::xid8, $2)
           order by tx, seq
           limit $3"#,
        tx,
        seq,
        limit
    )
    .fetch_all(conn)
    .await?)
}

/// The position a rebuild that reads in this transaction's snapshot starts from: every
/// transaction below it is visible.
pub async fn snapshot_horizon(conn: &mut PgConnection) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar!(
        r#"select (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint as "xmin!""#
    )
    .fetch_one(conn)
    .await?)
}

/// Active records among `ids`, with their extracted texts. The texts are found from the
/// record's files by their record on both sides, so that no plan scans every file: early in a
/// bulk import, with `record_files` not yet analyzed, the planner drove the join from a scan
/// of all current files once per record.
pub async fn sources(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<SourceRow>, DbError> {
    Ok(sqlx::query_as!(
        SourceRow,
        r#"select r.id, r.archival_code, r.doc_number, r.title, r.translated_title,
                  r.description, r.responsible, p.name as "party_name?",
                  p.identifier as "party_identifier?", r.custom, c.code as "category?",
                  f.code as "fonds?", d.code as "department?", r.department_id,
                  rp.code as "retention?", r.security_level, r.open_status, r.party_id,
                  r.category_id, record_access_department(r) as access_department,
                  r.year, r.doc_date,
                  array(select t.text from record_files rf join file_texts t on t.file_id = rf.id
                        where rf.record_id = r.id and rf.replaced_by is null
                          and t.record_id = r.id and t.status = 'done' and t.text is not null
                        order by rf.position) as "texts!: Vec<String>",
                  array(
                      select distinct place from (
                          select r.location->>'room' as place
                          union all
                          select (r.location->>'room') || '/' || around.code from (
                              with recursive up as (
                                  select l.id, l.code, l.parent_id
                                  from room_locations l join rooms rm on rm.id = l.room_id
                                  where rm.code = r.location->>'room'
                                    and l.kind in ('cabinet', 'shelf', 'box')
                                    and l.code = r.location->>l.kind
                                  union
                                  select l.id, l.code, l.parent_id
                                  from room_locations l join up on l.id = up.parent_id)
                              select code from up) around
                      ) named where place is not null) as "places!: Vec<String>"
           from records r
           left join parties p on p.id = r.party_id
           left join categories c on c.id = r.category_id
           left join fonds f on f.id = r.fonds_id
           left join departments d on d.id = r.department_id
           left join retention_policies rp on rp.id = r.retention_policy_id
           where r.id = any($1) and r.status = 'active'"#,
        ids
    )
    .fetch_all(conn)
    .await?)
}

/// Ids of active records after `after` in id order, for a rebuild.
pub async fn active_ids_after(
    conn: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar!(
        "select id from records where status = 'active' and ($1::uuid is null or id > $1)
         order by id limit $2",
        after,
        limit
    )
    .fetch_all(conn)
    .await?)
}

/// Active records to index, for the progress bar of a rebuild.
pub async fn count_active(conn: &mut PgConnection) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar!(r#"select count(*) as "count!" from records where status = 'active'"#)
            .fetch_one(conn)
            .await?,
    )
}

/// The rows behind hits that are still active and visible (the index may lag a change),
/// and the search recorded in the audit trail in the same statement: `details` (the search's
/// parameters and total) with `shown`, the ids of the rows returned, in the order of `ids`
/// (the ranking). One round trip, not two: on a busy server each waits its turn.
pub async fn hits_audited(
    conn: &mut PgConnection,
    ids: &[Uuid],
    visibility: &Visibility,
    actor_id: Uuid,
    details: &Value,
) -> Result<Vec<HitRow>, DbError> {
    Ok(sqlx::query_as!(
        HitRow,
        r#"with shown as (
               select r.id, r.title, r.archival_code, r.doc_date, c.code as category
               from records r left join categories c on c.id = r.category_id
               where r.id = any($1) and r.status = 'active' and record_visible(r, $2)),
           logged as (
               insert into audit_events (actor_id, action, details)
               select $3, 'search', $4::jsonb || jsonb_build_object('shown', coalesce(
                   (select jsonb_agg(id order by array_position($1, id)) from shown),
                   '[]'::jsonb)))
           select id as "id!", title as "title!", archival_code, doc_date as "doc_date!",
                  category as "category?"
           from shown"#,
        ids,
        visibility_json(visibility),
        actor_id,
        details
    )
    .fetch_all(conn)
    .await?)
}

/// Refreshes the planner's statistics of the tables a rebuild reads. Right after a large
/// import, before autovacuum has come by, the planner takes the tables for nearly empty and
/// reads every batch's texts and places by scans: at a million records that ran for hours.
/// Without the right to analyze a table, PostgreSQL warns and goes on.
pub async fn refresh_statistics(conn: &mut PgConnection) -> Result<(), DbError> {
    sqlx::query(
        "analyze records, record_files, file_texts, parties, room_locations, rooms, categories,
                 fonds, departments, retention_policies",
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes the transaction read one consistent snapshot (a rebuild's view of the archive).
pub async fn begin_snapshot(conn: &mut PgConnection) -> Result<(), DbError> {
    sqlx::query!("set transaction isolation level repeatable read, read only")
        .execute(conn)
        .await?;
    Ok(())
}

/// Registers how far the index generation `reader` has read the change log, or moves its
/// registration forward (never back); marks it seen.
pub async fn register_reader(
    conn: &mut PgConnection,
    reader: Uuid,
    tx: i64,
    seq: i64,
) -> Result<(), DbError> {
    sqlx::query!(
        r#"insert into index_readers (reader, tx, seq)
           values ($1, (($2::bigint)::text)::xid8, $3)
           on conflict (reader) do update set
               tx = case when (excluded.tx, excluded.seq) > (index_readers.tx, index_readers.seq)
                         then excluded.tx else index_readers.tx end,
               seq = case when (excluded.tx, excluded.seq) > (index_readers.tx, index_readers.seq)
                          then excluded.seq else index_readers.seq end,
               seen_at = now()"#,
        reader,
        tx,
        seq
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The highest change-log entry pruned so far, as (tx, seq); `None` when nothing was.
pub async fn pruned_horizon(conn: &mut PgConnection) -> Result<Option<(i64, i64)>, DbError> {
    Ok(
        sqlx::query!(r#"select (tx::text)::bigint as "tx!", seq from index_log_pruned"#)
            .fetch_optional(conn)
            .await?
            .map(|row| (row.tx, row.seq)),
    )
}

/// Deletes up to `limit` change-log entries that every registered reader has passed, after
/// forgetting readers not seen for `stale_days`; returns how many went. Run inside a
/// transaction: the lock on the registry makes a reader that registers meanwhile wait, then
/// see the new horizon.
pub async fn prune_changes(
    conn: &mut PgConnection,
    stale_days: i32,
    limit: i64,
) -> Result<u64, DbError> {
    sqlx::query!("lock table index_readers in exclusive mode")
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "delete from index_readers where seen_at < now() - make_interval(days => $1)",
        stale_days
    )
    .execute(&mut *conn)
    .await?;
    let last = sqlx::query!(
        r#"with low as (select tx, seq from index_readers order by tx, seq limit 1),
                doomed as (select c.seq from index_changes c, low
                           where (c.tx, c.seq) <= (low.tx, low.seq)
                           order by c.tx, c.seq limit $1),
                gone as (delete from index_changes c using doomed d where c.seq = d.seq
                         returning c.tx, c.seq)
           select (select count(*) from gone) as "count!",
                  (select (tx::text)::bigint from gone order by tx desc, seq desc limit 1) as tx,
                  (select seq from gone order by tx desc, seq desc limit 1) as seq"#,
        limit
    )
    .fetch_one(&mut *conn)
    .await?;
    if let (Some(tx), Some(seq)) = (last.tx, last.seq) {
        sqlx::query!(
            r#"insert into index_log_pruned (tx, seq) values ((($1::bigint)::text)::xid8, $2)
               on conflict (only_row) do update set
                   tx = case when (excluded.tx, excluded.seq) > (index_log_pruned.tx, index_log_pruned.seq)
                             then excluded.tx else index_log_pruned.tx end,
                   seq = case when (excluded.tx, excluded.seq) > (index_log_pruned.tx, index_log_pruned.seq)
                              then excluded.seq else index_log_pruned.seq end"#,
            tx,
            seq
        )
        .execute(conn)
        .await?;
    }
    Ok(u64::try_from(last.count).unwrap_or_default())
}
