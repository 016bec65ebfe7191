//! Withdrawal (作廢) of a record filed by mistake: the records office proposes it with a
//! reason, a director or general manager other than the proposer approves or rejects. An
//! approved withdrawal leaves the record as a tombstone (`status: "withdrawn"`) that keeps
//! its archival code, so its item number is never given again, and takes it out of search,
//! the due lists and every list of active records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::super::access::{require_record, visibility};
use super::super::holds::ensure_not_held;
use super::super::paging::page_size;
use super::super::records::record_not_found;
use super::super::reminders::decisions::{DECIDERS, Waiting, decided};
use super::super::{Actor, ServiceError, ServiceResult, require};
use super::CorrectionService;
use crate::db::{self, PgConnection};
use crate::domain::audit::AuditAction;
use crate::domain::correction::{NewWithdrawal, WithdrawalDecision};
use crate::domain::permissions::Capability;
use crate::domain::proposal::ProposalStatus;
use crate::domain::record::RecordStatus;
use crate::domain::reminder::ReminderKind;

/// A withdrawal as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WithdrawalView {
    pub id: Uuid,
    pub record_id: Uuid,
    pub archival_code: Option<String>,
    pub title: String,
    pub reason: String,
    pub status: ProposalStatus,
    pub proposed_by: Uuid,
    pub proposed_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    /// What the approver or rejecter noted.
    pub note: Option<String>,
}

impl From<db::corrections::WithdrawalRow> for WithdrawalView {
    fn from(row: db::corrections::WithdrawalRow) -> Self {
        Self {
            id: row.id,
            record_id: row.record_id,
            archival_code: row.archival_code,
            title: row.title,
            reason: row.reason,
            status: row.status,
            proposed_by: row.proposed_by,
            proposed_at: row.proposed_at,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            note: row.note,
        }
    }
}

/// Query of `GET /api/v1/withdrawals`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WithdrawalFilter {
    pub status: Option<ProposalStatus>,
    pub record_id: Option<Uuid>,
    pub limit: Option<i64>,
}

fn withdrawal_not_found(id: Uuid) -> ServiceError {
    ServiceError::NotFound(format!("withdrawal {id} not found"))
}

/// Those who work with withdrawals: the records office and the approvers.
fn require_party_to_withdrawals(actor: &Actor) -> ServiceResult<()> {
    if actor.role.may(Capability::CorrectRecords) || actor.role.may(Capability::ApproveWithdrawal) {
        Ok(())
    } else {
        require(actor, Capability::CorrectRecords)
    }
}

