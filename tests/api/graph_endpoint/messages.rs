//! Sending through the Meta-compatible endpoint: Meta's answers (wamid, contacts, errors), the
//! window and template checks at once, `Prefer: respond-async`, `Idempotency-Key`, read receipts,
//! and every send request of Meta's own examples.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use super::*;

fn text_to(to: &str, body: &str) -> Value {
    json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "text", "text": { "preview_url": false, "body": body } })
}

fn messages_path() -> String {
    format!("/{PHONE_NUMBER_ID}/messages")
}

#[sqlx::test]
async fn a_text_in_the_window_answers_with_metas_wamid_and_shows_in_the_inbox(pool: PgPool) {
    let program = Integrator::new(pool).await;
    let conversation = customer_writes(&program.app, "wamid.in", "Where is my order?", 1).await;
    let (status, body) = program
        .post(
            &messages_path(),
            text_to("+1 555 000 1111", "It ships today."),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["messaging_product"], "whatsapp");
    assert_eq!(
        body["contacts"],
        json!([{ "input": "+1 555 000 1111", "wa_id": CUSTOMER }])
    );
    let wamid = body["messages"][0]["id"].as_str().unwrap().to_owned();
    assert!(wamid.starts_with("wamid."), "{wamid}");
    assert!(body["messages"][0].get("message_status").is_none());

    let (stored, kind, key_name): (Option<String>, String, String) = sqlx::query_as(
        "select m.wamid, m.sent_by_kind, k.name from messages m
         join api_keys k on k.id = m.api_key_id where m.direction = 'outbound'",
    )
    .fetch_one(&program.app.pool)
    .await
    .unwrap();
    assert_eq!(
        (stored.as_deref(), kind.as_str(), key_name.as_str()),
        (Some(wamid.as_str()), "api_key", "Shop backend")
    );
    user(&program.app, program.app.tenant_id, "ana@acme.test", "Ana").await;
    let mut ana = crate::inbox::Client::signed_in(&program.app, "ana@acme.test").await;
    let page = ana
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert!(page.body.contains("It ships today."), "{}", page.body);
    assert!(page.body.contains("Shop backend (API)"), "{}", page.body);
}

#[sqlx::test]
async fn a_free_form_message_outside_the_window_is_refused_at_once_with_131047(pool: PgPool) {
    let program = Integrator::new(pool).await;
    customer_writes(&program.app, "wamid.in", "Hello", 30).await;
    for to in [CUSTOMER, "15550002222"] {
        let (status, body) = program
            .post(&messages_path(), text_to(to, "Still there?"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error(&body)["code"], 131047);
        assert_eq!(error(&body)["message"], "(#131047) Re-engagement message");
        let details = error(&body)["error_data"]["details"].as_str().unwrap();
        assert!(
            details.contains("24 hours") || details.contains("not written"),
            "{details}"
        );
    }
    let sent: i64 = program
        .app
        .scalar("select count(*) from messages where direction = 'outbound'")
        .await;
    assert_eq!(sent, 0, "nothing was queued, nothing cost anything");
}

#[sqlx::test]
async fn a_template_goes_out_whatever_the_case_of_its_component_types(pool: PgPool) {
    let program = Integrator::new(pool).await;
    approved_template(&program.app).await;
    let template = |name: &str| {
        json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "type": "template",
                "template": { "name": name, "language": { "policy": "deterministic", "code": "en_US" },
                  "components": [
                    { "type": "BODY", "parameters": [{ "type": "TEXT", "text": "Dana" }, { "type": "text", "text": "#1042" }] },
                    { "type": "button", "sub_type": "URL", "index": "0", "parameters": [{ "type": "text", "text": "1042" }] }
                  ] } })
    };
    let (status, body) = program
        .post(&messages_path(), template("order_update"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["messages"][0]["message_status"], "accepted");

    let (status, body) = program
        .post(&messages_path(), template("no_such_template"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error(&body)["code"], 132001);

    let mut wrong = template("order_update");
    wrong["template"]["components"][0]["parameters"] = json!([{ "type": "text", "text": "Dana" }]);
    let (status, body) = program.post(&messages_path(), wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error(&body)["code"], 132000);
}

#[sqlx::test]
async fn a_marketing_template_to_a_customer_who_opted_out_is_refused_with_131050(pool: PgPool) {
    let program = Integrator::new(pool).await;
    customer_writes(&program.app, "wamid.in", "STOP", 1).await;
    approved_template(&program.app).await;
    sqlx::query("update message_templates set category = 'MARKETING'")
        .execute(&program.app.pool)
        .await
        .unwrap();
    sqlx::query("update contacts set opted_out_at = now()")
        .execute(&program.app.pool)
        .await
        .unwrap();
    let body = json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "type": "template",
        "template": { "name": "order_update", "language": { "code": "en_US" }, "components": [
            { "type": "body", "parameters": [{ "type": "text", "text": "Dana" }, { "type": "text", "text": "#1" }] },
            { "type": "button", "sub_type": "url", "index": "0", "parameters": [{ "type": "text", "text": "1" }] } ] } });
    let (status, body) = program.post(&messages_path(), body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error(&body)["code"], 131050);
}

