//! The access decision as services ask it (R11): who is asking, the rules in force, one
//! record's facts. Every path that shows a record, a folder or a count of records asks here,
//! and the decision itself is `domain::permissions`: [`record_access`] for one record,
//! [`visibility`] for lists (SQL) and search (the index).

use chrono::NaiveDate;
use uuid::Uuid;

use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, PgConnection};
use crate::domain::permissions::{
    AccessRule, Approver, CategoryRule, RecordFacts, Viewer, Visibility, may_see, rule_in_force,
};

/// How the caller may see a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// By a grant of its category's rule, or because it is open.
    Policy,
    /// Through an approved loan; its downloads are marked unless it permits copies, and a
    /// physical loan (the paper leaves the store room) gives no download at all.
    Loan {
        id: Uuid,
        copy_allowed: bool,
        physical: bool,
        /// Read in the reading room: no copy, no download.
        reading_room: bool,
    },
}

impl Access {
    /// The loan whose watermark a download must carry, if any.
    pub fn marked_loan(self) -> Option<Uuid> {
        match self {
            Access::Loan {
                id,
                copy_allowed: false,
                ..
            } => Some(id),
            _ => None,
        }
    }
}

/// The viewer an actor is.
pub fn viewer(actor: &Actor) -> Viewer {
    Viewer {
        user_id: actor.user_id,
        role: actor.role,
        department: actor.department_id,
        party_id: actor.party_id,
    }
}

/// The access rules of every category, as stored.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    categories: Vec<CategoryRule>,
    codes: Vec<(Uuid, String)>,
    folders: Vec<(String, Uuid)>,
}

impl Rules {
    /// Reads every category's own rule.
    pub async fn load(conn: &mut PgConnection) -> ServiceResult<Self> {
        Self::from_rows(db::access::category_rules(conn).await?)
    }

    fn from_rows(rows: Vec<db::access::CategoryAccessRow>) -> ServiceResult<Self> {
        let mut rules = Rules::default();
        for row in rows {
            let own = match row.access {
                None => None,
                Some(value) => Some(serde_json::from_value::<AccessRule>(value).map_err(
                    |error| {
                        ServiceError::Internal(format!(
                            "category {} has an unreadable access rule: {error}",
                            row.id
                        ))
                    },
                )?),
            };
            if let Some(kind) = row.folder_kind {
                rules.folders.push((kind, row.id));
            }
            rules.codes.push((row.id, row.code));
            rules.categories.push(CategoryRule {
                id: row.id,
                parent: row.parent_id,
                own,
            });
        }
        Ok(rules)
    }

    /// The rule in force for a category (`None`: unclassified), and where it comes from.
    pub fn in_force(&self, category: Option<Uuid>) -> (AccessRule, Option<Uuid>) {
        match category {
            Some(id) => rule_in_force(&self.categories, id),
            None => (AccessRule::standard(), None),
        }
    }

    /// The code of category `id`.
    pub fn code_of(&self, id: Uuid) -> Option<String> {
        self.codes
            .iter()
            .find(|(category, _)| *category == id)
            .map(|(_, code)| code.clone())
    }

    /// The category of `kind`'s folders (`employee`, `customer`).
    pub fn folder_category(&self, kind: &str) -> Option<Uuid> {
        self.folders
            .iter()
            .find(|(folder_kind, _)| folder_kind == kind)
            .map(|(_, id)| *id)
    }

    /// The visibility of `actor`, who holds `loaned` records on loan.
    pub fn visibility(&self, actor: &Actor, loaned: Vec<Uuid>) -> Visibility {
        let rules: Vec<(Option<Uuid>, AccessRule)> = self
            .categories
            .iter()
            .map(|category| (Some(category.id), self.in_force(Some(category.id)).0))
            .collect();
        Visibility::of(
            &viewer(actor),
            rules.iter().map(|(id, rule)| (*id, rule)),
            loaned,
        )
    }
}

