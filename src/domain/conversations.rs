//! Conversations as the send path sees them: the thread between a business number and a customer,
//! with the clocks that decide the 24-hour window; found, or started by the business, from the
//! number and the customer's id.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{
    contacts,
    events::{self, Kind},
    ids::{ContactId, ConversationId, NumberId, TenantId},
};
use crate::whatsapp::customer_id::CustomerId;

/// What deciding and addressing a send needs to know about a conversation.
#[derive(Debug, Clone)]
pub struct SendContext {
    pub conversation_id: ConversationId,
    pub number_id: NumberId,
    pub waba_id: String,
    pub contact_id: ContactId,
    /// `wa_id`, or the business-scoped user id when that is all Meta gave us.
    pub recipient: String,
    pub contact_language: Option<String>,
    /// The tenant's template language for customers whose language is unknown.
    pub default_language: String,
    pub opted_out_at: Option<DateTime<Utc>>,
    pub last_customer_message_at: Option<DateTime<Utc>>,
    pub window_closed_by_meta_at: Option<DateTime<Utc>>,
    /// An admin removed the number: its conversations are read-only.
    pub number_removed: bool,
}

/// Meta's "Re-engagement message": the window was closed when the message reached WhatsApp.
pub const RE_ENGAGEMENT: i64 = 131047;
/// Meta's "User stopped marketing messages".
pub const MARKETING_OPT_OUT: i64 = 131050;

/// Meta refused a message in the conversation for a reason that outlives the message: the one rule
/// for failures Meta answers directly and those it reports by webhook, whichever comes first.
/// [`RE_ENGAGEMENT`] closes the window until the customer writes again (the latest refusal counts;
/// see `window`); [`MARKETING_OPT_OUT`] opts the customer out of marketing templates, unless they
/// opted back in after `at`. Other codes change nothing. `at` is Meta's time, or when its answer
/// arrived.
pub async fn apply_meta_refusal(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    conversation_id: ConversationId,
    code: i64,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    match code {
        RE_ENGAGEMENT => {
            sqlx::query!(
                "update conversations
                 set window_closed_by_meta_at = greatest(window_closed_by_meta_at, $3),
                     updated_at = now()
                 where tenant_id = $1 and id = $2",
                tenant_id as TenantId,
                conversation_id as ConversationId,
                at
            )
            .execute(&mut *conn)
            .await
            .context("record the window closed by Meta")?;
            let kinds = [Kind::Window];
            events::announce(conn, tenant_id, conversation_id, None, &kinds).await?;
        }
        MARKETING_OPT_OUT => {
            let contact_id = sqlx::query_scalar!(
                r#"select contact_id as "contact_id: ContactId" from conversations where tenant_id = $1 and id = $2"#,
                tenant_id as TenantId,
                conversation_id as ConversationId
            )
            .fetch_one(&mut *conn)
            .await
            .context("find the conversation's contact")?;
            contacts::record_opt_change(conn, tenant_id, contact_id, true, at).await?;
            let kinds = [Kind::Contact];
            events::announce(conn, tenant_id, conversation_id, None, &kinds).await?;
        }
        _ => {}
    }
    Ok(())
}

/// Finds or creates the conversation between a number and a contact, and moves its clocks forward,
/// never back: Meta's timestamps decide, so a late delivery cannot reopen or shorten the window.
/// `customer_message_at` is the time of a message the customer sent (it opens the window);
/// `message_at` of any message in it.
pub async fn upsert(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    number_id: NumberId,
    contact_id: ContactId,
    customer_message_at: Option<DateTime<Utc>>,
    message_at: Option<DateTime<Utc>>,
) -> anyhow::Result<ConversationId> {
    sqlx::query_scalar!(
        r#"insert into conversations
             (tenant_id, phone_number_id, contact_id, last_customer_message_at, last_message_at)
         values ($1, $2, $3, $4, coalesce($5, now()))
         on conflict (phone_number_id, contact_id) do update set
             last_customer_message_at = greatest(conversations.last_customer_message_at,
                                                 excluded.last_customer_message_at),
             last_message_at = greatest(conversations.last_message_at, excluded.last_message_at)
         returning id as "id: ConversationId""#,
        tenant_id as TenantId,
        number_id as NumberId,
        contact_id as ContactId,
        customer_message_at,
        message_at
    )
    .fetch_one(conn)
    .await
    .context("upsert conversation")
}

