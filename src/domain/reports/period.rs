//! A tenant's report over a period: its days' figures added up, day by day for the charts, with
//! what the tables name (templates, members) and each number's quality ratings.

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, types::Json};

use super::figures::DayFigures;
use crate::domain::ids::{NumberId, TemplateId, TenantId};

/// The days a report covers (both included), at one number or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub number: Option<NumberId>,
}

/// A period's figures.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub total: DayFigures,
    /// Every day of the period, in order (days without activity are zero).
    pub days: Vec<(NaiveDate, DayFigures)>,
    /// When the newest of its days was worked out.
    pub as_of: Option<DateTime<Utc>>,
    /// Days of the period with messages that are not worked out yet (after an upgrade, the
    /// history is worked out newest first, a few days a minute).
    pub pending_days: i64,
}

/// The tenant's report for `period`.
pub async fn report(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    period: Period,
) -> anyhow::Result<Report> {
    let rows = sqlx::query!(
        r#"select day, figures as "figures: Json<DayFigures>" from report_days
           where tenant_id = $1 and day between $2 and $3
             and ($4::bigint is null or phone_number_id = $4)"#,
        tenant_id as TenantId,
        period.from,
        period.to,
        period.number as Option<NumberId>
    )
    .fetch_all(&mut *conn)
    .await
    .context("read the period's days")?;
    let mut by_day: BTreeMap<NaiveDate, DayFigures> = period
        .from
        .iter_days()
        .take_while(|day| *day <= period.to)
        .map(|day| (day, DayFigures::default()))
        .collect();
    for row in rows {
        by_day.entry(row.day).or_default().add(&row.figures);
    }
    let mut total = DayFigures::default();
    for figures in by_day.values() {
        total.add(figures);
    }
    let progress = sqlx::query!(
        r#"select (select max(computed_at) from report_runs where day between $1 and $2) as as_of,
                  (select count(*)
                   from (select (min(created_at) at time zone 'UTC')::date as day
                         from messages) first
                   -- No messages, nothing to work out (greatest() would skip the null).
                   cross join generate_series(
                       greatest($1, first.day), least($2, (now() at time zone 'UTC')::date),
                       interval '1 day') d
                   where first.day is not null
                     and not exists (select 1 from report_runs r where r.day = d::date))
                  as "pending!""#,
        period.from,
        period.to
    )
    .fetch_one(&mut *conn)
    .await
    .context("read how far the reports are worked out")?;
    Ok(Report {
        total,
        days: by_day.into_iter().collect(),
        as_of: progress.as_of,
        pending_days: progress.pending,
    })
}

/// A template as the funnel table names it.
#[derive(Debug, Clone)]
pub struct TemplateName {
    pub id: TemplateId,
    pub name: String,
    pub language: String,
}

/// The tenant's templates among `ids`.
pub async fn template_names(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    ids: &[i64],
) -> anyhow::Result<Vec<TemplateName>> {
    sqlx::query_as!(
        TemplateName,
        r#"select id as "id: TemplateId", name, language from message_templates
           where tenant_id = $1 and id = any($2)
           order by name, language"#,
        tenant_id as TenantId,
        ids
    )
    .fetch_all(conn)
    .await
    .context("name the period's templates")
}

/// A quality rating a number had from `at`.
#[derive(Debug, Clone)]
pub struct Rating {
    pub number_id: NumberId,
    pub number: String,
    pub at: DateTime<Utc>,
    /// GREEN, YELLOW, RED, or Meta's other words (FLAGGED, UNKNOWN).
    pub value: String,
}

/// Each number's quality ratings during the period, oldest first, starting with the one it had
/// when the period began (if any was known).
pub async fn quality_history(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    period: Period,
) -> anyhow::Result<Vec<Rating>> {
    let start = period.from.and_time(chrono::NaiveTime::MIN).and_utc();
    let end = period.to.and_time(chrono::NaiveTime::MIN).and_utc() + chrono::TimeDelta::days(1);
    sqlx::query_as!(
        Rating,
        r#"select n.id as "number_id!: NumberId",
                  coalesce(n.display_phone_number, n.phone_number_id) as "number!",
                  h.at as "at!", h.value as "value!"
           from phone_numbers n
           cross join lateral (
               (select h.id, h.at, h.value from number_history h
                where h.tenant_id = n.tenant_id and h.number_id = n.id and h.field = 'quality'
                  and h.at < $2
                order by h.id desc limit 1)
               union all
               (select h.id, h.at, h.value from number_history h
                where h.tenant_id = n.tenant_id and h.number_id = n.id and h.field = 'quality'
                  and h.at >= $2 and h.at < $3
                order by h.id)
           ) h
           where n.tenant_id = $1 and ($4::bigint is null or n.id = $4)
           order by n.id, h.id"#,
        tenant_id as TenantId,
        start,
        end,
        period.number as Option<NumberId>
    )
    .fetch_all(conn)
    .await
    .context("read the numbers' quality ratings")
}
