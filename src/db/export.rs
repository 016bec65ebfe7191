//! The lines of catalogue exports, streamed row by row from PostgreSQL so that any number of
//! records is exported in constant memory. Only active (not destroyed) records the caller
//! may see appear, and only the folders they may see.

use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use sqlx::PgConnection;

use super::DbError;
use super::access::visibility_json;
use crate::domain::export::{CatalogueFilter, FolderEntry, FolderItemEntry, ItemEntry};
use crate::domain::permissions::Visibility;

/// The item catalogue (歸檔文件目錄) in archival-code order (bytewise, so that every server
/// collation gives the same order); records without a code follow, oldest first.
pub fn items<'a>(
    conn: &'a mut PgConnection,
    filter: &'a CatalogueFilter,
    visibility: &Visibility,
) -> BoxStream<'a, Result<ItemEntry, DbError>> {
    sqlx::query_as!(
        ItemEntry,
        r#"with recursive wanted_categories (id) as (
               select id from categories where code = $1
               union
               select c.id from categories c join wanted_categories w on c.parent_id = w.id
           ), in_place (id, kind, code) as (
               select l.id, l.kind, l.code from room_locations l join rooms rm on rm.id = l.room_id
               where rm.code = $8 and l.code = $9
               union
               select l.id, l.kind, l.code from room_locations l join in_place i on l.parent_id = i.id
           )
           select r.archival_code, r.doc_number, r.responsible, r.title, r.doc_date, r.security_level,
                  r.pages, r.description as remarks
           from records r
           left join fonds f on f.id = r.fonds_id
           left join retention_policies rp on rp.id = r.retention_policy_id
           left join departments d on d.id = r.department_id
           where r.status = 'active'
             and ($1::text is null or r.category_id in (select id from wanted_categories))
             and ($2::int4 is null or r.year = $2)
             and ($3::text is null or d.code = $3)
             and ($4::uuid is null or r.party_id = $4)
             and ($5::text is null or f.code = $5)
             and ($6::text is null or rp.code = $6)
             and record_visible(r, $7)
             and ($8::text is null or r.location->>'room' = $8)
             and ($9::text is null
                  or exists (select 1 from in_place i where r.location->>i.kind = i.code))
             and ($10::timestamptz is null or r.created_at >= $10)
             and ($11::timestamptz is null or r.created_at < $11)
           order by r.archival_code collate "C" nulls last, r.created_at, r.id"#,
        filter.category.as_deref(),
        filter.year,
        filter.department.as_deref(),
        filter.party,
        filter.fonds.as_deref(),
        filter.retention.as_deref(),
        visibility_json(visibility),
        filter.room.as_deref(),
        filter.place.as_deref(),
        filter.filed_since,
        filter.filed_before,
    )
    .fetch(conn)
    .map_err(DbError::from)
    .boxed()
}

