//! Loans (借閱): requests, decisions and returns, and the loans that open a record to its
//! borrower.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;
use super::access::visibility_json;
use crate::domain::loan::LoanStatus;
use crate::domain::permissions::Visibility;

/// A loan as stored, with the names clients see beside the ids.
#[derive(Debug, Clone)]
pub struct LoanRow {
    pub id: Uuid,
    pub record_id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    /// The user who borrows, or the registered outside borrower.
    pub borrower_id: Option<Uuid>,
    pub outside_borrower_id: Option<Uuid>,
    /// The username, or the outside borrower's name and organisation.
    pub borrower: String,
    pub purpose: String,
    pub days: i32,
    pub hours: Option<i32>,
    pub physical: bool,
    pub reading_room: bool,
    pub copy_allowed: bool,
    pub status: LoanStatus,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub due_on: Option<NaiveDate>,
    /// The time a loan in hours is due back.
    pub due_at: Option<DateTime<Utc>>,
    pub returned_to: Option<Uuid>,
    pub returned_at: Option<DateTime<Utc>>,
}

/// A new loan request.
#[derive(Debug, Clone)]
pub struct NewLoan {
    pub id: Uuid,
    pub record_id: Uuid,
    pub borrower_id: Option<Uuid>,
    pub outside_borrower_id: Option<Uuid>,
    pub purpose: String,
    pub days: i32,
    pub hours: Option<i32>,
    pub physical: bool,
    pub reading_room: bool,
    pub copy_allowed: bool,
}

