//! Stock-takes (庫檢): what a scope held when one began, what was seen where, and its close.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use super::access::visibility_json;
use crate::domain::permissions::Visibility;

/// A stock-take as stored, with its room's and place's codes and its people's names.
#[derive(Debug, Clone)]
pub struct StocktakeRow {
    pub id: Uuid,
    pub room_id: Uuid,
    pub room_code: String,
    pub place_id: Option<Uuid>,
    pub place_code: Option<String>,
    pub started_at: DateTime<Utc>,
    pub started_by: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
    pub finished_by: Option<String>,
}

/// Begins stock-take `id` of room `room_id` (coded `room_code`), or of its place `place_id`
/// and the places inside it, with the live records kept there that `visibility` lets the
/// starter see as its expected items; returns how many.
pub async fn begin(
    conn: &mut PgConnection,
    id: Uuid,
    room_id: Uuid,
    room_code: &str,
    place_id: Option<Uuid>,
    by: Uuid,
    visibility: &Visibility,
) -> Result<u64, DbError> {
    sqlx::query!(
        "insert into stocktakes (id, room_id, place_id, started_by) values ($1, $2, $3, $4)",
        id,
        room_id,
        place_id,
        by
    )
    .execute(&mut *conn)
    .await?;
    let expected = sqlx::query!(
        r#"with recursive inside as (
               select id, kind, code from room_locations where id = $3
               union all
               select l.id, l.kind, l.code from room_locations l join inside i on l.parent_id = i.id)
           insert into stocktake_items
               (id, stocktake_id, record_id, code, expected, expected_place_id, expected_location)
           select gen_random_uuid(), $1, r.id, coalesce(r.archival_code, r.id::text), true,
                  coalesce(
                      (select l.id from room_locations l
                        where l.room_id = $2 and l.kind = 'box' and l.code = r.location->>'box'),
                      (select l.id from room_locations l
                        where l.room_id = $2 and l.kind = 'shelf' and l.code = r.location->>'shelf'),
                      (select l.id from room_locations l
                        where l.room_id = $2 and l.kind = 'cabinet'
                          and l.code = r.location->>'cabinet')),
                  r.location
           from records r
           where r.status = 'active' and r.location->>'room' = $4
             and ($3::uuid is null
                  or exists (select 1 from inside i where r.location->>i.kind = i.code))
             and record_visible(r, $5)"#,
        id,
        room_id,
        place_id,
        room_code,
        visibility_json(visibility)
    )
    .execute(conn)
    .await?;
    Ok(expected.rows_affected())
}

/// Stock-take `id`; `lock` holds it against a concurrent close until the transaction ends.
pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<StocktakeRow>, DbError> {
    if lock {
        let found = sqlx::query_scalar!("select id from stocktakes where id = $1 for update", id)
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_none() {
            return Ok(None);
        }
    }
    Ok(select(conn, Some(id), None, 1).await?.pop())
}

/// The latest stock-takes, of room `room_id` or of all rooms, newest first.
pub async fn list(
    conn: &mut PgConnection,
    room_id: Option<Uuid>,
    limit: i64,
) -> Result<Vec<StocktakeRow>, DbError> {
    select(conn, None, room_id, limit).await
}

/// Stock-takes, stock-take `id` or those of room `room_id` (`None`: any), newest first.
async fn select(
    conn: &mut PgConnection,
    id: Option<Uuid>,
    room_id: Option<Uuid>,
    limit: i64,
) -> Result<Vec<StocktakeRow>, DbError> {
    Ok(sqlx::query_as!(
        StocktakeRow,
        r#"select s.id, s.room_id, r.code as room_code, s.place_id, l.code as "place_code?",
                  s.started_at, su.username as "started_by?", s.finished_at,
                  fu.username as "finished_by?"
           from stocktakes s
           join rooms r on r.id = s.room_id
           left join room_locations l on l.id = s.place_id
           left join users su on su.id = s.started_by
           left join users fu on fu.id = s.finished_by
           where ($1::uuid is null or s.id = $1) and ($2::uuid is null or s.room_id = $2)
           order by s.started_at desc, s.id desc
           limit $3"#,
        id,
        room_id,
        limit
    )
    .fetch_all(conn)
    .await?)
}

