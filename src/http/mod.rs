//! The HTTP surface: shared state, the router and its layer stack. `app(state)` is a plain function
//! so tests can drive the real router without a socket.

mod health;
mod webhook;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::MatchedPath,
    http::{Request, StatusCode},
};
use sqlx::PgPool;
use tower_http::{catch_panic::CatchPanicLayer, timeout::TimeoutLayer, trace::TraceLayer};

use crate::{
    config::Config, crypto::Cipher, domain::apps::AppDirectory, ingest::event_log::EventLog,
};

/// What every handler can reach; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub config: Arc<Config>,
    pub cipher: Cipher,
    pub apps: AppDirectory,
    pub events: EventLog,
}

impl AppState {
    pub fn new(db: PgPool, config: Config, events: EventLog) -> Self {
        let cipher = config.secret_key.cipher();
        let apps = AppDirectory::new(db.clone(), cipher.clone());
        Self {
            db,
            config: Arc::new(config),
            cipher,
            apps,
            events,
        }
    }
}

/// The application's router with its layers.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(webhook::router())
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map(MatchedPath::as_str);
                tracing::info_span!("http", method = %request.method(), route)
            }),
        )
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::new())
        .with_state(state)
}
