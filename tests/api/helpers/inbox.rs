//! The inbox's people: agents who sign in with [`PASSWORD`], and the customer who writes to them.

use secrecy::SecretString;
use serde_json::json;
use switchboard::domain::{
    templates::{self, TemplateRecord},
    users::{self, NewUser, Role},
};

use super::{
    ConversationId, TemplateId, TenantId, TestApp, UserId, WABA_ID, messages_webhook, text,
};

pub const PASSWORD: &str = "correct horse battery";

/// Creates an agent of `tenant_id` with [`PASSWORD`].
pub async fn user(app: &TestApp, tenant_id: TenantId, email: &str, name: &str) -> UserId {
    let mut conn = app.pool.acquire().await.unwrap();
    let password = SecretString::from(PASSWORD);
    let user = NewUser {
        email,
        name,
        role: Role::Agent,
        password: &password,
    };
    users::create(&mut conn, tenant_id, &user).await.unwrap()
}

/// The conversations a list page (or part of one) shows, top to bottom.
pub fn listed(html: &str) -> Vec<String> {
    html.split(r#"data-conversation=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// The customer writes "text" to [`super::PHONE_NUMBER_ID`] `hours_ago`; returns their
/// conversation.
pub async fn customer_writes(
    app: &TestApp,
    wamid: &str,
    text_body: &str,
    hours_ago: i64,
) -> ConversationId {
    customer_writes_as(app, super::CUSTOMER, wamid, text_body, hours_ago).await
}

/// The customer `wa_id` writes "text" to [`super::PHONE_NUMBER_ID`] `hours_ago`; returns their
/// conversation.
pub async fn customer_writes_as(
    app: &TestApp,
    wa_id: &str,
    wamid: &str,
    text_body: &str,
    hours_ago: i64,
) -> ConversationId {
    let ts = chrono::Utc::now().timestamp() - hours_ago * 3600;
    let mut message = text(wamid, ts, text_body);
    message["from"] = json!(wa_id);
    let mut body: serde_json::Value =
        serde_json::from_str(&messages_webhook(vec![message], vec![])).unwrap();
    body["entry"][0]["changes"][0]["value"]["contacts"][0]["wa_id"] = json!(wa_id);
    app.deliver(body.to_string()).await;
    sqlx::query_scalar(
        "select c.id from conversations c join contacts k on k.id = c.contact_id
         where k.tenant_id = $1 and k.wa_id = $2",
    )
    .bind(app.tenant_id)
    .bind(wa_id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// `order_update` (en_US), approved for [`WABA_ID`]: two body variables and a URL button, with
/// examples.
pub async fn approved_template(app: &TestApp) -> TemplateId {
    let components = json!([
        { "type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped.",
          "example": { "body_text": [["Dana", "#1042"]] } },
        { "type": "BUTTONS", "buttons": [{ "type": "URL", "text": "Track", "url": "https://example.com/t/{{1}}", "example": ["https://example.com/t/1042"] }] }
    ]);
    let record = TemplateRecord {
        meta_template_id: None,
        name: "order_update",
        language: "en_US",
        category: Some("UTILITY"),
        status: "APPROVED",
        components: &components,
        parameter_format: "POSITIONAL",
    };
    let mut conn = app.pool.acquire().await.unwrap();
    templates::upsert(&mut conn, app.tenant_id, WABA_ID, &record)
        .await
        .unwrap()
}
