//! `/admin/reports`: what a support lead and a marketer look at, for a chosen period and number —
//! conversations opened and resolved, response times, per agent figures, delivery and read rates,
//! failures in words, the window's outcomes (answered in time, or closed unanswered), templates
//! sent after the window closed, each template's funnel, and the numbers' quality ratings. The
//! figures are the days' ones (`domain::reports`), so any period reads a few hundred rows; each
//! table has a CSV export (`export`).

use std::{borrow::Borrow, collections::HashMap};

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use chrono::{Datelike, Days, NaiveDate, TimeDelta, Utc};
use serde::Deserialize;
use sqlx::PgConnection;

use super::charts::{BarChart, Layout, Series, Unit};
use crate::{
    domain::{
        accounts,
        ids::{NumberId, TenantId},
        reports::{
            figures::{AgentDay, DayFigures, TemplateDay},
            histogram::Histogram,
            period::{self, Period, Rating, Report},
        },
    },
    error::{AppError, Result},
    http::{AppState, extract::Query},
    inbox::{auth::Agent, list::sidebar, page::render, time},
    whatsapp::errors,
};

/// The longest period a report covers.
const LONGEST: i64 = 366;
/// The period shown when none is chosen: the last 30 days.
const DEFAULT_DAYS: u64 = 30;

/// `?from=2026-11-01&to=2026-11-30&number=3`; anything missing or unreadable takes its default.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    number: String,
}

/// A period chosen from a query, with what was wrong with it in words.
pub struct Chosen {
    pub period: Period,
    pub problem: Option<&'static str>,
}

/// Reads the period: both days or the last 30 days, at the tenant's number or all of them;
/// `None` when the number is not one of the tenant's.
pub fn choose(
    query: &ReportQuery,
    numbers: &[(NumberId, String)],
    today: NaiveDate,
) -> Option<Chosen> {
    let number = match query.number.as_str() {
        "" => None,
        id => Some(
            id.parse::<i64>()
                .ok()
                .map(NumberId::new)
                .filter(|id| numbers.iter().any(|(n, _)| n == id))?,
        ),
    };
    let default_from = today - Days::new(DEFAULT_DAYS - 1);
    let parse = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    let (from, to) = (parse(&query.from), parse(&query.to));
    let unreadable =
        (!query.from.is_empty() && from.is_none()) || (!query.to.is_empty() && to.is_none());
    let (from, to) = (from.unwrap_or(default_from), to.unwrap_or(today));
    let problem = if unreadable {
        Some("A date could not be read (use YYYY-MM-DD); showing the last 30 days.")
    } else if from > to {
        Some("The period ends before it starts; showing the last 30 days.")
    } else if (to - from).num_days() >= LONGEST {
        Some("A report covers at most a year; showing the last 30 days.")
    } else {
        None
    };
    let period = match problem {
        Some(_) => Period {
            from: default_from,
            to: today,
            number,
        },
        None => Period { from, to, number },
    };
    Some(Chosen { period, problem })
}

/// Everything a report shows, for the page and the exports.
pub struct Loaded {
    pub period: Period,
    pub report: Report,
    pub agents: Vec<(String, AgentDay)>,
    pub templates: Vec<(String, String, TemplateDay)>,
    /// (Meta's code or "none", what it means, how many).
    pub failures: Vec<(String, String, i64)>,
    pub quality: Vec<Rating>,
}

pub async fn load(conn: &mut PgConnection, tenant_id: TenantId, period: Period) -> Result<Loaded> {
    let report = period::report(conn, tenant_id, period).await?;
    let members: HashMap<i64, String> = accounts::members(conn, tenant_id)
        .await?
        .into_iter()
        .map(|m| (m.id.get(), m.name))
        .collect();
    let mut agents: Vec<(String, AgentDay)> = report
        .total
        .agents
        .iter()
        .map(|(id, figures)| {
            let name = match (id, members.get(id)) {
                (0, _) => "Programs, the operator and the WhatsApp Business app".to_owned(),
                (_, Some(name)) => name.clone(),
                (_, None) => "A former member".to_owned(),
            };
            (name, figures.clone())
        })
        .collect();
    agents.sort_by(|a, b| b.1.replies.cmp(&a.1.replies).then(a.0.cmp(&b.0)));
    let ids: Vec<i64> = report.total.templates.keys().copied().collect();
    let templates = period::template_names(conn, tenant_id, &ids)
        .await?
        .into_iter()
        .filter_map(|t| {
            let figures = report.total.templates.get(&t.id.get())?.clone();
            Some((t.name, t.language, figures))
        })
        .collect();
    let mut failures: Vec<(String, String, i64)> = report
        .total
        .failures
        .iter()
        .map(|(code, count)| (code.clone(), failure_words(code), *count))
        .collect();
    failures.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    let quality = period::quality_history(conn, tenant_id, period).await?;
    Ok(Loaded {
        period,
        report,
        agents,
        templates,
        failures,
        quality,
    })
}