/// The caller holding `token` and what they see, for a search: the sign-in and the reads
/// of [`visibility`] in one round trip. A token that is not valid is refused (401).
pub async fn signed_in_visibility(
    conn: &mut PgConnection,
    token: &str,
    today: NaiveDate,
) -> ServiceResult<(Actor, Visibility)> {
    let (owner, rows, loaned) =
        db::access::owner_rules_and_loans(conn, &super::auth::token_hash(token), today)
            .await?
            .ok_or_else(super::auth::invalid_token)?;
    let actor = super::auth::actor_of(owner)?;
    let visibility = Rules::from_rows(rows)?.visibility(&actor, loaned);
    Ok((actor, visibility))
}

/// What `actor` sees, for lists and search: the rules in force and their running loans.
pub async fn visibility(
    conn: &mut PgConnection,
    actor: &Actor,
    today: NaiveDate,
) -> ServiceResult<Visibility> {
    let (rows, loaned) = db::access::rules_and_loans(conn, actor.user_id, today).await?;
    Ok(Rules::from_rows(rows)?.visibility(actor, loaned))
}

/// What `actor` sees by the rules alone, without their loans: for the catalogue, its
/// statistics and folder lists, which loans do not open.
pub async fn standing_visibility(
    conn: &mut PgConnection,
    actor: &Actor,
) -> ServiceResult<Visibility> {
    Ok(Rules::load(conn).await?.visibility(actor, Vec::new()))
}

/// How `actor` may see record `id` on `today`; `None` when they may not, or it does not
/// exist: callers answer both alike (404).
pub async fn record_access(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    today: NaiveDate,
) -> ServiceResult<Option<Access>> {
    let Some(row) = db::access::record_facts(conn, id).await? else {
        return Ok(None);
    };
    let rules = Rules::load(conn).await?;
    let (rule, _) = rules.in_force(row.category_id);
    let viewer = viewer(actor);
    let mut facts = RecordFacts {
        id,
        rule: &rule,
        category: row.category_id,
        department: row.department_id,
        level: row.security_level,
        open: row.open_status,
        party_id: row.party_id,
        on_loan: false,
    };
    if may_see(&viewer, &facts) {
        return Ok(Some(Access::Policy));
    }
    let Some(loan) = db::loans::active_for(conn, actor.user_id, id, today).await? else {
        return Ok(None);
    };
    facts.on_loan = true;
    Ok(may_see(&viewer, &facts).then_some(Access::Loan {
        id: loan.id,
        copy_allowed: loan.copy_allowed,
        physical: loan.physical,
        reading_room: loan.reading_room,
    }))
}

/// [`record_access`], with a record the caller may not see reported as missing.
pub async fn require_record(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    today: NaiveDate,
) -> ServiceResult<Access> {
    record_access(conn, actor, id, today)
        .await?
        .ok_or_else(|| super::records::record_not_found(id))
}

/// Whether `actor` sees the folder of party `id` (its data, checklist and record list);
/// `None` when the party does not exist. Callers answer both alike (404).
pub async fn folder_access(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> ServiceResult<Option<()>> {
    let Some((kind, department)) = db::access::party_facts(conn, id).await? else {
        return Ok(None);
    };
    let rules = Rules::load(conn).await?;
    // loans open records, never folders
    let visibility = rules.visibility(actor, Vec::new());
    Ok(visibility
        .allows_folder(id, rules.folder_category(&kind), department)
        .then_some(()))
}

/// [`folder_access`], with a folder the caller may not see reported as missing.
pub async fn require_folder(conn: &mut PgConnection, actor: &Actor, id: Uuid) -> ServiceResult<()> {
    folder_access(conn, actor, id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("party {id} not found")))
}

/// Who approves loans of record `id` (its category's rule; the general manager for a
/// confidential record), with its access facts; `None` when it does not exist.
pub async fn loan_terms(
    conn: &mut PgConnection,
    id: Uuid,
) -> ServiceResult<Option<(Approver, db::access::RecordAccessRow)>> {
    let Some(row) = db::access::record_facts(conn, id).await? else {
        return Ok(None);
    };
    let rules = Rules::load(conn).await?;
    let (rule, _) = rules.in_force(row.category_id);
    Ok(Some((rule.approver_for(row.security_level), row)))
}