/// The folder catalogue (案卷目錄): one line per party, ordered by kind and identifier. A
/// folder holds the party's records in its kind's folder category and the sub-categories of
/// that (training records, filed elsewhere, are not in it), as `GET /parties/{id}` shows.
pub fn folders<'a>(
    conn: &'a mut PgConnection,
    filter: &'a CatalogueFilter,
    visibility: &Visibility,
) -> BoxStream<'a, Result<FolderEntry, DbError>> {
    sqlx::query_as!(
        FolderEntry,
        r#"with recursive folder_categories (id, kind) as (
               select id, folder_kind from categories where folder_kind is not null
               union
               select c.id, f.kind from categories c join folder_categories f on c.parent_id = f.id
           ), wanted_categories (id) as (
               select id from categories where code = $1
               union
               select c.id from categories c join wanted_categories w on c.parent_id = w.id
           ), in_place (id, kind, code) as (
               select l.id, l.kind, l.code from room_locations l join rooms rm on rm.id = l.room_id
               where rm.code = $9 and l.code = $10
               union
               select l.id, l.kind, l.code from room_locations l join in_place i on l.parent_id = i.id
           )
           select p.identifier, p.kind, p.name, p.status, folder.first_date, folder.last_date,
                  folder.items as "items!", folder.pages as "pages!", folder.retention as "retention!"
           from parties p
           left join departments pd on pd.id = p.department_id
           cross join lateral (
               select min(r.doc_date) as first_date, max(r.doc_date) as last_date, count(*) as items,
                      coalesce(sum(r.pages), 0)::int8 as pages,
                      coalesce(array_agg(distinct rp.code order by rp.code)
                               filter (where rp.code is not null), '{}') as retention
               from records r
               join folder_categories fc on fc.id = r.category_id and fc.kind = p.kind
               left join fonds f on f.id = r.fonds_id
               left join retention_policies rp on rp.id = r.retention_policy_id
               where r.party_id = p.id and r.status = 'active'
                 and ($1::text is null or r.category_id in (select id from wanted_categories))
                 and ($2::int4 is null or r.year = $2)
                 and ($5::text is null or f.code = $5)
                 and ($6::text is null or rp.code = $6)
                 and record_visible(r, $8)
                 and ($9::text is null or r.location->>'room' = $9)
                 and ($10::text is null
                      or exists (select 1 from in_place i where r.location->>i.kind = i.code))
           ) folder
           where ($3::text is null or pd.code = $3)
             and ($4::uuid is null or p.id = $4)
             and (not $7 or folder.items > 0)
             and party_visible(p, $8)
           order by p.kind, p.identifier, p.id"#,
        filter.category.as_deref(),
        filter.year,
        filter.department.as_deref(),
        filter.party,
        filter.fonds.as_deref(),
        filter.retention.as_deref(),
        filter.selects_records(),
        visibility_json(visibility),
        filter.room.as_deref(),
        filter.place.as_deref(),
    )
    .fetch(conn)
    .map_err(DbError::from)
    .boxed()
}

/// Every folder's item list (卷內文件目錄): folder by folder in the order of [`folders`],
/// each in document-date order, numbered from 1 within its folder.
pub fn folder_items<'a>(
    conn: &'a mut PgConnection,
    filter: &'a CatalogueFilter,
    visibility: &Visibility,
) -> BoxStream<'a, Result<FolderItemEntry, DbError>> {
    sqlx::query_as!(
        FolderItemEntry,
        r#"with recursive folder_categories (id, kind) as (
               select id, folder_kind from categories where folder_kind is not null
               union
               select c.id, f.kind from categories c join folder_categories f on c.parent_id = f.id
           ), wanted_categories (id) as (
               select id from categories where code = $1
               union
               select c.id from categories c join wanted_categories w on c.parent_id = w.id
           ), in_place (id, kind, code) as (
               select l.id, l.kind, l.code from room_locations l join rooms rm on rm.id = l.room_id
               where rm.code = $8 and l.code = $9
               union
               select l.id, l.kind, l.code from room_locations l join in_place i on l.parent_id = i.id
           )
           select p.identifier as folder,
                  row_number() over (partition by p.id order by r.doc_date, r.id) as "number!",
                  r.doc_number, r.responsible, r.title, r.doc_date, r.pages, r.description as remarks
           from parties p
           join records r on r.party_id = p.id and r.status = 'active'
           join folder_categories fc on fc.id = r.category_id and fc.kind = p.kind
           left join departments pd on pd.id = p.department_id
           left join fonds f on f.id = r.fonds_id
           left join retention_policies rp on rp.id = r.retention_policy_id
           where ($1::text is null or r.category_id in (select id from wanted_categories))
             and ($2::int4 is null or r.year = $2)
             and ($3::text is null or pd.code = $3)
             and ($4::uuid is null or p.id = $4)
             and ($5::text is null or f.code = $5)
             and ($6::text is null or rp.code = $6)
             and party_visible(p, $7) and record_visible(r, $7)
             and ($8::text is null or r.location->>'room' = $8)
             and ($9::text is null
                  or exists (select 1 from in_place i where r.location->>i.kind = i.code))
           order by p.kind, p.identifier, p.id, r.doc_date, r.id"#,
        filter.category.as_deref(),
        filter.year,
        filter.department.as_deref(),
        filter.party,
        filter.fonds.as_deref(),
        filter.retention.as_deref(),
        visibility_json(visibility),
        filter.room.as_deref(),
        filter.place.as_deref(),
    )
    .fetch(conn)
    .map_err(DbError::from)
    .boxed()
}
