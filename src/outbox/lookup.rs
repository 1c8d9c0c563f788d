//! What the send service reads before it checks a message, in one statement: the conversation as
//! it is sent to ([`SendContext`]) and the message its idempotency key was first used for. A
//! program sending to a customer by phone names the number and the customer instead of the
//! conversation; the number, the customer's conversation with it, the conversation and the key
//! are then one round trip too, and the requests that arrive together share one ([`Lookups`]). At
//! the Graph endpoint's rate, each round trip saved is a share of the machine's time
//! (docs/benchmarks.md, "Integrators").

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use super::refused::SendRefused;
use super::send::Queued;
use crate::{
    batch::{Batcher, Shared},
    db,
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

/// Reads what sends need for the requests that arrive together, in one statement ([`Batcher`]):
/// at a program's rate, one look-up per request was most of the database's time.
#[derive(Clone)]
pub(super) struct Lookups {
    batcher: Batcher<Input, Shared<Row>>,
}

/// Look-ups read at once, at most.
const BATCH: usize = 128;
/// While requests keep coming, how long a batch waits for more ([`crate::batch::gather`]).
const GATHER: std::time::Duration = std::time::Duration::from_millis(2);

impl Lookups {
    /// Starts the look-up task on a connection of its own to `db`'s database (on the current
    /// Tokio runtime).
    pub fn start(db: &PgPool) -> Self {
        let db = db::planned_once(db);
        let batcher = Batcher::start_fallible(BATCH, GATHER, move |inputs: Vec<Input>| {
            let db = db.clone();
            async move {
                let mut conn = db.acquire().await.context("acquire connection")?;
                read(&mut conn, &inputs).await
            }
        });
        Self { batcher }
    }

    /// The tenant's conversation `conversation_id` and the message of `key`.
    pub async fn by_conversation(
        &self,
        tenant_id: TenantId,
        conversation_id: ConversationId,
        key: &str,
    ) -> anyhow::Result<Lookup> {
        let input = Input::conversation(tenant_id, conversation_id, key);
        Ok(self.batcher.try_call(input).await?.lookup())
    }

    /// The tenant's number with Meta's `phone_number_id` (removed or not), `customer`'s
    /// conversation with it and the message of `key`; `None` when the tenant has no such number.
    /// A user id finds the conversation of a contact that has it, preferring one with a phone (as
    /// `conversations::find_for`).
    pub async fn by_customer(
        &self,
        tenant_id: TenantId,
        phone_number_id: &str,
        customer: &CustomerId,
        key: &str,
    ) -> anyhow::Result<Option<(NumberId, Lookup)>> {
        let input = Input {
            tenant_id,
            conversation_id: None,
            phone_number_id: Some(phone_number_id.to_owned()),
            wa_id: customer.wa_id().map(str::to_owned),
            user_id: customer.user_id().map(str::to_owned),
            key: key.to_owned(),
        };
        let row = self.batcher.try_call(input).await?;
        Ok(row
            .target_number_id
            .map(|number_id| (number_id, row.lookup())))
    }
}

/// The tenant's conversation `conversation_id` and the message of `key`, on `conn` (which may be
/// a transaction that just started the conversation).
pub(super) async fn by_conversation(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    conversation_id: ConversationId,
    key: &str,
) -> anyhow::Result<Lookup> {
    let input = Input::conversation(tenant_id, conversation_id, key);
    let row = read(conn, std::slice::from_ref(&input)).await?.pop();
    Ok(row.context("a look-up without its row")?.lookup())
}

/// What a message is sent to: a conversation, or a number's customer (by phone or user id).
struct Input {
    tenant_id: TenantId,
    conversation_id: Option<ConversationId>,
    phone_number_id: Option<String>,
    wa_id: Option<String>,
    user_id: Option<String>,
    /// The request's idempotency key.
    key: String,
}

impl Input {
    fn conversation(tenant_id: TenantId, conversation_id: ConversationId, key: &str) -> Self {
        Self {
            tenant_id,
            conversation_id: Some(conversation_id),
            phone_number_id: None,
            wa_id: None,
            user_id: None,
            key: key.to_owned(),
        }
    }
}

/// For each input, in order: the target's number and conversation (if it has one) with the send
/// context, and the message of its key. The columns of a conversation that is not the tenant's,
/// or of a number the tenant has not, are all empty. Each table is read by index, row by row
/// (`lateral`): a plan made for "some rows of `input`" would otherwise read whole tables. Each
/// `lateral` finds at most one row and says so (`limit 1`), which keeps the planner from folding
/// it into a join: planned so, for "some rows" ([`db::planned_once`]), it hash-joined whole tables.
async fn read(conn: &mut PgConnection, inputs: &[Input]) -> anyhow::Result<Vec<Row>> {
    let tenants: Vec<i64> = inputs.iter().map(|i| i.tenant_id.get()).collect();
    let conversations: Vec<Option<i64>> = inputs
        .iter()
        .map(|i| i.conversation_id.map(ConversationId::get))
        .collect();
    let text = |f: fn(&Input) -> Option<&str>| inputs.iter().map(f).collect::<Vec<_>>();
    let phone_number_ids = text(|i| i.phone_number_id.as_deref());
    let wa_ids = text(|i| i.wa_id.as_deref());
    let user_ids = text(|i| i.user_id.as_deref());
    let keys = text(|i| Some(i.key.as_str()));
    let rows = sqlx::query_as!(
        Row,
        r#"with input as (
               select * from unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[],
                   $5::text[], $6::text[])
               with ordinality as i (tenant_id, conversation_id, phone_number_id, wa_id, user_id,
                   key, position)
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
           from input i
           left join lateral (
               select c.phone_number_id as number_id, c.id as conversation_id
               from conversations c where c.tenant_id = i.tenant_id and c.id = i.conversation_id
               union all
               select n.id,
                      (select c.id from conversations c join contacts k on k.id = c.contact_id
                       where c.tenant_id = i.tenant_id and c.phone_number_id = n.id
                         and k.tenant_id = i.tenant_id
                         and (k.wa_id = i.wa_id or k.user_id = i.user_id)
                       order by k.wa_id is null, k.id
                       limit 1)
               from phone_numbers n
               where i.conversation_id is null and n.tenant_id = i.tenant_id
                 and n.phone_number_id = i.phone_number_id
           ) target on true
           left join lateral (
               select * from conversations c
               where c.tenant_id = i.tenant_id and c.id = target.conversation_id limit 1
           ) c on true
           left join lateral (
               select * from phone_numbers n where n.id = c.phone_number_id limit 1
           ) n on true
           left join lateral (select * from contacts k where k.id = c.contact_id limit 1) k on true
           left join lateral (select * from tenants t where t.id = c.tenant_id limit 1) t on true
           left join lateral (
               select * from messages m
               where m.tenant_id = i.tenant_id and m.idempotency_key = i.key limit 1
           ) m on true
           order by i.position"#,
        &tenants,
        &conversations as &[Option<i64>],
        &phone_number_ids as &[Option<&str>],
        &wa_ids as &[Option<&str>],
        &user_ids as &[Option<&str>],
        &keys as &[Option<&str>]
    )
    .fetch_all(conn)
    .await
    .context("load the conversations and the idempotency keys")?;
    // One row an input, in order: each join finds at most one row (unique keys).
    anyhow::ensure!(
        rows.len() == inputs.len(),
        "{} look-ups answered with {} rows",
        inputs.len(),
        rows.len()
    );
    Ok(rows)
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
