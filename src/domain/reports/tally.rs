//! The figures of a stretch of time (a day, or an hour of a recent day) for every number of every
//! tenant, worked out from the messages, their statuses and the timeline.
//!
//! Each figure counts in the stretch its event falls in, so the figures of consecutive stretches
//! add up to those of the whole:
//! - Messages are counted when Switchboard received them; a reply's response time and window
//!   outcome, at the reply; a window that closed unanswered, when it closed (or when its message
//!   arrived, if that was later); a resolution, at its event. A template's answer counts with the
//!   template: its stretch changes when the customer answers, up to 24 hours later.
//! - A customer's turn is their messages since the business last replied (or since the
//!   conversation was resolved); the reply that ends it is its answer. A reply is any outbound
//!   message that did not fail: an agent's, a program's, the operator's, or one sent from the
//!   WhatsApp Business app.

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::figures::DayFigures;
use crate::{
    domain::ids::{NumberId, TenantId},
    window,
};

/// Figures by tenant and number.
pub type Figures = BTreeMap<(TenantId, NumberId), DayFigures>;

/// What of a stretch to work out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Everything.
    All,
    /// What statuses change: delivery and read counts, failures, the templates' funnels.
    Deliveries,
}

/// Works out `part` of the figures from `start` to `end` as they stand at `now`. For
/// [`Part::Deliveries`], `kept` is the stretch as it was worked out last, whose other figures
/// stay as they were.
pub async fn tally(
    conn: &mut PgConnection,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    part: Part,
    now: DateTime<Utc>,
    kept: Figures,
) -> anyhow::Result<Figures> {
    let mut figures = Figures::new();
    deliveries(conn, start, end, &mut figures).await?;
    match part {
        Part::All => {
            replies(conn, start, end, &mut figures).await?;
            inbound(conn, start, end, &mut figures).await?;
            closed_windows(conn, start, end.min(now), &mut figures).await?;
            resolutions(conn, start, end, &mut figures).await?;
        }
        Part::Deliveries => {
            for (key, mut stretch) in kept {
                stretch.replace_deliveries(figures.remove(&key).unwrap_or_default());
                figures.insert(key, stretch);
            }
        }
    }
    Ok(figures)
}

/// The business's messages by outcome: delivery, failures, templates (sent after the
/// window closed, answered within 24 hours).
async fn deliveries(
    conn: &mut PgConnection,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let rows = sqlx::query!(
        r#"select m.tenant_id as "tenant_id: TenantId", m.phone_number_id as "number_id: NumberId",
                  m.status, m.error_code, m.template_id,
                  m.sent_at is not null as "accepted!",
                  count(*) as "messages!",
                  count(*) filter (where m.template_id is not null and m.sent_at is not null
                                     and (template.customer_at is null
                                          or m.sent_at >= template.customer_at + interval '24 hours'))
                      as "after_window!",
                  count(*) filter (where m.template_id is not null and m.sent_at is not null
                                     and template.answered_at <= m.sent_at + interval '24 hours')
                      as "replied!"
           from messages m
           -- For templates only: the customer's latest message before, and their next one.
           left join lateral (
               select (select coalesce(i.meta_timestamp, i.created_at) from messages i
                       where i.conversation_id = m.conversation_id and i.direction = 'inbound'
                         and i.id < m.id
                       order by i.id desc limit 1) as customer_at,
                      (select coalesce(r.meta_timestamp, r.created_at) from messages r
                       where r.conversation_id = m.conversation_id and r.direction = 'inbound'
                         and r.id > m.id
                       order by r.id limit 1) as answered_at
               where m.template_id is not null
           ) template on true
           where m.created_at >= $1 and m.created_at < $2 and m.direction = 'outbound'
           group by m.tenant_id, m.phone_number_id, m.status, m.error_code, m.template_id,
                    m.sent_at is not null"#,
        start,
        end
    )
    .fetch_all(&mut *conn)
    .await
    .context("count the outbound messages")?;
    for row in rows {
        let stretch = figures.entry((row.tenant_id, row.number_id)).or_default();
        let n = row.messages;
        let failed = row.status == "failed";
        let delivered = matches!(row.status.as_str(), "delivered" | "read" | "played");
        let read = matches!(row.status.as_str(), "read" | "played");
        let accepted = if row.accepted { n } else { 0 };
        stretch.outbound += n;
        stretch.accepted += accepted;
        stretch.delivered += if delivered { n } else { 0 };
        stretch.read += if read { n } else { 0 };
        if failed {
            stretch.failed += n;
            let code = row.error_code.map_or("none".to_owned(), |c| c.to_string());
            *stretch.failures.entry(code).or_default() += n;
        }
        if let Some(template_id) = row.template_id {
            stretch.templates_sent += accepted;
            stretch.templates_after_window += row.after_window;
            let funnel = stretch.templates.entry(template_id).or_default();
            funnel.sent += accepted;
            funnel.delivered += if delivered { n } else { 0 };
            funnel.read += if read { n } else { 0 };
            funnel.failed += if failed { n } else { 0 };
            funnel.replied += row.replied;
        }
    }
    Ok(())
}

