//! Row ids as distinct types, so that a message id can't be passed where a conversation id is
//! expected, nor two ids swapped. Each wraps the `bigint` key of its table and maps to it in SQL
//! (`#[sqlx(transparent)]`) and JSON (`#[serde(transparent)]`).

use std::{fmt, num::ParseIntError, str::FromStr};

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            sqlx::Type, serde::Serialize, serde::Deserialize,
        )]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// The id with this raw value (from a path, the command line, or a row read untyped).
            pub const fn new(raw: i64) -> Self {
                Self(raw)
            }

            /// The raw value, for SQL arrays (`unnest($1::bigint[])`) and wire formats.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    )*};
}

ids! {
    /// A tenant (`tenants.id`): the business whose rows everything else belongs to.
    TenantId;
    /// A Meta app registered by a tenant (`meta_apps.id`), not Meta's App ID.
    AppId;
    /// A business phone number's row (`phone_numbers.id`), not Meta's `phone_number_id`.
    NumberId;
    /// A customer of a tenant (`contacts.id`).
    ContactId;
    /// A conversation between a number and a contact (`conversations.id`).
    ConversationId;
    /// A message, inbound or outbound (`messages.id`), not Meta's `wamid`.
    MessageId;
    /// A user (agent or admin) of a tenant (`users.id`).
    UserId;
    /// A message template (`message_templates.id`), not Meta's template id.
    TemplateId;
    /// A stored webhook delivery (`webhook_events.id`).
    WebhookEventId;
    /// A tenant's label (`labels.id`).
    LabelId;
    /// A note or event in a conversation's timeline (`conversation_events.id`).
    TimelineEventId;
    /// A canned response (`canned_responses.id`).
    CannedResponseId;
    /// A program's API key (`api_keys.id`).
    ApiKeyId;
    /// A tenant's outbound webhook endpoint (`webhook_endpoints.id`).
    WebhookEndpointId;
    /// One event queued for one endpoint, and its entry in the delivery log
    /// (`webhook_deliveries.id`).
    WebhookDeliveryId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_writes_and_prints_its_raw_value() {
        let id = MessageId::new(42);
        assert_eq!(id.get(), 42);
        assert_eq!(id.to_string(), "42");
        assert_eq!("42".parse::<MessageId>().unwrap(), id);
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
    }
}
