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

use super::{PACING_HEADROOM, checks::ClaimedTemplate};
use crate::domain::{
    conversations::SendContext,
    ids::{ContactId, ConversationId, MessageId, NumberId, TenantId},
    messages::MessageStatus,
    templates::{TemplateCategory, TemplateStatus},
};

/// How far ahead a number's slots are booked: enough to keep it busy between two claims.
const HORIZON: Duration = Duration::from_millis(250);

/// A claimed message and when its slot comes.
pub(super) struct Job {
    pub id: MessageId,
    pub tenant_id: TenantId,
    pub number_id: NumberId,
    pub content: Value,
    /// Claims so far, this one included; also tells this claim from a later one.
    pub attempts: i32,
    /// From the end of the claim until the message's send slot.
    pub wait: Duration,
    /// The conversation as it stood at the claim, for the checks before the Graph call.
    pub context: SendContext,
    /// The template of a template message, as it stood at the claim.
    pub template: Option<ClaimedTemplate>,
}

/// Claims up to `limit` due messages for delivery instance `instance` and books their send slots
/// (see the module docs). Across tenants: the queue is shared, and each job carries its tenant,
/// which every later step passes on.
pub(super) async fn claim(db: &PgPool, instance: i64, limit: usize) -> anyhow::Result<Vec<Job>> {
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
               -- A paused number's messages wait; a removed number's were failed on removal.
               join phone_numbers n on n.id = a.number_id and n.paused_at is null
                                       and n.removed_at is null
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
               -- By primary key: joined to `due` instead, a plan made while `messages` was small
               -- hashes the ids and scans the whole table for them.
               update messages m
               set status = 'sending', sending_started_at = now(), attempts = m.attempts + 1,
                   claimed_by = $4, call_started_at = null
               where m.id = any(array(select id from due))
               returning m.id, m.tenant_id, m.phone_number_id, m.conversation_id, m.content,
                         m.attempts, m.template_id
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
           select c.id as "id!: MessageId", c.tenant_id as "tenant_id!: TenantId",
                  c.phone_number_id as "number_id!: NumberId",
                  c.conversation_id as "conversation_id!: ConversationId", c.content as "content!",
                  c.attempts as "attempts!",
                  extract(epoch from b.next_slot_at - clock_timestamp()
                      - make_interval(secs => k.spacing * (k.sends + 1
                          - row_number() over (partition by c.phone_number_id order by c.id))))::float8
                      as "wait!",
                  -- What the send is checked against again right before its Graph call.
                  n.waba_id, v.contact_id as "contact_id: ContactId", coalesce(p.wa_id, p.user_id) as "recipient!",
                  p.language as contact_language, t.default_language, p.opted_out_at,
                  v.last_customer_message_at, v.window_closed_by_meta_at,
                  n.removed_at is not null as "number_removed!",
                  tp.name as "template_name?", tp.status as "template_status?: TemplateStatus",
                  tp.category as "template_category: TemplateCategory"
           from claimed c
           join counts k on k.number_id = c.phone_number_id
           join booked b on b.phone_number_id = c.phone_number_id
           join phone_numbers n on n.id = c.phone_number_id
           join conversations v on v.id = c.conversation_id
           join contacts p on p.id = v.contact_id
           join tenants t on t.id = c.tenant_id
           left join message_templates tp on tp.id = c.template_id"#,
        limit as i64,
        PACING_HEADROOM,
        HORIZON.as_secs_f64(),
        instance
    )
    .fetch_all(db)
    .await
    .context("claim queued messages")?;
    Ok(rows
        .into_iter()
        .map(|r| Job {
            id: r.id,
            tenant_id: r.tenant_id,
            number_id: r.number_id,
            content: r.content,
            attempts: r.attempts,
            wait: Duration::from_secs_f64(r.wait.max(0.0)),
            template: r
                .template_name
                .zip(r.template_status)
                .map(|(name, status)| ClaimedTemplate {
                    name,
                    status,
                    marketing: r.template_category == Some(TemplateCategory::Marketing),
                }),
            context: SendContext {
                conversation_id: r.conversation_id,
                number_id: r.number_id,
                waba_id: r.waba_id,
                contact_id: r.contact_id,
                recipient: r.recipient,
                contact_language: r.contact_language,
                default_language: r.default_language,
                opted_out_at: r.opted_out_at,
                last_customer_message_at: r.last_customer_message_at,
                window_closed_by_meta_at: r.window_closed_by_meta_at,
                number_removed: r.number_removed,
            },
        })
        .collect())
}

