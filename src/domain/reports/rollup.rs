//! Works out each day's figures (a UTC day) for every number of every tenant and stores them in
//! `report_days`, replacing that day's rows in one transaction. Each instance runs [`run`]; a day
//! being worked out by one instance is skipped by the others (`pg_try_advisory_xact_lock`), and a
//! day done in the last [`FRESH_FOR`] — or ten times as long as it took, for a busy day — is left
//! alone.
//!
//! What a day holds, and when it is final:
//! - Messages are counted on the day Switchboard received them; a reply's response time and
//!   window outcome, on the reply's day; a window that closed unanswered, on the day it closed
//!   (or the day its message arrived, when that was later); a resolution, on its day.
//! - So a day changes while it lasts, for a few late webhooks after it, and whenever a status
//!   (delivered, read, failed) arrives for one of its messages: today is worked out every minute,
//!   a past day again until [`SETTLED_AFTER`] past its end, and a day never worked out (an
//!   upgraded install's history) newest first, a few per run. A past day whose messages got
//!   statuses (read receipts come days later) has only its deliveries counted again
//!   ([`Part::Deliveries`]: one pass over its outbound messages), not its turns.
//!
//! A customer's turn is their messages since the business last replied (or since the conversation
//! was resolved); the reply that ends it is its answer. A reply is any outbound message that did
//! not fail: an agent's, a program's, the operator's, or one sent from the WhatsApp Business app.

use std::{collections::BTreeMap, time::Duration};

use anyhow::Context;
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use sqlx::{PgConnection, PgPool, types::Json};
use tokio_util::sync::CancellationToken;

use super::figures::DayFigures;
use crate::{
    domain::ids::{NumberId, TenantId},
    window,
};

/// How often each instance looks for days to work out.
const EVERY: Duration = Duration::from_secs(60);
/// A day worked out this recently is not worked out again.
const FRESH_FOR: TimeDelta = TimeDelta::seconds(50);
/// How long after its end a day is still worked out each run, for late webhooks.
const SETTLED_AFTER: TimeDelta = TimeDelta::minutes(10);
/// Days of history (never worked out) done per run, newest first.
const HISTORY_PER_RUN: i64 = 14;
/// The advisory lock class of a day being worked out (its id is the day's number).
const LOCK_CLASS: i32 = 0x7265_7074;

