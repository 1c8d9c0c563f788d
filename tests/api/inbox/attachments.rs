//! Attachments: checked before upload, uploaded to the number's media endpoint (here the embedded
//! sandbox), sent once, and refused in words with the caption kept.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use sqlx::PgPool;

use super::*;

/// A multipart body with `fields` and one file, as the composer sends it.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> Vec<u8> {
    multipart_form(
        fields,
        file.map(|(filename, mime, bytes)| ("file", filename, mime, bytes)),
    )
}

async fn attach(browser: &mut Client<'_>, conversation: ConversationId, body: Vec<u8>) -> Answer {
    browser
        .send(
            Request::post(format!("/inbox/conversations/{conversation}/attachments")).header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ),
            Body::from(body),
        )
        .await
}

async fn sandbox_conversation(app: &TestApp) -> ConversationId {
    sqlx::query("update phone_numbers set sandbox = true")
        .execute(&app.pool)
        .await
        .unwrap();
    customer_writes(app, "wamid.hi", "Can you send the invoice?", 1).await
}

#[sqlx::test]
async fn a_document_is_uploaded_and_sent_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = sandbox_conversation(&app).await;
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;
    let csrf = browser.csrf().await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("idempotency_key", "file-1"),
        ("caption", "Your invoice"),
    ];
    for _ in 0..2 {
        let body = multipart(
            &fields,
            Some(("invoice.pdf", "application/pdf", b"%PDF-1.4 test")),
        );
        let answer = attach(&mut browser, conversation, body).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    }
    let contents: Vec<serde_json::Value> =
        sqlx::query_scalar("select content from messages where direction = 'outbound'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(contents.len(), 1, "a resubmitted form sends once");
    let document = &contents[0]["document"];
    assert_eq!(document["filename"], "invoice.pdf");
    assert_eq!(document["caption"], "Your invoice");
    let media_id = document["id"].as_str().expect("sent by media id");
    let uploads = app
        .sandbox
        .as_ref()
        .unwrap()
        .calls()
        .into_iter()
        .filter(|c| c.method == "POST" && c.path.ends_with("/media"))
        .count();
    assert_eq!(uploads, 1, "uploaded once too");
    assert!(!media_id.is_empty());
}

#[sqlx::test]
async fn a_file_whatsapp_would_refuse_is_refused_before_upload_with_the_caption_kept(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = sandbox_conversation(&app).await;
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;
    let csrf = browser.csrf().await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("idempotency_key", "file-2"),
        ("caption", "Look at this"),
    ];
    let body = multipart(
        &fields,
        Some(("page.html", "text/html", b"<script>alert(1)</script>")),
    );
    let answer = attach(&mut browser, conversation, body).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer
            .body
            .contains("WhatsApp does not deliver files of type text/html"),
        "{}",
        answer.body
    );
    assert!(answer.body.contains("Look at this"));
    let big = vec![0u8; (5 << 20) + 1];
    let body = multipart(&fields, Some(("big.jpg", "image/jpeg", &big)));
    let answer = attach(&mut browser, conversation, body).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.body.contains("at most 5 MB"), "{}", answer.body);
    let uploads = app.sandbox.as_ref().unwrap().calls().len();
    assert_eq!(uploads, 0, "nothing reached Meta");
    let sent: i64 = app
        .scalar("select count(*) from messages where direction = 'outbound'")
        .await;
    assert_eq!(sent, 0);
}

#[sqlx::test]
async fn an_upload_without_its_token_or_to_another_route_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = sandbox_conversation(&app).await;
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;
    let body = multipart(
        &[("csrf", "forged"), ("idempotency_key", "f")],
        Some(("a.pdf", "application/pdf", b"%PDF")),
    );
    assert_eq!(
        attach(&mut browser, conversation, body).await.status,
        StatusCode::FORBIDDEN
    );
    // A multipart body can't stand in for a form's token elsewhere.
    let answer = browser
        .send(
            Request::post(format!("/inbox/conversations/{conversation}/status")).header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ),
            Body::from(multipart(&[("status", "resolved")], None)),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let status: String = app.scalar("select status from conversations").await;
    assert_eq!(status, "open");
}
