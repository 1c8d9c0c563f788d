//! Queued failures ("make the next send from this number fail with 131026"), kept in
//! `sandbox_faults` so that whichever process answers the next send consumes it, exactly once.

use anyhow::Context;
use sqlx::PgConnection;

use crate::{domain::ids::NumberId, whatsapp::errors};

/// The codes the sandbox answers with Meta's own title and details (any other code gets a generic
/// body), with their titles: what an admin may queue as a fault.
pub fn known_codes() -> impl Iterator<Item = (i64, &'static str)> {
    errors::all()
        .filter_map(|entry| Some((entry.code, entry.graph.as_ref()?.title)))
        .chain([(190, "Access token has expired")])
}

/// Queues a failure: the next send from this number is answered with Meta's error for `code`.
pub async fn queue_fault(
    conn: &mut PgConnection,
    number_id: NumberId,
    code: i64,
) -> anyhow::Result<()> {
    let code = i32::try_from(code).with_context(|| format!("{code} is not a Meta error code"))?;
    sqlx::query!(
        "insert into sandbox_faults (phone_number_id, code) values ($1, $2)",
        number_id as NumberId,
        code
    )
    .execute(conn)
    .await
    .context("queue sandbox fault")?;
    Ok(())
}

/// Consumes the oldest fault queued for the number, if any. Concurrent sends each take a different
/// fault (or none): a locked row is skipped, never handed out twice.
pub(super) async fn take(
    conn: &mut PgConnection,
    number_id: NumberId,
) -> anyhow::Result<Option<i64>> {
    let code = sqlx::query_scalar!(
        "delete from sandbox_faults
         where id = (select id from sandbox_faults where phone_number_id = $1
                     order by id limit 1 for update skip locked)
         returning code",
        number_id as NumberId
    )
    .fetch_optional(conn)
    .await
    .context("take sandbox fault")?;
    Ok(code.map(i64::from))
}
