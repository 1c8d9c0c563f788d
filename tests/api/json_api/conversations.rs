//! Listing and reading conversations, and working them: assign, status, labels, notes, each a
//! timeline event naming the key.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use super::*;
use crate::inbox::Client;

#[sqlx::test]
async fn conversations_are_listed_by_view_and_paged_with_a_cursor(pool: PgPool) {
    let program = Program::new(pool).await;
    let app = &program.app;
    let closing =
        customer_writes_as(app, "15550000001", "wamid.c1", "Where is my order?", 22).await;
    let recent = customer_writes_as(app, "15550000002", "wamid.c2", "Hello", 1).await;

    let (status, all) = program.get("/conversations").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let ids: Vec<i64> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [recent.get(), closing.get()], "by last activity");
    let row = &all["data"][1];
    assert_eq!(row["contact"]["wa_id"], "15550000001");
    assert_eq!(row["last_message"], "Where is my order?");
    assert_eq!(row["phone_number_id"], PHONE_NUMBER_ID);
    assert_eq!(row["status"], "open");
    assert_eq!(row["window"]["state"], "open");
    assert!(all["next"].is_null(), "one page");

    let (_, soon) = program.get("/conversations?view=closing").await;
    let ids: Vec<&Value> = soon["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&json!(closing.get())]);
    let (_, resolved) = program.get("/conversations?status=resolved").await;
    assert_eq!(resolved["data"], json!([]));

    // A page holds 50: the 51st is on the next, reached with its cursor.
    for i in 0..50 {
        customer_writes_as(
            app,
            &format!("1555100{i:04}"),
            &format!("wamid.p{i}"),
            "hi",
            2,
        )
        .await;
    }
    let (_, first) = program.get("/conversations?view=unassigned").await;
    assert_eq!(first["data"].as_array().unwrap().len(), 50);
    let next = first["next"].as_str().unwrap();
    let (status, second) = program
        .get(&format!("/conversations?view=unassigned&after={next}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["data"].as_array().unwrap().len(), 2);
    assert!(second["next"].is_null());

    for bad in [
        "view=mine",
        "status=closed",
        "after=yesterday",
        "phone_number_id=999",
    ] {
        let (status, body) = program.get(&format!("/conversations?{bad}")).await;
        let expected = if bad.starts_with("phone") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(status, expected, "{bad}: {body}");
        assert!(body["error"]["code"].is_string(), "{body}");
    }
}

#[sqlx::test]
async fn a_conversation_shows_its_customer_labels_and_window(pool: PgPool) {
    let program = Program::new(pool).await;
    let id = customer_writes(&program.app, "wamid.w1", "Hi", 3).await;
    let (status, conversation) = program.get(&format!("/conversations/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{conversation}");
    assert_eq!(conversation["contact"]["wa_id"], CUSTOMER);
    assert_eq!(conversation["window"]["state"], "open");
    let closes_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(conversation["window"]["closes_at"].clone()).unwrap();
    let left = closes_at - chrono::Utc::now();
    assert!(
        left > chrono::TimeDelta::hours(20) && left < chrono::TimeDelta::hours(21),
        "{left}"
    );
    assert!(conversation["assignee"].is_null());
    assert_eq!(conversation["labels"], json!([]));

    let (status, missing) = program.get("/conversations/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"]["code"], "not_found");
}

#[sqlx::test]
async fn a_program_assigns_moves_labels_and_notes_as_an_agent_does(pool: PgPool) {
    let program = Program::new(pool).await;
    let app = &program.app;
    let id = customer_writes(app, "wamid.t1", "Refund please", 1).await;
    let ana = user(app, app.tenant_id, "ana@example.com", "Ana").await;
    let path = |rest: &str| format!("/conversations/{id}{rest}");

    let (status, body) = program
        .post(&path("/assignee"), json!({ "assignee_id": ana.get() }))
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "changed": true })));
    let (_, again) = program
        .post(&path("/assignee"), json!({ "assignee_id": ana.get() }))
        .await;
    assert_eq!(again, json!({ "changed": false }), "already so");
    let (status, _) = program
        .post(&path("/assignee"), json!({ "assignee_id": 999_999 }))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no such agent");

    let (status, _) = program
        .post(&path("/status"), json!({ "status": "pending" }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, refused) = program
        .post(&path("/status"), json!({ "status": "done" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");

    let (status, _) = program
        .post(&path("/labels"), json!({ "name": "Refund" }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = program
        .post(
            &path("/notes"),
            json!({ "body": "Checked with the warehouse" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = program.post(&path("/notes"), json!({ "body": "  " })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (_, conversation) = program.get(&path("")).await;
    assert_eq!(conversation["status"], "pending");
    assert_eq!(
        conversation["assignee"],
        json!({ "id": ana.get(), "name": "Ana" })
    );
    let label = conversation["labels"][0]["id"].as_i64().unwrap();
    assert_eq!(conversation["labels"][0]["name"], "Refund");
    let (status, removed) =
        answer(program.request(Method::DELETE, &path(&format!("/labels/{label}")))).await;
    assert_eq!(
        (status, removed),
        (StatusCode::OK, json!({ "changed": true }))
    );

    // Each change is a timeline event by the key, as the inbox shows it.
    let events: Vec<(String, Option<i64>, Option<i64>)> = sqlx::query_as(
        "select kind, user_id, api_key_id from conversation_events
         where conversation_id = $1 order by id",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let kinds: Vec<&str> = events.iter().map(|(kind, ..)| kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["assigned", "status", "label_added", "note", "label_removed"]
    );
    assert!(
        events
            .iter()
            .all(|(_, user, key)| user.is_none() && key.is_some())
    );
    let audited: Value = app
        .scalar("select details from audit_log where action = 'conversation.assign'")
        .await;
    assert!(audited["api_key_id"].is_string(), "{audited}");
    let mut agent = Client::signed_in(app, "ana@example.com").await;
    let page = agent.get(&format!("/inbox/conversations/{id}")).await;
    assert!(
        page.body.contains("Order system (API)"),
        "the inbox names the key"
    );
}