/// The business's replies (outbound messages that did not fail): who sent them, and
/// the customers' turns they answered, in or after the window.
async fn replies(
    conn: &mut PgConnection,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let rows = sqlx::query!(
        r#"select m.tenant_id as "tenant_id: TenantId", m.phone_number_id as "number_id: NumberId",
                  m.sent_by,
                  coalesce(m.sent_at, m.created_at) as "at!",
                  turn.started_at as "turn_started_at?",
                  turn.last_at as "turn_last_at?",
                  prev.id is null or coalesce(resolved.at > prev.at, false) as "opens!"
           from messages m
           -- The business's previous reply in the conversation.
           left join lateral (
               select p.id, coalesce(p.sent_at, p.created_at) as at from messages p
               where p.conversation_id = m.conversation_id and p.id < m.id
                 and p.direction = 'outbound' and p.status <> 'failed'
               order by p.id desc limit 1
           ) prev on true
           -- When the conversation was last resolved (`domain::teamwork::set_status`'s words).
           left join lateral (
               select max(e.created_at) as at from conversation_events e
               where e.conversation_id = m.conversation_id and e.kind = 'status'
                 and e.body = 'resolved this' and e.created_at < m.created_at
           ) resolved on true
           -- The customer's turn this message answers: their messages since both.
           left join lateral (
               select min(coalesce(i.meta_timestamp, i.created_at)) as started_at,
                      max(coalesce(i.meta_timestamp, i.created_at)) as last_at
               from messages i
               where i.conversation_id = m.conversation_id and i.direction = 'inbound'
                 and i.id < m.id and i.id > coalesce(prev.id, 0)
                 and i.created_at > coalesce(resolved.at, '-infinity')
           ) turn on true
           where m.created_at >= $1 and m.created_at < $2 and m.direction = 'outbound'
             and m.status <> 'failed'"#,
        start,
        end
    )
    .fetch_all(&mut *conn)
    .await
    .context("read the replies")?;
    for row in rows {
        let stretch = figures.entry((row.tenant_id, row.number_id)).or_default();
        let agent = stretch.agents.entry(row.sent_by.unwrap_or(0)).or_default();
        agent.replies += 1;
        let (Some(started_at), Some(last_at)) = (row.turn_started_at, row.turn_last_at) else {
            continue;
        };
        let waited = row.at - started_at;
        agent.answered += 1;
        agent.response_times.record(waited);
        stretch.response_times.record(waited);
        if row.opens {
            stretch.first_response_times.record(waited);
        }
        if row.at < last_at + window::LENGTH {
            stretch.answered_in_window += 1;
        } else {
            stretch.answered_late += 1;
        }
    }
    Ok(())
}

/// The customers' messages, and the conversations they opened.
async fn inbound(
    conn: &mut PgConnection,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let rows = sqlx::query!(
        r#"select m.tenant_id as "tenant_id: TenantId", m.phone_number_id as "number_id: NumberId",
                  count(*) as "messages!",
                  count(*) filter (where prev.at is null or resolved.at > prev.at) as "opened!"
           from messages m
           left join lateral (
               select p.created_at as at from messages p
               where p.conversation_id = m.conversation_id and p.id < m.id
                 and (p.direction = 'inbound' or p.status <> 'failed')
               order by p.id desc limit 1
           ) prev on true
           left join lateral (
               select max(e.created_at) as at from conversation_events e
               where e.conversation_id = m.conversation_id and e.kind = 'status'
                 and e.body = 'resolved this' and e.created_at < m.created_at
           ) resolved on true
           where m.created_at >= $1 and m.created_at < $2 and m.direction = 'inbound'
           group by m.tenant_id, m.phone_number_id"#,
        start,
        end
    )
    .fetch_all(&mut *conn)
    .await
    .context("read the customer messages")?;
    for row in rows {
        let stretch = figures.entry((row.tenant_id, row.number_id)).or_default();
        stretch.customer_messages += row.messages;
        stretch.opened += row.opened;
    }
    Ok(())
}

/// Windows that closed from `start` to `end` with the customer's last message unanswered: no
/// reply and no further message of theirs within 24 hours of it. A message that arrived after
/// its window had closed counts when it arrived.
async fn closed_windows(
    conn: &mut PgConnection,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let rows = sqlx::query!(
        r#"select m.tenant_id as "tenant_id: TenantId", m.phone_number_id as "number_id: NumberId",
                  count(*) as "closed!"
           from messages m
           cross join lateral (
               select coalesce(m.meta_timestamp, m.created_at) + interval '24 hours' as at
           ) closes
           where m.direction = 'inbound'
             -- Either its window closed in the stretch, or it arrived then, its window closed
             -- already: each side a range of an index, however short the stretch.
             and ((coalesce(m.meta_timestamp, m.created_at) >= $1::timestamptz - interval '24 hours'
                   and coalesce(m.meta_timestamp, m.created_at) < $2::timestamptz - interval '24 hours'
                   and m.created_at <= closes.at)
                  or (m.created_at >= $1 and m.created_at < $2 and m.created_at > closes.at))
             and not exists (
                 select 1 from messages n
                 where n.conversation_id = m.conversation_id and n.id > m.id
                   and case when n.direction = 'inbound'
                            then coalesce(n.meta_timestamp, n.created_at) < closes.at
                            else n.status <> 'failed'
                                 and coalesce(n.sent_at, n.created_at) < closes.at end)
           group by m.tenant_id, m.phone_number_id"#,
        start,
        end
    )
    .fetch_all(&mut *conn)
    .await
    .context("count the windows closed unanswered")?;
    for row in rows {
        figures
            .entry((row.tenant_id, row.number_id))
            .or_default()
            .closed_unanswered += row.closed;
    }
    Ok(())
}

/// Conversations resolved, by whom.
async fn resolutions(
    conn: &mut PgConnection,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let rows = sqlx::query!(
        r#"select e.tenant_id as "tenant_id: TenantId", c.phone_number_id as "number_id: NumberId",
                  e.user_id, count(*) as "resolved!"
           from conversation_events e
           join conversations c on c.tenant_id = e.tenant_id and c.id = e.conversation_id
           where e.kind = 'status' and e.body = 'resolved this'
             and e.created_at >= $1 and e.created_at < $2
           group by e.tenant_id, c.phone_number_id, e.user_id"#,
        start,
        end
    )
    .fetch_all(&mut *conn)
    .await
    .context("count the resolutions")?;
    for row in rows {
        let stretch = figures.entry((row.tenant_id, row.number_id)).or_default();
        stretch.resolved += row.resolved;
        stretch
            .agents
            .entry(row.user_id.unwrap_or(0))
            .or_default()
            .resolved += row.resolved;
    }
    Ok(())
}
