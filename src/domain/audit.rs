//! The audit trail: who changed what, for admins to review.

use anyhow::Context;
use serde_json::Value;
use sqlx::PgConnection;

use super::ids::{TenantId, UserId};

/// Records `action` (e.g. `number.add`) by `user_id` (`None` for the operator CLI or the system).
pub async fn record(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    user_id: Option<UserId>,
    action: &str,
    details: Value,
) -> anyhow::Result<()> {
    sqlx::query!(
        "insert into audit_log (tenant_id, user_id, action, details) values ($1, $2, $3, $4)",
        tenant_id as TenantId,
        user_id as Option<UserId>,
        action,
        details
    )
    .execute(conn)
    .await
    .with_context(|| format!("record audit entry {action}"))?;
    Ok(())
}

/// Records an operator action that concerns no tenant (e.g. `secrets.rotate`).
pub async fn record_system(
    conn: &mut PgConnection,
    action: &str,
    details: Value,
) -> anyhow::Result<()> {
    sqlx::query!(
        "insert into audit_log (tenant_id, user_id, action, details) values (null, null, $1, $2)",
        action,
        details
    )
    .execute(conn)
    .await
    .with_context(|| format!("record audit entry {action}"))?;
    Ok(())
}
