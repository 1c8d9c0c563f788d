//! What the requests of the benchmark are about, read from the seeded database: the tenant's
//! numbers and labels, conversations to open, conversations whose window is open (to reply to),
//! a cursor deep in the list, and words and names to search for.

use anyhow::Context;
use rand::{SeedableRng, rngs::StdRng, seq::SliceRandom};
use sqlx::PgPool;

pub struct Fixture {
    pub number: i64,
    pub label: i64,
    /// Conversations to open, in random order.
    pub conversations: Vec<i64>,
    /// Conversations whose window is open, to reply to.
    pub open_windows: Vec<i64>,
    /// The cursor of the 20th page of All (open).
    pub deep_cursor: String,
    /// A customer's number, digits only.
    pub customer_number: String,
}

impl Fixture {
    pub async fn read(db: &PgPool) -> anyhow::Result<Self> {
        let tenant: i64 = sqlx::query_scalar("select id from tenants where slug = 'bench'")
            .fetch_one(db)
            .await
            .context("find the seeded tenant")?;
        let number: i64 = sqlx::query_scalar(
            "select id from phone_numbers where tenant_id = $1 and sandbox order by id limit 1",
        )
        .bind(tenant)
        .fetch_one(db)
        .await
        .context("find a seeded number")?;
        let label: i64 =
            sqlx::query_scalar("select id from labels where tenant_id = $1 and name = 'Refund'")
                .bind(tenant)
                .fetch_one(db)
                .await
                .context("find a seeded label")?;
        let mut rng = StdRng::seed_from_u64(7);
        // A sample spread over the whole table, old and new.
        let mut conversations: Vec<i64> = sqlx::query_scalar(
            "select id from conversations where tenant_id = $1 order by hashint8(id) limit 2000",
        )
        .bind(tenant)
        .fetch_all(db)
        .await
        .context("sample conversations")?;
        conversations.shuffle(&mut rng);
        let mut open_windows: Vec<i64> = sqlx::query_scalar(
            "select id from conversations
             where tenant_id = $1 and status = 'open' and phone_number_id in
                   (select id from phone_numbers where tenant_id = $1 and sandbox)
               and last_customer_message_at > now() - interval '20 hours'
             limit 2000",
        )
        .bind(tenant)
        .fetch_all(db)
        .await
        .context("find open windows")?;
        open_windows.shuffle(&mut rng);
        // The benchmark's own look-up, not the product's: OFFSET is fine here.
        let deep_cursor: String = sqlx::query_scalar(
            "select (extract(epoch from last_message_at) * 1000000)::bigint || '.' || id
             from conversations where tenant_id = $1 and status = 'open'
             order by last_message_at desc, id desc offset 999 limit 1",
        )
        .bind(tenant)
        .fetch_one(db)
        .await
        .context("find a deep cursor")?;
        let customer_number: String = sqlx::query_scalar(
            "select k.wa_id from contacts k where k.tenant_id = $1 and k.wa_id is not null
             order by k.id desc limit 1 offset 4321",
        )
        .bind(tenant)
        .fetch_one(db)
        .await
        .context("find a customer")?;
        anyhow::ensure!(
            !conversations.is_empty() && !open_windows.is_empty(),
            "the seeded tenant has no conversations with open windows"
        );
        Ok(Self {
            number,
            label,
            conversations,
            open_windows,
            deep_cursor,
            customer_number,
        })
    }
}
