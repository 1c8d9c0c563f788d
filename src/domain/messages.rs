//! Messages as the operator's tools address them: by their id alone.

use anyhow::Context;
use sqlx::PgConnection;

/// The tenant a message belongs to, for operator commands that name only the message.
pub async fn tenant_of(conn: &mut PgConnection, message_id: i64) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar!("select tenant_id from messages where id = $1", message_id)
        .fetch_optional(conn)
        .await
        .context("look up message")
}
