//! Lending (借閱, R11–R13): a loan is requested for one record, approved or rejected by an
//! approver (the general manager for a customer's records), and returned. While approved
//! and not past its due date it lets the borrower see the record and read its files,
//! watermarked unless the loan permits copies. Every step is audited in the record's trail
//! and reminded: the request to its approvers, the due date to the borrower, an overdue
//! loan to the records office (by the reminder sweep).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::paging::{bad_cursor, next_cursor, page_size};
use super::records::record_not_found;
use crate::domain::audit::AuditAction;

mod outside;
mod parties;
mod register;

use super::{Actor, ServiceError, ServiceResult, access};
use crate::db::{self, Pool};
use crate::domain::loan::{self, LoanStatus, Term, keeps_loans, may_borrow};
use crate::domain::permissions::Approver;
use crate::domain::record::RecordStatus;
use crate::domain::reminder::Recipient;
use crate::domain::user::Role;
pub use outside::{NewOutsideBorrower, OutsideBorrowerFilter, OutsideBorrowerView};
pub(crate) use parties::loan_reminder;
use parties::{borrower_of, request_reminder};
pub use register::RegisterPeriod;

/// `POST /api/v1/loans`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLoanInput {
    pub record_id: Uuid,
    /// What the record is borrowed for (借閱目的).
    pub purpose: String,
    /// How many days the loan runs once approved (1–365); or give `hours`, or make it a
    /// reading-room loan.
    #[serde(default)]
    pub days: Option<i32>,
    /// A loan of a few hours (1–12) from its approval: taken out for a visit.
    #[serde(default)]
    pub hours: Option<i32>,
    /// The physical item leaves the store room (it can be out with one borrower at a time).
    #[serde(default)]
    pub physical: bool,
    /// Read in the reading room only (閱覽室查閱): no copy, no download, back the same day.
    #[serde(default)]
    pub reading_room: bool,
    /// Refused when true: the approver decides whether copies are allowed.
    #[serde(default)]
    pub copy_allowed: bool,
    /// Username of the borrower, when the records office registers a loan for someone;
    /// the caller otherwise.
    #[serde(default)]
    pub borrower: Option<String>,
    /// An outside borrower (`POST /api/v1/borrowers`) the records office registers the loan
    /// for; such a loan is a reading-room or a physical one.
    #[serde(default)]
    pub outside_borrower: Option<Uuid>,
}

/// `POST /api/v1/loans/{id}/approve` (the body may be left out).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalInput {
    /// Downloads may be copied: they are not watermarked. Never for a physical loan.
    #[serde(default)]
    pub copy_allowed: bool,
}

/// A loan as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoanView {
    pub id: Uuid,
    pub record_id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    /// The user who borrows; null for an outside borrower.
    pub borrower_id: Option<Uuid>,
    /// The registered outside borrower, if the loan is theirs.
    pub outside_borrower_id: Option<Uuid>,
    /// The username, or the outside borrower's name and organisation.
    pub borrower: String,
    pub purpose: String,
    /// Days the loan runs; 0 for a loan of hours or of the reading room.
    pub days: i32,
    pub hours: Option<i32>,
    pub physical: bool,
    pub reading_room: bool,
    pub copy_allowed: bool,
    /// `requested`, `approved`, `rejected` or `returned`.
    pub status: LoanStatus,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The last day of the loan, once approved.
    pub due_on: Option<NaiveDate>,
    /// When a loan in hours is due back.
    pub due_at: Option<DateTime<Utc>>,
    /// Approved and past its due date.
    pub overdue: bool,
    pub returned_to: Option<Uuid>,
    pub returned_at: Option<DateTime<Utc>>,
}

/// Query of `GET /api/v1/loans`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LoanFilter {
    pub status: Option<LoanStatus>,
    pub record_id: Option<Uuid>,
    /// Username; the records office only (everyone else sees their own loans).
    pub borrower: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A page of loans, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoanPage {
    pub items: Vec<LoanView>,
    pub next_cursor: Option<String>,
}

/// Requests, decides, returns and lists loans.
#[derive(Clone)]
pub struct LoanService {
    pool: Pool,
    timezone: chrono_tz::Tz,
}

