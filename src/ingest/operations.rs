//! What the operations page reads of a tenant's traffic: its webhook backlog, the events that
//! need an admin, and its recent failed sends grouped by reason. Each query is scoped by the
//! tenant (events through their app) and read by index.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::domain::ids::{AppId, TenantId, WebhookEventId};

/// The tenant's webhook events by state.
pub struct Backlog {
    pub pending: i64,
    /// When the oldest pending event arrived.
    pub oldest_pending: Option<DateTime<Utc>>,
    pub failed: i64,
    pub unroutable: i64,
}

/// The tenant's webhook backlog.
pub async fn backlog(conn: &mut PgConnection, tenant_id: TenantId) -> anyhow::Result<Backlog> {
    sqlx::query_as!(
        Backlog,
        r#"select
               (select count(*) from webhook_events e join meta_apps a on a.id = e.app_id
                where a.tenant_id = $1 and e.state = 'pending') as "pending!",
               (select min(e.received_at) from webhook_events e join meta_apps a on a.id = e.app_id
                where a.tenant_id = $1 and e.state = 'pending') as oldest_pending,
               (select count(*) from webhook_events e join meta_apps a on a.id = e.app_id
                where a.tenant_id = $1 and e.state = 'failed') as "failed!",
               (select count(*) from webhook_events e join meta_apps a on a.id = e.app_id
                where a.tenant_id = $1 and e.state = 'unroutable') as "unroutable!""#,
        tenant_id as TenantId
    )
    .fetch_one(conn)
    .await
    .context("read the webhook backlog")
}

/// An event that needs an admin, with the app it came to.
pub struct TroubledEvent {
    pub id: WebhookEventId,
    pub meta_app_id: String,
    pub received_at: DateTime<Utc>,
    pub error: Option<String>,
    pub unroutable: Vec<String>,
}

/// The tenant's newest failed or unroutable events, of one of its apps or across them all,
/// `limit` of them.
pub async fn troubled(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    app_id: Option<AppId>,
    limit: i64,
) -> anyhow::Result<Vec<TroubledEvent>> {
    sqlx::query_as!(
        TroubledEvent,
        r#"select e.id as "id: WebhookEventId", a.meta_app_id, e.received_at, e.error, e.unroutable
           from meta_apps a
           cross join lateral (
               select * from webhook_events e
               where e.app_id = a.id and e.state in ('failed', 'unroutable')
               order by e.id desc limit $2
           ) e
           where a.tenant_id = $1 and ($3::bigint is null or a.id = $3)
           order by e.id desc
           limit $2"#,
        tenant_id as TenantId,
        limit,
        app_id as Option<AppId>
    )
    .fetch_all(conn)
    .await
    .context("list the tenant's troubled events")
}

/// Failed or unconfirmed sends with one reason.
pub struct FailureGroup {
    pub code: Option<i32>,
    pub title: String,
    /// What the newest of them told the agent.
    pub message: Option<String>,
    pub count: i64,
    pub latest: DateTime<Utc>,
}

/// The tenant's failed or unconfirmed sends since `since`, grouped by reason, most frequent first.
pub async fn failures(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    since: DateTime<Utc>,
) -> anyhow::Result<Vec<FailureGroup>> {
    sqlx::query_as!(
        FailureGroup,
        r#"select m.error_code as code,
                  coalesce(m.error_title, 'No reason recorded') as "title!",
                  (array_agg(m.error_message order by m.id desc))[1] as message,
                  count(*) as "count!",
                  max(m.created_at) as "latest!"
           from messages m
           where m.tenant_id = $1 and m.status in ('failed', 'unknown') and m.created_at >= $2
           group by m.error_code, m.error_title
           order by count(*) desc, max(m.created_at) desc
           limit 20"#,
        tenant_id as TenantId,
        since
    )
    .fetch_all(conn)
    .await
    .context("group the tenant's recent failures")
}
