//! Today and yesterday, worked out an hour at a time: their hours' figures are kept in
//! `report_hours` and their rows in `report_days` are the sums of their hours. Each run works out
//! again only the hours that can have changed:
//! - whole: the hour going on, an hour ended less than [`SETTLED_AFTER`] ago, an hour never worked
//!   out, an hour with a message that failed since (a failed message is no reply: the turns
//!   change), and, one a run, an hour last worked out more than [`STALE_AFTER`] ago, so that what
//!   no sign points to (a send failed here after its retries, a retried one sent after all) is in
//!   within about that long;
//! - its deliveries: an hour whose messages got statuses since, or whose templates a customer
//!   answered since.
//!
//! A busy tenant's minute then costs what its last hour brought, not its whole day so far: on the
//! inbox benchmark's tenant, a day of 0.8 M messages took 14 s of SQL whole, every 140 s, and takes
//! under a second a minute by the hour (docs/benchmarks.md, "Reports"). Older days' hours are
//! forgotten; those days are worked out whole ([`super::rollup`]).

use anyhow::Context;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sqlx::{PgConnection, PgPool, types::Json};

use super::{
    figures::DayFigures,
    rollup::{
        FRESH_FOR, SETTLED_AFTER, columns, lock, pg_interval, record_run, start_of, store_day,
    },
    tally::{Figures, Part, tally},
};
use crate::domain::ids::{NumberId, TenantId};

/// Days worked out by the hour: today and this many before it.
const DAYS_BEFORE_TODAY: i64 = 1;
/// An hour worked out longer ago than this is worked out again, one a run: a day's hours about
/// once an hour (an hour of the inbox benchmark's busiest day costs about a second).
const STALE_AFTER: TimeDelta = TimeDelta::hours(1);

/// Whether `day` is worked out an hour at a time at `now`.
pub fn by_the_hour(day: NaiveDate, now: DateTime<Utc>) -> bool {
    day >= now.date_naive() - TimeDelta::days(DAYS_BEFORE_TODAY)
}

/// Forgets the hours of the days no longer worked out by the hour at `now`, each day under its
/// lock: an instance whose clock has not passed midnight yet may still be working it out.
pub async fn forget_old(db: &PgPool, now: DateTime<Utc>) -> anyhow::Result<()> {
    let oldest = start_of(now.date_naive() - TimeDelta::days(DAYS_BEFORE_TODAY));
    let days = sqlx::query_scalar!(
        r#"select distinct (hour at time zone 'UTC')::date as "day!" from report_hour_runs
           where hour < $1"#,
        oldest
    )
    .fetch_all(db)
    .await
    .context("find old hours")?;
    for day in days {
        let mut tx = db.begin().await.context("begin")?;
        if !lock(&mut tx, day).await? {
            continue;
        }
        let (start, end) = (start_of(day), start_of(day + TimeDelta::days(1)));
        sqlx::query!(
            "delete from report_hours where hour >= $1 and hour < $2",
            start,
            end
        )
        .execute(&mut *tx)
        .await
        .context("forget old hours' figures")?;
        sqlx::query!(
            "delete from report_hour_runs where hour >= $1 and hour < $2",
            start,
            end
        )
        .execute(&mut *tx)
        .await
        .context("forget old hours' runs")?;
        tx.commit().await.context("commit forgetting old hours")?;
    }
    Ok(())
}

/// Works out the hours of `day` that can have changed by `now` (module documentation) and
/// replaces the day's rows with the sum of its hours; `false` when another instance is working
/// the day out.
pub async fn work_out_by_the_hour(
    db: &PgPool,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let started = std::time::Instant::now();
    let mut tx = db.begin().await.context("begin")?;
    if !lock(&mut tx, day).await? {
        return Ok(false);
    }
    for (hour, part) in due_hours(&mut tx, day, now).await? {
        let kept = match part {
            Part::All => Figures::new(),
            Part::Deliveries => sum_of_hours(&mut tx, (hour, hour + TimeDelta::hours(1))).await?,
        };
        let figures = tally(&mut tx, (hour, hour + TimeDelta::hours(1)), part, now, kept).await?;
        store_hour(&mut tx, hour, &figures, now).await?;
    }
    let whole_day = (start_of(day), start_of(day + TimeDelta::days(1)));
    let figures = sum_of_hours(&mut tx, whole_day).await?;
    store_day(&mut tx, day, &figures).await?;
    record_run(&mut tx, day, now, started).await?;
    tx.commit().await.context("commit the day's figures")?;
    Ok(true)
}

