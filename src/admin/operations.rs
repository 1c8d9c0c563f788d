//! `/admin/operations`: how the tenant's traffic is flowing, in words. Webhooks waiting to be
//! applied and how long the oldest has waited; events that need an admin (with Replay and
//! Dismiss, as on the numbers page); each number's send queue; and the last day's failed or
//! unconfirmed sends grouped by reason.

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, TimeDelta, Utc};

use crate::{
    domain::numbers::overview::{self, NumberSummary},
    error::Result,
    http::AppState,
    inbox::{auth::Agent, page::render, time},
    ingest::operations::{self, Backlog, FailureGroup, TroubledEvent},
};

/// Events that need an admin, shown at most.
const TROUBLED_SHOWN: i64 = 20;
/// How far back failures are grouped.
const FAILURES_SINCE: TimeDelta = TimeDelta::hours(24);

/// `templates/admin/operations.html`.
#[derive(Template)]
#[template(path = "admin/operations.html")]
struct OperationsPage {
    agent: Agent,
    backlog: Backlog,
    troubled: Vec<TroubledEvent>,
    numbers: Vec<NumberSummary>,
    failures: Vec<FailureGroup>,
    now: DateTime<Utc>,
}

impl OperationsPage {
    /// "3 min", "less than a minute".
    fn waited(&self) -> Option<String> {
        self.backlog
            .oldest_pending
            .map(|at| time::span(self.now - at))
    }

    fn at(&self, at: &DateTime<Utc>) -> String {
        time::when(*at, self.now)
    }
}

/// `GET /admin/operations`.
pub async fn show(State(state): State<AppState>, agent: Agent) -> Result<Response> {
    let mut conn = state.db.acquire().await?;
    let now = Utc::now();
    let backlog = operations::backlog(&mut conn, agent.tenant_id).await?;
    let troubled = operations::troubled(&mut conn, agent.tenant_id, None, TROUBLED_SHOWN).await?;
    let numbers = overview::summaries(&mut conn, &state.cipher, agent.tenant_id)
        .await?
        .into_iter()
        .filter(|number| number.removed_at.is_none())
        .collect();
    let failures = operations::failures(&mut conn, agent.tenant_id, now - FAILURES_SINCE).await?;
    let page = OperationsPage {
        agent,
        backlog,
        troubled,
        numbers,
        failures,
        now,
    };
    Ok(render(&page)?.into_response())
}