impl CorrectionService {
    /// Proposes withdrawing record `id`, which the caller sees and may correct; it must be
    /// active, not held, and have no other open proposal.
    pub async fn propose_withdrawal(
        &self,
        actor: &Actor,
        id: Uuid,
        input: NewWithdrawal,
    ) -> ServiceResult<WithdrawalView> {
        let mut tx = db::begin(&self.pool).await?;
        if !db::records::lock(&mut tx, id).await? {
            return Err(record_not_found(id));
        }
        self.require_corrector(&mut tx, actor, id).await?;
        let reason = input.validate()?;
        let record = db::records::find(&mut tx, id)
            .await?
            .ok_or_else(|| record_not_found(id))?;
        if record.status != RecordStatus::Active {
            return Err(ServiceError::Conflict(format!(
                "record {id} is {}; only an active record is withdrawn",
                record.status
            )));
        }
        ensure_not_held(&mut tx, id, "it is not withdrawn while held").await?;
        let withdrawal = Uuid::now_v7();
        db::corrections::propose(&mut tx, withdrawal, id, &reason, actor.user_id)
            .await
            .map_err(|error| match error.conflict() {
                Some(db::Conflict::OpenWithdrawal) => ServiceError::Conflict(format!(
                    "record {id} already has a withdrawal awaiting a decision"
                )),
                _ => error.into(),
            })?;
        Waiting {
            kind: ReminderKind::Approval,
            key: format!("withdrawal:{withdrawal}"),
            subject: format!(
                "作廢待審批 withdrawal awaiting approval: {} ({}) — {reason}",
                record.title,
                record.archival_code.as_deref().unwrap_or("-")
            ),
            due_on: self.today(),
            record_id: Some(id),
            details: serde_json::json!({ "withdrawal_id": withdrawal,
                                         "link": format!("/api/v1/withdrawals/{withdrawal}") }),
        }
        .raise(&mut tx, &DECIDERS)
        .await?;
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::RecordWithdrawalProposed,
            Some(id),
            &serde_json::json!({ "withdrawal_id": withdrawal, "reason": reason }),
        )
        .await?;
        let view = self.withdrawal_in(&mut tx, actor, withdrawal).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(view)
    }

    /// One withdrawal of a record the caller sees.
    pub async fn withdrawal(&self, actor: &Actor, id: Uuid) -> ServiceResult<WithdrawalView> {
        require_party_to_withdrawals(actor)?;
        let mut conn = db::acquire(&self.pool).await?;
        self.withdrawal_in(&mut conn, actor, id).await
    }

    /// Withdrawals of records the caller sees, newest first.
    pub async fn withdrawals(
        &self,
        actor: &Actor,
        filter: WithdrawalFilter,
    ) -> ServiceResult<Vec<WithdrawalView>> {
        require_party_to_withdrawals(actor)?;
        let limit = i64::from(page_size(filter.limit, 50, 500));
        let mut conn = db::acquire(&self.pool).await?;
        let visibility = visibility(&mut conn, actor, self.today()).await?;
        let rows = db::corrections::list(
            &mut conn,
            filter.status,
            filter.record_id,
            &visibility,
            limit,
        )
        .await?;
        Ok(rows.into_iter().map(WithdrawalView::from).collect())
    }

    /// Approves a proposal: the record is withdrawn.
    pub async fn approve_withdrawal(
        &self,
        actor: &Actor,
        id: Uuid,
        decision: WithdrawalDecision,
    ) -> ServiceResult<WithdrawalView> {
        self.decide(actor, id, decision, true).await
    }

    /// Rejects a proposal; the record stays as it is.
    pub async fn reject_withdrawal(
        &self,
        actor: &Actor,
        id: Uuid,
        decision: WithdrawalDecision,
    ) -> ServiceResult<WithdrawalView> {
        self.decide(actor, id, decision, false).await
    }

    async fn decide(
        &self,
        actor: &Actor,
        id: Uuid,
        decision: WithdrawalDecision,
        approve: bool,
    ) -> ServiceResult<WithdrawalView> {
        let mut tx = db::begin(&self.pool).await?;
        let row = db::corrections::lock(&mut tx, id)
            .await?
            .ok_or_else(|| withdrawal_not_found(id))?;
        if !db::records::lock(&mut tx, row.record_id).await? {
            return Err(withdrawal_not_found(id));
        }
        self.require_record_of(&mut tx, actor, id, row.record_id)
            .await?;
        require(actor, Capability::ApproveWithdrawal)?;
        let note = decision.validate()?;
        if row.proposed_by == actor.user_id {
            return Err(ServiceError::Forbidden(
                "a withdrawal is decided by someone other than its proposer".into(),
            ));
        }
        if row.status != ProposalStatus::Proposed {
            return Err(ServiceError::Conflict(format!(
                "withdrawal {id} is {}; only a proposed withdrawal is decided",
                row.status
            )));
        }
        let status = ProposalStatus::decided(approve);
        if approve {
            ensure_not_held(
                &mut tx,
                row.record_id,
                "it was put on legal hold since the proposal; reject the withdrawal",
            )
            .await?;
            db::corrections::mark_withdrawn(&mut tx, row.record_id).await?;
        }
        db::corrections::decide(&mut tx, id, status, actor.user_id, note.as_deref()).await?;
        decided(&mut tx, &format!("withdrawal:{id}"), Some(actor.user_id)).await?;
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            if approve {
                AuditAction::RecordWithdrawn
            } else {
                AuditAction::RecordWithdrawalRejected
            },
            Some(row.record_id),
            &serde_json::json!({
                "withdrawal_id": id, "reason": row.reason, "proposed_by": row.proposed_by,
                "archival_code": row.archival_code, "note": note,
            }),
        )
        .await?;
        let view = self.withdrawal_in(&mut tx, actor, id).await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(view)
    }

    async fn withdrawal_in(
        &self,
        conn: &mut PgConnection,
        actor: &Actor,
        id: Uuid,
    ) -> ServiceResult<WithdrawalView> {
        let row = db::corrections::find(conn, id)
            .await?
            .ok_or_else(|| withdrawal_not_found(id))?;
        self.require_record_of(conn, actor, id, row.record_id)
            .await?;
        Ok(row.into())
    }

    /// A withdrawal of a record the caller may not see is missing, as the record is.
    async fn require_record_of(
        &self,
        conn: &mut PgConnection,
        actor: &Actor,
        withdrawal: Uuid,
        record: Uuid,
    ) -> ServiceResult<()> {
        match require_record(conn, actor, record, self.today()).await {
            Ok(_) => Ok(()),
            Err(ServiceError::NotFound(_)) => Err(withdrawal_not_found(withdrawal)),
            Err(error) => Err(error),
        }
    }
}