/// The hours of `day` begun by `now` to work out, in order, and what of each (module
/// documentation). Signs of change are looked for since the day's hours were last worked out, less
/// [`FRESH_FOR`]: a status or message committed after that run had read.
async fn due_hours(
    conn: &mut PgConnection,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(DateTime<Utc>, Part)>> {
    let start = start_of(day);
    let end = start_of(day + TimeDelta::days(1));
    let rows = sqlx::query!(
        r#"with hours as (
               select h from generate_series($1::timestamptz, $2::timestamptz - interval '1 hour',
                                             interval '1 hour') h
               where h <= $3
           ),
           since as (
               select max(r.computed_at) - $5::interval as at from report_hour_runs r
               where r.hour >= $1 and r.hour < $2
           ),
           stalest as (
               select r.hour from report_hour_runs r
               where r.hour >= $1 and r.hour < $2 and r.computed_at < $3 - $6::interval
               order by r.computed_at, r.hour
               limit 1
           ),
           delivered as (
               select date_bin('1 hour', m.created_at, $1) as hour,
                      bool_or(s.status = 'failed') as failed
               from message_statuses s
               join messages m on m.phone_number_id = s.phone_number_id and m.wamid = s.wamid
               where s.received_at >= (select at from since)
                 and m.created_at >= $1 and m.created_at < $2
               group by 1
           ),
           -- A customer's message answers the templates sent since their message before.
           answered as (
               select distinct date_bin('1 hour', t.created_at, $1) as hour
               from messages i
               left join lateral (
                   select p.id from messages p
                   where p.conversation_id = i.conversation_id and p.id < i.id
                     and p.direction = 'inbound'
                   order by p.id desc limit 1
               ) before on true
               join messages t on t.conversation_id = i.conversation_id
                              and t.id < i.id and t.id > coalesce(before.id, 0)
                              and t.template_id is not null
               where i.created_at >= (select at from since) and i.direction = 'inbound'
                 and t.created_at >= $1 and t.created_at < $2
           )
           select h.h as "hour!",
                  r.hour is null or r.computed_at < h.h + interval '1 hour' + $4::interval
                      or coalesce(d.failed, false) or h.h in (select hour from stalest)
                      as "whole!"
           from hours h
           left join report_hour_runs r on r.hour = h.h
           left join delivered d on d.hour = h.h
           where r.hour is null or r.computed_at < h.h + interval '1 hour' + $4::interval
              or d.hour is not null
              or h.h in (select hour from answered)
              or h.h in (select hour from stalest)
           order by h.h"#,
        start,
        end,
        now,
        pg_interval(SETTLED_AFTER),
        pg_interval(FRESH_FOR),
        pg_interval(STALE_AFTER)
    )
    .fetch_all(&mut *conn)
    .await
    .context("find the hours to work out")?;
    Ok(rows
        .into_iter()
        .map(|r| (r.hour, if r.whole { Part::All } else { Part::Deliveries }))
        .collect())
}

/// The figures of the hours from `start` to `end`, added up: one hour's as stored, or a day's.
async fn sum_of_hours(
    conn: &mut PgConnection,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> anyhow::Result<Figures> {
    let rows = sqlx::query!(
        r#"select tenant_id as "tenant_id: TenantId", phone_number_id as "number_id: NumberId",
                  figures as "figures: Json<DayFigures>"
           from report_hours where hour >= $1 and hour < $2"#,
        start,
        end
    )
    .fetch_all(conn)
    .await
    .context("read the hours' figures")?;
    let mut figures = Figures::new();
    for row in rows {
        figures
            .entry((row.tenant_id, row.number_id))
            .or_default()
            .add(&row.figures.0);
    }
    Ok(figures)
}

/// Replaces the hour's rows with `figures`, worked out at `now`.
async fn store_hour(
    conn: &mut PgConnection,
    hour: DateTime<Utc>,
    figures: &Figures,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (tenants, numbers, values) = columns(figures)?;
    sqlx::query!("delete from report_hours where hour = $1", hour)
        .execute(&mut *conn)
        .await
        .context("forget the hour's figures")?;
    sqlx::query!(
        r#"insert into report_hours (tenant_id, hour, phone_number_id, figures)
           select t, $1, n, f from unnest($2::bigint[], $3::bigint[], $4::jsonb[]) as x (t, n, f)"#,
        hour,
        &tenants,
        &numbers,
        &values
    )
    .execute(&mut *conn)
    .await
    .context("store the hour's figures")?;
    sqlx::query!(
        r#"insert into report_hour_runs (hour, computed_at) values ($1, $2)
           on conflict (hour) do update set computed_at = excluded.computed_at"#,
        hour,
        now
    )
    .execute(&mut *conn)
    .await
    .context("record the hour as worked out")?;
    Ok(())
}
