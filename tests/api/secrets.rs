//! Rotating `SECRET_KEY`: `switchboard secrets rotate` re-seals every stored secret with the new key,
//! values written before keys were versioned included, all at once or not at all.

use axum::{body::Body, http::Request, http::StatusCode};
use http_body_util::BodyExt;
use sqlx::PgPool;
use switchboard::{
    crypto::{Cipher, SecretKey},
    domain::{
        apps::{self, AppSecrets},
        numbers, tenants,
    },
    http::{AppState, app},
    ingest::event_log::EventLog,
    whatsapp::signature,
};
use tower::ServiceExt;

use crate::{
    cli::{Cli, stderr, stdout},
    helpers::*,
};

/// The test app's key ([`test_config`]): everything [`TestApp`] stores is sealed with it.
const KEY_A: &str = "test secret key, thirty-two chars at least";
const KEY_B: &str = "the next secret key, thirty-two chars or more";

/// The test app's secret and access token as the code before key versioning sealed them with
/// [`KEY_A`]: what an existing database holds.
const LEGACY_APP_SECRET: &str = "e7b6004c23265bf2ac0884eb2406199a63f6793a5a167deea1b54cbdac67ca81\
                                 ff53055ac3439a1ec5db15485fb4b2c6fd5acb28c66c40";
const LEGACY_ACCESS_TOKEN: &str = "7cc36ae4ef1083c62b98e3de07c9055255a0485602ac13ad34993aa3da588513\
                                   113fd6e1d1d7ee0b39f873b2103060460526d8397a8d8622f9";

#[sqlx::test]
async fn rotation_moves_every_secret_to_the_new_key_and_a_second_run_changes_nothing(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    store_legacy_values(&pool).await;
    assert_eq!(
        app.post_signed(messages_webhook(vec![], vec![])).await,
        StatusCode::OK,
        "key A opens the legacy app secret"
    );
    let only_b = key(KEY_B).cipher();
    assert!(open_all(&pool, &only_b).await.is_err());

    let cli = Cli::new(&pool);
    let rotating = [("SECRET_KEY", KEY_B), ("SECRET_KEY_PREVIOUS", KEY_A)];
    let output = cli.run(&["secrets", "rotate"], &rotating).await;

    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("Re-encrypted 3 of 3 stored secret(s)"));
    let (access_token, app_secret, verify_token) = open_all(&pool, &only_b).await.unwrap();
    assert_eq!(access_token, "test-access-token");
    assert_eq!(app_secret, APP_SECRET);
    assert_eq!(verify_token, VERIFY_TOKEN);
    let server_b = router_with_key(&pool, KEY_B);
    let body = messages_webhook(vec![], vec![]);
    let signed = Request::post(format!("/webhooks/whatsapp/{META_APP_ID}"))
        .header("content-type", "application/json")
        .header(
            "X-Hub-Signature-256",
            signature::sign(APP_SECRET.as_bytes(), body.as_bytes()),
        )
        .body(Body::from(body))
        .unwrap();
    assert_eq!(
        server_b.clone().oneshot(signed).await.unwrap().status(),
        StatusCode::OK
    );
    let handshake = format!(
        "/webhooks/whatsapp/{META_APP_ID}?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=42"
    );
    let response = server_b
        .oneshot(Request::get(handshake).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.into_body().collect().await.unwrap().to_bytes(),
        "42"
    );

    let before = sealed_values(&pool).await;
    let again = cli.run(&["secrets", "rotate"], &rotating).await;
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout(&again).starts_with("Re-encrypted 0 of 3 stored secret(s)"));
    assert_eq!(sealed_values(&pool).await, before);
    let audited: i64 = app
        .scalar(
            "select count(*) from audit_log where action = 'secrets.rotate' and tenant_id is null",
        )
        .await;
    assert_eq!(audited, 1);
}

