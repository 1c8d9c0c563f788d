//! Messages as the operator's tools address them (by their id alone), their states, and who had
//! each one sent: an agent, a program with an API key, or the operator.

use anyhow::{Context, bail};
use sqlx::PgConnection;

use super::ids::{ApiKeyId, MessageId, TenantId, UserId};

/// Where a message stands (`messages.status`). Outbound messages move `queued` → `sending` → `sent`
/// → `delivered` → `read` (→ `played`), or end `failed`, or `unknown` when a call's outcome cannot
/// be told; inbound ones are `received`. The order of the ticks is `message_status_rank()` in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum MessageStatus {
    Queued,
    Sending,
    Sent,
    Delivered,
    Read,
    Played,
    Failed,
    Unknown,
    Received,
}

impl MessageStatus {
    /// The name stored, and shown to the operator.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Played => "played",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
            Self::Received => "received",
        }
    }

    /// Failed, or never confirmed: what an explicit retry may send again.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Failed | Self::Unknown)
    }
}

impl std::fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the customer sent a message or the business did (`messages.direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// Who had a message sent through the send path, or sent again. Stored with the message as
/// `sent_by_kind` with `sent_by` (an agent's user id) or `api_key_id`; messages that did not go
/// through the send path (the customer's, echoes of ones sent elsewhere) have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentBy {
    /// An agent (a user of the tenant, as the surface's extractor vouches), in the inbox.
    Agent(UserId),
    /// A program, with the id of its API key.
    ApiKey(ApiKeyId),
    /// The operator, on the command line.
    Operator,
}

/// The kind of sender stored (`messages.sent_by_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum SentByKind {
    Agent,
    ApiKey,
    Operator,
}

impl SentByKind {
    /// The name stored, and recorded in the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::ApiKey => "api_key",
            Self::Operator => "operator",
        }
    }
}

impl SentBy {
    /// The `sent_by_kind` stored.
    pub fn kind(self) -> SentByKind {
        match self {
            Self::Agent(_) => SentByKind::Agent,
            Self::ApiKey(_) => SentByKind::ApiKey,
            Self::Operator => SentByKind::Operator,
        }
    }

    /// The agent's user id, for an agent.
    pub fn user_id(self) -> Option<UserId> {
        match self {
            Self::Agent(user_id) => Some(user_id),
            _ => None,
        }
    }

    /// The API key's id, for a program.
    pub fn api_key_id(self) -> Option<ApiKeyId> {
        match self {
            Self::ApiKey(key_id) => Some(key_id),
            _ => None,
        }
    }

    /// Reads the stored columns back; `None` for a message that did not go through the send path.
    fn from_columns(
        kind: Option<SentByKind>,
        user_id: Option<UserId>,
        api_key_id: Option<ApiKeyId>,
    ) -> anyhow::Result<Option<Self>> {
        Ok(Some(match (kind, user_id, api_key_id) {
            (None, _, _) => return Ok(None),
            (Some(SentByKind::Agent), Some(user_id), _) => Self::Agent(user_id),
            (Some(SentByKind::ApiKey), _, Some(key_id)) => Self::ApiKey(key_id),
            (Some(SentByKind::Operator), _, _) => Self::Operator,
            (Some(kind), _, _) => bail!(
                "a message sent by {:?} without its reference",
                kind.as_str()
            ),
        }))
    }
}

/// The tenant a message belongs to, whichever it is: for operator commands, which name only the
/// message and act for any tenant. Everything else knows its tenant and passes it.
pub async fn operator_tenant_of(
    conn: &mut PgConnection,
    message_id: MessageId,
) -> anyhow::Result<Option<TenantId>> {
    sqlx::query_scalar!(
        r#"select tenant_id as "tenant_id: TenantId" from messages where id = $1"#,
        message_id as MessageId
    )
    .fetch_optional(conn)
    .await
    .context("look up message")
}

/// Who had the tenant's message sent; `None` when it did not go through the send path, or is not
/// the tenant's.
pub async fn sent_by(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    message_id: MessageId,
) -> anyhow::Result<Option<SentBy>> {
    let row = sqlx::query!(
        r#"select sent_by_kind as "sent_by_kind: SentByKind", sent_by as "sent_by: UserId", api_key_id as "api_key_id: ApiKeyId"
           from messages where tenant_id = $1 and id = $2"#,
        tenant_id as TenantId,
        message_id as MessageId
    )
    .fetch_optional(conn)
    .await
    .context("look up who sent a message")?;
    let Some(row) = row else { return Ok(None) };
    SentBy::from_columns(row.sent_by_kind, row.sent_by, row.api_key_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sender_reads_back_from_its_columns() {
        for by in [
            SentBy::Agent(UserId::new(7)),
            SentBy::ApiKey(ApiKeyId::new(42)),
            SentBy::Operator,
        ] {
            let read = SentBy::from_columns(Some(by.kind()), by.user_id(), by.api_key_id());
            assert_eq!(read.unwrap(), Some(by));
        }
        assert_eq!(SentBy::from_columns(None, None, None).unwrap(), None);
        assert!(SentBy::from_columns(Some(SentByKind::Agent), None, None).is_err());
    }
}
