//! Who may call: a live key of the tenant, within its rate, seeing only its numbers'
//! conversations, customers, templates and numbers; nothing of another tenant's.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use super::*;

/// The second number of the tenant, in the same WABA.
const SECOND_NUMBER: &str = "2233445566778";

/// The customer writes to [`SECOND_NUMBER`] an hour ago; returns their conversation there.
async fn customer_writes_to_second_number(app: &TestApp) -> ConversationId {
    let ts = chrono::Utc::now().timestamp() - 3600;
    let mut body: Value =
        serde_json::from_str(&messages_webhook(vec![text("wamid.n2", ts, "Hi")], vec![])).unwrap();
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = json!(SECOND_NUMBER);
    app.deliver(body.to_string()).await;
    sqlx::query_scalar(
        "select c.id from conversations c join phone_numbers n on n.id = c.phone_number_id
         where n.phone_number_id = $1",
    )
    .bind(SECOND_NUMBER)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn a_request_without_a_live_key_is_refused(pool: PgPool) {
    let program = Program::new(pool).await;
    let url = format!("{}/api/v1/conversations", program.app.url);
    let (status, body) = answer(reqwest::Client::new().get(&url)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _) = answer(reqwest::Client::new().get(&url).bearer_auth("sbk_nope")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A key's requests a second are counted across the servers; more wait for the next second.
    // Five quick requests span at most two seconds, of which two each are let through.
    let slow = key(&program.app, "Slow", &[], 2).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = reqwest::Client::new()
            .get(&url)
            .bearer_auth(&slow)
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(response.headers()["retry-after"], "1");
        }
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

#[sqlx::test]
async fn a_key_limited_to_a_number_sees_and_touches_only_its_conversations(pool: PgPool) {
    let program = Program::new(pool).await;
    let app = &program.app;
    app.add_number(app.tenant_id, app.app_id, SECOND_NUMBER, WABA_ID, None)
        .await;
    let first = customer_writes(app, "wamid.n1", "Hello", 1).await;
    let second = customer_writes_to_second_number(app).await;
    let limited = Program {
        key: key(app, "Second desk", &[SECOND_NUMBER], 100).await,
        ..program
    };

    let (_, listed) = limited.get("/conversations").await;
    let ids: Vec<&Value> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&json!(second.get())]);
    let (status, _) = limited.get(&format!("/conversations/{first}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = limited
        .post(
            &format!("/conversations/{first}/notes"),
            json!({ "body": "x" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = limited
        .post(
            &format!("/conversations/{first}/messages"),
            json!({ "type": "text", "text": "x" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = limited
        .get(&format!("/conversations?phone_number_id={PHONE_NUMBER_ID}"))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a number the key may not use"
    );

    let (_, numbers) = limited.get("/numbers").await;
    assert_eq!(numbers["data"].as_array().unwrap().len(), 1);
    assert_eq!(numbers["data"][0]["phone_number_id"], SECOND_NUMBER);
    assert_eq!(numbers["data"][0]["open_windows"], 1);
    assert_eq!(numbers["data"][0]["removed"], false);
}

#[sqlx::test]
async fn nothing_of_another_tenant_is_seen_or_touched(pool: PgPool) {
    let program = Program::new(pool).await;
    let app = &program.app;
    let ours = customer_writes(app, "wamid.i1", "Hello", 1).await;
    let (other_tenant, other_app) = app.add_tenant("Globex", "99887766", "globex-secret").await;
    app.add_number(other_tenant, other_app, "9988776655443", "900", None)
        .await;
    let mut conn = app.pool.acquire().await.unwrap();
    let theirs = switchboard::domain::api_keys::create(
        &mut conn,
        other_tenant,
        None,
        "Globex bot",
        &[],
        100,
    )
    .await
    .unwrap()
    .unwrap()
    .secret;
    drop(conn);
    let stranger = Program {
        key: theirs,
        ..program
    };
    let (_, listed) = stranger.get("/conversations").await;
    assert_eq!(listed["data"], json!([]));
    for path in [
        format!("/conversations/{ours}"),
        format!("/conversations/{ours}/messages"),
    ] {
        let (status, _) = stranger.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = stranger
        .post(
            &format!("/conversations/{ours}/status"),
            json!({ "status": "resolved" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let contact: i64 = stranger
        .app
        .scalar("select id from contacts order by id limit 1")
        .await;
    let (status, _) = stranger.get(&format!("/contacts/{contact}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, numbers) = stranger.get("/numbers").await;
    assert_eq!(numbers["data"][0]["phone_number_id"], "9988776655443");
    let status: String = stranger
        .app
        .scalar("select status from conversations order by id limit 1")
        .await;
    assert_eq!(status, "open", "untouched");
}

#[sqlx::test]
async fn templates_are_listed_with_the_values_a_send_needs(pool: PgPool) {
    let program = Program::new(pool).await;
    approved_template(&program.app).await;
    let (status, listed) = program
        .get(&format!("/templates?phone_number_id={PHONE_NUMBER_ID}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let template = &listed["data"][0];
    assert_eq!(template["name"], "order_update");
    assert_eq!(template["category"], "UTILITY");
    assert_eq!(
        template["variables"][0],
        json!({ "component": "body", "name": "1", "kind": "text", "example": "Dana" })
    );
    let (_, all) = program.get("/templates").await;
    assert_eq!(all["data"], listed["data"]);
    let (status, _) = answer(program.request(Method::GET, "/templates?phone_number_id=1")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