/// What Meta's error code means, in words.
fn failure_words(code: &str) -> String {
    match code.parse::<i64>() {
        Ok(code) => errors::explain(code, None, None, false).title,
        Err(_) => "No answer from WhatsApp".to_owned(),
    }
}

/// `templates/admin/reports.html`.
#[derive(Template)]
#[template(path = "admin/reports.html")]
struct ReportsPage {
    agent: Agent,
    loaded: Loaded,
    numbers: Vec<(NumberId, String)>,
    problem: Option<&'static str>,
    /// Ready-made periods: (label, query).
    presets: Vec<(&'static str, String)>,
    /// This report's query, for the export links.
    query: String,
    charts: Vec<BarChart>,
}

impl ReportsPage {
    fn total(&self) -> &DayFigures {
        &self.loaded.report.total
    }

    fn chosen(&self, number: &NumberId) -> bool {
        self.loaded.period.number == Some(*number)
    }

    fn quantile(&self, histogram: &Histogram, q: f64) -> String {
        histogram.quantile(q).map_or("—".to_owned(), duration_words)
    }

    /// `n` of `of` as a percentage, or a dash when there was nothing to count.
    fn rate(&self, n: impl Borrow<i64>, of: impl Borrow<i64>) -> String {
        rate(*n.borrow(), *of.borrow())
    }

    fn as_of(&self) -> Option<String> {
        self.loaded.report.as_of.map(time::exact)
    }

    /// "Green", "Yellow", "Red", or Meta's word.
    fn rating_words(&self, value: &str) -> String {
        match value {
            "GREEN" => "High (green)".to_owned(),
            "YELLOW" => "Medium (yellow)".to_owned(),
            "RED" => "Low (red)".to_owned(),
            other => other.to_lowercase(),
        }
    }
}

fn rate(n: i64, of: i64) -> String {
    if of == 0 {
        "—".to_owned()
    } else {
        format!("{:.1}\u{a0}%", n as f64 * 100.0 / of as f64)
    }
}

/// "40 s", "4 min", "1 h 20 min", "2 d 3 h".
pub fn duration_words(duration: TimeDelta) -> String {
    let seconds = duration.num_seconds();
    if seconds < 60 {
        return format!("{seconds} s");
    }
    if seconds < 86_400 {
        return time::span(duration);
    }
    match (seconds / 86_400, seconds % 86_400 / 3600) {
        (d, 0) => format!("{d} d"),
        (d, h) => format!("{d} d {h} h"),
    }
}

/// The period's query string (for links).
pub fn query_of(period: &Period) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("from", &period.from.to_string())
        .append_pair("to", &period.to.to_string());
    if let Some(number) = period.number {
        query.append_pair("number", &number.to_string());
    }
    query.finish()
}

fn presets(today: NaiveDate, number: Option<NumberId>) -> Vec<(&'static str, String)> {
    let month_start = today.with_day(1).unwrap_or(today);
    let last_month_end = month_start - Days::new(1);
    let last_month_start = last_month_end.with_day(1).unwrap_or(last_month_end);
    [
        ("Last 7 days", today - Days::new(6), today),
        ("Last 30 days", today - Days::new(29), today),
        ("Last 90 days", today - Days::new(89), today),
        ("This month", month_start, today),
        ("Last month", last_month_start, last_month_end),
    ]
    .into_iter()
    .map(|(label, from, to)| (label, query_of(&Period { from, to, number })))
    .collect()
}

