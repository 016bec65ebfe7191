//! Presets (config/presets/*.toml): a whole classification, retention schedule and
//! departments loaded in one transaction, adding only what is missing.

use super::categories::{CategoryInput, prepare_category};
use super::retention::policy_terms;
use super::*;
use crate::domain::audit::AuditAction;

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
    /// Deadline rules of the plans (R22): follow-ups, sign-offs, reviews.
    #[serde(default)]
    deadline_rules: Vec<PresetRule>,
}

/// A deadline rule of a preset, as `PUT /api/v1/reminder-rules/{code}` takes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetRule {
    code: String,
    party_kind: String,
    trigger: String,
    delay: String,
    #[serde(default)]
    repeat_every: Option<String>,
    kind: String,
    subject: String,
    #[serde(default)]
    recipient_role: Option<crate::domain::user::Role>,
    #[serde(default)]
    until_signed_off: Option<bool>,
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
    #[serde(default)]
    access: Option<AccessRule>,
}

impl CatalogueService {
    /// Loads a named preset (`enterprise`): adds what is missing, changes nothing that exists.
    pub async fn apply_preset(
        &self,
        actor: Option<&Actor>,
        name: &str,
    ) -> ServiceResult<PresetSummary> {
        if let Some(actor) = actor {
            require(actor, Capability::Administer)?;
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
            if db::catalogue::insert_department(
                &mut tx,
                &department.code,
                &department.name,
                department.branch,
            )
            .await?
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
                access: category.access,
            };
            let prepared = prepare_category(&mut tx, None, values).await?;
            if db::catalogue::insert_category(&mut tx, &category.code, &prepared.values()).await? {
                summary.categories += 1;
            }
        }
        for rule in preset.deadline_rules {
            let input = crate::services::reminders::RuleInput {
                party_kind: rule.party_kind,
                trigger: rule.trigger,
                delay: rule.delay,
                repeat_every: rule.repeat_every,
                kind: rule.kind,
                subject: rule.subject,
                recipient_role: rule.recipient_role,
                active: None,
                until_signed_off: rule.until_signed_off,
            };
            let row = crate::services::reminders::rules::checked_rule(&rule.code, input).map_err(
                |reason| {
                    ServiceError::Internal(format!("preset {name}: rule {}: {reason}", rule.code))
                },
            )?;
            if db::deadlines::write_rule(&mut tx, &row, false).await? {
                summary.deadline_rules += 1;
            }
        }
        db::audit::append(
            &mut tx,
            actor.map(|actor| actor.user_id),
            AuditAction::CataloguePresetApplied,
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
}
