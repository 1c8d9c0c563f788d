//! Outbound webhook endpoints: where a tenant's admins have Switchboard post what happens, in
//! Meta's format (Meta's own payloads, re-signed with the endpoint's secret, so a bot written for
//! Meta's webhooks works unchanged) or in Switchboard's (our events, with a timestamped
//! signature). Events are queued in `webhook_deliveries` in the transaction of the change that
//! makes them (`announce()` and `webhook_event()` in SQL, [`forward_meta`] for Meta's payloads,
//! [`template_status`]), so one is delivered if and only if its change commits; the deliverer
//! (`crate::outbound_webhooks`) sends them. The same rows are each endpoint's delivery log.
//! Every statement is scoped by tenant; changes are audited.

use anyhow::Context;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::json;
use sqlx::PgConnection;

use super::{
    audit,
    ids::{TemplateId, TenantId, UserId, WebhookDeliveryId, WebhookEndpointId, WebhookEventId},
    secrets::Rotation,
};
use crate::crypto::{Cipher, tokens::random_token};

/// The events of the `switchboard` format.
pub const EVENTS: [&str; 8] = [
    "message.received",
    "message.status",
    "message.sent_by_agent",
    "conversation.assigned",
    "conversation.status",
    "conversation.window_closing",
    "conversation.window_closed",
    "template.status",
];

/// How an endpoint is sent its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Format {
    /// Meta's webhook payloads as Meta sent them, signed in `X-Hub-Signature-256`.
    Meta,
    /// Switchboard's events, signed in `Switchboard-Signature: t=…,v1=…`.
    Switchboard,
}

impl Format {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "meta" => Some(Self::Meta),
            "switchboard" => Some(Self::Switchboard),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Meta => "meta",
            Self::Switchboard => "switchboard",
        }
    }
}

/// Why an endpoint was not registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointRefused {
    #[error("The URL must be an http:// or https:// address of at most 2,000 characters.")]
    BadUrl,
    #[error("The URL must not carry a user name or password: the secret signs every delivery.")]
    Credentials,
    #[error("Choose at least one event.")]
    NoEvents,
    #[error("There is no event {0:?}.")]
    UnknownEvent(String),
}

/// A new endpoint.
pub struct NewEndpoint<'a> {
    pub url: &'a str,
    pub format: Format,
    /// For the `switchboard` format; ignored for `meta`.
    pub events: &'a [String],
}

/// A registered endpoint, with its secret (shown once).
pub struct Created {
    pub id: WebhookEndpointId,
    pub secret: SecretString,
}

/// Checks and registers an endpoint of the tenant, with a new secret; audited as
/// `webhook.create` by `by`.
pub async fn create(
    conn: &mut PgConnection,
    cipher: &Cipher,
    tenant_id: TenantId,
    by: Option<UserId>,
    new: &NewEndpoint<'_>,
) -> anyhow::Result<Result<Created, EndpointRefused>> {
    let url = match checked_url(new.url) {
        Ok(url) => url,
        Err(refused) => return Ok(Err(refused)),
    };
    let events: Vec<String> = match new.format {
        Format::Meta => Vec::new(),
        Format::Switchboard => {
            if let Some(unknown) = new.events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
                return Ok(Err(EndpointRefused::UnknownEvent(unknown.clone())));
            }
            if new.events.is_empty() {
                return Ok(Err(EndpointRefused::NoEvents));
            }
            EVENTS
                .iter()
                .filter(|event| new.events.iter().any(|e| e == *event))
                .map(|event| (*event).to_owned())
                .collect()
        }
    };
    let secret = format!("whsec_{}", random_token());
    let sealed = cipher.seal(secret.as_bytes(), &secret_context(tenant_id));
    let id = sqlx::query_scalar!(
        r#"insert into webhook_endpoints (tenant_id, url, format, events, secret_encrypted, created_by)
           values ($1, $2, $3, $4, $5, $6) returning id as "id: WebhookEndpointId""#,
        tenant_id as TenantId,
        url,
        new.format as Format,
        &events,
        sealed,
        by as Option<UserId>
    )
    .fetch_one(&mut *conn)
    .await
    .context("register webhook endpoint")?;
    let details = json!({ "endpoint_id": id, "url": url, "format": new.format.as_str(),
                          "events": events });
    audit::record(conn, tenant_id, by, "webhook.create", details).await?;
    Ok(Ok(Created {
        id,
        secret: secret.into(),
    }))
}