impl LoanService {
    pub fn new(pool: Pool, timezone: chrono_tz::Tz) -> Self {
        Self { pool, timezone }
    }

    fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.timezone).date_naive()
    }

    /// Registers a request; its approvers are reminded. The caller must see the record
    /// (staff learn of a file from the records office, which registers the request for
    /// them); a record they may not see answers as a missing one. Nobody borrows from their
    /// own folder.
    #[tracing::instrument(skip_all, fields(record.id = %input.record_id))]
    pub async fn request(&self, actor: &Actor, input: NewLoanInput) -> ServiceResult<LoanView> {
        if !may_borrow(actor.role) {
            return Err(ServiceError::Forbidden(
                "auditors read the audit trail, not the records; they do not borrow".into(),
            ));
        }
        let purpose = loan::check_purpose(&input.purpose)?;
        let term = Term::of(input.days, input.hours, input.reading_room)?;
        if input.copy_allowed {
            return Err(ServiceError::Validation(
                "copy_allowed: the approver decides whether copies are allowed, when approving"
                    .into(),
            ));
        }
        let mut tx = db::begin(&self.pool).await?;
        let borrower = borrower_of(&mut tx, actor, &input).await?;
        access::require_record(&mut tx, actor, input.record_id, self.today()).await?;
        let (approver, facts) = access::loan_terms(&mut tx, input.record_id)
            .await?
            .ok_or_else(|| record_not_found(input.record_id))?;
        if facts.party_id.is_some() && facts.party_id == borrower.party_id {
            return Err(ServiceError::Validation(format!(
                "record {} lies in the borrower's own folder; nobody borrows from their own folder",
                input.record_id
            )));
        }
        if facts.status != RecordStatus::Active {
            return Err(ServiceError::Conflict(format!(
                "record {} is {}; it cannot be lent",
                input.record_id, facts.status
            )));
        }
        if db::loans::has_open(&mut tx, input.record_id, borrower.id, borrower.outside).await? {
            return Err(ServiceError::Conflict(format!(
                "there is already an open loan of record {} for this borrower",
                input.record_id
            )));
        }
        let id = Uuid::now_v7();
        db::loans::insert(
            &mut tx,
            &db::loans::NewLoan {
                id,
                record_id: input.record_id,
                borrower_id: borrower.id,
                outside_borrower_id: borrower.outside,
                purpose,
                days: term.days(),
                hours: term.hours(),
                physical: input.physical,
                reading_room: input.reading_room,
                copy_allowed: false,
            },
        )
        .await?;
        let row = find(&mut tx, id).await?;
        let reminder = request_reminder(&row, approver.role(), self.today());
        db::reminders::raise(&mut tx, &reminder).await?;
        audit(&mut tx, actor, AuditAction::LoanRequested, &row).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(self.view(row))
    }

    /// Approves a request: the loan runs for its days from today; the approver decides
    /// whether its downloads may be copied (unmarked).
    pub async fn approve(
        &self,
        actor: &Actor,
        id: Uuid,
        input: ApprovalInput,
    ) -> ServiceResult<LoanView> {
        self.decide(actor, id, LoanStatus::Approved, input.copy_allowed)
            .await
    }

    /// Rejects a request.
    pub async fn reject(&self, actor: &Actor, id: Uuid) -> ServiceResult<LoanView> {
        self.decide(actor, id, LoanStatus::Rejected, false).await
    }

    #[tracing::instrument(skip_all, fields(loan.id = %id, decision = decision.as_str()))]
    async fn decide(
        &self,
        actor: &Actor,
        id: Uuid,
        decision: LoanStatus,
        copy_allowed: bool,
    ) -> ServiceResult<LoanView> {
        let mut tx = db::begin(&self.pool).await?;
        if !db::loans::lock(&mut tx, id).await? {
            return Err(loan_not_found(id));
        }
        let row = find(&mut tx, id).await?;
        let (approver, facts) = access::loan_terms(&mut tx, row.record_id)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("loan {id} lost its record")))?;
        check_decider(actor, &row, approver)?;
        if decision == LoanStatus::Approved && facts.status != RecordStatus::Active {
            return Err(ServiceError::Conflict(format!(
                "record {} is {} since the loan was requested; reject the request",
                row.record_id, facts.status
            )));
        }
        let due = if decision == LoanStatus::Approved {
            self.due(&row)
        } else {
            (None, None)
        };
        let copy_allowed =
            copy_allowed && decision == LoanStatus::Approved && !row.physical && !row.reading_room;
        db::loans::decide(&mut tx, id, decision, actor.user_id, due, copy_allowed)
            .await
            .map_err(|error| match error.conflict() {
                Some(db::Conflict::PhysicalLoanOut) => ServiceError::Conflict(format!(
                    "the physical item of record {} is out on another loan",
                    row.record_id
                )),
                _ => error.into(),
            })?;
        db::loans::close_reminders(&mut tx, id, actor.user_id).await?;
        let row = find(&mut tx, id).await?;
        if decision == LoanStatus::Approved && row.physical {
            let reason = format!("借出 lent to {} (loan {id})", row.borrower);
            db::places::lend_out(&mut tx, row.record_id, actor.user_id, id, &reason).await?;
        }
        if let Some(due_on) = row.due_on {
            let reminder = loan_reminder(
                &row,
                format!("loan_due:{id}"),
                format!(
                    "借閱到期請歸還 loan due back: {} ({})",
                    row.title,
                    row.archival_code.as_deref().unwrap_or("-")
                ),
                due_on,
                // an outside borrower has no login: the records office sees to the return
                row.borrower_id
                    .map_or(Recipient::Role(Role::Archivist), Recipient::User),
            );
            db::reminders::raise(&mut tx, &reminder).await?;
        }
        let action = match decision {
            LoanStatus::Approved => AuditAction::LoanApproved,
            _ => AuditAction::LoanRejected,
        };
        audit(&mut tx, actor, action, &row).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(self.view(row))
    }

    /// Registers the return: by the records office, or by the borrower of an electronic
    /// loan. Its reminders are closed.
    #[tracing::instrument(skip_all, fields(loan.id = %id))]
    pub async fn return_loan(&self, actor: &Actor, id: Uuid) -> ServiceResult<LoanView> {
        let mut tx = db::begin(&self.pool).await?;
        if !db::loans::lock(&mut tx, id).await? {
            return Err(loan_not_found(id));
        }
        let row = find(&mut tx, id).await?;
        let own = row.borrower_id == Some(actor.user_id);
        let may_return = keeps_loans(actor.role) || (own && !row.physical && !row.reading_room);
        if !may_return {
            return Err(if own {
                ServiceError::Forbidden(
                    "a physical or reading-room loan is returned at the records office, which \
                     registers it"
                        .into(),
                )
            } else {
                loan_not_found(id)
            });
        }
        if row.status != LoanStatus::Approved {
            return Err(ServiceError::Conflict(format!(
                "loan {id} is {}; only an approved loan is returned",
                row.status
            )));
        }
        db::loans::set_returned(&mut tx, id, actor.user_id).await?;
        db::loans::close_reminders(&mut tx, id, actor.user_id).await?;
        let row = find(&mut tx, id).await?;
        if row.physical {
            let reason = format!("归还 returned by {} (loan {id})", row.borrower);
            db::places::bring_back(&mut tx, row.record_id, actor.user_id, id, &reason).await?;
        }
        audit(&mut tx, actor, AuditAction::LoanReturned, &row).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(self.view(row))
    }

    /// One loan: its borrower's, or anyone's for the records office.
    pub async fn get(&self, actor: &Actor, id: Uuid) -> ServiceResult<LoanView> {
        let mut conn = db::acquire(&self.pool).await?;
        let row = db::loans::find(&mut conn, id)
            .await?
            .filter(|row| keeps_loans(actor.role) || row.borrower_id == Some(actor.user_id))
            .ok_or_else(|| loan_not_found(id))?;
        Ok(self.view(row))
    }

    /// Loans newest first: the caller's own, or anyone's for the records office.
    pub async fn list(&self, actor: &Actor, filter: LoanFilter) -> ServiceResult<LoanPage> {
        let limit = page_size(filter.limit, 50, 500);
        let before = filter
            .cursor
            .as_deref()
            .map(|cursor| cursor.parse::<Uuid>().map_err(|_| bad_cursor()))
            .transpose()?;
        let mut conn = db::acquire(&self.pool).await?;
        let borrower_id = match (keeps_loans(actor.role), filter.borrower.as_deref()) {
            (false, _) => Some(actor.user_id),
            (true, None) => None,
            (true, Some(name)) => Some(
                db::users::find_by_username(&mut conn, name.trim())
                    .await?
                    .ok_or_else(|| ServiceError::Validation(format!("borrower: no user {name:?}")))?
                    .id,
            ),
        };
        let mut rows = db::loans::list(
            &mut conn,
            borrower_id,
            filter.record_id,
            filter.status,
            before,
            i64::from(limit) + 1,
        )
        .await?;
        let next_cursor = next_cursor(&mut rows, limit, |row| row.id.to_string());
        Ok(LoanPage {
            items: rows.into_iter().map(|row| self.view(row)).collect(),
            next_cursor,
        })
    }

    /// When an approved loan is due: the last day, and for a loan in hours the time.
    fn due(&self, row: &db::loans::LoanRow) -> (Option<NaiveDate>, Option<DateTime<Utc>>) {
        match row.hours {
            Some(hours) => {
                let at = Utc::now() + chrono::Duration::hours(i64::from(hours));
                (
                    Some(at.with_timezone(&self.timezone).date_naive()),
                    Some(at),
                )
            }
            None => (Some(loan::due_on(self.today(), row.days)), None),
        }
    }

    fn view(&self, row: db::loans::LoanRow) -> LoanView {
        let status = row.status;
        let overdue = status == LoanStatus::Approved
            && (row.due_on.is_some_and(|due_on| due_on < self.today())
                || row.due_at.is_some_and(|due_at| due_at < Utc::now()));
        LoanView {
            id: row.id,
            record_id: row.record_id,
            archival_code: row.archival_code,
            title: row.title,
            borrower_id: row.borrower_id,
            outside_borrower_id: row.outside_borrower_id,
            borrower: row.borrower,
            purpose: row.purpose,
            days: row.days,
            hours: row.hours,
            physical: row.physical,
            reading_room: row.reading_room,
            copy_allowed: row.copy_allowed,
            status,
            requested_at: row.requested_at,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            due_on: row.due_on,
            due_at: row.due_at,
            overdue,
            returned_to: row.returned_to,
            returned_at: row.returned_at,
        }
    }
}