/// Works out due days every [`EVERY`] until `shutdown`.
pub async fn run(db: PgPool, shutdown: CancellationToken) {
    loop {
        // A day's work is seconds of SQL: a shutdown drops it (its transaction rolls back and the
        // day is worked out again by the next process) rather than holding up a deploy.
        tokio::select! {
            () = shutdown.cancelled() => return,
            caught_up = catch_up(&db, Utc::now()) => {
                if let Err(error) = caught_up {
                    tracing::warn!(error = ?error, "working out the reports failed");
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}

/// What of a day to work out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Everything.
    All,
    /// What statuses change: delivery and read counts, failures, the templates' funnels.
    Deliveries,
}

/// Works out every day due at `now`; returns how many were.
pub async fn catch_up(db: &PgPool, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut conn = db.acquire().await.context("acquire connection")?;
    let days = due(&mut conn, now).await?;
    drop(conn);
    let mut done = 0;
    for (day, part) in days {
        if work_out(db, day, part, now).await? {
            done += 1;
        }
    }
    Ok(done)
}

/// Today, unsettled days and some history (all of each), and days whose messages got statuses
/// since the last run (their deliveries). A day is not done again sooner than [`FRESH_FOR`], or
/// ten times as long as it took the last time: a busy day costs at most a tenth of a connection.
async fn due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(NaiveDate, Part)>> {
    let today = now.date_naive();
    let rows = sqlx::query!(
        r#"with runs as (select max(computed_at) as last from report_runs),
           whole as (
               select $2::date as day
               union
               select r.day from report_runs r
               where r.computed_at < (r.day + 1)::timestamp at time zone 'UTC' + $3::interval
               union
               (select d::date
                from generate_series(
                    (select (min(created_at) at time zone 'UTC')::date from messages),
                    $2::date, interval '1 day') d
                where not exists (select 1 from report_runs r where r.day = d::date)
                order by d desc
                limit $5)
           ),
           delivered as (
               select distinct (m.created_at at time zone 'UTC')::date as day
               from message_statuses s
               join messages m on m.phone_number_id = s.phone_number_id and m.wamid = s.wamid
               where s.received_at >= (select last from runs) - $4::interval
           ),
           due as (
               select day, true as whole from whole
               union all
               select d.day, false from delivered d
               where exists (select 1 from report_runs r where r.day = d.day)
           )
           select d.day as "day!", bool_or(d.whole) as "whole!"
           from due d
           where d.day <= $2
             and not exists (
                 select 1 from report_runs r
                 where r.day = d.day
                   and r.computed_at > $1::timestamptz - greatest($4::interval, r.took * 10))
           group by d.day
           order by d.day desc"#,
        now,
        today,
        pg_interval(SETTLED_AFTER),
        pg_interval(FRESH_FOR),
        HISTORY_PER_RUN
    )
    .fetch_all(&mut *conn)
    .await
    .context("find the days to work out")?;
    Ok(rows
        .into_iter()
        .map(|r| (r.day, if r.whole { Part::All } else { Part::Deliveries }))
        .collect())
}

fn pg_interval(delta: TimeDelta) -> sqlx::postgres::types::PgInterval {
    sqlx::postgres::types::PgInterval {
        months: 0,
        days: 0,
        microseconds: delta.num_microseconds().unwrap_or(i64::MAX),
    }
}

/// Works out `part` of `day` as it stands at `now` and replaces the day's rows; `false` when
/// another instance is working the day out.
pub async fn work_out(
    db: &PgPool,
    day: NaiveDate,
    part: Part,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let started = std::time::Instant::now();
    let mut tx = db.begin().await.context("begin")?;
    let locked = sqlx::query_scalar!(
        r#"select pg_try_advisory_xact_lock($1, $2) as "locked!""#,
        LOCK_CLASS,
        day.num_days_from_ce()
    )
    .fetch_one(&mut *tx)
    .await
    .context("lock the day")?;
    if !locked {
        return Ok(false);
    }
    let start = day.and_time(chrono::NaiveTime::MIN).and_utc();
    let end = start + TimeDelta::days(1);
    let mut figures = Figures::new();
    deliveries(&mut tx, start, end, &mut figures).await?;
    match part {
        Part::All => {
            replies(&mut tx, start, end, &mut figures).await?;
            inbound(&mut tx, start, end, &mut figures).await?;
            closed_windows(&mut tx, start, end.min(now), &mut figures).await?;
            resolutions(&mut tx, start, end, &mut figures).await?;
        }
        Part::Deliveries => {
            // The rest as it was worked out last.
            let stored = sqlx::query!(
                r#"select tenant_id as "tenant_id: TenantId",
                          phone_number_id as "number_id: NumberId",
                          figures as "figures: Json<DayFigures>"
                   from report_days where day = $1"#,
                day
            )
            .fetch_all(&mut *tx)
            .await
            .context("read the day's figures")?;
            for row in stored {
                let Json(mut kept) = row.figures;
                let fresh = figures.remove(&(row.tenant_id, row.number_id));
                kept.replace_deliveries(fresh.unwrap_or_default());
                figures.insert((row.tenant_id, row.number_id), kept);
            }
        }
    }
    store(&mut tx, day, &figures).await?;
    let took = pg_interval(TimeDelta::from_std(started.elapsed()).unwrap_or(TimeDelta::MAX));
    match part {
        Part::All => sqlx::query!(
            r#"insert into report_runs (day, computed_at, took) values ($1, $2, $3)
               on conflict (day) do update
               set computed_at = excluded.computed_at, took = excluded.took"#,
            day,
            now,
            took
        )
        .execute(&mut *tx)
        .await
        .context("record the day as worked out")?,
        Part::Deliveries => sqlx::query!(
            "update report_runs set computed_at = $2 where day = $1",
            day,
            now
        )
        .execute(&mut *tx)
        .await
        .context("record the day's deliveries as worked out")?,
    };
    tx.commit().await.context("commit the day's figures")?;
    Ok(true)
}

type Figures = BTreeMap<(TenantId, NumberId), DayFigures>;

/// Replaces the day's rows with `figures`.
async fn store(conn: &mut PgConnection, day: NaiveDate, figures: &Figures) -> anyhow::Result<()> {
    let (mut tenants, mut numbers, mut values) = (Vec::new(), Vec::new(), Vec::new());
    for ((tenant_id, number_id), day) in figures {
        tenants.push(tenant_id.get());
        numbers.push(number_id.get());
        values.push(serde_json::to_value(day).context("encode a day's figures")?);
    }
    sqlx::query!("delete from report_days where day = $1", day)
        .execute(&mut *conn)
        .await
        .context("forget the day's figures")?;
    sqlx::query!(
        r#"insert into report_days (tenant_id, day, phone_number_id, figures)
           select t, $1, n, f from unnest($2::bigint[], $3::bigint[], $4::jsonb[]) as x (t, n, f)"#,
        day,
        &tenants,
        &numbers,
        &values
    )
    .execute(&mut *conn)
    .await
    .context("store the day's figures")?;
    Ok(())
}

/// The business's messages of the day by outcome: delivery, failures, templates (sent after the
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
    .context("count the day's outbound messages")?;
    for row in rows {
        let day = figures.entry((row.tenant_id, row.number_id)).or_default();
        let n = row.messages;
        let failed = row.status == "failed";
        let delivered = matches!(row.status.as_str(), "delivered" | "read" | "played");
        let read = matches!(row.status.as_str(), "read" | "played");
        let accepted = if row.accepted { n } else { 0 };
        day.outbound += n;
        day.accepted += accepted;
        day.delivered += if delivered { n } else { 0 };
        day.read += if read { n } else { 0 };
        if failed {
            day.failed += n;
            let code = row.error_code.map_or("none".to_owned(), |c| c.to_string());
            *day.failures.entry(code).or_default() += n;
        }
        if let Some(template_id) = row.template_id {
            day.templates_sent += accepted;
            day.templates_after_window += row.after_window;
            let funnel = day.templates.entry(template_id).or_default();
            funnel.sent += accepted;
            funnel.delivered += if delivered { n } else { 0 };
            funnel.read += if read { n } else { 0 };
            funnel.failed += if failed { n } else { 0 };
            funnel.replied += row.replied;
        }
    }
    Ok(())
}

/// The business's replies of the day (outbound messages that did not fail): who sent them, and
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
    .context("read the day's replies")?;
    for row in rows {
        let day = figures.entry((row.tenant_id, row.number_id)).or_default();
        let agent = day.agents.entry(row.sent_by.unwrap_or(0)).or_default();
        agent.replies += 1;
        let (Some(started_at), Some(last_at)) = (row.turn_started_at, row.turn_last_at) else {
            continue;
        };
        let waited = row.at - started_at;
        agent.answered += 1;
        agent.response_times.record(waited);
        day.response_times.record(waited);
        if row.opens {
            day.first_response_times.record(waited);
        }
        if row.at < last_at + window::LENGTH {
            day.answered_in_window += 1;
        } else {
            day.answered_late += 1;
        }
    }
    Ok(())
}

/// The customers' messages of the day, and the conversations they opened.
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
    .context("read the day's customer messages")?;
    for row in rows {
        let day = figures.entry((row.tenant_id, row.number_id)).or_default();
        day.customer_messages += row.messages;
        day.opened += row.opened;
    }
    Ok(())
}

/// Windows that closed from `start` to `end` with the customer's last message unanswered: no
/// reply and no further message of theirs within 24 hours of it. A message that arrived after
/// its window had closed counts on the day it arrived.
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
           where m.created_at >= $1::timestamptz - interval '25 hours' and m.created_at < $2::timestamptz
             and m.direction = 'inbound'
             and greatest(closes.at, m.created_at) >= $1
             and greatest(closes.at, m.created_at) < $2
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
    .context("count the day's windows closed unanswered")?;
    for row in rows {
        figures
            .entry((row.tenant_id, row.number_id))
            .or_default()
            .closed_unanswered += row.closed;
    }
    Ok(())
}

/// Conversations resolved during the day, by whom.
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
    .context("count the day's resolutions")?;
    for row in rows {
        let day = figures.entry((row.tenant_id, row.number_id)).or_default();
        day.resolved += row.resolved;
        day.agents
            .entry(row.user_id.unwrap_or(0))
            .or_default()
            .resolved += row.resolved;
    }
    Ok(())
}
