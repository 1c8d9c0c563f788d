//! Meta as a load test needs it: a Graph API in this process that answers each send as Meta does
//! (Meta's success body with a new wamid; Meta's 190 for a token that is not the number's; Meta's
//! envelope for anything else) from memory. The sandbox's fake (`sends/fake.rs`) finds each call's
//! number and token in PostgreSQL and takes queued faults from there: three statements a call on
//! the database Switchboard is measured on, for work that Meta does on its own machines.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use anyhow::Context;
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};
use switchboard::http::extract::{Json, Path};

/// The running fake.
pub struct Meta {
    pub url: String,
}

#[derive(Clone)]
struct Numbers {
    /// Each number's access token, by `phone_number_id`.
    tokens: Arc<HashMap<String, String>>,
    /// Sends answered, for each its own wamid.
    sent: Arc<AtomicU64>,
}

impl Meta {
    /// Serves on a free loopback port the numbers whose access tokens `tokens` holds, by
    /// `phone_number_id`.
    pub async fn start(tokens: HashMap<String, String>) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .context("bind the fake Graph API")?;
        let url = format!("http://{}", listener.local_addr().context("local address")?);
        let numbers = Numbers {
            tokens: Arc::new(tokens),
            sent: Arc::default(),
        };
        let router = Router::new()
            .route("/{version}/{phone_number_id}/messages", post(send))
            .fallback(unsupported)
            .with_state(numbers);
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Self { url })
    }
}

/// Meta's answer to a send: the recipient as given and the message's wamid.
async fn send(
    State(numbers): State<Numbers>,
    Path((_, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(expected) = numbers.tokens.get(&phone_number_id) else {
        return unsupported().await;
    };
    if token != Some(expected.as_str()) {
        return error(
            StatusCode::UNAUTHORIZED,
            190,
            "OAuthException",
            "Invalid OAuth access token - Cannot parse access token",
        );
    }
    let Ok(message) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            100,
            "OAuthException",
            "Invalid parameter",
        );
    };
    let to = message["to"].as_str().unwrap_or_default();
    let n = numbers.sent.fetch_add(1, Ordering::Relaxed);
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": to, "wa_id": to }],
        "messages": [{ "id": format!("wamid.HBgL{n:020}FQIAERgS") }],
    }))
    .into_response()
}

/// Meta's answer to a request it does not support.
async fn unsupported() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        100,
        "GraphMethodException",
        "Unsupported post request.",
    )
}

fn error(status: StatusCode, code: i64, kind: &str, message: &str) -> Response {
    let body = json!({ "error": {
        "message": message, "type": kind, "code": code, "fbtrace_id": "AbCdEfGhIjKlMnOpQrStUvW",
    }});
    (status, Json(body)).into_response()
}
