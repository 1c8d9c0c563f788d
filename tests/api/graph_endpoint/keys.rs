//! API keys at the door: no key, a wrong or revoked one, another tenant's number, a number the key
//! may not use, too many requests — each answered as Meta answers it.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;
use switchboard::domain::{api_keys, ids::ApiKeyId};

use super::*;

fn hello() -> serde_json::Value {
    json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "text": { "body": "Hi" } })
}

#[sqlx::test]
async fn a_request_without_a_live_key_is_refused_as_meta_refuses_a_token(pool: PgPool) {
    let program = Integrator::new(pool).await;
    let path = format!("/{PHONE_NUMBER_ID}/messages");
    let (status, body) = answer(
        reqwest::Client::new()
            .post(program.url(&path))
            .json(&hello()),
    )
    .await;
    assert_eq!(
        (status, &error(&body)["code"]),
        (StatusCode::UNAUTHORIZED, &json!(104))
    );

    for wrong in [
        "sbk_not-a-key",
        "EAAJB-a-meta-token",
        &program.key[..program.key.len() - 1],
    ] {
        let (status, body) = answer(
            reqwest::Client::new()
                .post(program.url(&path))
                .bearer_auth(wrong)
                .json(&hello()),
        )
        .await;
        assert_eq!(
            (status, &error(&body)["code"]),
            (StatusCode::UNAUTHORIZED, &json!(190)),
            "{wrong}"
        );
    }

    // A revoked key stops working at once, and the revocation is audited.
    let id: i64 = program.app.scalar("select id from api_keys").await;
    let mut conn = program.app.pool.acquire().await.unwrap();
    assert!(
        api_keys::revoke(&mut conn, program.app.tenant_id, None, ApiKeyId::new(id))
            .await
            .unwrap()
    );
    assert!(
        !api_keys::revoke(&mut conn, program.app.tenant_id, None, ApiKeyId::new(id))
            .await
            .unwrap()
    );
    let (status, body) = program.get(&format!("/{PHONE_NUMBER_ID}")).await;
    assert_eq!(
        (status, &error(&body)["code"]),
        (StatusCode::UNAUTHORIZED, &json!(190))
    );
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_log where action like 'api_key.%' order by id",
    )
    .fetch_all(&program.app.pool)
    .await
    .unwrap();
    assert_eq!(actions, ["api_key.create", "api_key.revoke"]);
    // Only a hash of the key is stored.
    let stored: i64 = program
        .app
        .scalar(&format!(
            "select count(*) from api_keys where prefix = '{}'",
            &program.key[..12]
        ))
        .await;
    assert_eq!(stored, 1);
    let leaked: i64 = program
        .app
        .scalar(&format!(
            "select count(*) from api_keys k where k::text like '%{}%'",
            &program.key[12..]
        ))
        .await;
    assert_eq!(leaked, 0);
}

#[sqlx::test]
async fn a_key_reaches_only_its_tenants_numbers_and_the_ones_it_is_limited_to(pool: PgPool) {
    let program = Integrator::new(pool).await;
    let app = &program.app;
    app.add_number(app.tenant_id, app.app_id, "2233445566778", WABA_ID, None)
        .await;
    let (other_tenant, other_app) = app.add_tenant("Globex", "99887766", "globex-secret").await;
    app.add_number(other_tenant, other_app, "9988776655443", "900", None)
        .await;
    let limited = key(app, "Second number only", &["2233445566778"], 100).await;

    for (key, number) in [
        (&program.key, "9988776655443"),
        (&limited, PHONE_NUMBER_ID),
        (&limited, "9988776655443"),
    ] {
        let (status, body) = answer(
            reqwest::Client::new()
                .post(program.url(&format!("/{number}/messages")))
                .bearer_auth(key)
                .json(&hello()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error(&body)["code"], 100);
        assert_eq!(error(&body)["error_subcode"], 33);
        assert!(error(&body)["message"].as_str().unwrap().contains(number));
    }
    let messages: i64 = app.scalar("select count(*) from messages").await;
    assert_eq!(messages, 0);

    let mut conn = app.pool.acquire().await.unwrap();
    let refused = api_keys::create(
        &mut conn,
        app.tenant_id,
        None,
        "Foreign",
        &["9988776655443".into()],
        10,
    )
    .await
    .unwrap();
    assert_eq!(
        refused.err(),
        Some(api_keys::KeyRefused::UnknownNumber("9988776655443".into()))
    );
}

#[sqlx::test]
async fn a_key_over_its_rate_gets_metas_throttling_error_with_retry_after(pool: PgPool) {
    let program = Integrator::new(pool).await;
    let slow = key(&program.app, "Slow", &[], 2).await;
    let mut limited = None;
    for _ in 0..10 {
        let response = reqwest::Client::new()
            .get(program.url(&format!("/{PHONE_NUMBER_ID}/nothing")))
            .bearer_auth(&slow)
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
    }
    let response = limited.expect("ten requests in a row at two a second are throttled");
    assert_eq!(response.headers()["retry-after"], "1");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error(&body)["code"], 130429);
    assert_eq!(error(&body)["is_transient"], true);
    // Another key is not slowed down by it.
    let (status, _) = program
        .request(Method::GET, &format!("/{PHONE_NUMBER_ID}/nothing"))
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
