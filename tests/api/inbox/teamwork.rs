//! Working together: assignment, status, labels, notes and Retry, each in the timeline.

use axum::http::StatusCode;
use sqlx::PgPool;

use super::*;

async fn post(browser: &mut Client<'_>, path: &str, fields: &[(&str, &str)]) -> Answer {
    let csrf = browser.csrf().await;
    let mut fields = fields.to_vec();
    fields.push(("csrf", &csrf));
    browser.post_form(path, &fields).await
}

#[sqlx::test]
async fn assigning_moves_the_conversation_between_views_and_joins_the_timeline(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let ana = user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let ben = user(&app, app.tenant_id, "ben@acme.test", "Ben").await;
    let conversation = customer_writes(&app, "wamid.1", "Hi", 1).await;
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;
    let row = format!(r#"data-conversation="{conversation}""#);
    assert!(
        browser
            .get("/inbox?view=unassigned")
            .await
            .body
            .contains(&row)
    );
    assert!(!browser.get("/inbox?view=mine").await.body.contains(&row));

    let path = format!("/inbox/conversations/{conversation}/assign");
    let answer = post(&mut browser, &path, &[("assignee", "me")]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert!(browser.get("/inbox?view=mine").await.body.contains(&row));
    assert!(
        !browser
            .get("/inbox?view=unassigned")
            .await
            .body
            .contains(&row)
    );
    let thread = browser
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert!(
        thread.body.contains("Ana assigned this to themselves"),
        "{}",
        thread.body
    );

    let ben_id = ben.to_string();
    post(&mut browser, &path, &[("assignee", &ben_id)]).await;
    let thread = browser
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert!(
        thread.body.contains("Ana assigned this to Ben"),
        "{}",
        thread.body
    );
    let audited: i64 = app
        .scalar("select count(*) from audit_log where action = 'conversation.assign'")
        .await;
    assert_eq!(audited, 2);
    let assignee: Option<i64> = app.scalar("select assignee_id from conversations").await;
    assert_eq!(assignee, Some(ben.get()));
    assert_ne!(ana, ben);

    // Someone of another tenant can't be assigned.
    let (other, _) = app.add_tenant("Globex", "99887766", "globex-secret").await;
    let eve = user(&app, other, "eve@globex.test", "Eve")
        .await
        .to_string();
    let answer = post(&mut browser, &path, &[("assignee", &eve)]).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn a_resolved_conversation_reopens_when_the_customer_writes(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.1", "Hi", 1).await;
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;
    let path = format!("/inbox/conversations/{conversation}/status");
    for status in ["pending", "resolved"] {
        let answer = post(&mut browser, &path, &[("status", status)]).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        let row = format!(r#"data-conversation="{conversation}""#);
        assert!(
            browser
                .get(&format!("/inbox?status={status}"))
                .await
                .body
                .contains(&row)
        );
        assert!(!browser.get("/inbox").await.body.contains(&row));
    }
    let thread = browser
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert!(thread.body.contains("Ana resolved this"), "{}", thread.body);

    customer_writes(&app, "wamid.2", "One more thing", 0).await;
    let status: String = app.scalar("select status from conversations").await;
    assert_eq!(status, "open");
}

#[sqlx::test]
async fn labels_are_created_inline_filter_the_list_and_come_off(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.1", "Hi", 1).await;
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;
    let path = format!("/inbox/conversations/{conversation}/labels");
    post(&mut browser, &path, &[("name", "VIP")]).await;
    post(&mut browser, &path, &[("name", "vip")]).await;
    let labels: i64 = app.scalar("select count(*) from labels").await;
    assert_eq!(labels, 1, "one label, whatever the case");
    let label: i64 = app.scalar("select id from labels").await;

    let row = format!(r#"data-conversation="{conversation}""#);
    let filtered = browser.get(&format!("/inbox?label={label}")).await;
    assert!(filtered.body.contains(&row));
    assert!(
        filtered.body.contains(r#"<span class="label">VIP</span>"#),
        "{}",
        filtered.body
    );

    let answer = post(&mut browser, &format!("{path}/{label}/remove"), &[]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(
        !browser
            .get(&format!("/inbox?label={label}"))
            .await
            .body
            .contains(&row)
    );
    let thread = browser
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert!(thread.body.contains("Ana added the label VIP"));
    assert!(thread.body.contains("Ana removed the label VIP"));
}

#[sqlx::test]
async fn a_labels_list_follows_its_conversations_activity_and_status(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let ana = user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let older = customer_writes_as(&app, "15550000001", "wamid.1", "Hi", 3).await;
    let newer = customer_writes_as(&app, "15550000002", "wamid.2", "Hello", 2).await;
    let unlabelled = customer_writes_as(&app, "15550000003", "wamid.3", "Hey", 1).await;
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;
    for conversation in [older, newer] {
        let path = format!("/inbox/conversations/{conversation}/labels");
        post(&mut browser, &path, &[("name", "VIP")]).await;
    }
    let label: i64 = app.scalar("select id from labels").await;
    let list = format!("/inbox?label={label}");
    let (older, newer, unlabelled) = (older.to_string(), newer.to_string(), unlabelled.to_string());
    let page = browser.get(&list).await;
    assert_eq!(listed(&page.body), [newer.as_str(), older.as_str()]);
    assert!(!listed(&page.body).contains(&unlabelled));

    // The older conversation's customer writes again: it comes first.
    customer_writes_as(&app, "15550000001", "wamid.4", "Still there?", 0).await;
    assert_eq!(
        listed(&browser.get(&list).await.body),
        [older.as_str(), newer.as_str()]
    );

    // Resolved, it leaves the open list for the resolved one.
    let answer = post(
        &mut browser,
        &format!("/inbox/conversations/{older}/status"),
        &[("status", "resolved")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(listed(&browser.get(&list).await.body), [newer.as_str()]);
    assert_eq!(
        listed(&browser.get(&format!("{list}&status=resolved")).await.body),
        [older.as_str()]
    );

    // Mine holds only what is assigned to this agent.
    assert!(listed(&browser.get(&format!("{list}&view=mine")).await.body).is_empty());
    sqlx::query("update conversations set assignee_id = $1 where id = $2")
        .bind(ana)
        .bind(newer.parse::<i64>().unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        listed(&browser.get(&format!("{list}&view=mine")).await.body),
        [newer.as_str()]
    );
}

#[sqlx::test]
async fn a_note_stays_in_the_team(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.1", "Hi", 1).await;
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;
    let path = format!("/inbox/conversations/{conversation}/notes");
    let answer = post(
        &mut browser,
        &path,
        &[("body", "Order #1042 <left> the warehouse")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let thread = browser
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert!(
        thread
            .body
            .contains("Order #1042 &#60;left&#62; the warehouse"),
        "{}",
        thread.body
    );
    let outbound: i64 = app
        .scalar("select count(*) from messages where direction = 'outbound'")
        .await;
    assert_eq!(outbound, 0);
    let empty = post(&mut browser, &path, &[("body", "  ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test]
async fn retry_queues_a_failed_message_again_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.1", "Hi", 1).await;
    let message: i64 = sqlx::query_scalar(
        "insert into messages (tenant_id, conversation_id, phone_number_id, direction, type, body,
             content, status, error_code, error_title, error_message)
         select tenant_id, id, phone_number_id, 'outbound', 'text', 'Hello', '{\"type\":\"text\",\"text\":{\"body\":\"Hello\"}}',
             'failed', 131026, 'Message undeliverable', 'WhatsApp could not deliver it.'
         from conversations returning id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let mut browser = Client::signed_in(&app, "ana@acme.test").await;
    let thread = browser
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert!(thread.body.contains("WhatsApp could not deliver it."));
    assert!(thread.body.contains(r#"data-testid="retry""#));
    let path = format!("/inbox/conversations/{conversation}/messages/{message}/retry");
    for _ in 0..2 {
        let answer = post(&mut browser, &path, &[]).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    }
    let (status, retries): (String, i64) = sqlx::query_as(
        "select m.status, (select count(*) from audit_log where action = 'message.retry')
         from messages m where id = $1",
    )
    .bind(message)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), retries), ("queued", 1));
}
