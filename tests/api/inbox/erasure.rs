//! Erasing a customer at their request: their identifiers, name and messages go, everywhere the
//! tenant keeps them (raw webhook events too), in one audited admin action; the conversations stay
//! and say so; only the tenant's own customers, only by admins.

use axum::http::StatusCode;
use sqlx::PgPool;

use super::*;

#[sqlx::test]
async fn an_admin_erases_a_customer_everywhere_and_the_conversation_says_so(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let conversation = customer_writes(&app, "wamid.secret", "My card ends in 4242", 2).await;
    let contact: i64 = app
        .scalar("select contact_id from conversations limit 1")
        .await;
    let path = format!("/admin/contacts/{contact}/erase");
    let back = format!("/inbox/conversations/{conversation}");

    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let mut agent = Client::signed_in(&app, "ana@acme.test").await;
    let csrf = agent.csrf().await;
    let forbidden = agent
        .post_form(
            &path,
            &[("csrf", &csrf), ("confirm", "yes"), ("back", &back)],
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

    let mut admin = signed_in_admin(&app).await;
    let page = admin.get(&back).await;
    assert!(page.body.contains(r#"data-testid="erase-form""#));
    let csrf = admin.csrf().await;
    let unconfirmed = admin
        .post_form(&path, &[("csrf", &csrf), ("back", &back)])
        .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.scalar::<i64>("select count(*) from messages where body like '%4242%'")
            .await,
        1,
        "nothing erased without confirmation"
    );

    let erased = admin
        .post_form(
            &path,
            &[("csrf", &csrf), ("confirm", "yes"), ("back", &back)],
        )
        .await;
    assert_eq!(erased.status, StatusCode::SEE_OTHER);
    assert_eq!(erased.location(), back);

    let (wa_id, name, erased_at): (
        Option<String>,
        Option<String>,
        Option<chrono::DateTime<chrono::Utc>>,
    ) = sqlx::query_as("select wa_id, profile_name, erased_at from contacts where id = $1")
        .bind(contact)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!((wa_id, name), (None, None));
    assert!(erased_at.is_some());
    for (what, sql) in [
        (
            "message text",
            "select count(*) from messages where body like '%4242%' or content::text like '%4242%'",
        ),
        ("search text", "select count(*) from message_texts"),
        (
            "raw events",
            "select count(*) from webhook_events where position(convert_to('15550001111', 'UTF8') in body) > 0 or position(convert_to('4242', 'UTF8') in body) > 0",
        ),
    ] {
        assert_eq!(app.scalar::<i64>(sql).await, 0, "{what}");
    }
    assert!(
        app.scalar::<i64>("select count(*) from webhook_events")
            .await
            > 0,
        "the events are kept, redacted"
    );

    let page = admin.get(&back).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Erased customer"));
    assert!(page.body.contains(r#"data-testid="customer-erased""#));
    let thread = page.body.split(r#"data-testid="thread""#).nth(1).unwrap();
    assert!(thread.contains("Erased at the customer"), "{thread}");
    assert!(page.body.contains("erased the customer at their request"));
    for erased in ["4242", "555 000 1111"] {
        // Not inside a longer number: the page's live-updates address holds the time in
        // milliseconds, which now and then has these digits in it.
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        let alone = |at: &usize| {
            !digit(page.body[..*at].chars().next_back())
                && !digit(page.body[at + erased.len()..].chars().next())
        };
        let shown = page
            .body
            .match_indices(erased)
            .map(|(at, _)| at)
            .find(alone);
        let shown = shown.map(|at| {
            let around = at.saturating_sub(80)..(at + 80).min(page.body.len());
            page.body.get(around).unwrap_or_default().to_owned()
        });
        assert_eq!(shown, None, "{erased}");
    }
    assert!(!page.body.contains(r#"data-testid="erase-form""#));
    // No window to count down, in the conversation or its row: nothing can be sent.
    assert!(!page.body.contains("data-window-closes"));
    assert!(page.body.contains("none: the customer was erased"));
    let resolved = admin.get("/inbox?status=resolved").await;
    assert!(
        resolved
            .body
            .contains(r#"<span class="window closed">erased</span>"#)
    );
    let search = admin.get("/inbox?q=4242").await;
    assert!(!search.body.contains(&back));

    let (action, details): (String, String) = sqlx::query_as(
        "select action, details::text from audit_log where action = 'contact.erase'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(action, "contact.erase");
    assert!(!details.contains("15550001111"), "{details}");

    // Writing again, the customer starts afresh: a new contact and conversation.
    let again = customer_writes(&app, "wamid.new", "Hello again", 0).await;
    assert_ne!(again, conversation);
}
