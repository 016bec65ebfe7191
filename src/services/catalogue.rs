//! Set-up data of the catalogue, kept as data (R6): fonds (全宗), departments, retention
//! policies (保管期限表) and categories (分類方案) with their custom fields and checklists,
//! and the presets that fill them.

use figment::Figment;
use figment::providers::{Format, Toml};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Actor, ServiceError, ServiceResult, filing};
use crate::db::catalogue::{CategoryRow, CategoryValues};
use crate::db::{self, DbError, PgConnection, Pool};
use crate::domain::catalogue::{
    ChecklistItem, FieldDefinition, NameInput, Names, check_checklist, check_definitions,
};
use crate::domain::party::PartyKind;
use crate::domain::record::{Patch, ValidationError, check_code};
use crate::domain::retention::Trigger;
use crate::domain::user::Role;

/// The enterprise preset, as data.
pub const ENTERPRISE_PRESET: &str = include_str!("../../config/presets/enterprise.toml");

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFonds {
    pub code: String,
    pub name: String,
    /// Make this the installation's default fonds.
    #[serde(default)]
    pub default: bool,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FondsPatch {
    #[serde(default)]
    pub name: Option<String>,
    /// `true` makes this the default fonds.
    #[serde(default)]
    pub default: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FondsView {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub default: bool,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDepartment {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentPatch {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentView {
    pub id: Uuid,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRetentionPolicy {
    pub code: String,
    pub name: String,
    /// Years to keep; null or absent means permanent.
    #[serde(default)]
    pub years: Option<u32>,
    /// `formation_year` (default) or the event type that starts the clock.
    #[serde(default)]
    pub trigger: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionPatch {
    #[serde(default)]
    pub name: Option<String>,
    /// `null` makes the policy permanent.
    #[serde(default)]
    #[schema(value_type = Option<u32>)]
    pub years: Patch<u32>,
    #[serde(default)]
    pub trigger: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionPolicyView {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    /// null: permanent.
    pub years: Option<u32>,
    pub permanent: bool,
    pub trigger: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    pub code: String,
    /// One name, or `{"zh-Hans": …, "zh-Hant": …, "en": …}`.
    pub name: NameInput,
    /// Parent category code.
    #[serde(default)]
    pub parent: Option<String>,
    /// Default retention policy code of the category's records.
    #[serde(default)]
    pub retention: Option<String>,
    /// Makes this the category of employees' or customers' folders.
    #[serde(default)]
    pub folder_kind: Option<PartyKind>,
    #[serde(default)]
    pub fields: Vec<FieldDefinition>,
    #[serde(default)]
    pub checklist: Vec<ChecklistItem>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    #[serde(default)]
    pub name: Option<NameInput>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub parent: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub retention: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<PartyKind>)]
    pub folder_kind: Patch<PartyKind>,
    #[serde(default)]
    pub fields: Option<Vec<FieldDefinition>>,
    #[serde(default)]
    pub checklist: Option<Vec<ChecklistItem>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryView {
    pub id: Uuid,
    pub code: String,
    /// The Simplified Chinese name.
    pub name: String,
    pub names: Names,
    pub parent: Option<String>,
    pub retention: Option<String>,
    pub folder_kind: Option<PartyKind>,
    pub fields: Vec<FieldDefinition>,
    pub checklist: Vec<ChecklistItem>,
}

/// What loading a preset added.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct PresetSummary {
    pub fonds: usize,
    pub departments: usize,
    pub retention_policies: usize,
    pub categories: usize,
}

/// A preset file (config/presets/*.toml).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Preset {
    #[serde(default)]
    fonds: Vec<NewFonds>,
    #[serde(default)]
    departments: Vec<NewDepartment>,
    #[serde(default)]
    retention: Vec<NewRetentionPolicy>,
    #[serde(default)]
    categories: Vec<PresetCategory>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetCategory {
    code: String,
    names: Names,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    retention: Option<String>,
    #[serde(default)]
    folder_kind: Option<PartyKind>,
    #[serde(default)]
    fields: Vec<FieldDefinition>,
    #[serde(default)]
    checklist: Vec<ChecklistItem>,
}

/// The catalogue's set-up data.
#[derive(Clone)]
pub struct CatalogueService {
    pool: Pool,
}

impl CatalogueService {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    // ---- presets ----

    /// Loads a named preset (`enterprise`): adds what is missing, changes nothing that exists.
    pub async fn apply_preset(
        &self,
        actor: Option<&Actor>,
        name: &str,
    ) -> ServiceResult<PresetSummary> {
        if let Some(actor) = actor {
            require_admin(actor)?;
        }
        let text = match name {
            "enterprise" => ENTERPRISE_PRESET,
            other => {
                return Err(ServiceError::Validation(format!(
                    "preset: unknown preset {other:?}; the one preset is \"enterprise\""
                )));
            }
        };
        let preset: Preset = Figment::from(Toml::string(text))
            .extract()
            .map_err(|error| ServiceError::Internal(format!("preset {name}: {error}")))?;
        let mut tx = db::begin(&self.pool).await?;
        let mut summary = PresetSummary::default();
        for fonds in &preset.fonds {
            if db::catalogue::insert_fonds_if_missing(&mut tx, &fonds.code, &fonds.name).await? {
                summary.fonds += 1;
            }
            if fonds.default && db::catalogue::default_fonds(&mut tx).await?.is_none() {
                db::catalogue::set_default_fonds(&mut tx, &fonds.code).await?;
            }
        }
        for department in &preset.departments {
            if db::catalogue::insert_department(&mut tx, &department.code, &department.name).await?
            {
                summary.departments += 1;
            }
        }
        for policy in preset.retention {
            let (years, trigger) = policy_terms(policy.years, policy.trigger.as_deref())?;
            if db::catalogue::insert_retention(
                &mut tx,
                &policy.code,
                &policy.name,
                years,
                trigger.as_str(),
            )
            .await?
            {
                summary.retention_policies += 1;
            }
        }
        for category in preset.categories {
            let values = CategoryInput {
                names: category.names,
                parent: category.parent,
                retention: category.retention,
                folder_kind: category.folder_kind,
                fields: category.fields,
                checklist: category.checklist,
            };
            let prepared = prepare_category(&mut tx, None, values).await?;
            if db::catalogue::insert_category(&mut tx, &category.code, &prepared.values()).await? {
                summary.categories += 1;
            }
        }
        db::audit::append(
            &mut tx,
            actor.map(|actor| actor.user_id),
            "catalogue.preset_applied",
            None,
            &serde_json::json!({ "preset": name, "added": summary }),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(summary)
    }

    /// On a new installation (no fonds and no categories), loads `preset` unless it is "none".
    pub async fn initialise(&self, preset: &str) -> ServiceResult<Option<PresetSummary>> {
        if preset == "none" {
            return Ok(None);
        }
        let mut conn = self.pool.acquire().await.map_err(DbError::from)?;
        if !db::catalogue::is_empty(&mut conn).await? {
            return Ok(None);
        }
        drop(conn);
        Ok(Some(self.apply_preset(None, preset).await?))
    }

    // ---- fonds ----

    pub async fn create_fonds(&self, actor: &Actor, input: NewFonds) -> ServiceResult<FondsView> {
        require_admin(actor)?;
        check_code("code", &input.code)?;
        let name = required("name", &input.name)?;
        let mut tx = db::begin(&self.pool).await?;
        db::catalogue::insert_fonds(&mut tx, Uuid::now_v7(), &input.code, &name)
            .await
            .map_err(|error| taken(error, "fonds_code_key", "fonds", &input.code))?;
        if input.default || db::catalogue::default_fonds(&mut tx).await?.is_none() {
            db::catalogue::set_default_fonds(&mut tx, &input.code).await?;
        }
        audit(
            &mut tx,
            actor,
            "fonds.created",
            serde_json::json!({ "code": input.code, "name": name }),
        )
        .await?;
        let view = fonds(&mut tx, &input.code).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(view)
    }

    pub async fn list_fonds(&self) -> ServiceResult<Vec<FondsView>> {
        let mut conn = self.pool.acquire().await.map_err(DbError::from)?;
        Ok(db::catalogue::list_fonds(&mut conn)
            .await?
            .into_iter()
            .map(fonds_view)
            .collect())
    }

    pub async fn get_fonds(&self, code: &str) -> ServiceResult<FondsView> {
        let mut conn = self.pool.acquire().await.map_err(DbError::from)?;
        fonds(&mut conn, code).await
    }

    pub async fn update_fonds(
        &self,
        actor: &Actor,
        code: &str,
        patch: FondsPatch,
    ) -> ServiceResult<FondsView> {
        require_admin(actor)?;
        let mut tx = db::begin(&self.pool).await?;
        let before = fonds(&mut tx, code).await?;
        if let Some(name) = &patch.name {
            db::catalogue::rename_fonds(&mut tx, code, &required("name", name)?).await?;
        }
        match patch.default {
            Some(true) => db::catalogue::set_default_fonds(&mut tx, code).await?,
            Some(false) if before.default => {
                return Err(ServiceError::Conflict(
                    "there must be a default fonds: make another one the default instead".into(),
                ));
            }
            _ => {}
        }
        let after = fonds(&mut tx, code).await?;
        audit(
            &mut tx,
            actor,
            "fonds.updated",
            serde_json::json!({ "before": before, "after": after }),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(after)
    }

    pub async fn delete_fonds(&self, actor: &Actor, code: &str) -> ServiceResult<()> {
        require_admin(actor)?;
        self.delete(actor, "fonds", code, |conn, code| {
            Box::pin(db::catalogue::delete_fonds(conn, code))
        })
        .await
    }

    // ---- departments ----

    pub async fn create_department(
        &self,
        actor: &Actor,
        input: NewDepartment,
    ) -> ServiceResult<DepartmentView> {
        require_admin(actor)?;
        check_code("code", &input.code)?;
        let name = required("name", &input.name)?;
        let mut tx = db::begin(&self.pool).await?;
        if !db::catalogue::insert_department(&mut tx, &input.code, &name).await? {
            return Err(ServiceError::Conflict(format!(
                "a department with code {:?} exists",
                input.code
            )));
        }
        audit(
            &mut tx,
            actor,
            "department.created",
            serde_json::json!({ "code": input.code, "name": name }),
        )
        .await?;
        let view = department(&mut tx, &input.code).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(view)
    }

    pub async fn list_departments(&self) -> ServiceResult<Vec<DepartmentView>> {
        let mut conn = self.pool.acquire().await.map_err(DbError::from)?;
        Ok(db::catalogue::list_departments(&mut conn)
            .await?
            .into_iter()
            .map(department_view)
            .collect())
    }

    pub async fn get_department(&self, code: &str) -> ServiceResult<DepartmentView> {
        let mut conn = self.pool.acquire().await.map_err(DbError::from)?;
        department(&mut conn, code).await
    }

    pub async fn update_department(
        &self,
        actor: &Actor,
        code: &str,
        patch: DepartmentPatch,
    ) -> ServiceResult<DepartmentView> {
        require_admin(actor)?;
        let mut tx = db::begin(&self.pool).await?;
        let before = department(&mut tx, code).await?;
        if let Some(name) = &patch.name {
            db::catalogue::rename_department(&mut tx, code, &required("name", name)?).await?;
        }
        let after = department(&mut tx, code).await?;
        audit(
            &mut tx,
            actor,
            "department.updated",
            serde_json::json!({ "before": before, "after": after }),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(after)
    }

    pub async fn delete_department(&self, actor: &Actor, code: &str) -> ServiceResult<()> {
        require_admin(actor)?;
        self.delete(actor, "department", code, |conn, code| {
            Box::pin(db::catalogue::delete_department(conn, code))
        })
        .await
    }

    // ---- retention policies ----

    pub async fn create_retention(
        &self,
        actor: &Actor,
        input: NewRetentionPolicy,
    ) -> ServiceResult<RetentionPolicyView> {
        require_admin(actor)?;
        check_code("code", &input.code)?;
        let name = required("name", &input.name)?;
        let (years, trigger) = policy_terms(input.years, input.trigger.as_deref())?;
        let mut tx = db::begin(&self.pool).await?;
        if !db::catalogue::insert_retention(&mut tx, &input.code, &name, years, trigger.as_str())
            .await?
        {
            return Err(ServiceError::Conflict(format!(
                "a retention policy with code {:?} exists",
                input.code
            )));
        }
        audit(
            &mut tx,
            actor,
            "retention_policy.created",
            serde_json::json!({ "code": input.code, "name": name, "years": years, "trigger": trigger.as_str() }),
        )
        .await?;
        let view = retention(&mut tx, &input.code).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(view)
    }

    pub async fn list_retention(&self) -> ServiceResult<Vec<RetentionPolicyView>> {
        let mut conn = self.pool.acquire().await.map_err(DbError::from)?;
        Ok(db::catalogue::list_retention(&mut conn)
            .await?
            .into_iter()
            .map(retention_view)
            .collect())
    }

    pub async fn get_retention(&self, code: &str) -> ServiceResult<RetentionPolicyView> {
        let mut conn = self.pool.acquire().await.map_err(DbError::from)?;
        retention(&mut conn, code).await
    }

    /// Changes a policy; every active record under it gets its due date recomputed.
    pub async fn update_retention(
        &self,
        actor: &Actor,
        code: &str,
        patch: RetentionPatch,
    ) -> ServiceResult<RetentionPolicyView> {
        require_admin(actor)?;
        let mut tx = db::begin(&self.pool).await?;
        let before = retention(&mut tx, code).await?;
        let name = match &patch.name {
            Some(name) => required("name", name)?,
            None => before.name.clone(),
        };
        let years = patch.years.apply(before.years);
        let trigger = patch
            .trigger
            .clone()
            .unwrap_or_else(|| before.trigger.clone());
        let (years, trigger) = policy_terms(years, Some(&trigger))?;
        db::catalogue::update_retention(&mut tx, code, &name, years, trigger.as_str()).await?;
        let recomputed = filing::recompute_retention(&mut tx, None, None, Some(before.id)).await?;
        let after = retention(&mut tx, code).await?;
        audit(
            &mut tx,
            actor,
            "retention_policy.updated",
            serde_json::json!({ "before": before, "after": after, "records_recomputed": recomputed }),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(after)
    }

    pub async fn delete_retention(&self, actor: &Actor, code: &str) -> ServiceResult<()> {
        require_admin(actor)?;
        self.delete(actor, "retention policy", code, |conn, code| {
            Box::pin(db::catalogue::delete_retention(conn, code))
        })
        .await
    }

    // ---- categories ----

    pub async fn create_category(
        &self,
        actor: &Actor,
        input: NewCategory,
    ) -> ServiceResult<CategoryView> {
        require_admin(actor)?;
        check_code("code", &input.code)?;
        let mut tx = db::begin(&self.pool).await?;
        let values = CategoryInput {
            names: input.name.resolve()?,
            parent: input.parent,
            retention: input.retention,
            folder_kind: input.folder_kind,
            fields: input.fields,
            checklist: input.checklist,
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
            "category.created",
            serde_json::json!({ "category": view }),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(view)
    }

    pub async fn list_categories(&self) -> ServiceResult<Vec<CategoryView>> {
        let mut conn = self.pool.acquire().await.map_err(DbError::from)?;
        db::catalogue::list_categories(&mut conn)
            .await?
            .into_iter()
            .map(category_view)
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
        require_admin(actor)?;
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
        };
        let prepared = prepare_category(&mut tx, Some(code), values).await?;
        db::catalogue::update_category(&mut tx, code, &prepared.values())
            .await
            .map_err(folder_kind_taken)?;
        let after = category(&mut tx, code).await?;
        audit(
            &mut tx,
            actor,
            "category.updated",
            serde_json::json!({ "before": before, "after": after }),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(after)
    }

    pub async fn delete_category(&self, actor: &Actor, code: &str) -> ServiceResult<()> {
        require_admin(actor)?;
        self.delete(actor, "category", code, |conn, code| {
            Box::pin(db::catalogue::delete_category(conn, code))
        })
        .await
    }

    /// Deletes set-up data that nothing refers to; in use, it is a 409.
    async fn delete<F>(&self, actor: &Actor, what: &str, code: &str, delete: F) -> ServiceResult<()>
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
            .map_err(|error| match error.constraint() {
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
            "catalogue.deleted",
            serde_json::json!({ "what": what, "code": code }),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(())
    }
}

/// A category's values before its codes are resolved.
struct CategoryInput {
    names: Names,
    parent: Option<String>,
    retention: Option<String>,
    folder_kind: Option<PartyKind>,
    fields: Vec<FieldDefinition>,
    checklist: Vec<ChecklistItem>,
}

/// A category's values with codes resolved and lists checked.
struct PreparedCategory {
    names: Names,
    parent_id: Option<Uuid>,
    retention_id: Option<Uuid>,
    folder_kind: Option<PartyKind>,
    fields: Value,
    checklist: Value,
}

impl PreparedCategory {
    fn values(&self) -> CategoryValues<'_> {
        CategoryValues {
            name_hans: &self.names.zh_hans,
            name_hant: &self.names.zh_hant,
            name_en: &self.names.en,
            parent_id: self.parent_id,
            default_retention_id: self.retention_id,
            folder_kind: self.folder_kind.map(PartyKind::as_str),
            fields: &self.fields,
            checklist: &self.checklist,
        }
    }
}

/// Checks a category's fields and checklist and resolves its parent and retention codes;
/// `code` is the category being changed, which may not become its own ancestor.
async fn prepare_category(
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
    })
}

/// Years and trigger of a policy, checked.
fn policy_terms(
    years: Option<u32>,
    trigger: Option<&str>,
) -> ServiceResult<(Option<i32>, Trigger)> {
    let trigger = Trigger::parse(trigger.unwrap_or(crate::domain::retention::FORMATION_YEAR))?;
    let years = match years {
        Some(0) => {
            return Err(
                ValidationError::new("years", "must be at least 1 (null means permanent)").into(),
            );
        }
        Some(years) => {
            Some(i32::try_from(years).map_err(|_| ValidationError::new("years", "is too large"))?)
        }
        None => None,
    };
    Ok((years, trigger))
}

fn require_admin(actor: &Actor) -> ServiceResult<()> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "only an admin may change the catalogue's set-up data".into(),
        ))
    }
}

fn required(field: &str, value: &str) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    Ok(value.to_owned())
}

fn taken(error: DbError, constraint: &str, what: &str, code: &str) -> ServiceError {
    if error.constraint() == Some(constraint) {
        ServiceError::Conflict(format!("a {what} with code {code:?} exists"))
    } else {
        error.into()
    }
}

fn folder_kind_taken(error: DbError) -> ServiceError {
    if error.constraint() == Some("categories_one_folder_kind_idx") {
        ServiceError::Conflict(
            "another category already holds the folders of this kind of party".into(),
        )
    } else {
        error.into()
    }
}

async fn audit(
    conn: &mut PgConnection,
    actor: &Actor,
    action: &str,
    details: Value,
) -> ServiceResult<()> {
    db::audit::append(conn, Some(actor.user_id), action, None, &details).await?;
    Ok(())
}

async fn fonds(conn: &mut PgConnection, code: &str) -> ServiceResult<FondsView> {
    db::catalogue::find_fonds(conn, code)
        .await?
        .map(fonds_view)
        .ok_or_else(|| ServiceError::NotFound(format!("no fonds with code {code:?}")))
}

async fn department(conn: &mut PgConnection, code: &str) -> ServiceResult<DepartmentView> {
    db::catalogue::find_department(conn, code)
        .await?
        .map(department_view)
        .ok_or_else(|| ServiceError::NotFound(format!("no department with code {code:?}")))
}

async fn retention(conn: &mut PgConnection, code: &str) -> ServiceResult<RetentionPolicyView> {
    db::catalogue::find_retention(conn, code)
        .await?
        .map(retention_view)
        .ok_or_else(|| ServiceError::NotFound(format!("no retention policy with code {code:?}")))
}

async fn category(conn: &mut PgConnection, code: &str) -> ServiceResult<CategoryView> {
    let row = db::catalogue::find_category(conn, code)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no category with code {code:?}")))?;
    category_view(row)
}

fn fonds_view(row: db::catalogue::FondsRow) -> FondsView {
    FondsView {
        id: row.id,
        code: row.code,
        name: row.name,
        default: row.is_default,
    }
}

fn department_view(row: db::catalogue::DepartmentRow) -> DepartmentView {
    DepartmentView {
        id: row.id,
        code: row.code,
        name: row.name,
    }
}

fn retention_view(row: db::catalogue::RetentionRow) -> RetentionPolicyView {
    let years = row.years.and_then(|years| u32::try_from(years).ok());
    RetentionPolicyView {
        id: row.id,
        code: row.code,
        name: row.name,
        permanent: years.is_none(),
        years,
        trigger: row.trigger,
    }
}

fn category_view(row: CategoryRow) -> ServiceResult<CategoryView> {
    let stored = |error: serde_json::Error| {
        ServiceError::Internal(format!("category {}: {error}", row.code))
    };
    Ok(CategoryView {
        id: row.id,
        code: row.code.clone(),
        name: row.name_hans.clone(),
        names: Names {
            zh_hans: row.name_hans.clone(),
            zh_hant: row.name_hant.clone(),
            en: row.name_en.clone(),
        },
        parent: row.parent_code.clone(),
        retention: row.retention_code.clone(),
        folder_kind: row.folder_kind.as_deref().and_then(PartyKind::parse),
        fields: serde_json::from_value(row.fields.clone()).map_err(stored)?,
        checklist: serde_json::from_value(row.checklist.clone()).map_err(stored)?,
    })
}
