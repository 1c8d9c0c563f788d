//! `/admin/reports/export?table=…`: each table of a report as CSV, for the period and number the
//! page shows (the same query). Durations are in seconds; text that a spreadsheet would take for
//! a formula is quoted with a leading apostrophe. Every export is audited.

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::reports::{self, Chosen, Loaded, ReportQuery};
use crate::{
    domain::{audit, reports::histogram::Histogram},
    error::{AppError, Result},
    http::{AppState, extract::Query},
    inbox::{auth::Agent, list::sidebar},
};

/// `?table=days&from=…&to=…&number=…` (the days' table when none is named).
#[derive(Deserialize)]
pub struct ExportQuery {
    #[serde(default = "every_day")]
    table: String,
    #[serde(flatten)]
    report: ReportQuery,
}

/// `GET /admin/reports/export`.
pub async fn export(
    State(state): State<AppState>,
    agent: Agent,
    Query(query): Query<ExportQuery>,
) -> Result<Response> {
    let table = Table::named(&query.table).ok_or(AppError::NotFound)?;
    let today = Utc::now().date_naive();
    let mut conn = state.db.acquire().await?;
    let numbers = sidebar::numbers(&mut conn, agent.tenant_id).await?;
    let Chosen { period, problem } =
        reports::choose(&query.report, &numbers, today).ok_or(AppError::NotFound)?;
    if let Some(problem) = problem {
        return Err(AppError::BadRequest(problem.to_owned()));
    }
    let loaded = reports::load(&mut conn, agent.tenant_id, period).await?;
    let csv = table.write(&loaded)?;
    let details = json!({
        "table": query.table,
        "from": period.from,
        "to": period.to,
        "number_id": period.number,
    });
    audit::record(
        &mut conn,
        agent.tenant_id,
        Some(agent.user_id),
        "report.export",
        details,
    )
    .await?;
    let filename = format!(
        "attachment; filename=\"switchboard-{}-{}-{}.csv\"",
        query.table, period.from, period.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        csv,
    )
        .into_response())
}

fn every_day() -> String {
    "days".to_owned()
}

/// The report's tables.
#[derive(Clone, Copy)]
enum Table {
    Days,
    Agents,
    Failures,
    Templates,
    Quality,
}

impl Table {
    fn named(name: &str) -> Option<Self> {
        Some(match name {
            "days" => Self::Days,
            "agents" => Self::Agents,
            "failures" => Self::Failures,
            "templates" => Self::Templates,
            "quality" => Self::Quality,
            _ => return None,
        })
    }

    fn write(self, loaded: &Loaded) -> anyhow::Result<Vec<u8>> {
        let mut out = csv::Writer::from_writer(Vec::new());
        match self {
            Self::Days => {
                out.write_record([
                    "day",
                    "customer_messages",
                    "conversations_opened",
                    "conversations_resolved",
                    "answered_in_window",
                    "answered_after_window",
                    "closed_unanswered",
                    "first_response_median_s",
                    "first_response_p90_s",
                    "response_median_s",
                    "response_p90_s",
                    "outbound",
                    "accepted",
                    "delivered",
                    "read",
                    "failed",
                    "templates_sent",
                    "templates_after_window",
                ])?;
                for (day, d) in &loaded.report.days {
                    let mut row = vec![day.to_string()];
                    row.extend(
                        [
                            d.customer_messages,
                            d.opened,
                            d.resolved,
                            d.answered_in_window,
                        ]
                        .map(|n| n.to_string()),
                    );
                    row.extend([d.answered_late, d.closed_unanswered].map(|n| n.to_string()));
                    row.extend(seconds(&d.first_response_times));
                    row.extend(seconds(&d.response_times));
                    row.extend(
                        [
                            d.outbound,
                            d.accepted,
                            d.delivered,
                            d.read,
                            d.failed,
                            d.templates_sent,
                            d.templates_after_window,
                        ]
                        .map(|n| n.to_string()),
                    );
                    out.write_record(&row)?;
                }
            }
            Self::Agents => {
                out.write_record([
                    "agent",
                    "replies",
                    "turns_answered",
                    "conversations_resolved",
                    "response_median_s",
                    "response_p90_s",
                ])?;
                for (name, a) in &loaded.agents {
                    let mut row = vec![text(name)];
                    row.extend([a.replies, a.answered, a.resolved].map(|n| n.to_string()));
                    row.extend(seconds(&a.response_times));
                    out.write_record(&row)?;
                }
            }
            Self::Failures => {
                out.write_record(["error_code", "meaning", "messages"])?;
                for (code, words, count) in &loaded.failures {
                    out.write_record([code.clone(), text(words), count.to_string()])?;
                }
            }
            Self::Templates => {
                out.write_record([
                    "template",
                    "language",
                    "sent",
                    "delivered",
                    "read",
                    "failed",
                    "replied_within_24h",
                ])?;
                for (name, language, t) in &loaded.templates {
                    let mut row = vec![text(name), text(language)];
                    row.extend(
                        [t.sent, t.delivered, t.read, t.failed, t.replied].map(|n| n.to_string()),
                    );
                    out.write_record(&row)?;
                }
            }
            Self::Quality => {
                out.write_record(["number", "from_utc", "quality_rating"])?;
                for rating in &loaded.quality {
                    out.write_record([
                        text(&rating.number),
                        rating.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                        text(&rating.value),
                    ])?;
                }
            }
        }
        Ok(out.into_inner()?)
    }
}

/// The median and 90th percentile in whole seconds (empty when nothing was answered).
fn seconds(histogram: &Histogram) -> [String; 2] {
    [0.5, 0.9].map(|q| {
        histogram
            .quantile(q)
            .map_or(String::new(), |t| t.num_seconds().to_string())
    })
}

/// Text as a spreadsheet will show it: never read as a formula.
fn text(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_looks_like_a_formula_is_not_one() {
        assert_eq!(text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text("@sum"), "'@sum");
        assert_eq!(text("Ana Silva"), "Ana Silva");
    }
}
