//! Outside borrowers (外單位利用者): people of another organisation (public security, a
//! talent centre) who consult records with a letter of introduction (介紹信). They have no
//! login; the records office registers them once and then their loans, which are read in
//! the reading room or take the paper out.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::LoanService;
use crate::db;
use crate::domain::audit::AuditAction;
use crate::domain::permissions::Capability;
use crate::domain::validation::{ValidationError, short_text};
use crate::services::paging::page_size;
use crate::services::{Actor, ServiceError, ServiceResult, access, require};

/// `POST /api/v1/borrowers`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOutsideBorrower {
    /// e.g. 王警官.
    pub name: String,
    /// e.g. 某市公安局經偵支隊.
    pub organisation: String,
    /// The identity document shown, e.g. 警官證 310…
    pub id_document: String,
    /// The letter of introduction: its issuer and number, e.g. 公安介紹信〔2026〕12號.
    pub letter: String,
    /// The scan of the letter, filed as a record (the records office sees it).
    #[serde(default)]
    pub letter_record_id: Option<Uuid>,
    #[serde(default)]
    pub note: Option<String>,
}

/// An outside borrower as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutsideBorrowerView {
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

/// Query of `GET /api/v1/borrowers`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutsideBorrowerFilter {
    /// Part of the name or organisation.
    pub q: Option<String>,
    pub limit: Option<i64>,
}

impl From<db::loans::OutsideBorrowerRow> for OutsideBorrowerView {
    fn from(row: db::loans::OutsideBorrowerRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            organisation: row.organisation,
            id_document: row.id_document,
            letter: row.letter,
            letter_record_id: row.letter_record_id,
            note: row.note,
            created_by: row.created_by,
            created_at: row.created_at,
        }
    }
}

fn required(field: &str, value: &str) -> Result<String, ValidationError> {
    short_text(field, Some(value.to_owned()))?
        .ok_or_else(|| ValidationError::new(field, "required"))
}

impl LoanService {
    /// Registers an outside borrower (the records office); audited.
    pub async fn register_outside(
        &self,
        actor: &Actor,
        input: NewOutsideBorrower,
    ) -> ServiceResult<OutsideBorrowerView> {
        require(actor, Capability::KeepLoans)?;
        let row = db::loans::OutsideBorrowerRow {
            id: Uuid::now_v7(),
            name: required("name", &input.name)?,
            organisation: required("organisation", &input.organisation)?,
            id_document: required("id_document", &input.id_document)?,
            letter: required("letter", &input.letter)?,
            letter_record_id: input.letter_record_id,
            note: short_text("note", input.note)?,
            created_by: actor.user_id,
            created_at: Utc::now(),
        };
        let mut tx = db::begin(&self.pool).await?;
        if let Some(letter) = row.letter_record_id {
            // the letter is a record the office sees; one it does not is missing
            access::require_record(&mut tx, actor, letter, self.today())
                .await
                .map_err(|error| match error {
                    ServiceError::NotFound(_) => {
                        ServiceError::Validation(format!("letter_record_id: no record {letter}"))
                    }
                    other => other,
                })?;
        }
        db::loans::insert_outside(&mut tx, &row).await?;
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::BorrowerRegistered,
            row.letter_record_id,
            &serde_json::json!({
                "borrower_id": row.id, "name": row.name, "organisation": row.organisation,
                "id_document": row.id_document, "letter": row.letter,
            }),
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(row.into())
    }

    /// Outside borrowers, by organisation and name (the records office).
    pub async fn outside_borrowers(
        &self,
        actor: &Actor,
        filter: OutsideBorrowerFilter,
    ) -> ServiceResult<Vec<OutsideBorrowerView>> {
        require(actor, Capability::KeepLoans)?;
        let limit = i64::from(page_size(filter.limit, 100, 1000));
        let text = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        let mut conn = db::acquire(&self.pool).await?;
        let rows = db::loans::list_outside(&mut conn, text, limit).await?;
        Ok(rows.into_iter().map(OutsideBorrowerView::from).collect())
    }

    /// One outside borrower (the records office).
    pub async fn outside_borrower(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> ServiceResult<OutsideBorrowerView> {
        require(actor, Capability::KeepLoans)?;
        let mut conn = db::acquire(&self.pool).await?;
        db::loans::find_outside(&mut conn, id)
            .await?
            .map(OutsideBorrowerView::from)
            .ok_or_else(|| ServiceError::NotFound(format!("borrower {id} not found")))
    }
}