#[sqlx::test]
async fn respond_async_answers_at_once_and_an_idempotency_key_sends_once(pool: PgPool) {
    let program = Integrator::new(pool).await;
    customer_writes(&program.app, "wamid.in", "Hi", 1).await;
    let send = |prefer: bool| {
        let mut request = program
            .request(Method::POST, &messages_path())
            .header("Idempotency-Key", "order-1042-shipped")
            .json(&text_to(CUSTOMER, "Shipped!"));
        if prefer {
            request = request.header("Prefer", "respond-async");
        }
        answer(request)
    };
    let (status, body) = send(true).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let ours = body["messages"][0]["id"].as_str().unwrap().to_owned();
    assert!(ours.starts_with("switchboard."), "{ours}");
    // The retry waits for Meta's answer to the same message.
    let (status, body) = send(false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["messages"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("wamid.")
    );
    let (status, again) = send(false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["messages"][0]["id"], body["messages"][0]["id"]);
    let sent: i64 = program
        .app
        .scalar("select count(*) from messages where direction = 'outbound'")
        .await;
    assert_eq!(sent, 1);
    let calls: i64 = program
        .app
        .scalar("select count(*) from messages where call_started_at is not null")
        .await;
    assert_eq!(calls, 1, "one call to Meta");
}

#[sqlx::test]
async fn a_read_receipt_with_the_typing_indicator_is_passed_on(pool: PgPool) {
    let program = Integrator::new(pool).await;
    customer_writes(&program.app, "wamid.in", "Hi", 1).await;
    let (status, body) = program
        .post(
            &messages_path(),
            json!({ "messaging_product": "whatsapp", "status": "read", "message_id": "wamid.in",
                    "typing_indicator": { "type": "text" } }),
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "success": true })));
}

#[sqlx::test]
async fn what_meta_does_not_serve_here_gets_metas_unsupported_answer(pool: PgPool) {
    let program = Integrator::new(pool).await;
    for (method, path) in [
        (Method::GET, format!("/{PHONE_NUMBER_ID}/nothing")),
        (Method::PUT, messages_path()),
        (Method::POST, format!("/{PHONE_NUMBER_ID}/register")),
    ] {
        let (status, body) = answer(program.request(method.clone(), &path)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {body}");
        assert_eq!(
            (&error(&body)["code"], &error(&body)["error_subcode"]),
            (&json!(100), &json!(33))
        );
    }
    let (status, body) = answer(
        reqwest::Client::new()
            .get(format!(
                "{}/graph/latest/{PHONE_NUMBER_ID}",
                program.app.url
            ))
            .bearer_auth(&program.key),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = program
        .post(&messages_path(), json!({ "to": CUSTOMER }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        error(&body)["message"],
        "(#100) The parameter messaging_product is required."
    );
}

/// Every send request in Meta's own examples (and the SDKs' fixtures) is taken: free-form ones
/// inside the window go out; templates the number does not have are refused with 132001 (or 100
/// for a placeholder language), a media link that is a placeholder with 100, and a
/// business-scoped user who never wrote with 131047.
#[sqlx::test]
async fn every_send_request_of_the_corpus_is_answered_as_meta_would(pool: PgPool) {
    let program = Integrator::new(pool).await;
    customer_writes(&program.app, "wamid.in", "Hi", 1).await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/graph");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.contains("send_request") {
            continue;
        }
        let mut request: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        if request.get("messaging_product").is_none() {
            continue; // not a message (a PIN registration)
        }
        if request.get("to").is_some() {
            request["to"] = json!(CUSTOMER);
        }
        seen += 1;
        let (status, body) = program.post(&messages_path(), request.clone()).await;
        let code = error(&body)["code"].as_i64();
        let answered = if request.get("status").is_some() {
            status == StatusCode::OK
        } else if request["type"] == "template" {
            // Not one of the number's templates, or (a placeholder's) not a language at all.
            (status, code) == (StatusCode::NOT_FOUND, Some(132001))
                || (status, code) == (StatusCode::BAD_REQUEST, Some(100))
        } else if request.get("to").is_none() {
            (status, code) == (StatusCode::BAD_REQUEST, Some(131047))
        } else if request.to_string().contains("http(s)") {
            // A placeholder where the media's URL goes.
            (status, code) == (StatusCode::BAD_REQUEST, Some(100))
        } else {
            status == StatusCode::OK && body["messages"][0]["id"].is_string()
        };
        assert!(answered, "{name}: {status} {body}");
    }
    assert!(seen >= 60, "{seen} requests");
}
