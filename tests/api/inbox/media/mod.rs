//! `GET /inbox/media/{id}`: a message's media fetched from Meta (here the embedded sandbox, which
//! a sandbox number's media come from) with the number's token, for the tenant's agents only,
//! never as something a browser would run, and kept so that Meta is asked once.

mod meta;

use axum::{
    body::Body,
    http::{HeaderMap, Request, StatusCode, header},
};
use serde_json::{Value, json};
use sqlx::PgPool;

use super::{Client, customer_writes, user};
use crate::helpers::*;

/// The test number's access token (see `TestApp::add_number`).
const TOKEN: &str = "test-access-token";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00 not really a photo \x00\xff\xd9";

/// A signed-in agent of the test tenant.
async fn agent(app: &TestApp) -> Client<'_> {
    user(app, app.tenant_id, "ana@acme.test", "Ana").await;
    Client::signed_in(app, "ana@acme.test").await
}

/// Makes the test number a sandbox number: its media live in the embedded sandbox.
async fn make_sandbox_number(app: &TestApp) {
    sqlx::query("update phone_numbers set sandbox = true where phone_number_id = $1")
        .bind(PHONE_NUMBER_ID)
        .execute(&app.pool)
        .await
        .unwrap();
}

/// Uploads a file to the embedded sandbox, as Meta holds what a customer sends; returns its id.
async fn upload(app: &TestApp, mime_type: &str, bytes: &[u8]) -> String {
    let file = reqwest::multipart::Part::bytes(bytes.to_vec())
        .file_name("upload")
        .mime_str(mime_type)
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("messaging_product", "whatsapp")
        .text("type", mime_type.to_owned())
        .part("file", file);
    let url = format!("{}/sandbox/graph/v23.0/{PHONE_NUMBER_ID}/media", app.url);
    let request = reqwest::Client::new().post(url).bearer_auth(TOKEN);
    let uploaded: Value = request
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    uploaded["id"].as_str().unwrap().to_owned()
}

/// The customer sends a message of type `kind` whose media is `part`; returns its id.
async fn customer_sends(app: &TestApp, wamid: &str, kind: &str, part: Value) -> MessageId {
    let ts = chrono::Utc::now().timestamp().to_string();
    let mut message = json!({ "from": CUSTOMER, "id": wamid, "timestamp": ts, "type": kind });
    message[kind] = part;
    app.deliver(messages_webhook(vec![message], vec![])).await;
    message_id(app, wamid).await
}

