//! What the benchmark sends from and to: one tenant with one Meta app, `numbers` business numbers,
//! and `customers` conversations per number whose 24-hour window is open (the customer wrote just
//! now), inserted directly in bulk. Message `i` of a load goes out from number `i % numbers` to
//! that number's conversations in turn, so every number gets an even share and each conversation
//! has at most a few messages queued at once.

use anyhow::{Context, ensure};
use sqlx::PgPool;
use switchboard::{
    crypto::Cipher,
    domain::{
        apps::{self, AppSecrets},
        ids::{ConversationId, TenantId},
        numbers::{self, NewNumber},
        tenants,
    },
};

/// Meta's App ID of the benchmark tenant's app.
const META_APP_ID: &str = "900000000000001";
/// The first number's `phone_number_id`; the others follow it.
const FIRST_PHONE_NUMBER_ID: u64 = 100_000_000_000_001;
/// The first customer's `wa_id`; the others follow it.
const FIRST_CUSTOMER: i64 = 15_550_000_000;
/// Meta's default throughput, which `phone_numbers.max_messages_per_second` defaults to.
const DEFAULT_LIMIT: u32 = 80;

/// The provisioned tenant.
pub struct Fixture {
    pub tenant_id: TenantId,
    pub numbers: Vec<Number>,
}

/// A business number's conversations.
pub struct Number {
    pub conversations: Vec<ConversationId>,
}

impl Fixture {
    /// The conversation that message `index` of a load goes to.
    pub fn conversation_for(&self, index: usize) -> ConversationId {
        let number = &self.numbers[index % self.numbers.len()];
        let turn = index / self.numbers.len();
        number.conversations[turn % number.conversations.len()]
    }
}

/// Creates the tenant, its app, `numbers` numbers limited to `limit` messages/s each, and
/// `customers` open conversations per number.
pub async fn provision(
    db: &PgPool,
    cipher: &Cipher,
    numbers: u32,
    limit: u32,
    customers: u32,
) -> anyhow::Result<Fixture> {
    let mut conn = db.acquire().await.context("acquire connection")?;
    let tenant = tenants::create(&mut conn, "Send Benchmark").await?;
    let secrets = AppSecrets {
        app_secret: "send-benchmark-app-secret".into(),
        verify_token: "send-benchmark-verify-token".into(),
    };
    let app_id = apps::ensure(&mut conn, cipher, tenant.id, META_APP_ID, Some(secrets)).await?;
    for (phone_number_id, access_token) in credentials(numbers) {
        let number = NewNumber {
            tenant_id: tenant.id,
            app_id,
            phone_number_id: &phone_number_id,
            waba_id: "900000000000002",
            display_phone_number: None,
            access_token: access_token.into(),
            sandbox: false,
        };
        numbers::add(&mut conn, cipher, number).await?;
    }
    drop(conn);
    if limit != DEFAULT_LIMIT {
        set_limit(db, tenant.id, limit).await?;
    }
    open_conversations(db, tenant.id, i64::from(numbers) * i64::from(customers)).await?;
    let numbers = load_numbers(db, tenant.id).await?;
    ensure!(
        numbers
            .iter()
            .all(|n| n.conversations.len() == customers as usize),
        "expected {customers} conversations on every number"
    );
    Ok(Fixture {
        tenant_id: tenant.id,
        numbers,
    })
}

/// The `phone_number_id` and access token of each of the first `numbers` numbers, in order.
pub fn credentials(numbers: u32) -> Vec<(String, String)> {
    (0..u64::from(numbers))
        .map(|index| {
            let phone_number_id = (FIRST_PHONE_NUMBER_ID + index).to_string();
            (phone_number_id, format!("send-benchmark-token-{index}"))
        })
        .collect()
}

/// Adds `count` old outbound messages, long since read, spread over the tenant's conversations,
/// then vacuums, gathers statistics on every table and checkpoints: the shape of a database that
/// has been in use for a while, where the queue is a sliver of `messages` and the planner's
/// statistics say so.
pub async fn add_history(db: &PgPool, tenant_id: TenantId, count: u32) -> anyhow::Result<()> {
    sqlx::query(
        "with threads as (
             select array_agg(id order by id) as ids,
                    array_agg(phone_number_id order by id) as numbers
             from conversations where tenant_id = $1
         )
         insert into messages (tenant_id, conversation_id, phone_number_id, direction, wamid, type,
             body, content, status, created_at, sent_at)
         select $1, t.ids[g % cardinality(t.ids) + 1], t.numbers[g % cardinality(t.ids) + 1],
                'outbound', 'wamid.history.' || g, 'text', 'Earlier', '{}', 'read',
                now() - interval '30 days', now() - interval '30 days'
         from threads t, generate_series(0, $2 - 1) g",
    )
    .bind(tenant_id)
    .bind(i64::from(count))
    .execute(db)
    .await
    .context("add message history")?;
    // Vacuumed and checkpointed too, as a database in use would long since be: otherwise
    // autovacuum and the checkpointer set about the new rows in the middle of the measurement.
    for statement in ["vacuum analyze", "checkpoint"] {
        sqlx::raw_sql(statement)
            .execute(db)
            .await
            .with_context(|| format!("{statement} the database"))?;
    }
    Ok(())
}

async fn set_limit(db: &PgPool, tenant_id: TenantId, limit: u32) -> anyhow::Result<()> {
    sqlx::query("update phone_numbers set max_messages_per_second = $2 where tenant_id = $1")
        .bind(tenant_id)
        .bind(i32::try_from(limit).context("--limit is too large")?)
        .execute(db)
        .await
        .context("set the numbers' throughput limit")?;
    Ok(())
}

/// `total` customers, each with one conversation on one of the tenant's numbers (dealt out in
/// turn), who last wrote now: the window stays open for the whole run.
async fn open_conversations(db: &PgPool, tenant_id: TenantId, total: i64) -> anyhow::Result<()> {
    sqlx::query(
        "with numbers as (
             select array_agg(id order by id) as ids from phone_numbers where tenant_id = $1
         ),
         customers as (
             insert into contacts (tenant_id, wa_id)
             select $1, ($3 + g)::text from generate_series(0, $2 - 1) g
             returning id, wa_id::bigint - $3 as turn
         )
         insert into conversations
             (tenant_id, phone_number_id, contact_id, last_customer_message_at, last_message_at)
         select $1, n.ids[1 + k.turn % cardinality(n.ids)], k.id, now(), now()
         from customers k, numbers n",
    )
    .bind(tenant_id)
    .bind(total)
    .bind(FIRST_CUSTOMER)
    .execute(db)
    .await
    .context("create customers with open conversations")?;
    Ok(())
}

async fn load_numbers(db: &PgPool, tenant_id: TenantId) -> anyhow::Result<Vec<Number>> {
    let rows: Vec<(Vec<ConversationId>,)> = sqlx::query_as(
        "select array_agg(c.id order by c.id)
         from phone_numbers n join conversations c on c.phone_number_id = n.id
         where n.tenant_id = $1
         group by n.id order by n.id",
    )
    .bind(tenant_id)
    .fetch_all(db)
    .await
    .context("list the conversations of each number")?;
    Ok(rows
        .into_iter()
        .map(|(conversations,)| Number { conversations })
        .collect())
}
