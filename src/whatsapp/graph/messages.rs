//! Sending messages and read receipts: `POST /{phone-number-id}/messages`.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages>

use reqwest::Method;
use serde::{Deserialize, de};
use serde_json::{Value, json};

use super::{Auth, GraphClient, GraphFailure};

/// Meta's acceptance of a message: from here on its fate arrives as status webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "SendResponse")]
pub struct SentMessage {
    /// `messages[0].id`, the id every status webhook refers to.
    pub wamid: String,
    /// `contacts[0].wa_id`; absent for business-scoped user ids and groups.
    pub wa_id: Option<String>,
    /// `messages[0].message_status`, e.g. "accepted" (templates only).
    pub message_status: Option<String>,
}

#[derive(Deserialize)]
struct SendResponse {
    #[serde(default)]
    messages: Vec<SendEntry>,
    #[serde(default)]
    contacts: Vec<SendContact>,
}

#[derive(Deserialize)]
struct SendEntry {
    id: String,
    message_status: Option<String>,
}

#[derive(Deserialize)]
struct SendContact {
    wa_id: Option<String>,
}

impl TryFrom<SendResponse> for SentMessage {
    type Error = String;

    fn try_from(response: SendResponse) -> Result<Self, Self::Error> {
        let message = response
            .messages
            .into_iter()
            .next()
            .ok_or("the answer lists no message")?;
        // Meta's own examples show `"wa_id": "48XXXXXXXXX "`: keep the digits, not the padding.
        let wa_id = response
            .contacts
            .into_iter()
            .next()
            .and_then(|contact| contact.wa_id)
            .map(|wa_id| wa_id.trim().to_owned())
            .filter(|wa_id| !wa_id.is_empty());
        Ok(Self {
            wamid: message.id,
            wa_id,
            message_status: message.message_status,
        })
    }
}

/// `{"success": true}`; `false` reads as an unreadable answer.
pub(super) struct Succeeded;

impl<'de> Deserialize<'de> for Succeeded {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            success: bool,
        }
        if Raw::deserialize(deserializer)?.success {
            Ok(Self)
        } else {
            Err(de::Error::custom("success is false"))
        }
    }
}

impl GraphClient {
    /// Sends `body` (see [`crate::whatsapp::outbound::Outbound::to_request`]) from the number.
    #[tracing::instrument(skip_all, fields(phone_number_id = %phone_number_id))]
    pub async fn send_message(
        &self,
        auth: &Auth<'_>,
        phone_number_id: &str,
        body: &Value,
    ) -> Result<SentMessage, GraphFailure> {
        let url = self.url(auth, &[phone_number_id, "messages"])?;
        self.call(self.request(Method::POST, &url, auth).json(body))
            .await
    }

    /// Marks an inbound message read (blue ticks on the customer's phone).
    pub async fn mark_read(
        &self,
        auth: &Auth<'_>,
        phone_number_id: &str,
        wamid: &str,
    ) -> Result<(), GraphFailure> {
        self.read_receipt(auth, phone_number_id, wamid, false).await
    }

    /// Marks an inbound message read and, with `typing`, shows the customer "typing…" until the
    /// reply arrives (or 25 seconds pass).
    /// <https://developers.facebook.com/docs/whatsapp/cloud-api/typing-indicators>
    #[tracing::instrument(skip_all, fields(phone_number_id = %phone_number_id))]
    pub async fn read_receipt(
        &self,
        auth: &Auth<'_>,
        phone_number_id: &str,
        wamid: &str,
        typing: bool,
    ) -> Result<(), GraphFailure> {
        let url = self.url(auth, &[phone_number_id, "messages"])?;
        let mut body =
            json!({ "messaging_product": "whatsapp", "status": "read", "message_id": wamid });
        if typing {
            body["typing_indicator"] = json!({ "type": "text" });
        }
        let Succeeded = self
            .call(self.request(Method::POST, &url, auth).json(&body))
            .await?;
        Ok(())
    }
}
