//! Customers who write to a tenant's number the way Meta tells Switchboard: a signed `messages`
//! webhook posted over HTTP to the test's server, then applied (by the background appliers when
//! the test started them).

use serde_json::{Value, json};
use switchboard::whatsapp::signature;

use crate::helpers::{
    APP_SECRET, CUSTOMER, META_APP_ID, PHONE_NUMBER_ID, TestApp, WABA_ID, envelope,
};

/// A customer of one number (and the app whose secret signs its webhooks).
pub struct Customer {
    pub wa_id: &'static str,
    pub name: &'static str,
    pub phone_number_id: &'static str,
    pub waba_id: &'static str,
    pub meta_app_id: &'static str,
    pub app_secret: &'static str,
}

/// Dana ([`CUSTOMER`]), who writes to the test tenant's number [`PHONE_NUMBER_ID`].
pub const DANA: Customer = Customer {
    wa_id: CUSTOMER,
    name: "Dana",
    phone_number_id: PHONE_NUMBER_ID,
    waba_id: WABA_ID,
    meta_app_id: META_APP_ID,
    app_secret: APP_SECRET,
};

impl Customer {
    /// The same person as another customer of the same number.
    pub const fn named(self, wa_id: &'static str, name: &'static str) -> Self {
        Self {
            wa_id,
            name,
            ..self
        }
    }

    /// Writes `text` now.
    pub async fn writes(&self, app: &TestApp, wamid: &str, text: &str) {
        self.sends(app, message(wamid, "text", json!({ "body": text })), 0)
            .await;
    }

    /// Sends `message` (`from`, `timestamp` filled in) `seconds_ago`; waits until it is applied.
    pub async fn sends(&self, app: &TestApp, mut message: Value, seconds_ago: i64) {
        message["from"] = json!(self.wa_id);
        let ts = chrono::Utc::now().timestamp() - seconds_ago;
        message["timestamp"] = json!(ts.to_string());
        let value = json!({
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550000000", "phone_number_id": self.phone_number_id },
            "contacts": [{ "profile": { "name": self.name }, "wa_id": self.wa_id }],
            "messages": [message],
        });
        let body = envelope(
            self.waba_id,
            None,
            vec![json!({ "field": "messages", "value": value })],
        );
        let signed = signature::sign(self.app_secret.as_bytes(), body.as_bytes());
        let status = reqwest::Client::new()
            .post(format!(
                "{}/webhooks/whatsapp/{}",
                app.url, self.meta_app_id
            ))
            .header("content-type", "application/json")
            .header(signature::HEADER, signed)
            .body(body)
            .send()
            .await
            .expect("an answer to the webhook")
            .status();
        assert_eq!(status, reqwest::StatusCode::OK, "the webhook was refused");
        app.apply().await;
    }
}

/// A message of `kind` with its `kind` object: `{"id", "type": kind, kind: content}`.
pub fn message(wamid: &str, kind: &str, content: Value) -> Value {
    let mut message = json!({ "id": wamid, "type": kind });
    message[kind] = content;
    message
}
