//! What each row of the list shows, read for a page's ids (from [`super::views`] or
//! [`super::search`]) in one statement: the contact, the last message, this agent's unread count,
//! the assignee, the labels and the window. Every lookup is by the conversation's id, so a page
//! costs the same however large the tenant.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{Cursor, View};
use crate::{
    domain::{
        conversations::ConversationStatus,
        ids::{ConversationId, TenantId, UserId},
    },
    window,
};

/// Rows per page.
pub const PAGE: i64 = 50;
/// Unread counts stop at this (shown as "99+").
pub const UNREAD_CAP: i64 = 100;

/// One row of the list.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: ConversationId,
    /// Meta's id of the number the conversation is on.
    pub phone_number_id: String,
    pub status: ConversationStatus,
    pub assignee_id: Option<UserId>,
    pub contact_name: Option<String>,
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
    pub last_message_at: DateTime<Utc>,
    pub last_customer_message_at: Option<DateTime<Utc>>,
    pub window_closed_by_meta_at: Option<DateTime<Utc>>,
    pub assignee_name: Option<String>,
    pub snippet: Option<String>,
    pub snippet_outbound: bool,
    pub unread: i64,
    pub labels: Vec<String>,
}

impl Row {
    /// Where this row continues the list.
    pub fn cursor(&self, view: View) -> Cursor {
        let at = match view {
            View::Closing => self
                .last_customer_message_at
                .unwrap_or(self.last_message_at),
            _ => self.last_message_at,
        };
        Cursor { at, id: self.id }
    }

    /// The window of this row's conversation, now.
    pub fn window(&self, now: DateTime<Utc>) -> window::Window {
        window::Window::at(
            self.last_customer_message_at,
            self.window_closed_by_meta_at,
            now,
        )
    }
}

/// The rows of conversations `ids` of the tenant, in the order of `ids`, as `agent` sees them
/// (their unread counts; a program has none, so every inbound message counts).
pub async fn rows(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    agent: Option<UserId>,
    ids: &[ConversationId],
) -> anyhow::Result<Vec<Row>> {
    let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
    sqlx::query_as!(
        Row,
        r#"select c.id as "id: ConversationId", n.phone_number_id,
                  c.status as "status: ConversationStatus", c.assignee_id as "assignee_id: UserId",
                  k.profile_name as contact_name, k.wa_id, k.user_id,
                  c.last_message_at, c.last_customer_message_at, c.window_closed_by_meta_at,
                  u.name as "assignee_name?",
                  last.body as "snippet?", coalesce(last.direction = 'outbound', false) as "snippet_outbound!",
                  unread.n as "unread!",
                  coalesce(tags.names, '{}') as "labels!"
           from unnest($2::bigint[]) with ordinality as page (id, n)
           join conversations c on c.tenant_id = $1 and c.id = page.id
           join contacts k on k.tenant_id = c.tenant_id and k.id = c.contact_id
           join phone_numbers n on n.tenant_id = c.tenant_id and n.id = c.phone_number_id
           left join users u on u.tenant_id = c.tenant_id and u.id = c.assignee_id
           left join conversation_reads r on r.conversation_id = c.id and r.user_id = $3
           left join lateral (
               select m.body, m.direction from messages m
               where m.conversation_id = c.id order by m.id desc limit 1
           ) last on true
           cross join lateral (
               select count(*) as n from (
                   select 1 from messages m
                   where m.conversation_id = c.id and m.direction = 'inbound'
                     and m.id > coalesce(r.last_read_message_id, 0)
                   limit $4
               ) unread_rows
           ) unread
           left join lateral (
               select array_agg(l.name order by lower(l.name)) as names
               from conversation_labels cl join labels l on l.tenant_id = cl.tenant_id and l.id = cl.label_id
               where cl.conversation_id = c.id
           ) tags on true
           order by page.n"#,
        tenant_id as TenantId,
        &ids,
        agent as Option<UserId>,
        UNREAD_CAP,
    )
    .fetch_all(conn)
    .await
    .context("read the list's rows")
}
