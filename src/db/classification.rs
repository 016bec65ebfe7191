//! The catalogue rows a record's classification names, found in one statement at its filing:
//! the fonds, category, retention policy and department, each by its code or by its default.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;

/// What a filing asks for: each part by its code, or `None` for its default.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClassCodes<'a> {
    /// `None`: the default fonds.
    pub fonds: Option<&'a str>,
    /// `None`: the folder category of `folder_kind`, when one is given.
    pub category: Option<&'a str>,
    pub folder_kind: Option<&'a str>,
    /// `None`: the default retention policy of the category found.
    pub retention: Option<&'a str>,
    /// `None`: the department with id `department_id`, when one is given.
    pub department: Option<&'a str>,
    pub department_id: Option<Uuid>,
}

/// A category as a filing uses it.
#[derive(Debug, Clone)]
pub struct ClassCategory {
    pub id: Uuid,
    pub code: String,
    /// Its default retention policy's code.
    pub retention_code: Option<String>,
    pub fields: Value,
    pub checklist: Value,
}

/// The rows found, each `None` when nothing matched (or nothing was asked).
#[derive(Debug, Clone, Default)]
pub struct ClassRows {
    pub fonds: Option<(Uuid, String)>,
    pub category: Option<ClassCategory>,
    pub retention: Option<(Uuid, String)>,
    pub department: Option<(Uuid, String)>,
}

/// Finds the rows of `codes` in one round trip (a filing made four).
pub async fn find(conn: &mut PgConnection, codes: ClassCodes<'_>) -> Result<ClassRows, DbError> {
    let row = sqlx::query!(
        r#"select f.id as "fonds_id?", f.code as "fonds_code?",
                  c.id as "category_id?", c.code as "category_code?",
                  c.retention_code as "category_retention?", c.fields as "category_fields?",
                  c.checklist as "category_checklist?",
                  r.id as "retention_id?", r.code as "retention_code?",
                  d.id as "department_id?", d.code as "department_code?"
           from (select 1) as asked
           left join fonds f on f.code = $1 or ($1::text is null and f.is_default)
           left join (select c.id, c.code, p.code as retention_code, c.fields, c.checklist
                      from categories c
                      left join retention_policies p on p.id = c.default_retention_id
                      where c.code = $2 or ($2::text is null and c.folder_kind = $3)) c on true
           left join retention_policies r on r.code = coalesce($4, c.retention_code)
           left join departments d on d.code = $5 or ($5::text is null and d.id = $6)"#,
        codes.fonds,
        codes.category,
        codes.folder_kind,
        codes.retention,
        codes.department,
        codes.department_id,
    )
    .fetch_one(conn)
    .await?;
    let category = match (row.category_id, row.category_code) {
        (Some(id), Some(code)) => Some(ClassCategory {
            id,
            code,
            retention_code: row.category_retention,
            // never null for a category found: the columns are not null
            fields: row
                .category_fields
                .unwrap_or_else(|| Value::Array(Vec::new())),
            checklist: row
                .category_checklist
                .unwrap_or_else(|| Value::Array(Vec::new())),
        }),
        _ => None,
    };
    Ok(ClassRows {
        fonds: row.fonds_id.zip(row.fonds_code),
        category,
        retention: row.retention_id.zip(row.retention_code),
        department: row.department_id.zip(row.department_code),
    })
}
