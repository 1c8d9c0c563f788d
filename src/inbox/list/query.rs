//! The conversation list's SQL: one page of a view, read in the order of an index and continued
//! after the last row shown (keyset pagination, never OFFSET), so a page costs the same at the top
//! of a 10-row inbox and deep in a million-row one. Every query is scoped by the agent's tenant.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{Cursor, Filters, View};
use crate::{
    domain::{
        conversations::ConversationStatus,
        ids::{ConversationId, LabelId, NumberId, TenantId, UserId},
    },
    window,
};

/// Rows per page.
pub const PAGE: i64 = 50;
/// Unread counts and view counts stop at this (shown as "99+", "999+").
pub const UNREAD_CAP: i64 = 100;
pub const COUNT_CAP: i64 = 1000;
/// "Closing soon": windows that close within this many hours.
pub const CLOSING_HOURS: i64 = 4;

/// One row of the list.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: ConversationId,
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
        match view {
            View::Closing => Cursor {
                at: self
                    .last_customer_message_at
                    .unwrap_or(self.last_message_at),
                id: self.id,
            },
            _ => Cursor {
                at: self.last_message_at,
                id: self.id,
            },
        }
    }
}

/// A page of `view` for `agent`, after `cursor`.
pub async fn page(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    agent: UserId,
    view: View,
    filters: &Filters,
    after: Option<Cursor>,
) -> anyhow::Result<Vec<Row>> {
    let (after_at, after_id) = match after {
        Some(c) => (Some(c.at), Some(c.id)),
        None => (None, None),
    };
    let number = filters.number;
    let label = filters.label;
    let status = filters.status;
    // Mine and Unassigned read `conversations_by_assignee`, All `conversations_by_status`, Closing
    // soon `conversations_closing`; the number and label filters narrow the rows read.
    let rows = sqlx::query_as!(
        Row,
        r#"select c.id as "id: ConversationId",
                  k.profile_name as contact_name, k.wa_id, k.user_id,
                  c.last_message_at, c.last_customer_message_at, c.window_closed_by_meta_at,
                  u.name as "assignee_name?",
                  last.body as "snippet?", coalesce(last.direction = 'outbound', false) as "snippet_outbound!",
                  unread.n as "unread!",
                  coalesce(tags.names, '{}') as "labels!"
           from conversations c
           join contacts k on k.tenant_id = c.tenant_id and k.id = c.contact_id
           left join users u on u.tenant_id = c.tenant_id and u.id = c.assignee_id
           left join conversation_reads r on r.conversation_id = c.id and r.user_id = $2
           left join lateral (
               select m.body, m.direction from messages m
               where m.conversation_id = c.id order by m.id desc limit 1
           ) last on true
           cross join lateral (
               select count(*) as n from (
                   select 1 from messages m
                   where m.conversation_id = c.id and m.direction = 'inbound'
                     and m.id > coalesce(r.last_read_message_id, 0)
                   limit $9
               ) unread_rows
           ) unread
           left join lateral (
               select array_agg(l.name order by lower(l.name)) as names
               from conversation_labels cl join labels l on l.tenant_id = cl.tenant_id and l.id = cl.label_id
               where cl.conversation_id = c.id
           ) tags on true
           where c.tenant_id = $1
             and case $3::text
                 when 'mine' then c.assignee_id = $2 and c.status = $4
                 when 'unassigned' then c.assignee_id is null and c.status = $4
                 when 'closing' then c.status = 'open'
                     and c.last_customer_message_at > now() - make_interval(hours => 24)
                     and c.last_customer_message_at <= now() - make_interval(hours => 24 - $10::int)
                     and (c.last_reply_at is null or c.last_reply_at < c.last_customer_message_at)
                     and (c.window_closed_by_meta_at is null
                          or c.window_closed_by_meta_at < c.last_customer_message_at)
                 else c.status = $4
             end
             and ($5::bigint is null or c.phone_number_id = $5)
             and ($6::bigint is null or exists (
                 select 1 from conversation_labels cl
                 where cl.conversation_id = c.id and cl.label_id = $6))
             and ($7::timestamptz is null or case $3::text
                 when 'closing' then (c.last_customer_message_at, c.id) > ($7, $8)
                 else (c.last_message_at, c.id) < ($7, $8)
             end)
           order by
               case when $3::text = 'closing' then c.last_customer_message_at end asc,
               case when $3::text = 'closing' then c.id end asc,
               c.last_message_at desc, c.id desc
           limit $11"#,
        tenant_id as TenantId,
        agent as UserId,
        view.as_str(),
        status as ConversationStatus,
        number as Option<NumberId>,
        label as Option<LabelId>,
        after_at,
        after_id as Option<ConversationId>,
        UNREAD_CAP,
        i32::try_from(CLOSING_HOURS).unwrap_or(4),
        PAGE
    )
    .fetch_all(conn)
    .await
    .context("list conversations")?;
    Ok(rows)
}

