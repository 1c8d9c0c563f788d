//! The ceiling: what a naive synchronous design would sustain on the same PostgreSQL. Each event, in
//! its own transaction: the raw event, the contact upsert, the conversation upsert and the message
//! insert (issue 7 defines it so, fixed SQL that does not follow the server's own apply code);
//! `concurrency` connections do this side by side. No HTTP, no signature check: only that SQL.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use anyhow::Context;
use futures::future::try_join_all;
use sqlx::PgPool;

use crate::{
    database,
    measure::{self, Check},
    payload::{self, Event},
};

/// What the ceiling came to.
pub struct CeilingRun {
    pub elapsed: Duration,
    pub check: Check,
}

impl CeilingRun {
    pub fn events_per_second(&self) -> f64 {
        self.check.expected as f64 / self.elapsed.as_secs_f64()
    }
}

/// Stores and applies every event once, over `concurrency` connections to `database_url` (which
/// must be provisioned with the benchmark's app and number).
pub async fn run(
    database_url: &str,
    events: &[Event],
    concurrency: usize,
) -> anyhow::Result<CeilingRun> {
    let connections = u32::try_from(concurrency).context("--concurrency is too large")?;
    let pool = database::connect(database_url, connections).await?;
    let target = target(&pool).await?;
    warm_up(&pool, concurrency).await?;

    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let workers = (0..concurrency).map(|_| worker(&pool, target, events, &next));
    try_join_all(workers).await?;
    let elapsed = started.elapsed();

    let check = measure::check(&pool, events.len()).await?;
    pool.close().await;
    Ok(CeilingRun { elapsed, check })
}

/// The benchmark's app, tenant and number, which the naive path addresses directly.
#[derive(Clone, Copy)]
struct Target {
    app_id: i64,
    tenant_id: i64,
    number_id: i64,
}

async fn target(pool: &PgPool) -> anyhow::Result<Target> {
    let (app_id, tenant_id, number_id) = sqlx::query_as(
        "select a.id, n.tenant_id, n.id from meta_apps a
         join phone_numbers n on n.app_id = a.id
         where a.meta_app_id = $1 and n.phone_number_id = $2",
    )
    .bind(payload::META_APP_ID)
    .bind(payload::PHONE_NUMBER_ID)
    .fetch_one(pool)
    .await
    .context("find the benchmark's Meta app and number")?;
    Ok(Target {
        app_id,
        tenant_id,
        number_id,
    })
}

/// Opens every connection before the clock starts, as a long-running server would have them.
async fn warm_up(pool: &PgPool, connections: usize) -> anyhow::Result<()> {
    let mut held = Vec::with_capacity(connections);
    for _ in 0..connections {
        held.push(pool.acquire().await.context("open a connection")?);
    }
    Ok(())
}

async fn worker(
    pool: &PgPool,
    target: Target,
    events: &[Event],
    next: &AtomicUsize,
) -> anyhow::Result<()> {
    while let Some(event) = events.get(next.fetch_add(1, Ordering::Relaxed)) {
        store_and_apply(pool, target, &event.body).await?;
    }
    Ok(())
}

/// One event, synchronously and naively, as the issue defines the ceiling: in one transaction, the
/// raw event (stored as applied), the contact upsert, the conversation upsert and the message
/// insert; then commit. Parsing is the body's own JSON, as a simple server would read it.
async fn store_and_apply(pool: &PgPool, target: Target, body: &[u8]) -> anyhow::Result<()> {
    let message = Naive::read(body)?;
    let mut tx = pool.begin().await.context("begin")?;
    sqlx::query(
        "insert into webhook_events (app_id, body, state, attempts, applied_at)
         values ($1, $2, 'applied', 1, now())",
    )
    .bind(target.app_id)
    .bind(body)
    .execute(&mut *tx)
    .await
    .context("store webhook event")?;
    let Target {
        tenant_id,
        number_id,
        ..
    } = target;
    let contact_id: i64 = sqlx::query_scalar(
        "insert into contacts (tenant_id, wa_id, user_id, profile_name) values ($1, $2, $3, $4)
         on conflict (tenant_id, wa_id) where wa_id is not null do update set
             user_id = coalesce(excluded.user_id, contacts.user_id),
             profile_name = coalesce(excluded.profile_name, contacts.profile_name),
             updated_at = now()
         returning id",
    )
    .bind(tenant_id)
    .bind(&message.wa_id)
    .bind(&message.user_id)
    .bind(&message.name)
    .fetch_one(&mut *tx)
    .await
    .context("upsert contact")?;
    let conversation_id: i64 = sqlx::query_scalar(
        "insert into conversations
             (tenant_id, phone_number_id, contact_id, last_customer_message_at, last_message_at)
         values ($1, $2, $3, $4, $4)
         on conflict (phone_number_id, contact_id) do update set
             last_customer_message_at = greatest(conversations.last_customer_message_at,
                                                 excluded.last_customer_message_at),
             last_message_at = greatest(conversations.last_message_at, excluded.last_message_at)
         returning id",
    )
    .bind(tenant_id)
    .bind(number_id)
    .bind(contact_id)
    .bind(message.at)
    .fetch_one(&mut *tx)
    .await
    .context("upsert conversation")?;
    sqlx::query(
        "insert into messages (tenant_id, conversation_id, phone_number_id, direction, wamid, type,
             body, content, meta_timestamp, status)
         values ($1, $2, $3, 'inbound', $4, 'text', $5, $6, $7, 'received')
         on conflict (phone_number_id, wamid) do nothing",
    )
    .bind(tenant_id)
    .bind(conversation_id)
    .bind(number_id)
    .bind(&message.wamid)
    .bind(&message.text)
    .bind(&message.raw)
    .bind(message.at)
    .execute(&mut *tx)
    .await
    .context("store message")?;
    tx.commit().await.context("commit")
}

/// What the naive path reads of a benchmark webhook (one text message).
struct Naive {
    wa_id: String,
    user_id: Option<String>,
    name: Option<String>,
    wamid: String,
    text: String,
    at: chrono::DateTime<chrono::Utc>,
    raw: serde_json::Value,
}

impl Naive {
    fn read(body: &[u8]) -> anyhow::Result<Self> {
        let notification: serde_json::Value = serde_json::from_slice(body).context("JSON")?;
        let value = &notification["entry"][0]["changes"][0]["value"];
        let raw = value["messages"][0].clone();
        let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
        let seconds: i64 = raw["timestamp"]
            .as_str()
            .context("timestamp")?
            .parse()
            .context("timestamp")?;
        Ok(Self {
            wa_id: text(&raw["from"]).context("from")?,
            user_id: text(&value["contacts"][0]["user_id"]),
            name: text(&value["contacts"][0]["profile"]["name"]),
            wamid: text(&raw["id"]).context("id")?,
            text: text(&raw["text"]["body"]).context("text")?,
            at: chrono::DateTime::from_timestamp(seconds, 0).context("timestamp range")?,
            raw,
        })
    }
}
