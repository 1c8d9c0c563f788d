//! The tenant's numbers as the console lists them: identity, health, settings and queue, the
//! access token by its last characters only.

use anyhow::Context;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde_json::Value;
use sqlx::PgConnection;

use super::token_context;
use crate::{
    crypto::Cipher,
    domain::{
        apps,
        ids::{AppId, NumberId, TenantId},
    },
};

/// A number on the console's page.
pub struct NumberSummary {
    pub id: NumberId,
    pub app_id: AppId,
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_phone_number: Option<String>,
    pub verified_name: Option<String>,
    pub quality_rating: Option<String>,
    pub messaging_tier: Option<String>,
    pub token_ending: String,
    pub sandbox: bool,
    pub max_messages_per_second: i32,
    pub send_read_receipts: bool,
    pub paused_at: Option<DateTime<Utc>>,
    pub removed_at: Option<DateTime<Utc>>,
    pub checked_at: Option<DateTime<Utc>>,
    /// What the last "Check connection" found (see `health::check`).
    pub check_result: Option<Value>,
    /// Messages waiting to be sent from it.
    pub queued: i64,
}

impl NumberSummary {
    /// The number as people know it, else Meta's id.
    pub fn label(&self) -> &str {
        self.display_phone_number
            .as_deref()
            .unwrap_or(&self.phone_number_id)
    }

    /// The last check's answer in words: whether it worked, and what it found or why it failed.
    pub fn check_words(&self) -> Option<(bool, String)> {
        let result = self.check_result.as_ref()?;
        if result["ok"].as_bool() != Some(true) {
            let title = result["title"].as_str().unwrap_or("The check failed");
            let message = result["message"].as_str().unwrap_or_default();
            return Some((false, format!("{title}: {message}")));
        }
        let text = |key: &str| result[key].as_str().map(str::to_owned);
        let mut found = vec![format!(
            "Connected as {}",
            text("verified_name").unwrap_or_else(|| self.label().to_owned())
        )];
        if let Some(status) = text("status") {
            found.push(format!("status {}", status.to_lowercase()));
        }
        if let Some(name) = text("name_status") {
            found.push(format!("name {}", name.to_lowercase().replace('_', " ")));
        }
        if let Some(throughput) = text("throughput") {
            found.push(format!("throughput {}", throughput.to_lowercase()));
        }
        found.push(match &result["webhooks_subscribed"] {
            Value::Bool(true) => "the app receives its webhooks".to_owned(),
            Value::Bool(false) => "the app is NOT subscribed to its WABA's webhooks".to_owned(),
            Value::String(why) => format!("webhook subscription unknown: {why}"),
            _ => "webhook subscription unknown".to_owned(),
        });
        Some((true, found.join(" · ")))
    }

    /// The quality rating in words: Meta's GREEN / YELLOW / RED, or the last quality event.
    pub fn quality_words(&self) -> Option<&'static str> {
        self.quality_rating.as_deref().map(quality_words)
    }

    /// The messaging limit in words: how many customers it may start conversations with a day.
    pub fn limit_words(&self) -> Option<String> {
        self.messaging_tier.as_deref().map(limit_words)
    }
}

/// A quality rating or quality event, as an admin reads it.
pub fn quality_words(rating: &str) -> &'static str {
    match rating {
        "GREEN" => "High",
        "YELLOW" => "Medium",
        "RED" => "Low",
        "FLAGGED" => "Flagged: quality is low",
        "UNFLAGGED" => "No longer flagged",
        "DOWNGRADE" => "Limit lowered for low quality",
        "UPGRADE" => "Limit raised",
        "THROUGHPUT_UPGRADE" => "Throughput upgraded",
        "ONBOARDING" => "Onboarding",
        _ => "Unknown",
    }
}

/// A messaging limit tier (`TIER_1K`), as an admin reads it.
pub fn limit_words(tier: &str) -> String {
    let customers = match tier {
        "TIER_50" => "50",
        "TIER_250" => "250",
        "TIER_1K" => "1,000",
        "TIER_2K" => "2,000",
        "TIER_10K" => "10,000",
        "TIER_100K" => "100,000",
        "TIER_UNLIMITED" => return "Unlimited".into(),
        other => return other.to_owned(),
    };
    format!("{customers} customers a day")
}

/// The tenant's numbers, removed ones last, each group oldest first.
pub async fn summaries(
    conn: &mut PgConnection,
    cipher: &Cipher,
    tenant_id: TenantId,
) -> anyhow::Result<Vec<NumberSummary>> {
    let rows = sqlx::query!(
        r#"select n.id as "id: NumberId", n.app_id as "app_id: AppId", n.phone_number_id, n.waba_id,
                  n.display_phone_number, n.verified_name, n.quality_rating, n.messaging_tier,
                  n.access_token_encrypted, n.sandbox, n.max_messages_per_second,
                  n.send_read_receipts, n.paused_at, n.removed_at, n.checked_at, n.check_result,
                  (select count(*) from messages m
                   where m.tenant_id = $1 and m.phone_number_id = n.id and m.status = 'queued') as "queued!"
           from phone_numbers n
           where n.tenant_id = $1
           order by n.removed_at is not null, n.id"#,
        tenant_id as TenantId
    )
    .fetch_all(conn)
    .await
    .context("list the tenant's numbers")?;
    rows.into_iter()
        .map(|row| {
            let token = cipher.open_string(
                &row.access_token_encrypted,
                &token_context(&row.phone_number_id),
            )?;
            Ok(NumberSummary {
                id: row.id,
                app_id: row.app_id,
                token_ending: apps::ending(token.expose_secret()),
                phone_number_id: row.phone_number_id,
                waba_id: row.waba_id,
                display_phone_number: row.display_phone_number,
                verified_name: row.verified_name,
                quality_rating: row.quality_rating,
                messaging_tier: row.messaging_tier,
                sandbox: row.sandbox,
                max_messages_per_second: row.max_messages_per_second,
                send_read_receipts: row.send_read_receipts,
                paused_at: row.paused_at,
                removed_at: row.removed_at,
                checked_at: row.checked_at,
                check_result: row.check_result,
                queued: row.queued,
            })
        })
        .collect()
}
