//! `smb_message_echoes`: messages the business sent from the WhatsApp Business app on a number it
//! also uses with the Cloud API (coexistence). Each becomes an outbound message in the customer's
//! conversation, already sent; it does not open the window (only the customer writing does). An
//! echo that edits or deletes an earlier message changes that message, like the customer's own.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/reference/smb_message_echoes>

use anyhow::Context;
use serde_json::Value;
use sqlx::PgConnection;

use super::{changes, statuses::sync_message_statuses};
use crate::{
    domain::{
        contacts, conversations,
        events::{self, Kind},
        ids::{ConversationId, MessageId, NumberId, TenantId},
        numbers::Route,
    },
    whatsapp::{
        payload::{self, Echo, EchoesValue},
        summary::summarize,
    },
};

/// A parsed `smb_message_echoes` change; each echo keeps its raw JSON.
pub struct EchoesChange {
    pub phone_number_id: String,
    /// The business number's digits, to tell it from the customer's.
    business: String,
    echoes: Vec<(Echo, Value)>,
}

/// Parses a `smb_message_echoes` change value; every echo must name its customer.
pub fn parse(value: Value) -> Result<EchoesChange, String> {
    let value: EchoesValue = serde_json::from_value(value)
        .map_err(|e| format!("malformed `smb_message_echoes` change: {e}"))?;
    let echoes = payload::with_raw(value.message_echoes, "echo")?;
    let change = EchoesChange {
        phone_number_id: value.metadata.phone_number_id,
        business: digits(value.metadata.display_phone_number.as_deref().unwrap_or("")),
        echoes,
    };
    if let Some((echo, _)) = change
        .echoes
        .iter()
        .find(|(e, _)| change.customer(e).is_none())
    {
        return Err(format!(
            "echo {} names no customer (`to` or `to_user_id`)",
            echo.id
        ));
    }
    Ok(change)
}

impl EchoesChange {
    /// The customer an echo went to: `to`, unless that is the business's own number (some
    /// payloads swap `from` and `to`), or else the business-scoped `to_user_id`.
    fn customer<'a>(&self, echo: &'a Echo) -> Option<contacts::Identity<'a>> {
        let is_business =
            |number: &&String| !self.business.is_empty() && digits(number) == self.business;
        let wa_id = match echo.to.as_ref().filter(|to| !is_business(to)) {
            Some(to) => Some(to.as_str()),
            None => echo
                .from
                .as_ref()
                .filter(|from| !is_business(from))
                .map(String::as_str),
        };
        let user_id = echo.to_user_id.as_deref();
        (wa_id.is_some() || user_id.is_some()).then_some(contacts::Identity {
            wa_id,
            user_id,
            profile_name: None,
        })
    }
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// Applies every echo of the change to the number's tenant.
pub async fn apply(
    conn: &mut PgConnection,
    route: Route,
    change: EchoesChange,
) -> anyhow::Result<()> {
    for (echo, raw) in &change.echoes {
        let who = change.customer(echo).context("echo without a customer")?;
        if let Some(edit) = changes::parse(&echo.id, &echo.kind, echo.timestamp, raw) {
            changes::record(conn, route, &edit).await?;
            continue;
        }
        let contact_id = contacts::upsert(conn, route.tenant_id, who).await?;
        let conversation_id = conversations::upsert(
            conn,
            route.tenant_id,
            route.number_id,
            contact_id,
            None,
            Some(echo.timestamp),
        )
        .await?;
        let inserted = sqlx::query!(
            r#"insert into messages (tenant_id, conversation_id, phone_number_id, direction, wamid,
                 type, body, content, meta_timestamp, context_wamid, status, sent_at)
             values ($1, $2, $3, 'outbound', $4, $5, $6, $7, $8, $9, 'sent', $8)
             on conflict (phone_number_id, wamid) do nothing
             returning id as "id: MessageId",
                 exists (select 1 from message_changes c
                         where c.phone_number_id = $3 and c.target_wamid = $4) as "changed!""#,
            route.tenant_id as TenantId,
            conversation_id as ConversationId,
            route.number_id as NumberId,
            echo.id,
            echo.kind,
            summarize(raw),
            raw,
            echo.timestamp,
            echo.context.as_ref().and_then(|c| c.id.as_deref()),
        )
        .fetch_optional(&mut *conn)
        .await
        .context("store message echo")?;
        if let Some(inserted) = inserted {
            let kinds = [Kind::MessageAdded];
            events::announce(
                conn,
                route.tenant_id,
                conversation_id,
                Some(inserted.id),
                &kinds,
            )
            .await?;
            if inserted.changed {
                changes::apply_to(conn, route, &echo.id).await?;
            }
        }
        // Delivery statuses of the echo may have come first.
        sync_message_statuses(conn, &[route.number_id], std::slice::from_ref(&echo.id)).await?;
    }
    Ok(())
}
