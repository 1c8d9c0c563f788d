//! The composer: replies inside the window, templates outside it, a refused send that keeps the
//! agent's text, and a double submission that sends once.

use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use super::*;

async fn reply(
    browser: &mut Client<'_>,
    conversation: ConversationId,
    text: &str,
    key: &str,
) -> Answer {
    let csrf = browser.csrf().await;
    browser
        .post_form(
            &format!("/inbox/conversations/{conversation}/messages"),
            &[("text", text), ("idempotency_key", key), ("csrf", &csrf)],
        )
        .await
}

#[sqlx::test]
async fn a_reply_inside_the_window_is_queued_once_however_often_it_is_submitted(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let ana = user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.hi", "Hi", 1).await;
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;

    let page = browser
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    let key = field(&page.body, "idempotency_key");
    for _ in 0..2 {
        let answer = reply(&mut browser, conversation, "It ships today!", &key).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        assert!(
            answer
                .location()
                .starts_with(&format!("/inbox/conversations/{conversation}"))
        );
    }
    let rows: Vec<(String, String, Option<i64>)> = sqlx::query_as(
        "select body, sent_by_kind, sent_by from messages where direction = 'outbound'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [(
            "It ships today!".to_owned(),
            "agent".to_owned(),
            Some(ana.get())
        )]
    );

    let thread = browser
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert!(thread.body.contains("It ships today!"));
    assert!(
        thread.body.contains(r#"data-status="queued""#),
        "{}",
        thread.body
    );
    assert_ne!(
        field(&thread.body, "idempotency_key"),
        key,
        "a new page, a new key"
    );
}

#[sqlx::test]
async fn a_closed_window_refuses_free_text_keeps_it_and_offers_the_template_form(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.old", "Hello?", 30).await;
    let template = approved_template(&app).await;
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;

    let page = browser
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert!(
        page.body.contains(r#"data-testid="window-closed""#),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"data-testid="reply-form""#));
    assert!(page.body.contains("order_update (en_US)"), "{}", page.body);

    // A reply typed before the page flipped (or by a page without script) is refused, not lost.
    let refused = reply(&mut browser, conversation, "Are you still there?", "late-1").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(r#"data-testid="send-error""#));
    assert!(
        refused.body.contains("Are you still there?"),
        "{}",
        refused.body
    );
    assert!(!refused.body.contains("131047"));
    let sent: i64 = app
        .scalar("select count(*) from messages where direction = 'outbound'")
        .await;
    assert_eq!(sent, 0);

    // The template, with its variables filled in.
    let form = browser
        .get(&format!(
            "/inbox/conversations/{conversation}?template={template}"
        ))
        .await;
    assert!(
        form.body.contains(r#"data-testid="template-form""#),
        "{}",
        form.body
    );
    assert!(
        form.body.contains(r#"placeholder="Dana""#),
        "the example as placeholder: {}",
        form.body
    );
    // The preview reads as the customer will, the examples standing in for the values.
    assert!(
        form.body.contains(
            r#"Hi <mark data-preview="0">Dana</mark>, your order <mark data-preview="1">#1042</mark> has shipped."#
        ),
        "{}",
        form.body
    );
    assert!(
        form.body
            .contains(r#"<span class="preview-button">Track</span>"#)
    );
    let csrf = field(&form.body, "csrf");
    let key = field(&form.body, "idempotency_key");
    let template_id = template.to_string();
    let answer = browser
        .post_form(
            &format!("/inbox/conversations/{conversation}/templates"),
            &[
                ("csrf", &csrf),
                ("idempotency_key", &key),
                ("template_id", &template_id),
                ("v0", "Dana"),
                ("v1", "#1042"),
                ("v2", "1042"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let content: serde_json::Value = app
        .scalar("select content from messages where direction = 'outbound'")
        .await;
    assert_eq!(content["template"]["name"], "order_update");
    assert_eq!(
        content["template"]["components"],
        json!([
            { "type": "body", "parameters": [{ "type": "text", "text": "Dana" }, { "type": "text", "text": "#1042" }] },
            { "type": "button", "sub_type": "url", "index": "0", "parameters": [{ "type": "text", "text": "1042" }] }
        ])
    );
}

#[sqlx::test]
async fn a_template_with_a_missing_value_is_refused_beside_the_form_with_the_values_kept(
    pool: PgPool,
) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.old", "Hello?", 30).await;
    let template = approved_template(&app).await;
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;
    let csrf = browser.csrf().await;
    let template_id = template.to_string();
    let answer = browser
        .post_form(
            &format!("/inbox/conversations/{conversation}/templates"),
            &[
                ("csrf", &csrf),
                ("idempotency_key", "t-1"),
                ("template_id", &template_id),
                ("v0", "Maria"),
                ("v1", ""),
                ("v2", "https://example.com/t/1042"),
            ],
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    assert!(answer.body.contains(r#"data-testid="send-error""#));
    assert!(answer.body.contains(r#"value="Maria""#), "{}", answer.body);
    // Each problem beside its field; the preview with what was typed.
    assert!(
        answer.body.contains(r#"aria-describedby="v1-problem""#),
        "{}",
        answer.body
    );
    assert!(answer.body.contains(
        r#"<p class="field-problem" id="v1-problem" data-testid="field-problem">Fill this in.</p>"#
    ));
    assert!(answer.body.contains(r#"id="v2-problem""#));
    assert!(answer.body.contains("Only the end of the link"));
    assert!(!answer.body.contains(r#"id="v0-problem""#));
    assert!(
        answer
            .body
            .contains(r#"<mark data-preview="0">Maria</mark>"#)
    );
    let sent: i64 = app
        .scalar("select count(*) from messages where direction = 'outbound'")
        .await;
    assert_eq!(sent, 0);
}
