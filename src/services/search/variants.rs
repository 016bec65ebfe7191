//! The search's table of regional variants and synonyms (issue 18): the groups that ship
//! with dangan, and the archive's own, kept in PostgreSQL so every node reads the same.
//! Each node keeps the table it read for [`FRESH_FOR`]; a change made on it applies at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::SearchService;
use crate::db;
use crate::domain::audit::AuditAction;
use crate::domain::permissions::Capability;
use crate::index::variants::{self, Group, Variants};
use crate::services::{Actor, ServiceError, ServiceResult, require};

/// How long a node searches with the table it read before reading it again: a change made
/// on another node reaches this one within this time.
pub const FRESH_FOR: Duration = Duration::from_secs(30);
const MAX_GROUPS: usize = 5_000;
const MAX_WORDS: usize = 20;
const MAX_WORD_CHARS: usize = 32;

/// The groups of words a relaxed search takes as one (regional variants, synonyms).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VariantTable {
    /// Shipped with dangan; not editable.
    pub shipped: Vec<Group>,
    /// The archive's own, as last saved.
    pub archive: Vec<Group>,
}

/// Body of `PUT /api/v1/search/variants`: the archive's groups, replacing the saved ones.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct VariantsUpdate {
    /// Each group: 2 to 20 words of one meaning, in either script.
    pub archive: Vec<Group>,
}

/// The table a node read, and when.
pub(super) type Cached = Arc<std::sync::Mutex<Option<(Instant, Arc<Variants>)>>>;

impl SearchService {
    /// The shipped groups and the archive's own; for every signed-in user.
    pub async fn variant_table(&self, _actor: &Actor) -> ServiceResult<VariantTable> {
        let mut conn = db::acquire(&self.pool).await?;
        Ok(VariantTable {
            shipped: variants::shipped(),
            archive: db::variants::list(&mut conn).await?,
        })
    }

    /// Replaces the archive's groups (the records office); audited.
    pub async fn replace_variants(
        &self,
        actor: &Actor,
        update: VariantsUpdate,
    ) -> ServiceResult<VariantTable> {
        require(actor, Capability::CurateSearch)?;
        let groups = checked(update.archive)?;
        let mut tx = db::begin(&self.pool).await?;
        db::variants::replace(&mut tx, &groups, actor.user_id).await?;
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::SearchVariants,
            None,
            &serde_json::json!({ "archive": groups }),
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        if let Ok(mut cached) = self.variants.lock() {
            *cached = None;
        }
        self.variant_table(actor).await
    }

    /// The table to search with: the one read less than [`FRESH_FOR`] ago, else read now.
    pub(super) async fn variants(&self) -> ServiceResult<Arc<Variants>> {
        let fresh = self.variants.lock().ok().and_then(|cached| {
            cached
                .as_ref()
                .filter(|(read, _)| read.elapsed() < FRESH_FOR)
                .map(|(_, table)| table.clone())
        });
        if let Some(table) = fresh {
            return Ok(table);
        }
        let mut conn = db::acquire(&self.pool).await?;
        let archive = db::variants::list(&mut conn).await?;
        drop(conn);
        let table = Arc::new(Variants::new(&archive));
        if let Ok(mut cached) = self.variants.lock() {
            *cached = Some((Instant::now(), table.clone()));
        }
        Ok(table)
    }
}

/// The groups trimmed, each word once; refused with the first fault named.
fn checked(groups: Vec<Group>) -> ServiceResult<Vec<Group>> {
    if groups.len() > MAX_GROUPS {
        return Err(ServiceError::Validation(format!(
            "archive: at most {MAX_GROUPS} groups"
        )));
    }
    groups
        .into_iter()
        .enumerate()
        .map(|(n, group)| {
            let mut words: Group = Vec::new();
            for word in group {
                let word = word.trim().to_owned();
                if word.is_empty() || word.chars().count() > MAX_WORD_CHARS {
                    return Err(ServiceError::Validation(format!(
                        "archive[{n}]: each word has 1 to {MAX_WORD_CHARS} characters"
                    )));
                }
                if !words.contains(&word) {
                    words.push(word);
                }
            }
            if !(2..=MAX_WORDS).contains(&words.len()) {
                return Err(ServiceError::Validation(format!(
                    "archive[{n}]: a group has 2 to {MAX_WORDS} different words"
                )));
            }
            Ok(words)
        })
        .collect()
}
