//! Playing the sandbox's customer: builds the inbound `messages` webhook Meta would send when a
//! customer writes to a sandbox number, signs it with the number's app secret, and posts it to
//! Switchboard's normal webhook endpoint, so it flows exactly like a real one.

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use rand::Rng;
use secrecy::ExposeSecret;
use serde_json::json;
use sqlx::PgConnection;

use crate::{
    crypto::Cipher,
    domain::{apps, numbers},
    whatsapp::{customer_id::CustomerId, signature},
};

/// A message from the sandbox customer.
pub struct CustomerMessage<'a> {
    /// The sandbox number's `phone_number_id`.
    pub phone_number_id: &'a str,
    /// The customer's phone number, in any format (`+1 555 000 1111`).
    pub from: &'a str,
    pub profile_name: &'a str,
    pub text: &'a str,
    /// Meta's timestamp for the message; set it in the past to see a closed window.
    pub sent_at: DateTime<Utc>,
}

/// Posts the customer's message to `switchboard_url`; returns its wamid.
pub async fn say(
    conn: &mut PgConnection,
    cipher: &Cipher,
    switchboard_url: &str,
    message: &CustomerMessage<'_>,
) -> anyhow::Result<String> {
    let route = numbers::route_by_phone_number_id(conn, message.phone_number_id)
        .await?
        .with_context(|| format!("unknown phone number id {}", message.phone_number_id))?;
    let number = numbers::credentials(conn, cipher, route.tenant_id, route.number_id).await?;
    if !number.sandbox {
        bail!(
            "{} is a real WhatsApp number, not a sandbox number",
            message.phone_number_id
        );
    }
    let app = apps::find_credentials(conn, cipher, &number.meta_app_id)
        .await?
        .context("the sandbox number's app is missing")?;
    let wa_id = match CustomerId::parse(message.from)? {
        CustomerId::WaId(wa_id) => wa_id,
        CustomerId::UserId(_) => bail!("the sandbox's customers write from a phone number"),
    };
    let wamid = format!("wamid.sandbox.{:016x}", rand::thread_rng().r#gen::<u64>());
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": number.waba_id,
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": number.phone_number_id, "phone_number_id": number.phone_number_id },
                    "contacts": [{ "profile": { "name": message.profile_name }, "wa_id": wa_id }],
                    "messages": [{
                        "from": wa_id,
                        "id": wamid,
                        "timestamp": message.sent_at.timestamp().to_string(),
                        "type": "text",
                        "text": { "body": message.text }
                    }]
                }
            }]
        }]
    })
    .to_string();
    let signature = signature::sign(app.app_secret.expose_secret().as_bytes(), body.as_bytes());
    let url = format!("{switchboard_url}/webhooks/whatsapp/{}", number.meta_app_id);
    let response = reqwest::Client::new()
        .post(&url)
        .header(signature::HEADER, signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .with_context(|| {
            format!("post the customer's message to {url} (is `switchboard serve` running?)")
        })?;
    if !response.status().is_success() {
        bail!(
            "Switchboard answered {} to the customer's message",
            response.status()
        );
    }
    Ok(wamid)
}
