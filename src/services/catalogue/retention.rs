//! Retention policies (保管期限表): permanent or a number of years from the formation
//! year or from an event.

use super::*;
use crate::domain::audit::AuditAction;

impl CatalogueService {
    pub async fn create_retention(
        &self,
        actor: &Actor,
        input: NewRetentionPolicy,
    ) -> ServiceResult<RetentionPolicyView> {
        require(actor, Capability::Administer)?;
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
            AuditAction::RetentionPolicyCreated,
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
        require(actor, Capability::Administer)?;
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
        let recomputed =
            filing::recompute_retention(&mut tx, filing::RetentionScope::Policy(before.id)).await?;
        let after = retention(&mut tx, code).await?;
        audit(
            &mut tx,
            actor,
            AuditAction::RetentionPolicyUpdated,
            serde_json::json!({ "before": before, "after": after, "records_recomputed": recomputed }),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(after)
    }

    pub async fn delete_retention(&self, actor: &Actor, code: &str) -> ServiceResult<()> {
        require(actor, Capability::Administer)?;
        self.delete(actor, "retention policy", code, |conn, code| {
            Box::pin(db::catalogue::delete_retention(conn, code))
        })
        .await
    }

    // ---- categories ----
}

/// Years and trigger of a policy, checked.
pub(super) fn policy_terms(
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