/// One item of a stock-take, with what the reader may know of its record.
#[derive(Debug, Clone)]
pub struct ItemRow {
    pub record_id: Option<Uuid>,
    pub code: String,
    pub title: Option<String>,
    pub expected: bool,
    pub expected_place_id: Option<Uuid>,
    pub expected_location: Option<Value>,
    pub seen_place_id: Option<Uuid>,
    pub seen_place_code: Option<String>,
    pub seen_at: Option<DateTime<Utc>>,
    pub seen_by: Option<String>,
}

/// The items of stock-take `id` the reader may see (a code that named no record is shown
/// as scanned), in code order.
pub async fn items(
    conn: &mut PgConnection,
    id: Uuid,
    visibility: &Visibility,
) -> Result<Vec<ItemRow>, DbError> {
    Ok(sqlx::query_as!(
        ItemRow,
        r#"select i.record_id, i.code, r.title as "title?", i.expected, i.expected_place_id,
                  i.expected_location, i.seen_place_id, l.code as "seen_place_code?", i.seen_at,
                  u.username as "seen_by?"
           from stocktake_items i
           left join records r on r.id = i.record_id
           left join room_locations l on l.id = i.seen_place_id
           left join users u on u.id = i.seen_by
           where i.stocktake_id = $1 and (i.record_id is null or record_visible(r, $2))
           order by i.code, i.id"#,
        id,
        visibility_json(visibility)
    )
    .fetch_all(conn)
    .await?)
}

/// The live record `code` names (its archival code or its id) that `visibility` lets the
/// scanner see.
pub async fn record_by_code(
    conn: &mut PgConnection,
    code: &str,
    visibility: &Visibility,
) -> Result<Option<(Uuid, String)>, DbError> {
    let row = sqlx::query!(
        r#"select r.id, coalesce(r.archival_code, r.id::text) as "code!" from records r
           where (r.archival_code = $1 or r.id::text = lower($1)) and r.status = 'active'
             and record_visible(r, $2)
           limit 1"#,
        code,
        visibility_json(visibility)
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| (row.id, row.code)))
}

/// Notes item `record_id` (or, naming no record, the code scanned) as seen at `place_id`;
/// seen again, the later place counts.
pub async fn see(
    conn: &mut PgConnection,
    stocktake_id: Uuid,
    record_id: Option<Uuid>,
    code: &str,
    place_id: Uuid,
    by: Uuid,
) -> Result<(), DbError> {
    let id = Uuid::now_v7();
    match record_id {
        Some(record_id) => {
            sqlx::query!(
                "insert into stocktake_items
                 (id, stocktake_id, record_id, code, expected, seen_place_id, seen_at, seen_by)
             values ($1, $2, $3, $4, false, $5, now(), $6)
             on conflict (stocktake_id, record_id) where record_id is not null
             do update set seen_place_id = excluded.seen_place_id, seen_at = now(),
                           seen_by = excluded.seen_by",
                id,
                stocktake_id,
                record_id,
                code,
                place_id,
                by
            )
            .execute(conn)
            .await?
        }
        None => {
            sqlx::query!(
                "insert into stocktake_items
                 (id, stocktake_id, record_id, code, expected, seen_place_id, seen_at, seen_by)
             values ($1, $2, null, $3, false, $4, now(), $5)
             on conflict (stocktake_id, code) where record_id is null
             do update set seen_place_id = excluded.seen_place_id, seen_at = now(),
                           seen_by = excluded.seen_by",
                id,
                stocktake_id,
                code,
                place_id,
                by
            )
            .execute(conn)
            .await?
        }
    };
    Ok(())
}

/// Closes stock-take `id`; `false` when it was closed already.
pub async fn finish(conn: &mut PgConnection, id: Uuid, by: Uuid) -> Result<bool, DbError> {
    let done = sqlx::query!(
        "update stocktakes set finished_at = now(), finished_by = $2
         where id = $1 and finished_at is null",
        id,
        by
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
