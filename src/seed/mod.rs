//! `switchboard dev seed`: fills one tenant with realistic data for trying the inbox at scale and
//! for its benchmark (docs/benchmarks.md): sandbox numbers, agents, labels, and conversations with
//! their contacts and messages, inserted set by set ([`bulk`]) so that a million conversations and
//! ten million messages take minutes, the messages in the order of their time. Conversations spread over statuses (a quarter open),
//! assignees (30 % unassigned), window states (open, closing soon, closed, never opened) and
//! message kinds (text, locations, documents, voice; delivered, read and failed replies). Afterwards
//! the tables are vacuumed and analysed, as autovacuum would, so that queries are planned for
//! their real size.

mod bulk;

use anyhow::Context;
use chrono::Utc;
use secrecy::SecretString;
use serde_json::json;
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

use crate::{
    crypto::Cipher,
    domain::{
        audit,
        ids::{LabelId, NumberId, TenantId, UserId},
        tenants,
        users::{self, NewUser, Role},
    },
    sandbox::provision,
};

/// What to seed.
pub struct SeedPlan {
    /// The tenant's slug; created (with this name) when it does not exist.
    pub tenant: String,
    pub conversations: i64,
    pub messages: i64,
    pub numbers: usize,
    pub agents: usize,
    /// The agents' password.
    pub password: SecretString,
}

/// What was seeded.
pub struct Seeded {
    pub tenant_slug: String,
    /// The agents' e-mail addresses (the first is an admin).
    pub agents: Vec<String>,
    pub conversations: i64,
    pub messages: i64,
}

/// Conversations per statement (and conversations' messages per statement, when writing those).
const CHUNK: i64 = 10_000;

const LABELS: [&str; 8] = [
    "VIP",
    "Refund",
    "Delivery",
    "Billing",
    "Bug",
    "Wholesale",
    "Complaint",
    "Follow-up",
];

/// Seeds `plan`; `progress` hears the conversations and messages written so far after each
/// statement (the conversations first, then their messages).
pub async fn seed(
    db: &PgPool,
    cipher: &Cipher,
    plan: &SeedPlan,
    mut progress: impl FnMut(i64, i64),
) -> anyhow::Result<Seeded> {
    anyhow::ensure!(plan.conversations > 0, "--conversations must be at least 1");
    anyhow::ensure!(
        plan.messages >= plan.conversations,
        "--messages must be at least --conversations (each conversation has a message)"
    );
    let mut tx = db.begin().await.context("begin")?;
    let tenant = match tenants::find_by_slug(&mut tx, &plan.tenant).await? {
        Some(tenant) => tenant,
        None => tenants::create(&mut tx, &plan.tenant).await?,
    };
    let mut numbers = Vec::with_capacity(plan.numbers);
    for _ in 0..plan.numbers.max(1) {
        let number = provision::create_number(&mut tx, cipher, tenant.id, None).await?;
        numbers.push(number_id(&mut tx, tenant.id, &number.phone_number_id).await?);
    }
    let mut agents = Vec::with_capacity(plan.agents);
    let mut emails = Vec::with_capacity(plan.agents);
    for n in 1..=plan.agents.max(1) {
        // Agents of an earlier run on this tenant are reused (with their password).
        let email = format!("agent{n}@{}.example", tenant.slug);
        let id = match user_id(&mut tx, tenant.id, &email).await? {
            Some(id) => id,
            None => {
                let user = NewUser {
                    email: &email,
                    name: &format!("Agent {n}"),
                    role: if n == 1 { Role::Admin } else { Role::Agent },
                    password: &plan.password,
                };
                users::create(&mut tx, tenant.id, &user).await?
            }
        };
        agents.push(id);
        emails.push(email);
    }
    let labels = labels(&mut tx, tenant.id).await?;
    let details = json!({ "conversations": plan.conversations, "messages": plan.messages });
    audit::record(&mut tx, tenant.id, None, "dev.seed", details).await?;
    tx.commit().await.context("commit the tenant's cast")?;

    let cast = bulk::Cast {
        tenant_id: tenant.id,
        numbers: &numbers,
        agents: &agents,
        labels: &labels,
        now: Utc::now(),
        // Customers' numbers (+49 151 …), after those of earlier runs.
        first_wa_id: 4_915_100_000_000 + contacts(db, tenant.id).await?,
        average_messages: ((plan.messages + plan.conversations / 2) / plan.conversations).max(1),
    };
    let mut conn = bulk_connection(db).await?;
    let mut ids: Option<bulk::Ids> = None;
    let mut first = 1;
    while first <= plan.conversations {
        let last = (first + CHUNK - 1).min(plan.conversations);
        let chunk = bulk::conversations(&mut conn, &cast, first, last).await?;
        ids = Some(bulk::Ids {
            first: ids.map_or(chunk.first, |ids| ids.first.min(chunk.first)),
            last: ids.map_or(chunk.last, |ids| ids.last.max(chunk.last)),
        });
        progress(last, 0);
        first = last + 1;
    }
    let ids = ids.context("no conversation was seeded")?;
    // Planned for what is there now, not for the empty table the run began with.
    sqlx::raw_sql("analyze conversations")
        .execute(&mut conn)
        .await
        .context("analyse the seeded conversations")?;
    let stretches = bulk::stretches(&mut conn, tenant.id, ids, CHUNK).await?;
    let (mut messages, mut from) = (0, None);
    for to in stretches.ends {
        messages +=
            bulk::messages(&mut conn, &cast, ids, (from, to), stretches.longest_secs).await?;
        progress(plan.conversations, messages);
        from = to;
    }
    vacuum(&mut conn).await?;
    Ok(Seeded {
        tenant_slug: tenant.slug,
        agents: emails,
        conversations: plan.conversations,
        messages,
    })
}

