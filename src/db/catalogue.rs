//! Set-up data of the catalogue: fonds, departments, retention policies, categories.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;

#[derive(Debug, Clone)]
pub struct FondsRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct DepartmentRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    /// A branch reports its catalogue to the parent company (R22).
    pub branch: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct RetentionRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub years: Option<i32>,
    pub trigger: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct CategoryRow {
    pub id: Uuid,
    pub code: String,
    pub name_hans: String,
    pub name_hant: String,
    pub name_en: String,
    pub parent_code: Option<String>,
    pub retention_code: Option<String>,
    pub folder_kind: Option<String>,
    pub fields: Value,
    pub checklist: Value,
    /// The category's own access rule (JSON), `None` to inherit.
    pub access: Option<Value>,
    pub created_at: DateTime<Utc>,
}

/// A category to insert or the new state of one to update.
pub struct CategoryValues<'a> {
    pub name_hans: &'a str,
    pub name_hant: &'a str,
    pub name_en: &'a str,
    pub parent_id: Option<Uuid>,
    pub default_retention_id: Option<Uuid>,
    pub folder_kind: Option<&'a str>,
    pub fields: &'a Value,
    pub checklist: &'a Value,
    pub access: Option<&'a Value>,
}

// ---- fonds ----

pub async fn insert_fonds(
    conn: &mut PgConnection,
    id: Uuid,
    code: &str,
    name: &str,
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into fonds (id, code, name) values ($1, $2, $3)",
        id,
        code,
        name
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts a fonds unless one with the code exists; true if inserted.
pub async fn insert_fonds_if_missing(
    conn: &mut PgConnection,
    code: &str,
    name: &str,
) -> Result<bool, DbError> {
    let inserted = sqlx::query!(
        "insert into fonds (id, code, name) values ($1, $2, $3) on conflict (code) do nothing",
        Uuid::now_v7(),
        code,
        name
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn list_fonds(conn: &mut PgConnection) -> Result<Vec<FondsRow>, DbError> {
    Ok(sqlx::query_as!(
        FondsRow,
        "select id, code, name, is_default, created_at from fonds order by code"
    )
    .fetch_all(conn)
    .await?)
}

pub async fn find_fonds(conn: &mut PgConnection, code: &str) -> Result<Option<FondsRow>, DbError> {
    Ok(sqlx::query_as!(
        FondsRow,
        "select id, code, name, is_default, created_at from fonds where code = $1",
        code
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn default_fonds(conn: &mut PgConnection) -> Result<Option<FondsRow>, DbError> {
    Ok(sqlx::query_as!(
        FondsRow,
        "select id, code, name, is_default, created_at from fonds where is_default"
    )
    .fetch_optional(conn)
    .await?)
}

/// Makes `code` the default fonds (and no other).
pub async fn set_default_fonds(conn: &mut PgConnection, code: &str) -> Result<(), DbError> {
    sqlx::query!(
        "update fonds set is_default = false where is_default and code <> $1",
        code
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update fonds set is_default = true, updated_at = now() where code = $1",
        code
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn rename_fonds(
    conn: &mut PgConnection,
    code: &str,
    name: &str,
) -> Result<bool, DbError> {
    let updated = sqlx::query!(
        "update fonds set name = $2, updated_at = now() where code = $1",
        code,
        name
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

pub async fn delete_fonds(conn: &mut PgConnection, code: &str) -> Result<bool, DbError> {
    let deleted = sqlx::query!("delete from fonds where code = $1", code)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(deleted == 1)
}

// ---- departments ----

pub async fn insert_department(
    conn: &mut PgConnection,
    code: &str,
    name: &str,
    branch: bool,
) -> Result<bool, DbError> {
    let inserted = sqlx::query!(
        "insert into departments (id, code, name, branch) values ($1, $2, $3, $4)
         on conflict (code) do nothing",
        Uuid::now_v7(),
        code,
        name,
        branch
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn list_departments(conn: &mut PgConnection) -> Result<Vec<DepartmentRow>, DbError> {
    Ok(sqlx::query_as!(
        DepartmentRow,
        "select id, code, name, branch, created_at from departments order by code"
    )
    .fetch_all(conn)
    .await?)
}

pub async fn find_department(
    conn: &mut PgConnection,
    code: &str,
) -> Result<Option<DepartmentRow>, DbError> {
    Ok(sqlx::query_as!(
        DepartmentRow,
        "select id, code, name, branch, created_at from departments where code = $1",
        code
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn rename_department(
    conn: &mut PgConnection,
    code: &str,
    name: &str,
) -> Result<bool, DbError> {
    let updated = sqlx::query!(
        "update departments set name = $2, updated_at = now() where code = $1",
        code,
        name
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

pub async fn delete_department(conn: &mut PgConnection, code: &str) -> Result<bool, DbError> {
    let deleted = sqlx::query!("delete from departments where code = $1", code)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(deleted == 1)
}

// ---- retention policies ----

pub async fn insert_retention(
    conn: &mut PgConnection,
    code: &str,
    name: &str,
    years: Option<i32>,
    trigger: &str,
) -> Result<bool, DbError> {
    let inserted = sqlx::query!(
        "insert into retention_policies (id, code, name, years, trigger) values ($1, $2, $3, $4, $5)
         on conflict (code) do nothing",
        Uuid::now_v7(),
        code,
        name,
        years,
        trigger
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn list_retention(conn: &mut PgConnection) -> Result<Vec<RetentionRow>, DbError> {
    Ok(sqlx::query_as!(
        RetentionRow,
        "select id, code, name, years, trigger, created_at from retention_policies order by code"
    )
    .fetch_all(conn)
    .await?)
}

pub async fn find_retention(
    conn: &mut PgConnection,
    code: &str,
) -> Result<Option<RetentionRow>, DbError> {
    Ok(sqlx::query_as!(
        RetentionRow,
        "select id, code, name, years, trigger, created_at from retention_policies where code = $1",
        code
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn update_retention(
    conn: &mut PgConnection,
    code: &str,
    name: &str,
    years: Option<i32>,
    trigger: &str,
) -> Result<bool, DbError> {
    let updated = sqlx::query!(
        "update retention_policies set name = $2, years = $3, trigger = $4, updated_at = now() where code = $1",
        code,
        name,
        years,
        trigger
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

pub async fn delete_retention(conn: &mut PgConnection, code: &str) -> Result<bool, DbError> {
    let deleted = sqlx::query!("delete from retention_policies where code = $1", code)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(deleted == 1)
}

// ---- categories ----

pub async fn insert_category(
    conn: &mut PgConnection,
    code: &str,
    values: &CategoryValues<'_>,
) -> Result<bool, DbError> {
    let inserted = sqlx::query!(
        "insert into categories
           (id, code, name_hans, name_hant, name_en, parent_id, default_retention_id, folder_kind,
            fields, checklist, access)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         on conflict (code) do nothing",
        Uuid::now_v7(),
        code,
        values.name_hans,
        values.name_hant,
        values.name_en,
        values.parent_id,
        values.default_retention_id,
        values.folder_kind,
        values.fields,
        values.checklist,
        values.access,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn update_category(
    conn: &mut PgConnection,
    code: &str,
    values: &CategoryValues<'_>,
) -> Result<bool, DbError> {
    let updated = sqlx::query!(
        "update categories set name_hans = $2, name_hant = $3, name_en = $4, parent_id = $5,
           default_retention_id = $6, folder_kind = $7, fields = $8, checklist = $9, access = $10,
           updated_at = now()
         where code = $1",
        code,
        values.name_hans,
        values.name_hant,
        values.name_en,
        values.parent_id,
        values.default_retention_id,
        values.folder_kind,
        values.fields,
        values.checklist,
        values.access,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

pub async fn list_categories(conn: &mut PgConnection) -> Result<Vec<CategoryRow>, DbError> {
    Ok(sqlx::query_as!(
        CategoryRow,
        r#"select c.id, c.code, c.name_hans, c.name_hant, c.name_en, p.code as "parent_code?",
                  r.code as "retention_code?", c.folder_kind, c.fields, c.checklist, c.access,
                  c.created_at
           from categories c
           left join categories p on p.id = c.parent_id
           left join retention_policies r on r.id = c.default_retention_id
           order by c.code"#
    )
    .fetch_all(conn)
    .await?)
}

pub async fn find_category(
    conn: &mut PgConnection,
    code: &str,
) -> Result<Option<CategoryRow>, DbError> {
    Ok(sqlx::query_as!(
        CategoryRow,
        r#"select c.id, c.code, c.name_hans, c.name_hant, c.name_en, p.code as "parent_code?",
                  r.code as "retention_code?", c.folder_kind, c.fields, c.checklist, c.access,
                  c.created_at
           from categories c
           left join categories p on p.id = c.parent_id
           left join retention_policies r on r.id = c.default_retention_id
           where c.code = $1"#,
        code
    )
    .fetch_optional(conn)
    .await?)
}

/// The category holding the folders of this kind of party, if one is designated.
pub async fn folder_category(
    conn: &mut PgConnection,
    kind: &str,
) -> Result<Option<CategoryRow>, DbError> {
    Ok(sqlx::query_as!(
        CategoryRow,
        r#"select c.id, c.code, c.name_hans, c.name_hant, c.name_en, p.code as "parent_code?",
                  r.code as "retention_code?", c.folder_kind, c.fields, c.checklist, c.access,
                  c.created_at
           from categories c
           left join categories p on p.id = c.parent_id
           left join retention_policies r on r.id = c.default_retention_id
           where c.folder_kind = $1"#,
        kind
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn delete_category(conn: &mut PgConnection, code: &str) -> Result<bool, DbError> {
    let deleted = sqlx::query!("delete from categories where code = $1", code)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(deleted == 1)
}

/// Whether the catalogue has no fonds and no categories yet (a new installation).
pub async fn is_empty(conn: &mut PgConnection) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar!(
        r#"select not exists (select 1 from fonds) and not exists (select 1 from categories) as "empty!""#
    )
    .fetch_one(conn)
    .await?)
}

/// Flags the department a branch or not.
pub async fn set_branch(conn: &mut PgConnection, code: &str, branch: bool) -> Result<(), DbError> {
    sqlx::query!(
        "update departments set branch = $2, updated_at = now() where code = $1",
        code,
        branch
    )
    .execute(conn)
    .await?;
    Ok(())
}