pub async fn insert(conn: &mut PgConnection, loan: &NewLoan) -> Result<(), DbError> {
    sqlx::query!(
        "insert into loans (id, record_id, borrower_id, outside_borrower_id, purpose, days,
                            hours, physical, reading_room, copy_allowed)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        loan.id,
        loan.record_id,
        loan.borrower_id,
        loan.outside_borrower_id,
        loan.purpose,
        loan.days,
        loan.hours,
        loan.physical,
        loan.reading_room,
        loan.copy_allowed,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks the loan until the transaction ends; false when there is none.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<bool, DbError> {
    let found = sqlx::query_scalar!("select id from loans where id = $1 for update", id)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// The loan.
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<LoanRow>, DbError> {
    let row = sqlx::query_as!(
        LoanRow,
        r#"select l.id, l.record_id, r.archival_code, r.title, l.borrower_id,
                  l.outside_borrower_id,
                  coalesce(u.username, o.name || '（' || o.organisation || '）') as "borrower!",
                  l.purpose, l.days, l.hours, l.physical, l.reading_room, l.copy_allowed,
                  l.status as "status: LoanStatus",
                  l.requested_at, l.decided_by, l.decided_at, l.due_on, l.due_at, l.returned_to,
                  l.returned_at
           from loans l join records r on r.id = l.record_id
           left join users u on u.id = l.borrower_id
           left join outside_borrowers o on o.id = l.outside_borrower_id
           where l.id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row)
}

/// Loans newest first, of one borrower, record or status when given, below the cursor id.
pub async fn list(
    conn: &mut PgConnection,
    borrower_id: Option<Uuid>,
    record_id: Option<Uuid>,
    status: Option<LoanStatus>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<LoanRow>, DbError> {
    let rows = sqlx::query_as!(
        LoanRow,
        r#"select l.id, l.record_id, r.archival_code, r.title, l.borrower_id,
                  l.outside_borrower_id,
                  coalesce(u.username, o.name || '（' || o.organisation || '）') as "borrower!",
                  l.purpose, l.days, l.hours, l.physical, l.reading_room, l.copy_allowed,
                  l.status as "status: LoanStatus",
                  l.requested_at, l.decided_by, l.decided_at, l.due_on, l.due_at, l.returned_to,
                  l.returned_at
           from loans l join records r on r.id = l.record_id
           left join users u on u.id = l.borrower_id
           left join outside_borrowers o on o.id = l.outside_borrower_id
           where ($1::uuid is null or l.borrower_id = $1)
             and ($2::uuid is null or l.record_id = $2)
             and ($3::text is null or l.status = $3)
             and ($4::uuid is null or l.id < $4)
           order by l.id desc
           limit $5"#,
        borrower_id,
        record_id,
        status.map(LoanStatus::as_str),
        before,
        limit,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// Whether the borrower (a user or an outside borrower) already has an open (requested or
/// approved) loan of the record.
pub async fn has_open(
    conn: &mut PgConnection,
    record_id: Uuid,
    borrower_id: Option<Uuid>,
    outside_borrower_id: Option<Uuid>,
) -> Result<bool, DbError> {
    let open = sqlx::query_scalar!(
        r#"select exists (select 1 from loans where record_id = $1
                          and (borrower_id = $2 or outside_borrower_id = $3)
                          and status in ('requested', 'approved')) as "open!""#,
        record_id,
        borrower_id,
        outside_borrower_id,
    )
    .fetch_one(conn)
    .await?;
    Ok(open)
}

/// Records a decision: `approved` with its due date and whether copies are allowed, or
/// `rejected`.
pub async fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    status: LoanStatus,
    decided_by: Uuid,
    due: (Option<NaiveDate>, Option<DateTime<Utc>>),
    copy_allowed: bool,
) -> Result<(), DbError> {
    sqlx::query!(
        "update loans set status = $2, decided_by = $3, decided_at = now(), due_on = $4,
                due_at = $5, copy_allowed = $6
         where id = $1",
        id,
        status.as_str(),
        decided_by,
        due.0,
        due.1,
        copy_allowed,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the loan returned, received by `returned_to`.
pub async fn set_returned(
    conn: &mut PgConnection,
    id: Uuid,
    returned_to: Uuid,
) -> Result<(), DbError> {
    sqlx::query!(
        "update loans set status = 'returned', returned_to = $2, returned_at = now() where id = $1",
        id,
        returned_to,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The loan through which `borrower_id` may see the record on `today`: approved and not
/// past its due date; an electronic one before a physical one, one that permits copies
/// first.
pub async fn active_for(
    conn: &mut PgConnection,
    borrower_id: Uuid,
    record_id: Uuid,
    today: NaiveDate,
) -> Result<Option<ActiveLoan>, DbError> {
    Ok(sqlx::query_as!(
        ActiveLoan,
        "select id, copy_allowed, physical, reading_room from loans
         where borrower_id = $1 and record_id = $2 and status = 'approved' and due_on >= $3
           and (due_at is null or due_at > now())
         order by physical, reading_room, copy_allowed desc, due_on desc limit 1",
        borrower_id,
        record_id,
        today,
    )
    .fetch_optional(conn)
    .await?)
}

/// A running loan of one record to one borrower.
#[derive(Debug, Clone, Copy)]
pub struct ActiveLoan {
    pub id: Uuid,
    pub copy_allowed: bool,
    pub physical: bool,
    pub reading_room: bool,
}

/// Approved loans whose due date has passed by `today`, not yet returned.
pub async fn overdue(conn: &mut PgConnection, today: NaiveDate) -> Result<Vec<LoanRow>, DbError> {
    let rows = sqlx::query_as!(
        LoanRow,
        r#"select l.id, l.record_id, r.archival_code, r.title, l.borrower_id,
                  l.outside_borrower_id,
                  coalesce(u.username, o.name || '（' || o.organisation || '）') as "borrower!",
                  l.purpose, l.days, l.hours, l.physical, l.reading_room, l.copy_allowed,
                  l.status as "status: LoanStatus",
                  l.requested_at, l.decided_by, l.decided_at, l.due_on, l.due_at, l.returned_to,
                  l.returned_at
           from loans l join records r on r.id = l.record_id
           left join users u on u.id = l.borrower_id
           left join outside_borrowers o on o.id = l.outside_borrower_id
           where l.status = 'approved' and (l.due_on < $1 or l.due_at < now())
           order by l.due_on, l.id"#,
        today,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// Closes the open reminders raised for a loan (due and overdue), once it is returned.
pub async fn close_reminders(
    conn: &mut PgConnection,
    loan_id: Uuid,
    done_by: Uuid,
) -> Result<(), DbError> {
    sqlx::query!(
        "update reminders set status = 'done', done_by = $2, done_at = now()
         where kind = 'loan' and details->>'loan_id' = $1::text and status <> 'done'",
        loan_id.to_string(),
        done_by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Those of `record_ids` whose physical item is out on an approved loan: (record, loan).
pub async fn physical_out(
    conn: &mut PgConnection,
    record_ids: &[Uuid],
) -> Result<Vec<(Uuid, Uuid)>, DbError> {
    let rows = sqlx::query!(
        "select record_id, id from loans
         where record_id = any($1) and physical and status = 'approved'",
        record_ids,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.record_id, row.id))
        .collect())
}

/// Approved loans not yet returned whose borrower is the user linked to party `party_id`:
/// what a leaver still has to return (R14).
pub async fn open_of_party(conn: &mut PgConnection, party_id: Uuid) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar!(
        "select l.id from loans l join users u on u.id = l.borrower_id
         where u.party_id = $1 and l.status = 'approved' order by l.requested_at",
        party_id
    )
    .fetch_all(conn)
    .await?)
}

/// A line of the lending register (借閱登記簿).
#[derive(Debug, Clone)]
pub struct RegisterRow {
    pub requested_at: DateTime<Utc>,
    pub borrower: String,
    pub archival_code: Option<String>,
    pub title: String,
    pub purpose: String,
    pub physical: bool,
    pub reading_room: bool,
    pub days: i32,
    pub hours: Option<i32>,
    pub status: LoanStatus,
    pub approver: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub returned_at: Option<DateTime<Utc>>,
}

/// The loans requested in `[from, to)` of records `visibility` lets the reader see, oldest
/// first.
pub async fn register(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    visibility: &Visibility,
) -> Result<Vec<RegisterRow>, DbError> {
    Ok(sqlx::query_as!(
        RegisterRow,
        r#"select l.requested_at,
                  coalesce(u.username, o.name || '（' || o.organisation || '）') as "borrower!",
                  r.archival_code, r.title, l.purpose, l.physical, l.reading_room, l.days, l.hours,
                  l.status as "status: LoanStatus", d.username as "approver?", l.due_on,
                  l.returned_at
           from loans l
           join records r on r.id = l.record_id
           left join users u on u.id = l.borrower_id
           left join outside_borrowers o on o.id = l.outside_borrower_id
           left join users d on d.id = l.decided_by
           where l.requested_at >= $1 and l.requested_at < $2 and record_visible(r, $3)
           order by l.requested_at, l.id"#,
        from,
        to,
        visibility_json(visibility)
    )
    .fetch_all(conn)
    .await?)
}

/// An outside borrower as stored.
#[derive(Debug, Clone)]
pub struct OutsideBorrowerRow {
    pub id: Uuid,
    pub name: String,
    pub organisation: String,
    pub id_document: String,
    pub letter: String,
    pub letter_record_id: Option<Uuid>,
    pub note: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_outside(
    conn: &mut PgConnection,
    row: &OutsideBorrowerRow,
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into outside_borrowers
             (id, name, organisation, id_document, letter, letter_record_id, note, created_by,
              created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        row.id,
        row.name,
        row.organisation,
        row.id_document,
        row.letter,
        row.letter_record_id,
        row.note,
        row.created_by,
        row.created_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_outside(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<OutsideBorrowerRow>, DbError> {
    Ok(sqlx::query_as!(
        OutsideBorrowerRow,
        "select id, name, organisation, id_document, letter, letter_record_id, note, created_by,
                created_at
         from outside_borrowers where id = $1",
        id
    )
    .fetch_optional(conn)
    .await?)
}

/// Outside borrowers by organisation and name; those whose name or organisation contains
/// `text` when given.
pub async fn list_outside(
    conn: &mut PgConnection,
    text: Option<&str>,
    limit: i64,
) -> Result<Vec<OutsideBorrowerRow>, DbError> {
    Ok(sqlx::query_as!(
        OutsideBorrowerRow,
        "select id, name, organisation, id_document, letter, letter_record_id, note, created_by,
                created_at
         from outside_borrowers
         where $1::text is null or strpos(name, $1) > 0 or strpos(organisation, $1) > 0
         order by organisation, name, id limit $2",
        text,
        limit
    )
    .fetch_all(conn)
    .await?)
}
