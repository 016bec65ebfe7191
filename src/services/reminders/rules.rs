//! The deadline rules of the regulations, kept as data (R22): after which trigger, how long,
//! how often again, for whom. The sweep reads them; archivists and admins change them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ReminderService;
use crate::db;
use crate::domain::audit::AuditAction;
use crate::domain::reminder::{Period, ReminderKind};
use crate::domain::user::Role;
use crate::services::{Actor, ServiceError, ServiceResult};

/// A rule as clients send it: `PUT /api/v1/reminder-rules/{code}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// `employee` or `customer`.
    pub party_kind: String,
    /// An event type of the party (`regularised`, `employment_ended`, `purchase`, `visit`, …),
    /// `folder_created` (the day the party's folder was made) or `record_filed` (the day of
    /// the latest filing into the folder).
    pub trigger: String,
    /// How long after the trigger the deadline falls: `30 days`, `3 months`, `15天`.
    pub delay: String,
    /// Again every so long after that, if given: `3 months` for quarterly reviews.
    #[serde(default)]
    pub repeat_every: Option<String>,
    /// `deadline`, `follow_up` or `review`.
    pub kind: String,
    /// What the reminder says, followed by the party's identifier and name.
    pub subject: String,
    /// Who is reminded; default `archivist`.
    #[serde(default)]
    pub recipient_role: Option<Role>,
    /// Default true; an inactive rule raises nothing.
    #[serde(default)]
    pub active: Option<bool>,
    /// The rule stops once the party's folder is signed off (`POST
    /// /api/v1/parties/{id}/sign-off`); default false.
    #[serde(default)]
    pub until_signed_off: Option<bool>,
}

/// A rule as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleView {
    pub code: String,
    pub party_kind: String,
    pub trigger: String,
    pub delay: String,
    pub repeat_every: Option<String>,
    pub kind: String,
    pub subject: String,
    pub recipient_role: String,
    pub active: bool,
    pub until_signed_off: bool,
}

/// The deadline rules.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleList {
    pub items: Vec<RuleView>,
}

impl ReminderService {
    /// The deadline rules, by code.
    pub async fn rules(&self) -> ServiceResult<RuleList> {
        let mut conn = db::acquire(&self.pool).await?;
        let rows = db::deadlines::rules(&mut conn).await?;
        Ok(RuleList {
            items: rows.into_iter().map(rule_view).collect(),
        })
    }

    /// Creates or replaces a rule (archivists, admins); audited.
    pub async fn put_rule(
        &self,
        actor: &Actor,
        code: &str,
        input: RuleInput,
    ) -> ServiceResult<RuleView> {
        if !matches!(actor.role, Role::Admin | Role::Archivist) {
            return Err(ServiceError::Forbidden(
                "only archivists and admins change reminder rules".into(),
            ));
        }
        let row = checked_rule(code, input).map_err(ServiceError::Validation)?;
        let mut tx = db::begin(&self.pool).await?;
        db::deadlines::write_rule(&mut tx, &row, true).await?;
        let view = rule_view(row);
        let details = serde_json::to_value(&view)
            .map_err(|error| ServiceError::Internal(error.to_string()))?;
        db::audit::append(
            &mut tx,
            Some(actor.user_id),
            AuditAction::ReminderRuleSaved,
            None,
            &details,
        )
        .await?;
        tx.commit().await.map_err(db::DbError::from)?;
        Ok(view)
    }
}

/// The rule `code` as stored, or why it cannot be.
pub(crate) fn checked_rule(code: &str, input: RuleInput) -> Result<db::deadlines::RuleRow, String> {
    let is_word = |text: &str| {
        !text.is_empty()
            && text.len() <= 64
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if !is_word(code) {
        return Err(format!(
            "code: {code:?} is not a rule code like \"customer_follow_up_3\""
        ));
    }
    if !["employee", "customer"].contains(&input.party_kind.as_str()) {
        return Err("party_kind: employee or customer".into());
    }
    let trigger = input.trigger.trim();
    if !is_word(trigger) {
        return Err(format!(
            "trigger: {trigger:?} is not an event type like \"employment_ended\" or folder_created"
        ));
    }
    let kind = ReminderKind::parse(&input.kind)
        .filter(|kind| {
            matches!(
                kind,
                ReminderKind::Deadline | ReminderKind::FollowUp | ReminderKind::Review
            )
        })
        .ok_or("kind: deadline, follow_up or review")?;
    let subject = input.subject.trim();
    if subject.is_empty() {
        return Err("subject: required".into());
    }
    let (delay_months, delay_days) = Period::parse(&input.delay)
        .map_err(|reason| format!("delay: {reason}"))?
        .months_and_days();
    let repeat = input
        .repeat_every
        .as_deref()
        .map(Period::parse)
        .transpose()
        .map_err(|reason| format!("repeat_every: {reason}"))?
        .map(Period::months_and_days);
    Ok(db::deadlines::RuleRow {
        code: code.to_owned(),
        party_kind: input.party_kind,
        trigger: trigger.to_owned(),
        delay_months,
        delay_days,
        repeat_months: repeat.map(|(months, _)| months),
        repeat_days: repeat.map(|(_, days)| days),
        kind: kind.as_str().to_owned(),
        subject: subject.to_owned(),
        recipient_role: input
            .recipient_role
            .unwrap_or(Role::Archivist)
            .as_str()
            .to_owned(),
        active: input.active.unwrap_or(true),
        stop_when: input
            .until_signed_off
            .unwrap_or(false)
            .then(|| "signed_off".to_owned()),
    })
}

fn rule_view(row: db::deadlines::RuleRow) -> RuleView {
    let period = |months: i32, days: i32| {
        Period::from_months_and_days(months, days)
            .map_or_else(|| "0 days".to_owned(), |p| p.to_string())
    };
    RuleView {
        delay: period(row.delay_months, row.delay_days),
        repeat_every: row
            .repeat_months
            .map(|months| period(months, row.repeat_days.unwrap_or(0))),
        code: row.code,
        party_kind: row.party_kind,
        trigger: row.trigger,
        kind: row.kind,
        subject: row.subject,
        recipient_role: row.recipient_role,
        active: row.active,
        until_signed_off: row.stop_when.as_deref() == Some("signed_off"),
    }
}
