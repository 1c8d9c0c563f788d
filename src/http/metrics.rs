//! `GET /metrics`: Prometheus text for the operator's scraper, behind `Authorization: Bearer
//! $METRICS_TOKEN` (404 when no token is configured, 401 for a wrong one). Besides what this
//! process recorded (see `crate::metrics`), it reads the shared backlog from the database at each
//! scrape: webhook events pending, failed and unroutable, how long the oldest pending one has
//! waited, messages queued and being sent, how far ahead each busy number's send slots are booked
//! (by number row id), and this process's connection pool. Across tenants:
//! these are the operator's figures, never a tenant's data.

use anyhow::Context;
use axum::{
    Router,
    extract::State,
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
    routing::get,
};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::AppState;
use crate::{
    error::{AppError, Result},
    metrics,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

/// The metrics, when the scraper shows the token.
async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let Some(token) = &state.config.metrics_token else {
        return Err(AppError::NotFound);
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !bool::from(given.as_bytes().ct_eq(token.expose_secret().as_bytes())) {
        return Err(AppError::Unauthorized(
            "a valid metrics bearer token is required",
        ));
    }
    let backlog = sqlx::query!(
        r#"select
               (select count(*) from webhook_events where state = 'pending') as "pending!",
               (select count(*) from webhook_events where state = 'failed') as "failed!",
               (select count(*) from webhook_events where state = 'unroutable') as "unroutable!",
               (select coalesce(extract(epoch from now() - min(received_at)), 0)::float8
                from webhook_events where state = 'pending') as "lag!",
               (select count(*) from messages where status = 'queued') as "queued!",
               (select count(*) from messages where status = 'sending') as "sending!""#
    )
    .fetch_one(&state.db)
    .await
    .context("read the backlog for the metrics")?;
    let events = [
        ("pending", backlog.pending),
        ("failed", backlog.failed),
        ("unroutable", backlog.unroutable),
    ];
    for (state, count) in events {
        ::metrics::gauge!("switchboard_webhook_events", "state" => state).set(as_f64(count));
    }
    for (state, count) in [("queued", backlog.queued), ("sending", backlog.sending)] {
        ::metrics::gauge!("switchboard_send_queue", "state" => state).set(as_f64(count));
    }
    ::metrics::gauge!("switchboard_webhook_apply_lag_seconds").set(backlog.lag);
    // How far ahead each busy number's send slots are booked (its pacing backlog).
    let pacing = sqlx::query!(
        r#"select phone_number_id as "number!",
                  greatest(extract(epoch from next_slot_at - now()), 0)::float8 as "ahead!"
           from send_pacing"#
    )
    .fetch_all(&state.db)
    .await
    .context("read the numbers' pacing")?;
    for number in pacing {
        ::metrics::gauge!("switchboard_number_pacing_seconds", "number" => number.number.to_string())
            .set(number.ahead);
    }
    ::metrics::gauge!("switchboard_db_pool_connections").set(f64::from(state.db.size()));
    ::metrics::gauge!("switchboard_db_pool_idle").set(as_f64(
        i64::try_from(state.db.num_idle()).unwrap_or(i64::MAX),
    ));
    let body = metrics::handle().render();
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

/// A count as a gauge's value (exact below 2^53).
#[allow(clippy::cast_precision_loss)]
fn as_f64(count: i64) -> f64 {
    count as f64
}