/// Whether `actor` may decide this loan: the approver its record's rule names, not its
/// borrower, and the loan still requested.
fn check_decider(actor: &Actor, row: &db::loans::LoanRow, approver: Approver) -> ServiceResult<()> {
    if actor.role != approver.role() {
        return Err(ServiceError::Forbidden(format!(
            "loans of this record are decided by the {}",
            match approver {
                Approver::Director => "office director",
                Approver::GeneralManager => "general manager",
            }
        )));
    }
    if row.borrower_id == Some(actor.user_id) {
        return Err(ServiceError::Forbidden(
            "nobody decides their own loan".into(),
        ));
    }
    if row.status != LoanStatus::Requested {
        return Err(ServiceError::Conflict(format!(
            "loan {} is {}; only a requested loan is decided",
            row.id, row.status
        )));
    }
    Ok(())
}

async fn find(conn: &mut db::PgConnection, id: Uuid) -> ServiceResult<db::loans::LoanRow> {
    db::loans::find(conn, id)
        .await?
        .ok_or_else(|| loan_not_found(id))
}

async fn audit(
    conn: &mut db::PgConnection,
    actor: &Actor,
    action: AuditAction,
    row: &db::loans::LoanRow,
) -> ServiceResult<()> {
    let details = serde_json::json!({
        "loan_id": row.id, "borrower": row.borrower, "purpose": row.purpose, "days": row.days,
        "physical": row.physical, "copy_allowed": row.copy_allowed, "due_on": row.due_on,
    });
    db::audit::append(
        conn,
        Some(actor.user_id),
        action,
        Some(row.record_id),
        &details,
    )
    .await?;
    Ok(())
}

fn loan_not_found(id: Uuid) -> ServiceError {
    ServiceError::NotFound(format!("loan {id} not found"))
}