/// Loads a tenant's conversation for sending; `None` if it is not this tenant's.
pub async fn send_context(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    conversation_id: ConversationId,
) -> anyhow::Result<Option<SendContext>> {
    sqlx::query_as!(
        SendContext,
        r#"select c.id as "conversation_id: ConversationId", n.id as "number_id: NumberId", n.waba_id,
                  k.id as "contact_id: ContactId",
                  coalesce(k.wa_id, k.user_id) as "recipient!", k.language as contact_language,
                  t.default_language, k.opted_out_at, c.last_customer_message_at, c.window_closed_by_meta_at,
                  n.removed_at is not null as "number_removed!"
           from conversations c
           join phone_numbers n on n.id = c.phone_number_id
           join contacts k on k.id = c.contact_id
           join tenants t on t.id = c.tenant_id
           where c.tenant_id = $1 and c.id = $2"#,
        tenant_id as TenantId,
        conversation_id as ConversationId
    )
    .fetch_optional(conn)
    .await
    .context("load conversation")
}

/// The conversation between the tenant's number `number_id` and a customer, if there is one. A
/// user id finds the conversation of a contact that has it, preferring one with a phone.
pub async fn find_for(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    number_id: NumberId,
    customer: &CustomerId,
) -> anyhow::Result<Option<ConversationId>> {
    sqlx::query_scalar!(
        r#"select c.id as "id: ConversationId" from conversations c join contacts k on k.id = c.contact_id
         where c.tenant_id = $1 and c.phone_number_id = $2 and k.tenant_id = $1
           and (k.wa_id = $3 or k.user_id = $4)
         order by k.wa_id is null, k.id
         limit 1"#,
        tenant_id as TenantId,
        number_id as NumberId,
        customer.wa_id(),
        customer.user_id()
    )
    .fetch_optional(conn)
    .await
    .context("find the customer's conversation")
}

/// The conversation between the tenant's number `number_id` and a customer ([`find_for`]), created
/// (with the contact) if the business writes first. `number_id` must be the tenant's: look it up
/// with `numbers::id_for_tenant`.
pub async fn find_or_create_for(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    number_id: NumberId,
    customer: &CustomerId,
) -> anyhow::Result<ConversationId> {
    if let Some(id) = find_for(conn, tenant_id, number_id, customer).await? {
        return Ok(id);
    }
    let who = contacts::Identity {
        wa_id: customer.wa_id(),
        user_id: customer.user_id(),
        profile_name: None,
    };
    let contact_id = contacts::upsert(conn, tenant_id, who).await?;
    upsert(conn, tenant_id, number_id, contact_id, None, None).await
}

/// Where a conversation stands for the agents (`conversations.status`); a customer's message
/// reopens a resolved one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum ConversationStatus {
    Open,
    Pending,
    Resolved,
}

impl ConversationStatus {
    /// The name stored, and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Pending => "pending",
            Self::Resolved => "resolved",
        }
    }
}

impl ConversationStatus {
    /// The name agents read.
    pub fn title(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::Pending => "Pending",
            Self::Resolved => "Resolved",
        }
    }
}

impl std::fmt::Display for ConversationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A customer as an agent sees them next to the conversation.
#[derive(Debug, Clone)]
pub struct ContactView {
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
    pub profile_name: Option<String>,
    pub opted_out_at: Option<DateTime<Utc>>,
    pub status: ConversationStatus,
    pub unread_count: i32,
    pub last_customer_message_at: Option<DateTime<Utc>>,
    pub window_closed_by_meta_at: Option<DateTime<Utc>>,
}

/// The customer on a number, with their conversation; `None` if they have none. A user id finds
/// the contact with a phone first, as [`find_or_create_for`] does.
pub async fn contact_view(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    number_id: NumberId,
    customer: &CustomerId,
) -> anyhow::Result<Option<ContactView>> {
    sqlx::query_as!(
        ContactView,
        r#"select k.wa_id, k.user_id, k.profile_name, k.opted_out_at,
                c.status as "status: ConversationStatus", c.unread_count,
                c.last_customer_message_at, c.window_closed_by_meta_at
         from conversations c join contacts k on k.id = c.contact_id
         where c.tenant_id = $1 and c.phone_number_id = $2 and (k.wa_id = $3 or k.user_id = $4)
         order by k.wa_id is null, k.id
         limit 1"#,
        tenant_id as TenantId,
        number_id as NumberId,
        customer.wa_id(),
        customer.user_id()
    )
    .fetch_optional(conn)
    .await
    .context("load contact")
}
