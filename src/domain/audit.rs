//! The audit trail: who changed what, from where, for admins to review. The address is the
//! client's of the request being served ([`from_client`]), so every service that records an
//! entry gets it without passing it along.

use std::future::Future;

use anyhow::Context;
use serde_json::Value;
use sqlx::PgConnection;

use super::{
    ids::{TenantId, UserId},
    messages::SentBy,
};

tokio::task_local! {
    /// The address of the client whose request is being served.
    static CLIENT: Option<String>;
}

/// Runs `work` (a request's handling) with `address` recorded on every entry it writes.
pub async fn from_client<F: Future>(address: Option<String>, work: F) -> F::Output {
    CLIENT.scope(address, work).await
}

/// The client's address, inside [`from_client`].
fn client() -> Option<String> {
    CLIENT.try_with(Clone::clone).ok().flatten()
}

/// Records `action` by `by`: an agent as the entry's user, a program by its API key's id in the
/// details, the operator as no one.
pub async fn record_by(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: SentBy,
    action: &str,
    mut details: Value,
) -> anyhow::Result<()> {
    if let (Some(key_id), Some(fields)) = (by.api_key_id(), details.as_object_mut()) {
        fields.insert("api_key_id".into(), key_id.to_string().into());
    }
    record(conn, tenant_id, by.user_id(), action, details).await
}

/// Records `action` (e.g. `number.add`) by `user_id` (`None` for the operator CLI or the system),
/// with the client's address when a request is being served.
pub async fn record(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    user_id: Option<UserId>,
    action: &str,
    details: Value,
) -> anyhow::Result<()> {
    sqlx::query!(
        "insert into audit_log (tenant_id, user_id, action, details, ip) values ($1, $2, $3, $4, $5)",
        tenant_id as TenantId,
        user_id as Option<UserId>,
        action,
        details,
        client()
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
        "insert into audit_log (tenant_id, user_id, action, details, ip) values (null, null, $1, $2, $3)",
        action,
        details,
        client()
    )
    .execute(conn)
    .await
    .with_context(|| format!("record audit entry {action}"))?;
    Ok(())
}

/// An entry of the trail, as the audit page shows it.
pub struct Entry {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    /// Who acted: a member's name, or `None` for the operator CLI and the system.
    pub actor: Option<String>,
    pub action: String,
    pub details: Value,
    /// Where the request came from, when one made the change.
    pub ip: Option<String>,
}

/// Which entries of the trail to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    /// Those whose action starts with this (`user.` for every change to members).
    pub action: Option<&'a str>,
    /// Those of this member.
    pub member: Option<UserId>,
    /// Those older than this entry.
    pub before: Option<i64>,
}

/// The tenant's entries that `filter` lets through, newest first, `limit` of them.
pub async fn entries(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    filter: Filter<'_>,
    limit: i64,
) -> anyhow::Result<Vec<Entry>> {
    let Filter {
        action,
        member,
        before,
    } = filter;
    let prefix = action.map(|a| {
        format!(
            "{}%",
            a.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    sqlx::query_as!(
        Entry,
        r#"select a.id, a.created_at as at, u.name as "actor?", a.action, a.details, a.ip
           from audit_log a
           left join users u on u.tenant_id = a.tenant_id and u.id = a.user_id
           where a.tenant_id = $1
             and ($2::text is null or a.action like $2)
             and ($3::bigint is null or a.id < $3)
             and ($5::bigint is null or a.user_id = $5)
           order by a.id desc
           limit $4"#,
        tenant_id as TenantId,
        prefix,
        before,
        limit,
        member as Option<UserId>
    )
    .fetch_all(conn)
    .await
    .context("read the audit trail")
}
