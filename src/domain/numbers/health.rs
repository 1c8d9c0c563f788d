//! A number's health: its quality rating, messaging limit and verified name as webhooks report
//! them and as "Check connection" finds them, each change kept in `number_history` (the newest are
//! the console's alerts), and the last check's answer in words.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};

use super::overview::{limit_words, quality_words};
use crate::{
    crypto::Cipher,
    domain::{
        audit,
        ids::{NumberId, TenantId, UserId},
        numbers,
    },
    whatsapp::graph::{Auth, GraphClient, GraphFailure, GraphUrls},
};

/// Where a change of health was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Webhook,
    Check,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Check => "check",
        }
    }
}

/// What is known of a number's health; `None` leaves a field as it was.
#[derive(Debug, Clone, Default)]
pub struct Health<'a> {
    /// Meta's rating (GREEN, YELLOW, RED) or a quality event (FLAGGED, UNFLAGGED, …).
    pub quality: Option<&'a str>,
    /// The messaging limit tier (TIER_1K, …).
    pub limit: Option<&'a str>,
    pub verified_name: Option<&'a str>,
}

/// Stores `health` on the tenant's number and records in its history each field that changed.
pub async fn record(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    number_id: NumberId,
    source: Source,
    health: &Health<'_>,
) -> anyhow::Result<()> {
    sqlx::query!(
        r#"with before as (
               -- The statement's snapshot: the values before its update. (Locking them here
               -- instead would skip the row, which the update below changes in this statement.)
               select quality_rating, messaging_tier, verified_name from phone_numbers
               where tenant_id = $1 and id = $2
           ),
           stored as (
               update phone_numbers set
                   quality_rating = coalesce($4, quality_rating),
                   messaging_tier = coalesce($5, messaging_tier),
                   verified_name = coalesce($6, verified_name),
                   updated_at = now()
               where tenant_id = $1 and id = $2
               returning id
           )
           insert into number_history (tenant_id, number_id, source, field, value)
           select $1, $2, $3, change.field, change.value
           from before cross join stored
           cross join lateral (values ('quality', $4, before.quality_rating),
                                      ('limit', $5, before.messaging_tier),
                                      ('name', $6, before.verified_name)) as change (field, value, old)
           where change.value is not null and change.value is distinct from change.old"#,
        tenant_id as TenantId,
        number_id as NumberId,
        source.as_str(),
        health.quality,
        health.limit,
        health.verified_name
    )
    .execute(conn)
    .await
    .context("record the number's health")?;
    Ok(())
}

/// A change of a number's health, as the console lists it.
pub struct Change {
    pub number_id: NumberId,
    pub number: String,
    pub at: DateTime<Utc>,
    pub source: String,
    pub field: String,
    pub value: String,
}

impl Change {
    /// "Quality: Medium", "Messaging limit: 10,000 customers a day", "Verified name: Acme".
    pub fn words(&self) -> String {
        match self.field.as_str() {
            "quality" => format!("Quality: {}", quality_words(&self.value)),
            "limit" => format!("Messaging limit: {}", limit_words(&self.value)),
            _ => format!("Verified name: {}", self.value),
        }
    }

    /// Whether the change is bad news: quality down, limit lowered.
    pub fn is_warning(&self) -> bool {
        self.field == "quality"
            && matches!(
                self.value.as_str(),
                "YELLOW" | "RED" | "FLAGGED" | "DOWNGRADE"
            )
    }
}

/// The tenant's newest changes of quality and limit since `since`, newest first (the alerts).
pub async fn alerts(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    since: DateTime<Utc>,
    limit: i64,
) -> anyhow::Result<Vec<Change>> {
    sqlx::query_as!(
        Change,
        r#"select h.number_id as "number_id: NumberId",
                  coalesce(n.display_phone_number, n.phone_number_id) as "number!",
                  h.at, h.source, h.field, h.value
           from number_history h
           join phone_numbers n on n.tenant_id = h.tenant_id and n.id = h.number_id
           where h.tenant_id = $1 and h.field in ('quality', 'limit') and h.at >= $2
           order by h.id desc
           limit $3"#,
        tenant_id as TenantId,
        since,
        limit
    )
    .fetch_all(conn)
    .await
    .context("list the numbers' alerts")
}

/// The newest `limit` changes of each of the tenant's numbers, newest first.
pub async fn histories(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    limit: i64,
) -> anyhow::Result<Vec<Change>> {
    sqlx::query_as!(
        Change,
        r#"select h.number_id as "number_id: NumberId",
                  coalesce(n.display_phone_number, n.phone_number_id) as "number!",
                  h.at, h.source, h.field, h.value
           from phone_numbers n
           cross join lateral (
               select * from number_history h
               where h.tenant_id = n.tenant_id and h.number_id = n.id
               order by h.id desc limit $2
           ) h
           where n.tenant_id = $1
           order by h.id desc"#,
        tenant_id as TenantId,
        limit
    )
    .fetch_all(conn)
    .await
    .context("list the numbers' histories")
}

/// Asks the Graph API about the tenant's number and whether its app is subscribed to the WABA's
/// webhooks; stores the answer (or the failure in words) and the health it reports. Audited.
/// `None` when the number is not the tenant's. No connection is held across the Graph calls.
pub async fn check(
    db: &PgPool,
    cipher: &Cipher,
    graph: &GraphClient,
    urls: &GraphUrls,
    tenant_id: TenantId,
    by: UserId,
    id: NumberId,
) -> anyhow::Result<Option<Value>> {
    let mut conn = db.acquire().await.context("acquire connection")?;
    let Some(number) = numbers::credentials_if_active(&mut conn, cipher, tenant_id, id).await?
    else {
        return Ok(None);
    };
    drop(conn);
    let auth = Auth {
        base_url: urls.for_number(number.sandbox),
        token: &number.access_token,
    };
    let result = match graph.phone_number(&auth, &number.phone_number_id).await {
        Err(failure) => failed(&failure),
        Ok(info) => {
            let subscribed = match graph.subscribed_apps(&auth, &number.waba_id).await {
                Ok(apps) => json!(apps.iter().any(|app| app.id == number.meta_app_id)),
                Err(failure) => failed(&failure)["message"].clone(),
            };
            let mut conn = db.acquire().await.context("acquire connection")?;
            let health = Health {
                quality: info.quality_rating.as_deref(),
                limit: info.messaging_limit_tier.as_deref(),
                verified_name: info.verified_name.as_deref(),
            };
            record(&mut conn, tenant_id, id, Source::Check, &health).await?;
            json!({
                "ok": true,
                "display_phone_number": info.display_phone_number,
                "verified_name": info.verified_name,
                "quality_rating": info.quality_rating,
                "messaging_limit_tier": info.messaging_limit_tier,
                "throughput": info.throughput_level,
                "status": info.status,
                "name_status": info.name_status,
                "webhooks_subscribed": subscribed,
            })
        }
    };
    let mut conn = db.acquire().await.context("acquire connection")?;
    sqlx::query!(
        "update phone_numbers set checked_at = now(), check_result = $3
         where tenant_id = $1 and id = $2",
        tenant_id as TenantId,
        id as NumberId,
        result
    )
    .execute(&mut *conn)
    .await
    .context("store the connection check")?;
    let details = json!({ "phone_number_id": number.phone_number_id, "ok": result["ok"] });
    audit::record(&mut conn, tenant_id, Some(by), "number.check", details).await?;
    Ok(Some(result))
}

/// A failed Graph call, in words.
fn failed(failure: &GraphFailure) -> Value {
    let (title, message) = failure.in_words();
    json!({ "ok": false, "title": title, "message": message })
}
