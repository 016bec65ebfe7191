//! Categories (門類): names in three scripts, parent, default retention, folder kind,
//! custom field definitions and the folder checklist.

use super::*;
use crate::domain::audit::AuditAction;

impl CatalogueService {
    pub async fn create_category(
        &self,
        actor: &Actor,
        input: NewCategory,
    ) -> ServiceResult<CategoryView> {
        require(actor, Capability::Administer)?;
        check_code("code", &input.code)?;
        let mut tx = db::begin(&self.pool).await?;
        let values = CategoryInput {
            names: input.name.resolve()?,
            parent: input.parent,
            retention: input.retention,
            folder_kind: input.folder_kind,
            fields: input.fields,
            checklist: input.checklist,
            access: input.access,
        };
        let prepared = prepare_category(&mut tx, None, values).await?;
        let inserted = db::catalogue::insert_category(&mut tx, &input.code, &prepared.values())
            .await
            .map_err(folder_kind_taken)?;
        if !inserted {
            return Err(ServiceError::Conflict(format!(
                "a category with code {:?} exists",
                input.code
            )));
        }
        let view = category(&mut tx, &input.code).await?;
        audit(
            &mut tx,
            actor,
            AuditAction::CategoryCreated,
            serde_json::json!({ "category": view }),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(view)
    }

    pub async fn list_categories(&self) -> ServiceResult<Vec<CategoryView>> {
        let mut conn = self.pool.acquire().await.map_err(DbError::from)?;
        let rules = Rules::load(&mut conn).await?;
        db::catalogue::list_categories(&mut conn)
            .await?
            .into_iter()
            .map(|row| category_view(row, &rules))
            .collect()
    }

    pub async fn get_category(&self, code: &str) -> ServiceResult<CategoryView> {
        let mut conn = self.pool.acquire().await.map_err(DbError::from)?;
        category(&mut conn, code).await
    }

    pub async fn update_category(
        &self,
        actor: &Actor,
        code: &str,
        patch: CategoryPatch,
    ) -> ServiceResult<CategoryView> {
        require(actor, Capability::Administer)?;
        let mut tx = db::begin(&self.pool).await?;
        let before = category(&mut tx, code).await?;
        let values = CategoryInput {
            names: match patch.name {
                Some(name) => name.resolve()?,
                None => before.names.clone(),
            },
            parent: patch.parent.apply(before.parent.clone()),
            retention: patch.retention.apply(before.retention.clone()),
            folder_kind: patch.folder_kind.apply(before.folder_kind),
            fields: patch.fields.unwrap_or_else(|| before.fields.clone()),
            checklist: patch.checklist.unwrap_or_else(|| before.checklist.clone()),
            access: patch
                .access
                .apply(before.access_own.then(|| before.access.clone())),
        };
        let prepared = prepare_category(&mut tx, Some(code), values).await?;
        db::catalogue::update_category(&mut tx, code, &prepared.values())
            .await
            .map_err(folder_kind_taken)?;
        let after = category(&mut tx, code).await?;
        audit(
            &mut tx,
            actor,
            AuditAction::CategoryUpdated,
            serde_json::json!({ "before": before, "after": after }),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(after)
    }

    pub async fn delete_category(&self, actor: &Actor, code: &str) -> ServiceResult<()> {
        require(actor, Capability::Administer)?;
        self.delete(actor, "category", code, |conn, code| {
            Box::pin(db::catalogue::delete_category(conn, code))
        })
        .await
    }

    /// Deletes set-up data that nothing refers to; in use, it is a 409.
    pub(super) async fn delete<F>(
        &self,
        actor: &Actor,
        what: &str,
        code: &str,
        delete: F,
    ) -> ServiceResult<()>
    where
        F: for<'c> FnOnce(
            &'c mut PgConnection,
            &'c str,
        ) -> std::pin::Pin<
            Box<dyn Future<Output = Result<bool, DbError>> + Send + 'c>,
        >,
    {
        let mut tx = db::begin(&self.pool).await?;
        let deleted = delete(&mut tx, code)
            .await
            .map_err(|error| match error.conflict() {
                Some(_) => ServiceError::Conflict(format!(
                    "{what} {code:?} is in use and cannot be deleted"
                )),
                None => error.into(),
            })?;
        if !deleted {
            return Err(ServiceError::NotFound(format!(
                "no {what} with code {code:?}"
            )));
        }
        audit(
            &mut tx,
            actor,
            AuditAction::CatalogueDeleted,
            serde_json::json!({ "what": what, "code": code }),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(())
    }
}

/// A category's values before its codes are resolved.
pub(super) struct CategoryInput {
    pub(super) names: Names,
    pub(super) parent: Option<String>,
    pub(super) retention: Option<String>,
    pub(super) folder_kind: Option<PartyKind>,
    pub(super) fields: Vec<FieldDefinition>,
    pub(super) checklist: Vec<ChecklistItem>,
    /// Its own access rule; `None` inherits the parent's.
    pub(super) access: Option<AccessRule>,
}

/// A category's values with codes resolved and lists checked.
pub(super) struct PreparedCategory {
    names: Names,
    parent_id: Option<Uuid>,
    retention_id: Option<Uuid>,
    folder_kind: Option<PartyKind>,
    fields: Value,
    checklist: Value,
    access: Option<Value>,
}

impl PreparedCategory {
    pub(super) fn values(&self) -> CategoryValues<'_> {
        CategoryValues {
            name_hans: &self.names.zh_hans,
            name_hant: &self.names.zh_hant,
            name_en: &self.names.en,
            parent_id: self.parent_id,
            default_retention_id: self.retention_id,
            folder_kind: self.folder_kind.map(PartyKind::as_str),
            fields: &self.fields,
            checklist: &self.checklist,
            access: self.access.as_ref(),
        }
    }
}

/// Checks a category's fields and checklist and resolves its parent and retention codes;
/// `code` is the category being changed, which may not become its own ancestor.
pub(super) async fn prepare_category(
    conn: &mut PgConnection,
    code: Option<&str>,
    input: CategoryInput,
) -> ServiceResult<PreparedCategory> {
    check_definitions(&input.fields)?;
    check_checklist(&input.checklist)?;
    let parent_id = match input.parent.as_deref() {
        None => None,
        Some(parent) => {
            let categories = db::catalogue::list_categories(conn).await?;
            // walk up from the new parent: meeting `code` would make a cycle
            let mut current = Some(parent.to_owned());
            let mut parent_id = None;
            while let Some(name) = current {
                if Some(name.as_str()) == code {
                    return Err(ServiceError::Validation(format!(
                        "parent: {parent:?} is this category or one of its sub-categories"
                    )));
                }
                let row = categories
                    .iter()
                    .find(|row| row.code == name)
                    .ok_or_else(|| {
                        ServiceError::Validation(format!("parent: no category with code {name:?}"))
                    })?;
                parent_id.get_or_insert(row.id);
                current = row.parent_code.clone();
            }
            parent_id
        }
    };
    let retention_id = match input.retention.as_deref() {
        None => None,
        Some(policy) => Some(
            db::catalogue::find_retention(conn, policy)
                .await?
                .ok_or_else(|| {
                    ServiceError::Validation(format!(
                        "retention: no retention policy with code {policy:?}"
                    ))
                })?
                .id,
        ),
    };
    Ok(PreparedCategory {
        names: input.names,
        parent_id,
        retention_id,
        folder_kind: input.folder_kind,
        fields: serde_json::to_value(&input.fields)
            .map_err(|error| ServiceError::Internal(error.to_string()))?,
        checklist: serde_json::to_value(&input.checklist)
            .map_err(|error| ServiceError::Internal(error.to_string()))?,
        access: input
            .access
            .map(|rule| {
                check_access(rule).and_then(|rule| {
                    serde_json::to_value(rule)
                        .map_err(|error| ServiceError::Internal(error.to_string()))
                })
            })
            .transpose()?,
    })
}

/// An access rule to store: at least one grant, each once.
fn check_access(rule: AccessRule) -> ServiceResult<AccessRule> {
    if rule.see.is_empty() {
        return Err(ServiceError::Validation(
            "access.see: name at least one grant (admin, archivist, director, general_manager, \
             department_manager)"
                .into(),
        ));
    }
    Ok(rule.normalised())
}
