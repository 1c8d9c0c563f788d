//! Taking queued messages off the queue, at each number's pace. One statement claims a batch and
//! books its send slots: for each number that has queued messages (least booked first), the oldest
//! due ones, as many as the number may send within the next `HORIZON`, one per conversation (so a
//! customer receives them in order), skipping rows other workers hold (`FOR UPDATE SKIP LOCKED`, so
//! several instances share the queue). A number's slots are spaced evenly in `send_pacing`, so no
//! second carries more than its limit however many workers send; a campaign on one number waits
//! its turn instead of holding back every other number's messages. Slots run at
//! [`PACING_HEADROOM`] of the limit. Meta's default is 80 messages/s per number.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/overview#throughput>

use std::time::Duration;

use anyhow::Context;
use serde_json::Value;
use sqlx::PgPool;

use super::PACING_HEADROOM;

/// How far ahead a number's slots are booked: enough to keep it busy between two claims.
const HORIZON: Duration = Duration::from_millis(250);

/// A claimed message and when its slot comes.
pub(super) struct Job {
    pub id: i64,
    pub number_id: i64,
    pub conversation_id: i64,
    pub contact_id: i64,
    pub content: Value,
    pub attempts: i32,
    /// From the end of the claim until the message's send slot.
    pub wait: Duration,
}

/// Claims up to `limit` due messages and books their send slots (see the module docs).
pub(super) async fn claim(db: &PgPool, limit: usize) -> anyhow::Result<Vec<Job>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let rows = sqlx::query!(
        r#"with recursive active (number_id) as (
               (select phone_number_id from messages where status = 'queued'
                order by phone_number_id limit 1)
               union all
               select (select m.phone_number_id from messages m
                       where m.status = 'queued' and m.phone_number_id > a.number_id
                       order by m.phone_number_id limit 1)
               from active a where a.number_id is not null
           ),
           budget as (
               select n.id as number_id, p.next_slot_at,
                      1 / (n.max_messages_per_second * $2::float8) as spacing
               from active a
               join phone_numbers n on n.id = a.number_id
               left join send_pacing p on p.phone_number_id = n.id
           ),
           due as (
               select picked.id
               from budget b
               cross join lateral (
                   select m.id from messages m
                   join conversations c on c.id = m.conversation_id
                   where m.phone_number_id = b.number_id and m.status = 'queued'
                     and m.next_attempt_at <= now()
                     and (c.send_paused_until is null or c.send_paused_until <= now())
                     -- The conversation's first unsent message, and none of it in flight. (As
                     -- `not exists` the planner may scan the whole in-flight index per row when
                     -- its statistics were taken with an empty queue.)
                     and m.id = (select min(first.id) from messages first
                                 where first.conversation_id = m.conversation_id
                                   and first.status in ('queued', 'sending'))
                   order by m.next_attempt_at, m.id
                   limit greatest(0, ceil(extract(epoch from make_interval(secs => $3)
                              - greatest(b.next_slot_at - clock_timestamp(), interval '0'))
                          / b.spacing))
                   for update of m skip locked
               ) picked
               order by b.next_slot_at nulls first
               limit $1
           ),
           claimed as (
               update messages m
               set status = 'sending', sending_started_at = now(), attempts = m.attempts + 1
               from due, conversations c
               where m.id = due.id and c.id = m.conversation_id
               returning m.id, m.phone_number_id, m.conversation_id, c.contact_id, m.content,
                         m.attempts
           ),
           counts as (
               select c.phone_number_id as number_id, count(*) as sends, b.spacing
               from claimed c join budget b on b.number_id = c.phone_number_id
               group by c.phone_number_id, b.spacing
           ),
           booked as (
               -- In number order, so that concurrent claims lock pacing rows in the same order;
               -- from the clock once the row is locked, so that time spent claiming or waiting
               -- for another instance's claim cannot put slots in the past and bunch them.
               insert into send_pacing as p (phone_number_id, next_slot_at)
               select number_id, clock_timestamp() + make_interval(secs => sends * spacing)
               from counts order by number_id
               on conflict (phone_number_id) do update
                   set next_slot_at = greatest(p.next_slot_at, clock_timestamp())
                       + (select make_interval(secs => c.sends * c.spacing) from counts c
                          where c.number_id = excluded.phone_number_id)
               returning p.phone_number_id, p.next_slot_at
           )
           select c.id as "id!", c.phone_number_id as "number_id!",
                  c.conversation_id as "conversation_id!", c.contact_id as "contact_id!",
                  c.content as "content!", c.attempts as "attempts!",
                  extract(epoch from b.next_slot_at - clock_timestamp()
                      - make_interval(secs => k.spacing * (k.sends + 1
                          - row_number() over (partition by c.phone_number_id order by c.id))))::float8
                      as "wait!"
           from claimed c
           join counts k on k.number_id = c.phone_number_id
           join booked b on b.phone_number_id = c.phone_number_id"#,
        limit as i64,
        PACING_HEADROOM,
        HORIZON.as_secs_f64()
    )
    .fetch_all(db)
    .await
    .context("claim queued messages")?;
    Ok(rows
        .into_iter()
        .map(|r| Job {
            id: r.id,
            number_id: r.number_id,
            conversation_id: r.conversation_id,
            contact_id: r.contact_id,
            content: r.content,
            attempts: r.attempts,
            wait: Duration::from_secs_f64(r.wait.max(0.0)),
        })
        .collect())
}

/// Marks messages abandoned in `sending` for longer than `after` as `unknown`: they may or may not
/// have reached Meta, so they are never resent automatically. Returns how many there were.
pub(super) async fn mark_abandoned(db: &PgPool, after: Duration) -> anyhow::Result<usize> {
    let ids = sqlx::query_scalar!(
        "update messages set status = 'unknown',
             error_title = 'Delivery unknown',
             error_message = 'Switchboard stopped while sending this message, so we cannot tell whether WhatsApp received it. Check with the customer before sending it again.'
         where status = 'sending' and sending_started_at < now() - make_interval(secs => $1)
         returning id",
        after.as_secs_f64()
    )
    .fetch_all(db)
    .await
    .context("mark abandoned sends")?;
    Ok(ids.len())
}
