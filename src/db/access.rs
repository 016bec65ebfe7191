//! What the access decision (`domain::permissions`) reads: each category's own rule, a
//! record's access facts, and the records on loan to a user. The SQL form of the decision
//! for lists is the `record_visible` / `party_visible` functions of the migrations, called
//! with [`visibility_json`].

use chrono::NaiveDate;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use super::tokens::TokenOwner;
use crate::domain::catalogue::{OpenStatus, SecurityLevel};
use crate::domain::permissions::Visibility;
use crate::domain::record::RecordStatus;

/// A category's place in the tree and the rule it sets (JSON), if any.
#[derive(Debug, Clone)]
pub struct CategoryAccessRow {
    pub id: Uuid,
    pub code: String,
    pub parent_id: Option<Uuid>,
    pub access: Option<Value>,
    pub folder_kind: Option<String>,
}

/// What decides who sees one record.
#[derive(Debug, Clone)]
pub struct RecordAccessRow {
    pub category_id: Option<Uuid>,
    /// The party's current department for a record in a party's folder, else its own.
    pub department_id: Option<Uuid>,
    pub security_level: SecurityLevel,
    pub open_status: OpenStatus,
    pub party_id: Option<Uuid>,
    pub status: RecordStatus,
}

/// Every category with its own rule.
pub async fn category_rules(conn: &mut PgConnection) -> Result<Vec<CategoryAccessRow>, DbError> {
    Ok(sqlx::query_as!(
        CategoryAccessRow,
        "select id, code, parent_id, access, folder_kind from categories order by code"
    )
    .fetch_all(conn)
    .await?)
}

/// The access facts of record `id`.
pub async fn record_facts(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<RecordAccessRow>, DbError> {
    Ok(sqlx::query_as!(
        RecordAccessRow,
        r#"select r.category_id, record_access_department(r) as department_id,
                  r.security_level as "security_level: SecurityLevel",
                  r.open_status as "open_status: OpenStatus", r.party_id,
                  r.status as "status: RecordStatus"
           from records r where r.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// Every category with its own rule (as [`category_rules`]) and the records on loan to
/// `user_id` on `today`, in one round trip: each search and list asks both, and on a busy
/// server every round trip waits its turn.
pub async fn rules_and_loans(
    conn: &mut PgConnection,
    user_id: Uuid,
    today: NaiveDate,
) -> Result<(Vec<CategoryAccessRow>, Vec<Uuid>), DbError> {
    let rows = sqlx::query!(
        r#"select c.id as "id?", c.code as "code?", c.parent_id, c.access, c.folder_kind,
                  l.loaned as "loaned!"
           from (select array(select distinct record_id from loans
                              where borrower_id = $1 and status = 'approved' and due_on >= $2
                                and (due_at is null or due_at > now())) as loaned) l
           left join categories c on true
           order by c.code"#,
        user_id,
        today
    )
    .fetch_all(conn)
    .await?;
    let loaned = rows
        .first()
        .map(|row| row.loaned.clone())
        .unwrap_or_default();
    let categories = categories_of(
        rows.into_iter()
            .map(|row| (row.id, row.code, row.parent_id, row.access, row.folder_kind)),
    );
    Ok((categories, loaned))
}

/// The categories of rows left-joined to something else: a row without one is none.
fn categories_of(
    rows: impl Iterator<
        Item = (
            Option<Uuid>,
            Option<String>,
            Option<Uuid>,
            Option<Value>,
            Option<String>,
        ),
    >,
) -> Vec<CategoryAccessRow> {
    rows.filter_map(|(id, code, parent_id, access, folder_kind)| {
        Some(CategoryAccessRow {
            id: id?,
            code: code?,
            parent_id,
            access,
            folder_kind,
        })
    })
    .collect()
}

/// The active user holding an unexpired token hashed to `token_hash`, with what
/// [`rules_and_loans`] reads for them: a search's sign-in and its access decision in one
/// round trip. `None` when no such user.
pub async fn owner_rules_and_loans(
    conn: &mut PgConnection,
    token_hash: &[u8],
    today: NaiveDate,
) -> Result<Option<(TokenOwner, Vec<CategoryAccessRow>, Vec<Uuid>)>, DbError> {
    let rows = sqlx::query!(
        r#"select o.user_id as "user_id!", o.username as "username!", o.role as "role!",
                  o.department_id, o.party_id,
                  c.id as "id?", c.code as "code?", c.parent_id, c.access, c.folder_kind,
                  l.loaned as "loaned!"
           from (select u.id as user_id, u.username, u.role, u.department_id, u.party_id
                 from auth_tokens t join users u on u.id = t.user_id
                 where t.token_hash = $1 and t.expires_at > now() and u.active) o
           cross join lateral
                (select array(select distinct record_id from loans
                              where borrower_id = o.user_id and status = 'approved'
                                and due_on >= $2 and (due_at is null or due_at > now()))
                        as loaned) l
           left join categories c on true
           order by c.code"#,
        token_hash,
        today
    )
    .fetch_all(conn)
    .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let owner = TokenOwner {
        user_id: first.user_id,
        username: first.username.clone(),
        role: first.role.clone(),
        department_id: first.department_id,
        party_id: first.party_id,
    };
    let loaned = first.loaned.clone();
    let categories = categories_of(
        rows.into_iter()
            .map(|row| (row.id, row.code, row.parent_id, row.access, row.folder_kind)),
    );
    Ok(Some((owner, categories, loaned)))
}

/// The visibility as the SQL functions read it.
pub fn visibility_json(visibility: &Visibility) -> Value {
    serde_json::to_value(visibility).unwrap_or_else(|_| serde_json::json!({ "nothing": true }))
}

/// Those of `ids` that the visibility admits (any status).
pub async fn visible_records(
    conn: &mut PgConnection,
    ids: &[Uuid],
    visibility: &Visibility,
) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar!(
        "select r.id from records r where r.id = any($1) and record_visible(r, $2)",
        ids,
        visibility_json(visibility)
    )
    .fetch_all(conn)
    .await?)
}

/// A party's kind and current department: what decides who sees its folder.
pub async fn party_facts(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<(String, Option<Uuid>)>, DbError> {
    let row = sqlx::query!("select kind, department_id from parties where id = $1", id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|row| (row.kind, row.department_id)))
}
