//! Media of a real number come from Meta (`META_GRAPH_URL`): here a stand-in that records what
//! it is asked, or a closed port.

use std::sync::{Arc, Mutex};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde_json::json;
use sqlx::PgPool;

use super::{JPEG, TOKEN, agent, customer_sends};
use crate::helpers::*;

#[sqlx::test]
async fn meta_out_of_reach_is_a_502_page_that_says_so(pool: PgPool) {
    // The test number is a real one, and the test config's Meta is a closed port.
    let app = TestApp::new(pool).await;
    let id = customer_sends(
        &app,
        "wamid.photo",
        "image",
        json!({ "id": "1761991787669262" }),
    )
    .await;
    let mut client = agent(&app).await;

    let failed = client.get(&format!("/inbox/media/{id}")).await;

    assert_eq!(failed.status, StatusCode::BAD_GATEWAY);
    assert!(
        failed.body.contains("WhatsApp could not be reached"),
        "{}",
        failed.body
    );
}

#[sqlx::test]
async fn a_real_numbers_media_comes_from_meta_with_the_token_in_a_header_never_a_url(pool: PgPool) {
    let meta = RecordingMeta::start().await;
    let url = meta.url.clone();
    let app = TestApp::with_config(pool, move |config| config.meta_graph_url = url).await;
    let id = customer_sends(
        &app,
        "wamid.photo",
        "image",
        json!({ "id": "1761991787669262" }),
    )
    .await;
    let mut client = agent(&app).await;

    let photo = client.get(&format!("/inbox/media/{id}")).await;

    assert_eq!(photo.status, StatusCode::OK, "{}", photo.body);
    assert_eq!(photo.bytes.as_ref(), JPEG);
    let seen = meta.seen.lock().unwrap().clone();
    let paths: Vec<_> = seen.iter().map(|seen| seen.uri.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v23.0/1761991787669262",
            "/download/1761991787669262?ext=1&hash=AbC"
        ]
    );
    for seen in &seen {
        assert!(!seen.uri.contains(TOKEN), "the token is in {}", seen.uri);
        let authorization = seen.authorization.as_deref();
        assert_eq!(authorization, Some("Bearer test-access-token"));
    }
}

/// Meta, as far as media go, on a port of its own: answers a media id with a download URL on
/// itself, then the bytes; records each request's path and query and its `Authorization`.
#[derive(Clone)]
struct RecordingMeta {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// A request's path and query, and its `Authorization` header.
#[derive(Clone)]
struct Seen {
    uri: String,
    authorization: Option<String>,
}

impl RecordingMeta {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let meta = Self {
            url: format!("http://{}", listener.local_addr().unwrap()),
            seen: Arc::default(),
        };
        let router = Router::new().fallback(answer).with_state(meta.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        meta
    }
}

async fn answer(State(meta): State<RecordingMeta>, uri: Uri, headers: HeaderMap) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let seen = Seen {
        uri: uri.to_string(),
        authorization,
    };
    meta.seen.lock().unwrap().push(seen);
    if uri.path().starts_with("/download/") {
        return ([(header::CONTENT_TYPE, "image/jpeg")], JPEG).into_response();
    }
    let id = uri.path().trim_start_matches("/v23.0/");
    let info = json!({
        "messaging_product": "whatsapp",
        "url": format!("{}/download/{id}?ext=1&hash=AbC", meta.url),
        "mime_type": "image/jpeg",
        "sha256": "c86c28d437534f7367e73b283155c083dddfdaf7f9b4dfae27e140f880035141",
        "file_size": JPEG.len(),
        "id": id,
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        info.to_string(),
    )
        .into_response()
}
