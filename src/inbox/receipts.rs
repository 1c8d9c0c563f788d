//! Read receipts at Meta: when an agent opens a conversation whose number marks customers'
//! messages read (`phone_numbers.send_read_receipts`, off by default; `switchboard number
//! read-receipts`), the customer's newest message is marked read at Meta, so their phone shows
//! blue ticks. In the background: the page never waits on Meta, and a failure is logged, not shown
//! (Meta accepts the same receipt again, and the next opening sends it anew).

use anyhow::Context;
use sqlx::PgPool;

use crate::{
    crypto::Cipher,
    domain::{
        ids::{ConversationId, NumberId, TenantId},
        numbers,
    },
    whatsapp::graph::{Auth, GraphClient, GraphUrls},
};

#[derive(Clone)]
pub struct ReadReceipts {
    db: PgPool,
    cipher: Cipher,
    graph: GraphClient,
    urls: GraphUrls,
}

impl ReadReceipts {
    pub fn new(db: PgPool, cipher: Cipher, graph: GraphClient, urls: GraphUrls) -> Self {
        Self {
            db,
            cipher,
            graph,
            urls,
        }
    }

    /// Marks the customer's newest message of the conversation read at Meta, if its number says
    /// so, in the background.
    pub fn conversation_read(&self, tenant_id: TenantId, conversation_id: ConversationId) {
        let receipts = self.clone();
        tokio::spawn(async move {
            if let Err(error) = receipts.send(tenant_id, conversation_id).await {
                tracing::warn!(%tenant_id, %conversation_id, error = format!("{error:#}"), "read receipt not sent");
            }
        });
    }

    async fn send(
        &self,
        tenant_id: TenantId,
        conversation_id: ConversationId,
    ) -> anyhow::Result<()> {
        let mut conn = self.db.acquire().await.context("acquire a connection")?;
        let newest = sqlx::query!(
            r#"select n.id as "number_id: NumberId", m.wamid as "wamid!"
               from conversations c
               join phone_numbers n on n.tenant_id = c.tenant_id and n.id = c.phone_number_id
               cross join lateral (
                   select m.wamid from messages m
                   where m.conversation_id = c.id and m.direction = 'inbound'
                   order by m.id desc limit 1
               ) m
               where c.tenant_id = $1 and c.id = $2 and n.send_read_receipts
                 and m.wamid is not null"#,
            tenant_id as TenantId,
            conversation_id as ConversationId
        )
        .fetch_optional(&mut *conn)
        .await
        .context("find the message to mark read")?;
        let Some(newest) = newest else {
            return Ok(());
        };
        let number =
            numbers::credentials(&mut conn, &self.cipher, tenant_id, newest.number_id).await?;
        drop(conn);
        let auth = Auth {
            base_url: self.urls.for_number(number.sandbox),
            token: &number.access_token,
        };
        self.graph
            .mark_read(&auth, &number.phone_number_id, &newest.wamid)
            .await
            .context("mark read at Meta")
    }
}
