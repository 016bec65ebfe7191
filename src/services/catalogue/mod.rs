//! Set-up data of the catalogue, kept as data (R6): fonds (全宗), departments, retention
//! policies (保管期限表) and categories (分類方案) with their custom fields and checklists,
//! and the presets that fill them. One file per kind of set-up data.

mod categories;
mod preset;
mod retention;
mod units;

use figment::Figment;
use figment::providers::{Format, Toml};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Actor, ServiceError, ServiceResult, filing, require};
use crate::db::catalogue::{CategoryRow, CategoryValues};
use crate::db::{self, DbError, PgConnection, Pool};
use crate::domain::audit::AuditAction;
use crate::domain::catalogue::{
    ChecklistItem, FieldDefinition, NameInput, Names, check_checklist, check_definitions,
};
use crate::domain::party::PartyKind;
use crate::domain::permissions::AccessRule;
use crate::domain::permissions::Capability;
use crate::domain::record::Patch;
use crate::domain::retention::Trigger;
use crate::domain::validation::{ValidationError, check_code};
use crate::services::access::Rules;

/// The enterprise preset, as data.
pub const ENTERPRISE_PRESET: &str = include_str!("../../../config/presets/enterprise.toml");

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
    /// A branch (分支機構) reports its catalogue to the parent within a month of filing (R22).
    #[serde(default)]
    pub branch: bool,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub branch: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentView {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub branch: bool,
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
    /// Who sees its records without a loan and who approves loans (R11); absent: the
    /// parent's rule, or the standard one.
    #[serde(default)]
    pub access: Option<AccessRule>,
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
    /// A new access rule; `null` to inherit the parent's (or the standard) rule again.
    #[serde(default)]
    #[schema(value_type = Option<AccessRule>)]
    pub access: Patch<AccessRule>,
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
    /// The access rule in force: who sees its records without a loan, who approves loans.
    pub access: AccessRule,
    /// Whether the category sets the rule itself (else it is inherited).
    pub access_own: bool,
    /// The category the rule in force comes from; absent for the standard rule.
    pub access_from: Option<String>,
}

/// What loading a preset added.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct PresetSummary {
    pub fonds: usize,
    pub departments: usize,
    pub retention_policies: usize,
    pub categories: usize,
    pub deadline_rules: usize,
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
}

fn required(field: &str, value: &str) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    Ok(value.to_owned())
}

fn taken(error: DbError, conflict: db::Conflict, what: &str, code: &str) -> ServiceError {
    if error.conflict() == Some(conflict) {
        ServiceError::Conflict(format!("a {what} with code {code:?} exists"))
    } else {
        error.into()
    }
}

fn folder_kind_taken(error: DbError) -> ServiceError {
    if error.conflict() == Some(db::Conflict::FolderKind) {
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
    action: AuditAction,
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
    let rules = Rules::load(conn).await?;
    category_view(row, &rules)
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
        branch: row.branch,
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

fn category_view(row: CategoryRow, rules: &Rules) -> ServiceResult<CategoryView> {
    let stored = |error: serde_json::Error| {
        ServiceError::Internal(format!("category {}: {error}", row.code))
    };
    let access = rules.in_force(Some(row.id));
    let access_from = match access.1 {
        Some(source) if source == row.id => Some(row.code.clone()),
        Some(source) => rules.code_of(source),
        None => None,
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
        access: access.0,
        access_own: row.access.is_some(),
        access_from,
    })
}
