//! Which conversations a page of a view holds: their ids, in the view's order, read from the
//! view's index and continued after the last row shown (keyset pagination, never OFFSET), so a page
//! costs the same at the top of a 10-row inbox and deep in a million-row one. [`super::rows`] then
//! reads what each row shows.
//!
//! These statements are planned with their values each time (`persistent(false)`: an unnamed
//! statement always gets a custom plan). Absent filters and a first page's missing cursor then fold
//! away, the view picks its index (`conversations_by_assignee` for Mine and Unassigned,
//! `conversations_by_status` for All, `conversations_closing` for Closing soon) and the cursor
//! bounds the index scan; a generic plan would have to keep every `$n is null or …` as a filter.
//! A label's list is read from `conversation_labels_listed` (All) or `…_by_assignee` (Mine,
//! Unassigned) instead, in the same order (each of a conversation's labels carries its status,
//! assignee, number and last activity), so a page reads 50 of the label's entries rather than
//! walking the view until 50 carry it. In Closing soon (a few hours'
//! conversations) a label is checked row by row as the view's index is walked (`offset 0` keeps
//! the planner from first hashing every conversation of the label).

use anyhow::Context;
use sqlx::PgConnection;

use super::{Cursor, Filters, View, rows::PAGE};
use crate::domain::{
    conversations::ConversationStatus,
    ids::{ConversationId, LabelId, NumberId, TenantId, UserId},
};

/// "Closing soon": windows that close within this many hours.
pub const CLOSING_HOURS: i32 = 4;

/// The ids of a page of `view` after `cursor`, in the view's order, as `agent` sees it (Mine is
/// theirs; a program has none), within `numbers` when the caller may only see some.
pub async fn page(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    agent: Option<UserId>,
    numbers: Option<&[NumberId]>,
    view: View,
    filters: &Filters,
    after: Option<Cursor>,
) -> anyhow::Result<Vec<ConversationId>> {
    let (after_at, after_id) = match after {
        Some(c) => (Some(c.at), Some(c.id)),
        None => (None, None),
    };
    let numbers: Option<Vec<i64>> = numbers.map(|ids| ids.iter().map(|id| id.get()).collect());
    let ids = if view == View::Closing {
        // Open, the customer wrote last, and the window (24 h from their last message) closes
        // within `CLOSING_HOURS`: most urgent first.
        sqlx::query_scalar!(
            r#"select c.id as "id!: ConversationId" from conversations c
               where c.tenant_id = $1 and c.status = 'open'
                 and c.last_customer_message_at > now() - make_interval(hours => 24)
                 and c.last_customer_message_at <= now() - make_interval(hours => 24 - $2)
                 and (c.last_reply_at is null or c.last_reply_at < c.last_customer_message_at)
                 and (c.window_closed_by_meta_at is null
                      or c.window_closed_by_meta_at < c.last_customer_message_at)
                 and ($3::bigint is null or c.phone_number_id = $3)
                 and ($4::bigint is null or exists (
                     select 1 from conversation_labels cl
                     where cl.tenant_id = $1 and cl.conversation_id = c.id and cl.label_id = $4
                     offset 0))
                 and ($5::timestamptz is null or (c.last_customer_message_at, c.id) > ($5, $6))
                 and ($8::bigint[] is null or c.phone_number_id = any($8))
               order by c.last_customer_message_at, c.id
               limit $7"#,
            tenant_id as TenantId,
            CLOSING_HOURS,
            filters.number as Option<NumberId>,
            filters.label as Option<LabelId>,
            after_at,
            after_id as Option<ConversationId>,
            PAGE,
            numbers.as_deref()
        )
        .persistent(false)
        .fetch_all(conn)
        .await
    } else if let Some(label) = filters.label {
        // The label's conversations of this status in order, from the copies its entries carry
        // (migration 38): no conversation is read.
        sqlx::query_scalar!(
            r#"select cl.conversation_id as "id!: ConversationId"
               from conversation_labels cl
               where cl.tenant_id = $1 and cl.label_id = $6 and cl.status = $4
                 and case $3::text when 'mine' then cl.assignee_id = $2
                                   when 'unassigned' then cl.assignee_id is null
                                   else true end
                 and ($5::bigint is null or cl.phone_number_id = $5)
                 and ($7::timestamptz is null or (cl.last_message_at, cl.conversation_id) < ($7, $8))
                 and ($10::bigint[] is null or cl.phone_number_id = any($10))
               order by cl.last_message_at desc, cl.conversation_id desc
               limit $9"#,
            tenant_id as TenantId,
            agent as Option<UserId>,
            view.as_str(),
            filters.status as ConversationStatus,
            filters.number as Option<NumberId>,
            label as LabelId,
            after_at,
            after_id as Option<ConversationId>,
            PAGE,
            numbers.as_deref()
        )
        .persistent(false)
        .fetch_all(conn)
        .await
    } else {
        sqlx::query_scalar!(
            r#"select c.id as "id!: ConversationId" from conversations c
               where c.tenant_id = $1 and c.status = $4
                 and case $3::text when 'mine' then c.assignee_id = $2
                                   when 'unassigned' then c.assignee_id is null
                                   else true end
                 and ($5::bigint is null or c.phone_number_id = $5)
                 and ($6::timestamptz is null or (c.last_message_at, c.id) < ($6, $7))
                 and ($9::bigint[] is null or c.phone_number_id = any($9))
               order by c.last_message_at desc, c.id desc
               limit $8"#,
            tenant_id as TenantId,
            agent as Option<UserId>,
            view.as_str(),
            filters.status as ConversationStatus,
            filters.number as Option<NumberId>,
            after_at,
            after_id as Option<ConversationId>,
            PAGE,
            numbers.as_deref()
        )
        .persistent(false)
        .fetch_all(conn)
        .await
    };
    ids.context("list conversations")
}
