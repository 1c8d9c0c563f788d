//! Meta's error answers: a wrong or missing token, unknown objects and paths, requests missing what
//! Meta requires, and faults queued to answer the next send.

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use switchboard::sandbox::queue_fault;

use super::Meta;
use crate::helpers::*;

#[sqlx::test]
async fn a_wrong_or_missing_token_is_refused_like_meta(pool: PgPool) {
    let meta = Meta::new(pool).await;
    let path = format!("/v23.0/{PHONE_NUMBER_ID}/messages");
    let body = json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "text": { "body": "Hi" } });

    let (status, error) = meta
        .call(
            meta.http
                .post(format!("{}{path}", meta.url))
                .bearer_auth("EAAG-wrong")
                .json(&body),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error["error"]["code"], 190);
    assert_eq!(error["error"]["type"], "OAuthException");
    assert_eq!(
        error["error"]["message"],
        "Invalid OAuth access token - Cannot parse access token"
    );
    assert!(
        error["error"]["fbtrace_id"]
            .as_str()
            .unwrap()
            .starts_with('A')
    );

    let url = format!("{}{path}", meta.url);
    let (status, error) = meta.call(meta.http.post(url).json(&body)).await;
    assert_eq!(
        (status, error["error"]["code"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(104))
    );

    let call = &meta.fake.calls()[0];
    assert_eq!(
        (call.method.as_str(), call.path.as_str(), call.status),
        ("POST", path.as_str(), 401)
    );
    assert_eq!(
        (call.phone_number_id.as_deref(), call.error_code),
        (Some(PHONE_NUMBER_ID), Some(190))
    );
}

#[sqlx::test]
async fn unknown_numbers_and_paths_are_unsupported_requests(pool: PgPool) {
    let meta = Meta::new(pool).await;
    let body = json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "text": { "body": "Hi" } });
    let (status, error) = meta
        .call(meta.post("/v23.0/999000999/messages").json(&body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["code"], 100);
    assert_eq!(error["error"]["error_subcode"], 33);
    assert_eq!(error["error"]["type"], "GraphMethodException");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Unsupported post request. Object with ID '999000999' does not exist"),
        "{message}"
    );

    for path in [
        format!("/v23.0/{PHONE_NUMBER_ID}/nonsense"),
        format!("/latest/{PHONE_NUMBER_ID}"),
    ] {
        let (status, error) = meta.call(meta.get(&path)).await;
        assert_eq!(
            (status, &error["error"]["error_subcode"]),
            (StatusCode::BAD_REQUEST, &json!(33)),
            "{path}"
        );
    }
    let (status, error) = meta
        .call(meta.get(&format!("/v23.0/{PHONE_NUMBER_ID}/messages")))
        .await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (StatusCode::BAD_REQUEST, &json!(100))
    );
}

#[sqlx::test]
async fn requests_are_checked_like_meta_checks_them(pool: PgPool) {
    let meta = Meta::new(pool).await;
    let (status, error) = meta
        .send(json!({ "to": CUSTOMER, "text": { "body": "Hi" } }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error["error"]["message"],
        "(#100) The parameter messaging_product is required."
    );

    let (_, error) = meta
        .send(json!({ "messaging_product": "sms", "to": CUSTOMER, "text": { "body": "Hi" } }))
        .await;
    assert_eq!(error["error"]["code"], 100);
    let details = error["error"]["error_data"]["details"].as_str().unwrap();
    assert!(details.contains("messaging_product"), "{details}");

    let read =
        json!({ "messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN" });
    assert_eq!(
        meta.send(read).await,
        (StatusCode::OK, json!({ "success": true }))
    );
}

#[sqlx::test]
async fn a_queued_fault_answers_the_next_send_once_with_that_error(pool: PgPool) {
    let meta = Meta::new(pool).await;
    meta.customer_wrote(1).await;
    let number_id: NumberId = meta.app.scalar("select id from phone_numbers").await;
    let mut conn = meta.app.pool.acquire().await.unwrap();
    queue_fault(&mut conn, number_id, 130429).await.unwrap();
    queue_fault(&mut conn, number_id, 131000).await.unwrap();

    let (status, error) = meta.send_text(CUSTOMER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["message"], "(#130429) Rate limit hit");
    assert_eq!(
        (
            &error["error"]["error_subcode"],
            &error["error"]["is_transient"]
        ),
        (&json!(2494055), &json!(true))
    );
    assert_eq!(
        error["error"]["error_data"]["messaging_product"],
        "whatsapp"
    );
    let (status, error) = meta.send_text(CUSTOMER).await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (StatusCode::INTERNAL_SERVER_ERROR, &json!(131000))
    );
    assert_eq!(
        meta.send_text(CUSTOMER).await.0,
        StatusCode::OK,
        "each fault answers once"
    );

    let codes: Vec<Option<i64>> = meta
        .fake
        .calls()
        .iter()
        .map(|call| call.error_code)
        .collect();
    assert_eq!(codes, [Some(130429), Some(131000), None]);
    assert_eq!(
        meta.app
            .scalar::<i64>("select count(*) from sandbox_faults")
            .await,
        0
    );
}
