//! The list and the conversation view: what they show, and that no tenant sees another's.

use axum::http::StatusCode;
use sqlx::PgPool;

use super::*;

#[sqlx::test]
async fn a_customer_message_shows_in_the_list_and_the_thread_with_its_window(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.hi", "Where is my order?", 21).await;
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;

    let list = browser.get("/inbox").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Dana"), "{}", list.body);
    assert!(list.body.contains("Where is my order?"));
    assert!(
        list.body.contains(r#"aria-label="1 unread""#),
        "{}",
        list.body
    );
    assert!(list.body.contains("⏳ 2 h"), "{}", list.body);

    // Closing soon: the customer wrote last and the window ends within 4 hours.
    let closing = browser.get("/inbox?view=closing").await;
    assert!(
        closing
            .body
            .contains(&format!(r#"data-conversation="{conversation}""#))
    );

    let thread = browser
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert_eq!(thread.status, StatusCode::OK);
    assert!(thread.body.contains("Where is my order?"));
    assert!(
        thread.body.contains("Window closes in 2 h"),
        "{}",
        thread.body
    );
    assert!(thread.body.contains(r#"data-testid="reply-form""#));
    assert!(
        !thread.body.contains("unread\""),
        "the list beside it shows it read: {}",
        thread.body
    );

    // Opening it read it for this agent only.
    let list = browser.get("/inbox").await;
    assert!(!list.body.contains("unread\""), "{}", list.body);
    user(&app, app.tenant_id, "ben@acme.test", "Ben").await;
    let mut ben = Client::signed_in(&app, "ben@acme.test").await;
    assert!(
        ben.get("/inbox")
            .await
            .body
            .contains(r#"aria-label="1 unread""#)
    );
}

#[sqlx::test]
async fn a_replied_conversation_is_not_closing_soon(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.hi", "Hi", 21).await;
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;
    let csrf = browser.csrf().await;
    let sent = browser
        .post_form(
            &format!("/inbox/conversations/{conversation}/messages"),
            &[
                ("text", "On it"),
                ("idempotency_key", "reply-1"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let closing = browser.get("/inbox?view=closing").await;
    assert!(
        closing.body.contains(r#"data-testid="empty-list""#),
        "{}",
        closing.body
    );
}

#[sqlx::test]
async fn another_tenants_conversation_is_404_and_absent_from_every_view(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let conversation = customer_writes(&app, "wamid.secret", "My secret order", 1).await;
    let (other, _) = app.add_tenant("Globex", "99887766", "globex-secret").await;
    user(&app, other, "eve@globex.test", "Eve").await;
    let mut eve = Client::signed_in(&app, "eve@globex.test").await;

    let page = eve
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("My secret order"));
    for view in ["all", "mine", "unassigned", "closing"] {
        let list = eve.get(&format!("/inbox?view={view}")).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(!list.body.contains("Dana"), "{view}: {}", list.body);
        assert!(!list.body.contains("My secret order"), "{view}");
    }
    let csrf = eve.csrf().await;
    let send = eve
        .post_form(
            &format!("/inbox/conversations/{conversation}/messages"),
            &[
                ("text", "Hi"),
                ("idempotency_key", "eve-1"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(send.status, StatusCode::NOT_FOUND);
    let sent: i64 = app
        .scalar("select count(*) from messages where direction = 'outbound'")
        .await;
    assert_eq!(sent, 0);
}

#[sqlx::test]
async fn the_list_pages_by_keyset_without_repeating_or_skipping(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    // 60 conversations, from 60 customers, all at the same instant (ties broken by id).
    sqlx::query(
        "with made as (
             insert into contacts (tenant_id, wa_id, profile_name)
             select $1, '1555000' || lpad(i::text, 4, '0'), 'Customer ' || i from generate_series(1, 60) i
             returning id)
         insert into conversations (tenant_id, phone_number_id, contact_id, last_message_at)
         select $1, (select id from phone_numbers where tenant_id = $1 limit 1), id, '2026-11-01T10:00:00Z'
         from made",
    )
    .bind(app.tenant_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;
    let first = browser.get("/inbox").await;
    let next = next_page(&first.body);
    let second = browser.get(&next).await;
    let (a, b) = (listed(&first.body), listed(&second.body));
    assert_eq!(a.len(), 50);
    assert_eq!(b.len(), 10);
    let mut all: Vec<String> = a.into_iter().chain(b).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 60);
}

#[sqlx::test]
async fn the_details_list_the_customers_threads_with_other_numbers(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let first = customer_writes(&app, "wamid.one", "Hi from the shop", 3).await;
    let sales = app
        .add_number(
            app.tenant_id,
            app.app_id,
            "5566778899",
            WABA_ID,
            Some("+1 555 010 2000"),
        )
        .await;
    // The same customer writes to the other number.
    let mut webhook: serde_json::Value = serde_json::from_str(&messages_webhook(
        vec![text(
            "wamid.two",
            chrono::Utc::now().timestamp(),
            "Hi sales",
        )],
        vec![],
    ))
    .unwrap();
    webhook["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "5566778899".into();
    app.deliver(webhook.to_string()).await;
    let second: i64 = app
        .scalar(&format!(
            "select id from conversations where phone_number_id = {}",
            sales.get()
        ))
        .await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;

    let page = ana.get(&format!("/inbox/conversations/{first}")).await;
    let others = page
        .body
        .split(r#"data-testid="other-threads""#)
        .nth(1)
        .expect("the other threads")
        .split("</ul>")
        .next()
        .unwrap()
        .to_owned();
    assert!(
        others.contains(&format!("/inbox/conversations/{second}?")),
        "{others}"
    );
    assert!(others.contains("+1 555 010 2000"), "{others}");
    assert!(!others.contains(&format!("/inbox/conversations/{first}?")));

    // And the other way round.
    let page = ana.get(&format!("/inbox/conversations/{second}")).await;
    assert!(
        page.body
            .contains(&format!("/inbox/conversations/{first}?"))
    );
}