/// How many conversations each view holds (of the filtered status), up to [`COUNT_CAP`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub mine: i64,
    pub unassigned: i64,
    pub all: i64,
    pub closing: i64,
}

pub async fn counts(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    agent: UserId,
    status: ConversationStatus,
) -> anyhow::Result<Counts> {
    let row = sqlx::query!(
        r#"select
             (select count(*) from (select 1 from conversations where tenant_id = $1
                 and assignee_id = $2 and status = $3 limit $4) x) as "mine!",
             (select count(*) from (select 1 from conversations where tenant_id = $1
                 and assignee_id is null and status = $3 limit $4) x) as "unassigned!",
             (select count(*) from (select 1 from conversations where tenant_id = $1
                 and status = $3 limit $4) x) as "all!",
             (select count(*) from (select 1 from conversations c where c.tenant_id = $1
                 and c.status = 'open'
                 and c.last_customer_message_at > now() - make_interval(hours => 24)
                 and c.last_customer_message_at <= now() - make_interval(hours => 24 - $5::int)
                 and (c.last_reply_at is null or c.last_reply_at < c.last_customer_message_at)
                 and (c.window_closed_by_meta_at is null
                      or c.window_closed_by_meta_at < c.last_customer_message_at)
                 limit $4) x) as "closing!""#,
        tenant_id as TenantId,
        agent as UserId,
        status as ConversationStatus,
        COUNT_CAP,
        i32::try_from(CLOSING_HOURS).unwrap_or(4)
    )
    .fetch_one(conn)
    .await
    .context("count the views")?;
    Ok(Counts {
        mine: row.mine,
        unassigned: row.unassigned,
        all: row.all,
        closing: row.closing,
    })
}

/// The tenant's numbers and labels, for the filters.
pub struct FilterOptions {
    pub numbers: Vec<(NumberId, String)>,
    pub labels: Vec<(LabelId, String)>,
}

pub async fn filter_options(
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> anyhow::Result<FilterOptions> {
    let numbers = sqlx::query!(
        r#"select id as "id: NumberId",
                  coalesce(verified_name || ' · ' || display_phone_number, display_phone_number,
                           verified_name, phone_number_id) as "label!"
           from phone_numbers where tenant_id = $1 order by id"#,
        tenant_id as TenantId
    )
    .fetch_all(&mut *conn)
    .await
    .context("list numbers")?;
    let labels = sqlx::query!(
        r#"select id as "id: LabelId", name from labels where tenant_id = $1 order by lower(name)"#,
        tenant_id as TenantId
    )
    .fetch_all(&mut *conn)
    .await
    .context("list labels")?;
    Ok(FilterOptions {
        numbers: numbers.into_iter().map(|r| (r.id, r.label)).collect(),
        labels: labels.into_iter().map(|r| (r.id, r.name)).collect(),
    })
}

/// The window of a row, now.
pub fn window_of(row: &Row, now: DateTime<Utc>) -> window::Window {
    window::Window::at(
        row.last_customer_message_at,
        row.window_closed_by_meta_at,
        now,
    )
}