async fn message_id(app: &TestApp, wamid: &str) -> MessageId {
    sqlx::query_scalar("select id from messages where wamid = $1")
        .bind(wamid)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The GETs the embedded sandbox answered, by path.
fn sandbox_gets(app: &TestApp) -> Vec<String> {
    let sandbox = app.sandbox.as_ref().unwrap();
    let calls = sandbox.calls().into_iter();
    calls
        .filter(|c| c.method == "GET")
        .map(|c| c.path)
        .collect()
}

fn header(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .map_or("", |value| value.to_str().unwrap())
}

#[sqlx::test]
async fn an_inbound_image_is_served_with_its_bytes_and_type(pool: PgPool) {
    let app = TestApp::new(pool).await;
    make_sandbox_number(&app).await;
    let media_id = upload(&app, "image/jpeg", JPEG).await;
    let part = json!({ "id": media_id, "mime_type": "image/jpeg", "caption": "The receipt" });
    let id = customer_sends(&app, "wamid.photo", "image", part).await;
    let mut client = agent(&app).await;

    let photo = client.get(&format!("/inbox/media/{id}")).await;

    assert_eq!(photo.status, StatusCode::OK, "{}", photo.body);
    assert_eq!(photo.bytes.as_ref(), JPEG);
    let headers = &photo.headers;
    assert_eq!(header(headers, header::CONTENT_TYPE), "image/jpeg");
    assert_eq!(
        header(headers, header::CONTENT_LENGTH),
        JPEG.len().to_string()
    );
    assert_eq!(header(headers, header::CONTENT_DISPOSITION), "inline");
    assert!(header(headers, header::CACHE_CONTROL).starts_with("private, max-age="));
    assert_eq!(header(headers, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert!(header(headers, header::CONTENT_SECURITY_POLICY).contains("sandbox"));
}

#[sqlx::test]
async fn the_second_request_is_served_without_asking_meta_again(pool: PgPool) {
    let app = TestApp::new(pool).await;
    make_sandbox_number(&app).await;
    let media_id = upload(&app, "audio/ogg; codecs=opus", b"OggS voice").await;
    let part = json!({ "id": media_id, "mime_type": "audio/ogg; codecs=opus", "voice": true });
    let id = customer_sends(&app, "wamid.voice", "audio", part).await;
    let mut client = agent(&app).await;

    let first = client.get(&format!("/inbox/media/{id}")).await;
    let again = client.get(&format!("/inbox/media/{id}")).await;

    assert_eq!(
        (first.status, again.status),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_eq!(again.bytes.as_ref(), b"OggS voice");
    assert_eq!(header(&again.headers, header::CONTENT_TYPE), "audio/ogg");
    assert_eq!(
        sandbox_gets(&app),
        [format!("/v23.0/{media_id}"), format!("/media/{media_id}")]
    );
}

#[sqlx::test]
async fn a_range_is_served_for_seeking(pool: PgPool) {
    let app = TestApp::new(pool).await;
    make_sandbox_number(&app).await;
    let video = b"....ftypmp42 a short video".as_slice();
    let media_id = upload(&app, "video/mp4", video).await;
    let id = customer_sends(&app, "wamid.video", "video", json!({ "id": media_id })).await;
    let mut client = agent(&app).await;
    let path = format!("/inbox/media/{id}");

    let part = client
        .send(
            Request::get(&path).header(header::RANGE, "bytes=4-11"),
            Body::empty(),
        )
        .await;
    let past_the_end = client
        .send(
            Request::get(&path).header(header::RANGE, "bytes=500-"),
            Body::empty(),
        )
        .await;

    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes.as_ref(), b"ftypmp42");
    let whole = format!("bytes 4-11/{}", video.len());
    assert_eq!(header(&part.headers, header::CONTENT_RANGE), whole);
    assert_eq!(header(&part.headers, header::ACCEPT_RANGES), "bytes");
    assert_eq!(past_the_end.status, StatusCode::RANGE_NOT_SATISFIABLE);
}

#[sqlx::test]
async fn another_tenants_agent_gets_the_same_404_as_for_an_unknown_id(pool: PgPool) {
    let app = TestApp::new(pool).await;
    make_sandbox_number(&app).await;
    let media_id = upload(&app, "image/jpeg", JPEG).await;
    let id = customer_sends(&app, "wamid.photo", "image", json!({ "id": media_id })).await;
    let (other, _) = app.add_tenant("Globex", "999000999", "other-secret").await;
    user(&app, other, "hank@globex.test", "Hank").await;
    let mut stranger = Client::signed_in(&app, "hank@globex.test").await;

    let foreign = stranger.get(&format!("/inbox/media/{id}")).await;
    let unknown = stranger
        .get(&format!("/inbox/media/{}", id.get() + 1000))
        .await;

    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert_eq!(foreign.body, unknown.body);
    assert!(sandbox_gets(&app).is_empty(), "Meta was asked");
}

#[sqlx::test]
async fn a_message_without_media_or_deleted_is_404(pool: PgPool) {
    let app = TestApp::new(pool).await;
    make_sandbox_number(&app).await;
    customer_writes(&app, "wamid.text", "Hello", 1).await;
    let text = message_id(&app, "wamid.text").await;
    let media_id = upload(&app, "image/jpeg", JPEG).await;
    let photo = customer_sends(&app, "wamid.photo", "image", json!({ "id": media_id })).await;
    sqlx::query("update messages set deleted_at = now() where id = $1")
        .bind(photo)
        .execute(&app.pool)
        .await
        .unwrap();
    let mut client = agent(&app).await;

    for id in [text, photo] {
        let answer = client.get(&format!("/inbox/media/{id}")).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{id}");
    }
}

#[sqlx::test]
async fn html_and_svg_are_served_as_downloads_of_bytes(pool: PgPool) {
    let app = TestApp::new(pool).await;
    make_sandbox_number(&app).await;
    let html = upload(&app, "text/html", b"<script>alert(1)</script>").await;
    let svg = upload(&app, "image/svg+xml", b"<svg onload=alert(1)/>").await;
    let part =
        json!({ "id": html, "mime_type": "text/html", "filename": "Quittung März \"1\".html" });
    let document = customer_sends(&app, "wamid.html", "document", part).await;
    let image = customer_sends(&app, "wamid.svg", "image", json!({ "id": svg })).await;
    let mut client = agent(&app).await;

    let document = client.get(&format!("/inbox/media/{document}")).await;
    let image = client.get(&format!("/inbox/media/{image}")).await;

    for answer in [&document, &image] {
        assert_eq!(answer.status, StatusCode::OK);
        let content_type = header(&answer.headers, header::CONTENT_TYPE);
        assert_eq!(content_type, "application/octet-stream");
        let disposition = header(&answer.headers, header::CONTENT_DISPOSITION);
        assert!(disposition.starts_with("attachment; "), "{disposition}");
    }
    assert_eq!(
        header(&document.headers, header::CONTENT_DISPOSITION),
        "attachment; filename=\"Quittung M_rz _1_.html\"; \
         filename*=UTF-8''Quittung%20M%C3%A4rz%20%221%22.html"
    );
}

#[sqlx::test]
async fn media_whatsapp_no_longer_has_is_a_410_page_that_says_so(pool: PgPool) {
    let app = TestApp::new(pool).await;
    make_sandbox_number(&app).await;
    let id = customer_sends(&app, "wamid.old", "sticker", json!({ "id": "424242" })).await;
    let mut client = agent(&app).await;

    let gone = client.get(&format!("/inbox/media/{id}")).await;
    let again = client.get(&format!("/inbox/media/{id}")).await;

    assert_eq!(gone.status, StatusCode::GONE);
    assert!(header(&gone.headers, header::CONTENT_TYPE).starts_with("text/html"));
    assert!(
        gone.body.contains("WhatsApp no longer has this file"),
        "{}",
        gone.body
    );
    assert_eq!(again.status, StatusCode::GONE);
    assert_eq!(sandbox_gets(&app), ["/v23.0/424242"], "asked Meta again");
}

#[sqlx::test]
async fn a_link_we_sent_is_a_redirect_to_it_and_any_other_link_is_404(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let conversation = customer_writes(&app, "wamid.hello", "Hello", 1).await;
    let sent = |wamid: &'static str, link: &'static str| {
        let content = json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "type": "document",
                              "document": { "link": link, "filename": "menu.pdf" } });
        sqlx::query_scalar::<_, MessageId>(
            "insert into messages (tenant_id, conversation_id, phone_number_id, direction, wamid,
                 type, body, content, status)
             select tenant_id, id, phone_number_id, 'outbound', $2, 'document', '', $3, 'sent'
             from conversations where id = $1
             returning id",
        )
        .bind(conversation)
        .bind(wamid)
        .bind(content)
        .fetch_one(&app.pool)
    };
    let menu = sent("wamid.menu", "https://cdn.example.com/menu.pdf?v=2")
        .await
        .unwrap();
    let script = sent("wamid.script", "javascript:alert(1)").await.unwrap();
    let link = json!({ "link": "https://attacker.example/x.jpg" });
    let inbound = customer_sends(&app, "wamid.link", "image", link).await;
    let mut client = agent(&app).await;

    let redirect = client.get(&format!("/inbox/media/{menu}")).await;
    let refused = client.get(&format!("/inbox/media/{script}")).await;
    let not_ours = client.get(&format!("/inbox/media/{inbound}")).await;

    assert_eq!(redirect.status, StatusCode::FOUND);
    assert_eq!(redirect.location(), "https://cdn.example.com/menu.pdf?v=2");
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(not_ours.status, StatusCode::NOT_FOUND);
}
