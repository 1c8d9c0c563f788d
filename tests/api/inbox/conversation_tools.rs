//! The conversation's tools: quoting, reactions, canned responses and who else is viewing.

use axum::http::StatusCode;
use sqlx::PgPool;

use super::*;

async fn post(browser: &mut Client<'_>, path: &str, fields: &[(&str, &str)]) -> Answer {
    let csrf = browser.csrf().await;
    let mut fields = fields.to_vec();
    fields.push(("csrf", &csrf));
    browser.post_form(path, &fields).await
}

async fn message_id(app: &TestApp, wamid: &str) -> String {
    let id: i64 = sqlx::query_scalar("select id from messages where wamid = $1")
        .bind(wamid)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    id.to_string()
}

#[sqlx::test]
async fn a_reply_quotes_the_message_it_answers(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.question", "Where is my order?", 1).await;
    let quoted = message_id(&app, "wamid.question").await;
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;

    // Without script, "Reply" is a link that puts the quote in the composer.
    let page = browser
        .get(&format!(
            "/inbox/conversations/{conversation}?reply_to={quoted}"
        ))
        .await;
    assert!(
        page.body
            .contains(r#"<q class="replying-quote">Where is my order?</q>"#),
        "{}",
        page.body
    );

    let path = format!("/inbox/conversations/{conversation}/messages");
    let answer = post(
        &mut browser,
        &path,
        &[
            ("text", "Today!"),
            ("idempotency_key", "r1"),
            ("reply_to", &quoted),
        ],
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let context: Option<String> = app
        .scalar("select context_wamid from messages where direction = 'outbound'")
        .await;
    assert_eq!(context.as_deref(), Some("wamid.question"));

    // A message that is not in this conversation can't be quoted.
    let answer = post(
        &mut browser,
        &path,
        &[
            ("text", "x"),
            ("idempotency_key", "r2"),
            ("reply_to", "999999"),
        ],
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn a_reaction_goes_out_once_and_shows_on_the_message(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.thanks", "Thanks a lot", 1).await;
    let target = message_id(&app, "wamid.thanks").await;
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;
    let path = format!("/inbox/conversations/{conversation}/messages/{target}/react");
    for _ in 0..2 {
        let answer = post(
            &mut browser,
            &path,
            &[("emoji", "👍"), ("idempotency_key", "page-1")],
        )
        .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    }
    let reactions: Vec<serde_json::Value> =
        sqlx::query_scalar("select content from messages where type = 'reaction'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(reactions.len(), 1);
    assert_eq!(reactions[0]["reaction"]["message_id"], "wamid.thanks");
    assert_eq!(reactions[0]["reaction"]["emoji"], "👍");
    let thread = browser
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert_eq!(
        thread.body.matches(r#"data-testid="message""#).count(),
        1,
        "the reaction is not a bubble"
    );
    assert!(thread.body.contains("👍"));

    let refused = post(
        &mut browser,
        &path,
        &[("emoji", "<b>"), ("idempotency_key", "page-1")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
}

#[sqlx::test]
async fn canned_responses_are_saved_for_the_team_once_per_shortcut(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    user(&app, app.tenant_id, "ben@acme.test", "Ben").await;
    let conversation = customer_writes(&app, "wamid.1", "Hi", 1).await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;
    let path = format!("/inbox/conversations/{conversation}/canned");
    let saved = post(
        &mut ana,
        &path,
        &[("shortcut", "/thanks"), ("body", "Thank you for writing!")],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let taken = post(
        &mut ana,
        &path,
        &[("shortcut", "thanks"), ("body", "Other")],
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    let bad = post(&mut ana, &path, &[("shortcut", "Thanks!"), ("body", "x")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let mut ben = Client::signed_in(&app, "ben@acme.test").await;
    let page = ben
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert!(
        page.body
            .contains(r#"data-shortcut="thanks" data-body="Thank you for writing!""#),
        "{}",
        page.body
    );
}

#[sqlx::test]
async fn agents_see_who_else_has_the_conversation_open(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    user(&app, app.tenant_id, "ben@acme.test", "Ben").await;
    let conversation = customer_writes(&app, "wamid.1", "Hi", 1).await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;
    let mut ben = Client::signed_in(&app, "ben@acme.test").await;
    let csrf = ben.csrf().await;
    let beat = ben
        .send(
            axum::http::Request::post(format!("/inbox/conversations/{conversation}/viewing"))
                .header("x-csrf-token", csrf),
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(beat.status, StatusCode::NO_CONTENT);
    let page = ana
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert!(page.body.contains(">Ben is viewing<"), "{}", page.body);
    let own = ben
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert!(!own.body.contains("is viewing<"), "not yourself");
}