#[sqlx::test]
async fn rotation_refuses_a_secret_no_key_opens_names_it_and_changes_nothing(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    store_legacy_values(&pool).await;
    let lost_key = key("a key nobody configured, thirty-two chars long");
    let mut conn = pool.acquire().await.unwrap();
    let tenant = tenants::create(&mut conn, "Globex").await.unwrap();
    let secrets = AppSecrets {
        app_secret: "globex-secret".into(),
        verify_token: "globex-token".into(),
    };
    apps::ensure(
        &mut conn,
        &lost_key.cipher(),
        tenant.id,
        "999",
        Some(secrets),
    )
    .await
    .unwrap();
    let before = sealed_values(&pool).await;

    let output = Cli::new(&pool)
        .run(
            &["secrets", "rotate"],
            &[("SECRET_KEY", KEY_B), ("SECRET_KEY_PREVIOUS", KEY_A)],
        )
        .await;

    assert!(!output.status.success());
    let error = stderr(&output);
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(error.contains("app secret of Meta app 999"), "{error}");
    assert!(error.contains(&lost_key.id().to_string()), "{error}");
    assert!(error.contains("not configured"), "{error}");
    assert_eq!(sealed_values(&pool).await, before);
    let audited: i64 = app
        .scalar("select count(*) from audit_log where action = 'secrets.rotate'")
        .await;
    assert_eq!(audited, 0);
}

#[test]
fn config_debug_output_hides_the_database_password_and_the_keys() {
    let mut config = test_config();
    config.database_url = "postgres://inbox:hunter2@db.internal/switchboard".into();
    config.previous_secret_key = Some(key(KEY_B));

    let debug = format!("{config:?}");

    assert!(
        debug.contains("postgres://inbox:***@db.internal/switchboard"),
        "{debug}"
    );
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(!debug.contains("thirty-two"), "{debug}");
}

fn key(material: &str) -> SecretKey {
    SecretKey::from_material(material).unwrap()
}

/// Replaces the test app's secret and access token with their legacy ciphertexts.
async fn store_legacy_values(pool: &PgPool) {
    sqlx::query("update meta_apps set app_secret_encrypted = $1 where meta_app_id = $2")
        .bind(hex::decode(LEGACY_APP_SECRET).unwrap())
        .bind(META_APP_ID)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("update phone_numbers set access_token_encrypted = $1 where phone_number_id = $2")
        .bind(hex::decode(LEGACY_ACCESS_TOKEN).unwrap())
        .bind(PHONE_NUMBER_ID)
        .execute(pool)
        .await
        .unwrap();
}

/// The test number's access token and its app's secret and verify token, opened with `cipher`.
async fn open_all(pool: &PgPool, cipher: &Cipher) -> anyhow::Result<(String, String, String)> {
    use secrecy::ExposeSecret;
    let mut conn = pool.acquire().await?;
    let route = numbers::route_by_phone_number_id(&mut conn, PHONE_NUMBER_ID)
        .await?
        .unwrap();
    let number = numbers::credentials(&mut conn, cipher, route.tenant_id, route.number_id).await?;
    let app = apps::find_credentials(&mut conn, cipher, META_APP_ID)
        .await?
        .unwrap();
    Ok((
        number.access_token.expose_secret().to_owned(),
        app.app_secret.expose_secret().to_owned(),
        app.verify_token.expose_secret().to_owned(),
    ))
}

/// Every sealed value in the database, in a fixed order.
async fn sealed_values(pool: &PgPool) -> Vec<Vec<u8>> {
    sqlx::query_scalar(
        "select v from (
             select id, 1 as col, app_secret_encrypted as v from meta_apps
             union all select id, 2, verify_token_encrypted from meta_apps
             union all select id, 3, access_token_encrypted from phone_numbers
         ) sealed order by col, id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The router of a server configured with `material` as `SECRET_KEY` and no previous key.
fn router_with_key(pool: &PgPool, material: &str) -> axum::Router {
    let mut config = test_config();
    config.secret_key = key(material);
    let (events, _writer) = EventLog::start(pool.clone(), Default::default());
    app(AppState::new(pool.clone(), config, events).unwrap())
}
