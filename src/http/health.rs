//! Liveness and readiness probes for load balancers and orchestrators.

use axum::{Router, extract::State, http::StatusCode, routing::get};
use serde_json::{Value, json};

use super::{AppState, extract::Json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(show_health))
        .route("/readyz", get(show_readiness))
}

/// 200 while the process is up.
async fn show_health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// 200 when the database answers, 503 when it does not.
async fn show_readiness(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match sqlx::query_scalar!("select 1").fetch_one(&state.db).await {
        Ok(_) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(error) => {
            tracing::warn!(error = ?error, "readiness check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "unreachable" })),
            )
        }
    }
}