/// `url` trimmed, if an http(s) URL with a host and without credentials.
fn checked_url(url: &str) -> Result<String, EndpointRefused> {
    let url = url.trim();
    let parsed = url::Url::parse(url).map_err(|_| EndpointRefused::BadUrl)?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none_or(str::is_empty)
        || url.len() > 2000
    {
        return Err(EndpointRefused::BadUrl);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(EndpointRefused::Credentials);
    }
    Ok(url.to_owned())
}

fn secret_context(tenant_id: TenantId) -> String {
    format!("webhook_endpoints.secret:{tenant_id}")
}

/// An endpoint as the console lists it.
pub struct EndpointSummary {
    pub id: WebhookEndpointId,
    pub url: String,
    pub format: Format,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub failing_since: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    /// Deliveries waiting (or being retried).
    pub pending: i64,
}

/// The tenant's endpoints, newest first.
pub async fn list(
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> anyhow::Result<Vec<EndpointSummary>> {
    summaries(conn, tenant_id, None).await
}

/// The tenant's endpoint `id`.
pub async fn find(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    id: WebhookEndpointId,
) -> anyhow::Result<Option<EndpointSummary>> {
    Ok(summaries(conn, tenant_id, Some(id)).await?.pop())
}

/// The tenant's endpoints (only `id`, when given), newest first.
async fn summaries(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    id: Option<WebhookEndpointId>,
) -> anyhow::Result<Vec<EndpointSummary>> {
    sqlx::query_as!(
        EndpointSummary,
        r#"select e.id as "id: WebhookEndpointId", e.url, e.format as "format: Format", e.events,
                  e.created_at, e.failing_since, e.disabled_at, e.disabled_reason,
                  (select count(*) from webhook_deliveries d
                   where d.endpoint_id = e.id and d.state = 'pending') as "pending!"
           from webhook_endpoints e
           where e.tenant_id = $1 and ($2::bigint is null or e.id = $2)
           order by e.id desc"#,
        tenant_id as TenantId,
        id as Option<WebhookEndpointId>
    )
    .fetch_all(conn)
    .await
    .context("list webhook endpoints")
}

/// Turns the endpoint on (its failure streak forgotten; what waited is sent) or off (what is
/// queued for it waits); audited. `false` when the tenant has no such endpoint.
pub async fn set_enabled(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: Option<UserId>,
    id: WebhookEndpointId,
    enabled: bool,
) -> anyhow::Result<bool> {
    let changed = sqlx::query!(
        "update webhook_endpoints
         set disabled_at = case when $3 then null else coalesce(disabled_at, now()) end,
             disabled_reason = case when $3 then null else 'Turned off by an admin' end,
             failing_since = case when $3 then null else failing_since end
         where tenant_id = $1 and id = $2",
        tenant_id as TenantId,
        id as WebhookEndpointId,
        enabled
    )
    .execute(&mut *conn)
    .await
    .context("turn webhook endpoint on or off")?
    .rows_affected()
        == 1;
    if changed {
        let action = if enabled {
            "webhook.enable"
        } else {
            "webhook.disable"
        };
        audit::record(conn, tenant_id, by, action, json!({ "endpoint_id": id })).await?;
    }
    Ok(changed)
}

/// Deletes the endpoint and its delivery log; audited. `false` when the tenant has no such
/// endpoint.
pub async fn delete(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: Option<UserId>,
    id: WebhookEndpointId,
) -> anyhow::Result<bool> {
    let url = sqlx::query_scalar!(
        "delete from webhook_endpoints where tenant_id = $1 and id = $2 returning url",
        tenant_id as TenantId,
        id as WebhookEndpointId
    )
    .fetch_optional(&mut *conn)
    .await
    .context("delete webhook endpoint")?;
    let Some(url) = url else { return Ok(false) };
    let details = json!({ "endpoint_id": id, "url": url });
    audit::record(conn, tenant_id, by, "webhook.delete", details).await?;
    Ok(true)
}

/// One delivery in an endpoint's log.
pub struct Delivery {
    pub id: WebhookDeliveryId,
    pub event_id: String,
    pub event_type: String,
    pub state: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    /// When it is tried next; none while it waits for an earlier delivery of its conversation.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub last_latency_ms: Option<i32>,
    pub response_snippet: Option<String>,
}

/// Deliveries in an endpoint's log per page.
pub const LOG_PAGE: i64 = 50;

/// A page of the endpoint's deliveries, newest first, before `before`.
pub async fn deliveries(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    endpoint_id: WebhookEndpointId,
    before: Option<WebhookDeliveryId>,
) -> anyhow::Result<Vec<Delivery>> {
    sqlx::query_as!(
        Delivery,
        r#"select d.id as "id: WebhookDeliveryId", d.event_id, d.event_type, d.state, d.attempts,
                  d.created_at, nullif(d.next_attempt_at, 'infinity') as next_attempt_at,
                  d.last_attempt_at, d.last_status, d.last_error,
                  d.last_latency_ms, d.response_snippet
           from webhook_deliveries d
           where d.tenant_id = $1 and d.endpoint_id = $2 and ($3::bigint is null or d.id < $3)
           order by d.id desc limit $4"#,
        tenant_id as TenantId,
        endpoint_id as WebhookEndpointId,
        before as Option<WebhookDeliveryId>,
        LOG_PAGE
    )
    .fetch_all(conn)
    .await
    .context("read the delivery log")
}

/// Queues the endpoint's delivery `id` again, as a new entry of the log with the same event id
/// and body (the receiver dedupes by the id); audited. `false` when the tenant's endpoint has no
/// such delivery.
pub async fn replay(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: Option<UserId>,
    endpoint_id: WebhookEndpointId,
    id: WebhookDeliveryId,
) -> anyhow::Result<bool> {
    let replayed = sqlx::query_scalar!(
        r#"insert into webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, order_key, body)
           select d.tenant_id, d.endpoint_id, d.event_id, d.event_type, d.order_key, d.body
           from webhook_deliveries d where d.tenant_id = $1 and d.endpoint_id = $2 and d.id = $3
           returning id as "id: WebhookDeliveryId""#,
        tenant_id as TenantId,
        endpoint_id as WebhookEndpointId,
        id as WebhookDeliveryId
    )
    .fetch_optional(&mut *conn)
    .await
    .context("replay a delivery")?;
    let Some(replay) = replayed else {
        return Ok(false);
    };
    let details = json!({ "delivery_id": id, "replay_id": replay });
    audit::record(conn, tenant_id, by, "webhook.replay", details).await?;
    Ok(true)
}

/// Queues Meta's payloads of the webhook events `ids` (just applied) for the `meta` endpoints of
/// the tenant whose app received each, as Meta sent them. A customer's payloads on a number keep
/// their order.
pub async fn forward_meta(conn: &mut PgConnection, ids: &[WebhookEventId]) -> anyhow::Result<()> {
    let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
    // `json`, not `jsonb`: Meta's text may hold \u0000, which jsonb refuses.
    sqlx::query!(
        r#"insert into webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, order_key, body)
           select e.tenant_id, e.id, 'meta_' || ev.id, 'meta',
                  'm' || coalesce(p.value ->> 'phone_number_id', '') || ':'
                      || coalesce(p.value ->> 'customer', ''),
                  ev.body
           from webhook_events ev
           join meta_apps a on a.id = ev.app_id
           join webhook_endpoints e on e.tenant_id = a.tenant_id and e.disabled_at is null
                                   and e.format = 'meta'
           cross join lateral (
               select json_build_object(
                   'phone_number_id', v #>> '{metadata,phone_number_id}',
                   'customer', coalesce(v #>> '{messages,0,from}',
                                        v #>> '{statuses,0,recipient_id}')) as value
               from (select convert_from(ev.body, 'UTF8')::json
                            #> '{entry,0,changes,0,value}' as v) change
           ) p
           where ev.id = any($1)
           order by ev.id, e.id"#,
        &ids
    )
    .execute(conn)
    .await
    .context("queue Meta's payloads for the tenants' endpoints")?;
    Ok(())
}

/// Queues `template.status` for the tenant's endpoints that take it: the template `id` (Meta's
/// `meta_template_id`) moved to `status`, for `reason`.
pub async fn template_status(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    id: TemplateId,
) -> anyhow::Result<()> {
    sqlx::query!(
        r#"with event as (select 'evt_' || nextval('webhook_event_ids') as id)
           insert into webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, order_key, body)
           select e.tenant_id, e.id, event.id, 'template.status', 't' || t.id,
                  convert_to(jsonb_build_object(
                      'id', event.id, 'type', 'template.status', 'created_at', now(),
                      'data', jsonb_build_object('template', jsonb_build_object(
                          'id', t.id, 'meta_template_id', t.meta_template_id, 'name', t.name,
                          'language', t.language, 'category', t.category, 'status', t.status,
                          'reason', t.status_reason, 'waba_id', t.waba_id)))::text, 'UTF8')
           from message_templates t
           cross join event
           join webhook_endpoints e on e.tenant_id = t.tenant_id and e.disabled_at is null
                                   and e.format = 'switchboard'
                                   and 'template.status' = any (e.events)
           where t.tenant_id = $1 and t.id = $2"#,
        tenant_id as TenantId,
        id as TemplateId
    )
    .execute(conn)
    .await
    .context("queue a template.status event")?;
    Ok(())
}

/// The endpoint's secret, opened.
pub fn open_secret(
    cipher: &Cipher,
    tenant_id: TenantId,
    sealed: &[u8],
) -> anyhow::Result<SecretString> {
    cipher.open_string(sealed, &secret_context(tenant_id))
}

/// Re-seals every endpoint secret not sealed with the cipher's current key (key rotation),
/// counting them in `rotation`; across tenants, like the operator's rotation.
pub async fn reseal_all(
    conn: &mut PgConnection,
    cipher: &Cipher,
    rotation: &mut Rotation,
) -> anyhow::Result<()> {
    let endpoints = sqlx::query!(
        r#"select id, tenant_id as "tenant_id: TenantId", secret_encrypted
           from webhook_endpoints order by id for update"#
    )
    .fetch_all(&mut *conn)
    .await
    .context("read the sealed webhook secrets")?;
    for endpoint in endpoints {
        let context = secret_context(endpoint.tenant_id);
        let resealed = rotation
            .reseal(cipher, &endpoint.secret_encrypted, &context)
            .with_context(|| format!("secret of webhook endpoint {}", endpoint.id))?;
        let Some(secret) = resealed else { continue };
        sqlx::query!(
            "update webhook_endpoints set secret_encrypted = $2 where id = $1",
            endpoint.id,
            secret
        )
        .execute(&mut *conn)
        .await
        .context("write a re-sealed webhook secret")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_urls_are_taken() {
        assert_eq!(
            checked_url(" https://hooks.example.com/wa?x=1 "),
            Ok("https://hooks.example.com/wa?x=1".into())
        );
        assert!(
            checked_url("http://10.0.0.5:8080/in").is_ok(),
            "checked when sending"
        );
        for bad in [
            "ftp://x.example/",
            "hooks.example.com",
            "https://",
            "javascript:alert(1)",
        ] {
            assert_eq!(checked_url(bad), Err(EndpointRefused::BadUrl), "{bad}");
        }
        assert_eq!(
            checked_url("https://user:pass@hooks.example.com/"),
            Err(EndpointRefused::Credentials)
        );
    }
}
