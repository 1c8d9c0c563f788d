//! What the list's sidebar shows besides the views: how many conversations each view holds
//! (counted up to a cap, so a count costs at most that many index entries) and the choices of the
//! filters.

use anyhow::Context;
use sqlx::PgConnection;

use super::views::CLOSING_HOURS;
use crate::domain::{
    conversations::ConversationStatus,
    ids::{LabelId, NumberId, TenantId, UserId},
};

/// View counts stop at this (shown as "99+"): a count costs at most this many index entries.
pub const COUNT_CAP: i64 = 100;

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
    // The cap and the closing view's hours are written in the statement, not passed: with them
    // as parameters, PostgreSQL estimated its generic plan dearer than one for the values at 1 M
    // conversations and planned the prepared statement afresh at every call (0.3–0.45 ms, more
    // than it takes to run; docs/benchmarks.md). Its parameters left do not change its plan.
    const _: () = assert!(
        COUNT_CAP == 100 && CLOSING_HOURS == 4,
        "the statement's literals"
    );
    let row = sqlx::query!(
        r#"select
             (select count(*) from (select 1 from conversations where tenant_id = $1
                 and assignee_id = $2 and status = $3 limit 100) x) as "mine!",
             (select count(*) from (select 1 from conversations where tenant_id = $1
                 and assignee_id is null and status = $3 limit 100) x) as "unassigned!",
             (select count(*) from (select 1 from conversations where tenant_id = $1
                 and status = $3 limit 100) x) as "all!",
             (select count(*) from (select 1 from conversations c where c.tenant_id = $1
                 and c.status = 'open'
                 and c.last_customer_message_at > now() - make_interval(hours => 24)
                 and c.last_customer_message_at <= now() - make_interval(hours => 24 - 4)
                 and (c.last_reply_at is null or c.last_reply_at < c.last_customer_message_at)
                 and (c.window_closed_by_meta_at is null
                      or c.window_closed_by_meta_at < c.last_customer_message_at)
                 limit 100) x) as "closing!""#,
        tenant_id as TenantId,
        agent as UserId,
        status as ConversationStatus
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
    let numbers = numbers(conn, tenant_id).await?;
    let labels = sqlx::query!(
        r#"select id as "id: LabelId", name from labels where tenant_id = $1 order by lower(name)"#,
        tenant_id as TenantId
    )
    .fetch_all(&mut *conn)
    .await
    .context("list labels")?;
    Ok(FilterOptions {
        numbers,
        labels: labels.into_iter().map(|r| (r.id, r.name)).collect(),
    })
}

/// The tenant's numbers with their labels ("Acme · +1 555 0100"), for a choice of number.
pub async fn numbers(
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> anyhow::Result<Vec<(NumberId, String)>> {
    let numbers = sqlx::query!(
        r#"select id as "id: NumberId",
                  coalesce(verified_name || ' · ' || display_phone_number, display_phone_number,
                           verified_name, phone_number_id) as "label!"
           from phone_numbers where tenant_id = $1 order by id"#,
        tenant_id as TenantId
    )
    .fetch_all(conn)
    .await
    .context("list numbers")?;
    Ok(numbers.into_iter().map(|r| (r.id, r.label)).collect())
}
