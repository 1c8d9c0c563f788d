//! Creating a sandbox number: a Meta app, number and WABA of Switchboard's own, clearly marked
//! (`sandbox-…` ids, `sandbox = true`), with a few approved templates to try the template path.

use anyhow::Context;
use rand::Rng;
use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::{
    crypto::{Cipher, SecretKey},
    domain::{
        apps::{self, AppSecrets},
        audit,
        ids::{TenantId, UserId},
        numbers::{self, NewNumber},
        templates::{self, TemplateRecord, TemplateStatus},
    },
};

/// A freshly created sandbox number.
pub struct SandboxNumber {
    pub phone_number_id: String,
    pub display_phone_number: String,
}

/// Creates a sandbox number (and, on first use, the tenant's sandbox app) with sample templates;
/// audited as added by `by` (`None` for the operator).
pub async fn create_number(
    conn: &mut PgConnection,
    cipher: &Cipher,
    tenant_id: TenantId,
    by: Option<UserId>,
) -> anyhow::Result<SandboxNumber> {
    let meta_app_id = format!("{}{tenant_id}", apps::SANDBOX_APP_PREFIX);
    let secrets = AppSecrets {
        app_secret: SecretKey::generate_material().into(),
        verify_token: SecretKey::generate_material().into(),
    };
    let existing = apps::find_credentials(conn, cipher, &meta_app_id).await?;
    let app_id = match existing {
        Some(app) => app.id,
        None => apps::ensure(conn, cipher, tenant_id, &meta_app_id, Some(secrets)).await?,
    };
    let digits: u64 = rand::thread_rng().gen_range(1_000_000..10_000_000);
    let phone_number_id = format!("sandbox-{digits}");
    let display_phone_number = format!(
        "+1 555 {} {}",
        &digits.to_string()[..3],
        &digits.to_string()[3..]
    );
    let waba_id = format!("sandbox-waba-{tenant_id}");
    let number = NewNumber {
        tenant_id,
        app_id,
        phone_number_id: &phone_number_id,
        waba_id: &waba_id,
        display_phone_number: Some(&display_phone_number),
        access_token: SecretKey::generate_material().into(),
        sandbox: true,
    };
    numbers::add(conn, cipher, number).await?;
    let details = json!({ "phone_number_id": phone_number_id, "sandbox": true });
    audit::record(conn, tenant_id, by, "number.add", details).await?;
    for (name, language, category, components) in sample_templates() {
        let record = TemplateRecord {
            meta_template_id: None,
            name,
            language,
            category: Some(category),
            status: TemplateStatus::Approved.as_str(),
            components: &components,
            parameter_format: "POSITIONAL",
        };
        templates::upsert(conn, tenant_id, &waba_id, &record)
            .await
            .context("seed sandbox templates")?;
    }
    Ok(SandboxNumber {
        phone_number_id,
        display_phone_number,
    })
}

fn sample_templates() -> Vec<(&'static str, &'static str, &'static str, Value)> {
    vec![
        (
            "hello_world",
            "en_US",
            "UTILITY",
            json!([
                { "type": "HEADER", "format": "TEXT", "text": "Hello World" },
                { "type": "BODY", "text": "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta." },
                { "type": "FOOTER", "text": "WhatsApp Business Platform sample message" }
            ]),
        ),
        (
            "order_update",
            "en_US",
            "UTILITY",
            json!([
                { "type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped.",
                  "example": { "body_text": [["Ana", "#1042"]] } },
                { "type": "BUTTONS", "buttons": [
                    { "type": "URL", "text": "Track it", "url": "https://example.com/track/{{1}}",
                      "example": ["https://example.com/track/1042"] }
                ] }
            ]),
        ),
        (
            "follow_up",
            "es",
            "UTILITY",
            json!([
                { "type": "BODY", "text": "Hola {{1}}, ¿podemos ayudarte con algo más?",
                  "example": { "body_text": [["Ana"]] } }
            ]),
        ),
        (
            "spring_sale",
            "en_US",
            "MARKETING",
            json!([
                { "type": "HEADER", "format": "IMAGE",
                  "example": { "header_handle": ["https://example.com/sale.jpg"] } },
                { "type": "BODY", "text": "Hi {{1}}, our spring sale is on: {{2}} off everything this week.",
                  "example": { "body_text": [["Ana", "20%"]] } },
                { "type": "BUTTONS", "buttons": [ { "type": "QUICK_REPLY", "text": "Stop promotions" } ] }
            ]),
        ),
    ]
}
