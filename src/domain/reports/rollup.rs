//! Works out each day's figures (a UTC day) for every number of every tenant and stores them in
//! `report_days`, replacing that day's rows in one transaction. Each instance runs [`run`]; a day
//! being worked out by one instance is skipped by the others (`pg_try_advisory_xact_lock`), and a
//! day done in the last [`FRESH_FOR`] — or ten times as long as it took, for a busy day — is left
//! alone. What counts where is [`tally`]'s.
//!
//! A day changes while it lasts, for a few late webhooks after it, and whenever a status
//! (delivered, read, failed) arrives for one of its messages: today is worked out every minute, a
//! past day again until [`SETTLED_AFTER`] past its end, and a day never worked out (an upgraded
//! install's history) newest first, a few per run. A past day whose messages got statuses (read
//! receipts come days later) has only its deliveries counted again ([`Part::Deliveries`]: one
//! pass over its outbound messages), not its turns.
//!
//! Today and yesterday are worked out an hour at a time instead ([`hours`]).

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use sqlx::{PgConnection, PgPool, types::Json};
use tokio_util::sync::CancellationToken;

pub use super::tally::Part;
use super::{
    figures::DayFigures,
    hours,
    tally::{Figures, tally},
};
use crate::domain::ids::{NumberId, TenantId};

/// How often each instance looks for days to work out.
const EVERY: Duration = Duration::from_secs(60);
/// A day worked out this recently is not worked out again; statuses received this long before the
/// last run began are looked at again (committed after it had read).
pub(super) const FRESH_FOR: TimeDelta = TimeDelta::seconds(50);
/// How long after its end a day (or an hour) is still worked out each run, for late webhooks.
pub(super) const SETTLED_AFTER: TimeDelta = TimeDelta::minutes(10);
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

/// Works out every day due at `now`; returns how many were.
pub async fn catch_up(db: &PgPool, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut conn = db.acquire().await.context("acquire connection")?;
    let days = due(&mut conn, now).await?;
    drop(conn);
    hours::forget_old(db, now).await?;
    let mut done = 0;
    for (day, part) in days {
        let worked = if hours::by_the_hour(day, now) {
            hours::work_out_by_the_hour(db, day, now).await?
        } else {
            work_out(db, day, part, now).await?
        };
        if worked {
            done += 1;
        }
    }
    Ok(done)
}

/// Today, unsettled days and some history (all of each, or the hours of it that can have changed
/// for a day worked out by the hour), and days whose messages got statuses since the last run
/// (their deliveries). A day is not done again sooner than [`FRESH_FOR`], or
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

pub(super) fn pg_interval(delta: TimeDelta) -> sqlx::postgres::types::PgInterval {
    sqlx::postgres::types::PgInterval {
        months: 0,
        days: 0,
        microseconds: delta.num_microseconds().unwrap_or(i64::MAX),
    }
}

/// Works out `part` of `day` as it stands at `now`, whole, and replaces the day's rows; `false`
/// when another instance is working the day out.
pub async fn work_out(
    db: &PgPool,
    day: NaiveDate,
    part: Part,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let started = std::time::Instant::now();
    let mut tx = db.begin().await.context("begin")?;
    if !lock(&mut tx, day).await? {
        return Ok(false);
    }
    let kept = match part {
        Part::All => Figures::new(),
        // The rest as it was worked out last.
        Part::Deliveries => stored_day(&mut tx, day).await?,
    };
    let figures = tally(
        &mut tx,
        (start_of(day), start_of(day + TimeDelta::days(1))),
        part,
        now,
        kept,
    )
    .await?;
    store_day(&mut tx, day, &figures).await?;
    match part {
        Part::All => record_run(&mut tx, day, now, started).await?,
        Part::Deliveries => sqlx::query!(
            "update report_runs set computed_at = $2 where day = $1",
            day,
            now
        )
        .execute(&mut *tx)
        .await
        .map(drop)
        .context("record the day's deliveries as worked out")?,
    }
    tx.commit().await.context("commit the day's figures")?;
    Ok(true)
}

pub(super) fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// Takes the day's lock for this transaction, if no other instance holds it.
pub(super) async fn lock(conn: &mut PgConnection, day: NaiveDate) -> anyhow::Result<bool> {
    sqlx::query_scalar!(
        r#"select pg_try_advisory_xact_lock($1, $2) as "locked!""#,
        LOCK_CLASS,
        day.num_days_from_ce()
    )
    .fetch_one(conn)
    .await
    .context("lock the day")
}

/// `day`'s figures as they were stored.
async fn stored_day(conn: &mut PgConnection, day: NaiveDate) -> anyhow::Result<Figures> {
    let rows = sqlx::query!(
        r#"select tenant_id as "tenant_id: TenantId", phone_number_id as "number_id: NumberId",
                  figures as "figures: Json<DayFigures>"
           from report_days where day = $1"#,
        day
    )
    .fetch_all(conn)
    .await
    .context("read the day's figures")?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.tenant_id, r.number_id), r.figures.0))
        .collect())
}

/// Replaces the day's rows with `figures`.
pub(super) async fn store_day(
    conn: &mut PgConnection,
    day: NaiveDate,
    figures: &Figures,
) -> anyhow::Result<()> {
    let (tenants, numbers, values) = columns(figures)?;
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

/// `figures` as the columns of their rows: tenants, numbers and the figures as JSON.
pub(super) fn columns(
    figures: &Figures,
) -> anyhow::Result<(Vec<i64>, Vec<i64>, Vec<serde_json::Value>)> {
    let (mut tenants, mut numbers, mut values) = (Vec::new(), Vec::new(), Vec::new());
    for ((tenant_id, number_id), stretch) in figures {
        tenants.push(tenant_id.get());
        numbers.push(number_id.get());
        values.push(serde_json::to_value(stretch).context("encode figures")?);
    }
    Ok((tenants, numbers, values))
}

/// Records `day` as worked out whole at `now`, in the time since `started`.
pub(super) async fn record_run(
    conn: &mut PgConnection,
    day: NaiveDate,
    now: DateTime<Utc>,
    started: std::time::Instant,
) -> anyhow::Result<()> {
    let took = pg_interval(TimeDelta::from_std(started.elapsed()).unwrap_or(TimeDelta::MAX));
    sqlx::query!(
        r#"insert into report_runs (day, computed_at, took) values ($1, $2, $3)
           on conflict (day) do update
           set computed_at = excluded.computed_at, took = excluded.took"#,
        day,
        now,
        took
    )
    .execute(conn)
    .await
    .context("record the day as worked out")?;
    Ok(())
}
