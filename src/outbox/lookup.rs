//! What the send service reads before it checks a message, in one statement: the conversation as
//! it is sent to ([`SendContext`]) and the message its idempotency key was first used for. A
//! program sending to a customer by phone names the number and the customer instead of the
//! conversation; the number, the customer's conversation with it, the conversation and the key
//! are then one round trip too. At the Graph endpoint's rate, each round trip saved is a share of
//! the machine's time (docs/benchmarks.md, "Integrators").

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

use super::refused::SendRefused;
use super::send::Queued;
use crate::{
    domain::{
        conversations::SendContext,
        ids::{ContactId, ConversationId, MessageId, NumberId, TenantId},
    },
    whatsapp::customer_id::CustomerId,
};

/// The conversation a message goes to, and the message its key was first used for.
pub(super) struct Lookup {
    /// `None` when the conversation is not the tenant's (by id), or the customer has none with
    /// the number yet (by customer).
    pub context: Option<SendContext>,
    pub keyed: Option<KeyedMessage>,
}

/// The message an idempotency key was first used for.
pub(super) struct KeyedMessage {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub content: Value,
}

impl KeyedMessage {
    /// The same request again gets the same message; another request with the key is a conflict,
    /// as payment APIs answer it.
    pub fn answer(
        self,
        conversation_id: ConversationId,
        content: &Value,
    ) -> Result<Queued, SendRefused> {
        if self.conversation_id != conversation_id || &self.content != content {
            return Err(SendRefused::IdempotencyConflict {
                message_id: self.id,
            });
        }
        Ok(Queued {
            message_id: self.id,
            conversation_id,
            duplicate: true,
        })
    }
}

/// The tenant's conversation `conversation_id` and the message of `key`.
pub(super) async fn by_conversation(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    conversation_id: ConversationId,
    key: &str,
) -> anyhow::Result<Lookup> {
    let row = read(conn, tenant_id, Target::Conversation(conversation_id), key).await?;
    Ok(row.map_or(
        Lookup {
            context: None,
            keyed: None,
        },
        Row::lookup,
    ))
}

/// The tenant's number with Meta's `phone_number_id` (removed or not), `customer`'s conversation
/// with it and the message of `key`; `None` when the tenant has no such number. A user id finds
/// the conversation of a contact that has it, preferring one with a phone (as
/// `conversations::find_for`).
pub(super) async fn by_customer(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    phone_number_id: &str,
    customer: &CustomerId,
    key: &str,
) -> anyhow::Result<Option<(NumberId, Lookup)>> {
    let target = Target::Customer {
        phone_number_id,
        customer,
    };
    let row = read(conn, tenant_id, target, key).await?;
    Ok(row.and_then(|row| Some((row.target_number_id?, row.lookup()))))
}

/// What a message is sent to.
enum Target<'a> {
    Conversation(ConversationId),
    Customer {
        phone_number_id: &'a str,
        customer: &'a CustomerId,
    },
}

/// The target's number and conversation (if it has one), with the send context, and the message
/// of `key`; `None` when the conversation, or the number, is not the tenant's.
async fn read(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    target: Target<'_>,
    key: &str,
) -> anyhow::Result<Option<Row>> {
    let (conversation_id, phone_number_id, customer) = match target {
        Target::Conversation(id) => (Some(id), None, None),
        Target::Customer {
            phone_number_id,
            customer,
        } => (None, Some(phone_number_id), Some(customer)),
    };
    sqlx::query_as!(
        Row,
        r#"with target as (
               select c.phone_number_id as number_id, c.id as conversation_id
               from conversations c where c.tenant_id = $1 and c.id = $2
               union all
               select n.id,
                      (select c.id from conversations c join contacts k on k.id = c.contact_id
                       where c.tenant_id = $1 and c.phone_number_id = n.id and k.tenant_id = $1
                         and (k.wa_id = $4 or k.user_id = $5)
                       order by k.wa_id is null, k.id
                       limit 1)
               from phone_numbers n
               where $2::bigint is null and n.tenant_id = $1 and n.phone_number_id = $3
           )
           select target.number_id as "target_number_id?: NumberId",
                  c.id as "conversation_id?: ConversationId", n.id as "number_id?: NumberId",
                  n.waba_id as "waba_id?", k.id as "contact_id?: ContactId",
                  coalesce(k.wa_id, k.user_id) as "recipient?",
                  k.language as "contact_language?", t.default_language as "default_language?",
                  k.opted_out_at as "opted_out_at?",
                  c.last_customer_message_at as "last_customer_message_at?",
                  c.window_closed_by_meta_at as "window_closed_by_meta_at?",
                  n.removed_at is not null as "number_removed?",
                  m.id as "keyed_id?: MessageId",
                  m.conversation_id as "keyed_conversation_id?: ConversationId",
                  m.content as "keyed_content?"
           from target
           left join conversations c on c.tenant_id = $1 and c.id = target.conversation_id
           left join phone_numbers n on n.id = c.phone_number_id
           left join contacts k on k.id = c.contact_id
           left join tenants t on t.id = c.tenant_id
           left join messages m on m.tenant_id = $1 and m.idempotency_key = $6"#,
        tenant_id as TenantId,
        conversation_id as Option<ConversationId>,
        phone_number_id,
        customer.and_then(CustomerId::wa_id),
        customer.and_then(CustomerId::user_id),
        key
    )
    .fetch_optional(conn)
    .await
    .context("load the conversation and the idempotency key")
}

/// The message `key` was first used for, if any.
pub(super) async fn keyed_message(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    key: &str,
) -> anyhow::Result<Option<KeyedMessage>> {
    sqlx::query_as!(
        KeyedMessage,
        r#"select id as "id: MessageId", conversation_id as "conversation_id: ConversationId", content
           from messages where tenant_id = $1 and idempotency_key = $2"#,
        tenant_id as TenantId,
        key
    )
    .fetch_optional(conn)
    .await
    .context("look up idempotency key")
}

/// A look-up's row: the conversation's columns (all there, or the conversation is not) and the
/// keyed message's (likewise).
struct Row {
    /// The number sent from: the one named, or the conversation's.
    target_number_id: Option<NumberId>,
    conversation_id: Option<ConversationId>,
    number_id: Option<NumberId>,
    waba_id: Option<String>,
    contact_id: Option<ContactId>,
    recipient: Option<String>,
    contact_language: Option<String>,
    default_language: Option<String>,
    opted_out_at: Option<DateTime<Utc>>,
    last_customer_message_at: Option<DateTime<Utc>>,
    window_closed_by_meta_at: Option<DateTime<Utc>>,
    number_removed: Option<bool>,
    keyed_id: Option<MessageId>,
    keyed_conversation_id: Option<ConversationId>,
    keyed_content: Option<Value>,
}

impl Row {
    fn lookup(self) -> Lookup {
        let context = (|| {
            Some(SendContext {
                conversation_id: self.conversation_id?,
                number_id: self.number_id?,
                waba_id: self.waba_id?,
                contact_id: self.contact_id?,
                recipient: self.recipient?,
                contact_language: self.contact_language,
                default_language: self.default_language?,
                opted_out_at: self.opted_out_at,
                last_customer_message_at: self.last_customer_message_at,
                window_closed_by_meta_at: self.window_closed_by_meta_at,
                number_removed: self.number_removed?,
            })
        })();
        let keyed = (|| {
            Some(KeyedMessage {
                id: self.keyed_id?,
                conversation_id: self.keyed_conversation_id?,
                content: self.keyed_content?,
            })
        })();
        Lookup { context, keyed }
    }
}