/// A connection of its own for the bulk statements: they take seconds each, which is expected
/// here, so they are not logged as slow. (Like every connection of the app, it runs without JIT:
/// the statements' wildly overestimated costs made JIT compile for longer than they ran.)
async fn bulk_connection(db: &PgPool) -> anyhow::Result<PgConnection> {
    let options = (*db.connect_options()).clone().disable_statement_logging();
    PgConnection::connect_with(&options)
        .await
        .context("connect for seeding")
}

/// How many contacts the tenant has.
async fn contacts(db: &PgPool, tenant_id: TenantId) -> anyhow::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from contacts where tenant_id = $1"#,
        tenant_id as TenantId
    )
    .fetch_one(db)
    .await
    .context("count contacts")
}

async fn user_id(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    email: &str,
) -> anyhow::Result<Option<UserId>> {
    sqlx::query_scalar!(
        r#"select id as "id: UserId" from users where tenant_id = $1 and lower(email) = lower($2)"#,
        tenant_id as TenantId,
        email
    )
    .fetch_optional(conn)
    .await
    .context("find a seeded agent")
}

async fn number_id(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    phone_number_id: &str,
) -> anyhow::Result<NumberId> {
    sqlx::query_scalar!(
        r#"select id as "id: NumberId" from phone_numbers
           where tenant_id = $1 and phone_number_id = $2"#,
        tenant_id as TenantId,
        phone_number_id
    )
    .fetch_one(conn)
    .await
    .context("find the seeded number")
}

/// The tenant's labels of [`LABELS`], created when missing.
async fn labels(conn: &mut PgConnection, tenant_id: TenantId) -> anyhow::Result<Vec<LabelId>> {
    let names: Vec<String> = LABELS.iter().map(|l| (*l).to_owned()).collect();
    sqlx::query!(
        "insert into labels (tenant_id, name) select $1, unnest($2::text[])
         on conflict (tenant_id, lower(name)) do nothing",
        tenant_id as TenantId,
        &names
    )
    .execute(&mut *conn)
    .await
    .context("create labels")?;
    sqlx::query_scalar!(
        r#"select id as "id: LabelId" from labels
           where tenant_id = $1 and lower(name) = any(select lower(unnest($2::text[])))
           order by id"#,
        tenant_id as TenantId,
        &names
    )
    .fetch_all(conn)
    .await
    .context("read labels")
}

/// What autovacuum would do after such a load: visibility maps for index-only scans, and
/// statistics for the planner. (A fixed statement: VACUUM cannot be prepared.)
async fn vacuum(conn: &mut PgConnection) -> anyhow::Result<()> {
    sqlx::raw_sql(
        "vacuum (analyze) contacts, conversations, messages, conversation_labels, \
         conversation_reads, conversation_events",
    )
    .execute(conn)
    .await
    .context("vacuum and analyse the seeded tables")?;
    Ok(())
}