fn charts(report: &Report) -> Vec<BarChart> {
    let days: Vec<NaiveDate> = report.days.iter().map(|(day, _)| *day).collect();
    let each = |f: fn(&DayFigures) -> i64| report.days.iter().map(|(_, d)| f(d)).collect();
    vec![
        BarChart::new(
            "Customers' turns by day: answered inside the window, or the window closed unanswered",
            &days,
            &[
                Series {
                    name: "answered inside the window",
                    class: "series-good",
                    values: each(|d| d.answered_in_window),
                },
                Series {
                    name: "closed unanswered",
                    class: "series-bad",
                    values: each(|d| d.closed_unanswered),
                },
            ],
            Layout::Stacked,
            Unit::Count,
        ),
        BarChart::new(
            "Conversations opened and resolved by day",
            &days,
            &[
                Series {
                    name: "opened",
                    class: "series-a",
                    values: each(|d| d.opened),
                },
                Series {
                    name: "resolved",
                    class: "series-b",
                    values: each(|d| d.resolved),
                },
            ],
            Layout::Grouped,
            Unit::Count,
        ),
        BarChart::new(
            "Median response time by day",
            &days,
            &[Series {
                name: "median response time",
                class: "series-a",
                values: each(|d| {
                    d.response_times
                        .quantile(0.5)
                        .map_or(0, |t| t.num_seconds())
                }),
            }],
            Layout::Stacked,
            Unit::Seconds,
        ),
    ]
}

/// `GET /admin/reports?from=…&to=…&number=…`.
pub async fn show(
    State(state): State<AppState>,
    agent: Agent,
    Query(query): Query<ReportQuery>,
) -> Result<Response> {
    let today = Utc::now().date_naive();
    let mut conn = state.db.acquire().await?;
    let numbers = sidebar::numbers(&mut conn, agent.tenant_id).await?;
    let Chosen { period, problem } = choose(&query, &numbers, today).ok_or(AppError::NotFound)?;
    let loaded = load(&mut conn, agent.tenant_id, period).await?;
    let page = ReportsPage {
        charts: charts(&loaded.report),
        presets: presets(today, period.number),
        query: query_of(&period),
        agent,
        loaded,
        numbers,
        problem,
    };
    Ok(render(&page)?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn query(from: &str, to: &str, number: &str) -> ReportQuery {
        ReportQuery {
            from: from.into(),
            to: to.into(),
            number: number.into(),
        }
    }

    #[test]
    fn a_period_is_read_or_falls_back_to_the_last_30_days_with_the_reason() {
        let numbers = vec![(NumberId::new(3), "Sales".to_owned())];
        let today = day("2026-11-30");
        let chosen = choose(&query("2026-11-01", "2026-11-15", "3"), &numbers, today).unwrap();
        assert_eq!(
            chosen.period,
            Period {
                from: day("2026-11-01"),
                to: day("2026-11-15"),
                number: Some(NumberId::new(3)),
            }
        );
        assert_eq!(chosen.problem, None);

        let last_30 = |number| Period {
            from: day("2026-11-01"),
            to: today,
            number,
        };
        let chosen = choose(&ReportQuery::default(), &numbers, today).unwrap();
        assert_eq!((chosen.period, chosen.problem), (last_30(None), None));
        // Another tenant's number, or nonsense, is not found.
        assert!(choose(&query("", "", "99"), &numbers, today).is_none());
        assert!(choose(&query("", "", "three"), &numbers, today).is_none());
        for (from, to) in [
            ("2026-11-20", "2026-11-01"),
            ("2025-01-01", "2026-11-30"),
            ("1st", ""),
        ] {
            let chosen = choose(&query(from, to, "3"), &numbers, today).unwrap();
            assert_eq!(
                chosen.period,
                last_30(Some(NumberId::new(3))),
                "{from}..{to}"
            );
            assert!(chosen.problem.is_some(), "{from}..{to}");
        }
    }

    #[test]
    fn durations_read_in_the_largest_units_that_matter() {
        assert_eq!(duration_words(TimeDelta::seconds(40)), "40 s");
        assert_eq!(duration_words(TimeDelta::seconds(4 * 60 + 10)), "4 min");
        assert_eq!(duration_words(TimeDelta::minutes(80)), "1 h 20 min");
        assert_eq!(duration_words(TimeDelta::hours(51)), "2 d 3 h");
        assert_eq!(rate(1, 3), "33.3\u{a0}%");
        assert_eq!(rate(0, 0), "—");
    }

    #[test]
    fn presets_cover_this_and_last_month() {
        let presets = presets(day("2026-11-30"), None);
        let this_month = &presets.iter().find(|p| p.0 == "This month").unwrap().1;
        assert_eq!(this_month, "from=2026-11-01&to=2026-11-30");
        let last_month = &presets.iter().find(|p| p.0 == "Last month").unwrap().1;
        assert_eq!(last_month, "from=2026-10-01&to=2026-10-31");
    }
}