/// What a sweep settled.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Settled {
    /// Claimed, but their Graph call never started: queued again.
    pub requeued: usize,
    /// Their call started, so Meta may have them: `unknown`, never resent automatically.
    pub unknown: usize,
}

/// Settles `sending` messages whose instance is gone (no heartbeat within `stale`), or that have
/// been `sending` longer than `stuck` (a call has long timed out by then). One whose Graph call
/// never started goes back to the queue: its instance can no longer start the call, since it
/// marks the start only while the message is still its claim (see [`mark_call_started`]). Across
/// tenants, like the queue: each settled message announces its change to its own tenant.
pub(super) async fn settle_abandoned(
    db: &PgPool,
    stale: Duration,
    stuck: Duration,
) -> anyhow::Result<Settled> {
    let rows = sqlx::query_scalar!(
        r#"with settled as (
           update messages m set
               status = case when m.call_started_at is null then 'queued' else 'unknown' end,
               next_attempt_at = now(),
               claimed_by = null,
               error_title = case when m.call_started_at is null then m.error_title
                             else 'Delivery unknown' end,
               error_message = case when m.call_started_at is null then m.error_message
                               else 'Switchboard stopped while sending this message, so we cannot tell whether WhatsApp received it. Check with the customer before sending it again.' end
           where m.status = 'sending'
             and (m.sending_started_at < now() - make_interval(secs => $2)
                  or not exists (select 1 from outbox_instances i
                                 where i.id = m.claimed_by
                                   and i.heartbeat_at > now() - make_interval(secs => $1)))
           returning m.id, m.tenant_id, m.conversation_id, m.status
           )
           select settled.status as "status!: MessageStatus"
           from settled, announce(settled.tenant_id, settled.conversation_id, settled.id,
                                  '{message_status}')"#,
        stale.as_secs_f64(),
        stuck.as_secs_f64()
    )
    .fetch_all(db)
    .await
    .context("settle abandoned sends")?;
    let requeued = rows.iter().filter(|s| **s == MessageStatus::Queued).count();
    Ok(Settled {
        requeued,
        unknown: rows.len() - requeued,
    })
}

/// Durably records that the Graph calls of these claims of `instance` are starting, and returns
/// the ids of those that are still its claim: only those may be called. A message stops being the
/// claim when a sweep settles it (which clears `claimed_by`) or it is claimed again (`attempts`
/// grows); once its call started it can never start again. Across tenants: the ids are this
/// instance's claims, whoever's they are.
///
/// It asks `claimed_by`, not `status = 'sending'`: with that condition the planner may read the
/// partial index of `sending` messages, which holds an entry for every message sent since the last
/// vacuum, instead of looking the ids up.
pub(super) async fn mark_call_started(
    db: &PgPool,
    instance: i64,
    ids: &[MessageId],
    attempts: &[i32],
) -> anyhow::Result<Vec<MessageId>> {
    let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
    sqlx::query_scalar!(
        r#"update messages m set call_started_at = now()
           from unnest($2::bigint[], $3::integer[]) as t (id, attempts)
           where m.id = t.id and m.claimed_by = $1 and m.attempts = t.attempts
             and m.call_started_at is null
           returning m.id as "id: MessageId""#,
        instance,
        &ids,
        attempts
    )
    .fetch_all(db)
    .await
    .context("record the start of Graph calls")
}

/// Registers a delivery instance; its claims are its own while its heartbeat is recent.
pub(super) async fn register_instance(db: &PgPool) -> anyhow::Result<i64> {
    sqlx::query_scalar!("insert into outbox_instances default values returning id")
        .fetch_one(db)
        .await
        .context("register delivery instance")
}

/// Keeps the instance alive; forgets instances silent for a day.
pub(super) async fn heartbeat(db: &PgPool, instance: i64) -> anyhow::Result<()> {
    sqlx::query!(
        "with beat as (update outbox_instances set heartbeat_at = now() where id = $1)
         delete from outbox_instances where heartbeat_at < now() - interval '1 day'",
        instance
    )
    .execute(db)
    .await
    .context("delivery instance heartbeat")?;
    Ok(())
}

/// Removes a stopped instance (after its in-flight sends were recorded).
pub(super) async fn unregister_instance(db: &PgPool, instance: i64) -> anyhow::Result<()> {
    sqlx::query!("delete from outbox_instances where id = $1", instance)
        .execute(db)
        .await
        .context("unregister delivery instance")?;
    Ok(())
}
