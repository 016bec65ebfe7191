//! Fonds (全宗) and departments: the units records are filed under.

use super::*;
use crate::domain::audit::AuditAction;

impl CatalogueService {
    pub async fn create_fonds(&self, actor: &Actor, input: NewFonds) -> ServiceResult<FondsView> {
        require(actor, Capability::Administer)?;
        check_code("code", &input.code)?;
        let name = required("name", &input.name)?;
        let mut tx = db::begin(&self.pool).await?;
        db::catalogue::insert_fonds(&mut tx, Uuid::now_v7(), &input.code, &name)
            .await
            .map_err(|error| taken(error, db::Conflict::FondsCode, "fonds", &input.code))?;
        if input.default || db::catalogue::default_fonds(&mut tx).await?.is_none() {
            db::catalogue::set_default_fonds(&mut tx, &input.code).await?;
        }
        audit(
            &mut tx,
            actor,
            AuditAction::FondsCreated,
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
        require(actor, Capability::Administer)?;
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
            AuditAction::FondsUpdated,
            serde_json::json!({ "before": before, "after": after }),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(after)
    }

    pub async fn delete_fonds(&self, actor: &Actor, code: &str) -> ServiceResult<()> {
        require(actor, Capability::Administer)?;
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
        require(actor, Capability::Administer)?;
        check_code("code", &input.code)?;
        let name = required("name", &input.name)?;
        let mut tx = db::begin(&self.pool).await?;
        if !db::catalogue::insert_department(&mut tx, &input.code, &name, input.branch).await? {
            return Err(ServiceError::Conflict(format!(
                "a department with code {:?} exists",
                input.code
            )));
        }
        audit(
            &mut tx,
            actor,
            AuditAction::DepartmentCreated,
            serde_json::json!({ "code": input.code, "name": name, "branch": input.branch }),
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
        require(actor, Capability::Administer)?;
        let mut tx = db::begin(&self.pool).await?;
        let before = department(&mut tx, code).await?;
        if let Some(name) = &patch.name {
            db::catalogue::rename_department(&mut tx, code, &required("name", name)?).await?;
        }
        if let Some(branch) = patch.branch {
            db::catalogue::set_branch(&mut tx, code, branch).await?;
        }
        let after = department(&mut tx, code).await?;
        audit(
            &mut tx,
            actor,
            AuditAction::DepartmentUpdated,
            serde_json::json!({ "before": before, "after": after }),
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(after)
    }

    pub async fn delete_department(&self, actor: &Actor, code: &str) -> ServiceResult<()> {
        require(actor, Capability::Administer)?;
        self.delete(actor, "department", code, |conn, code| {
            Box::pin(db::catalogue::delete_department(conn, code))
        })
        .await
    }

    // ---- retention policies ----
}
