//! The audit trail: who did what to which record, and when.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::DbError;

/// Appends one event to the trail.
pub async fn append(
    conn: &mut PgConnection,
    actor_id: Option<Uuid>,
    action: &str,
    record_id: Option<Uuid>,
    details: &Value,
) -> Result<(), DbError> {
    sqlx::query!(
        "insert into audit_events (actor_id, action, record_id, details) values ($1, $2, $3, $4)",
        actor_id,
        action,
        record_id,
        details
    )
    .execute(conn)
    .await?;
    Ok(())
}
