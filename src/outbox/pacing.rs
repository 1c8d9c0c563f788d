//! Per-number throughput: each send reserves the number's next slot in `send_pacing`, slots spaced
//! evenly, so no second carries more than the number's limit, however many workers and instances
//! send. Slots run at 95 % of the limit, so that network jitter (a request arriving a few ms late
//! while the next one is on time) cannot push any one-second span at Meta over it. Meta's default
//! is 80 messages/s per number; upgraded numbers get more.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/overview#throughput>

use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;

/// The share of a number's limit that slots use.
const HEADROOM: f64 = 0.95;

/// Reserves the next send slot of number `number_id` (limit `per_second`); returns how long to wait
/// until it.
pub async fn reserve_slot(
    db: &PgPool,
    number_id: i64,
    per_second: i32,
) -> anyhow::Result<Duration> {
    let spacing = 1.0 / (f64::from(per_second.max(1)) * HEADROOM);
    let wait = sqlx::query_scalar!(
        r#"insert into send_pacing as p (phone_number_id, next_slot_at)
           values ($1, clock_timestamp() + make_interval(secs => $2))
           on conflict (phone_number_id) do update
               set next_slot_at = greatest(p.next_slot_at, clock_timestamp()) + make_interval(secs => $2)
           returning extract(epoch from p.next_slot_at - clock_timestamp())::float8 - $2 as "wait!""#,
        number_id,
        spacing
    )
    .fetch_one(db)
    .await
    .context("reserve send slot")?;
    Ok(Duration::from_secs_f64(wait.max(0.0)))
}
