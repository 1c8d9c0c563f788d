//! `/admin/api-keys`: an admin creates a key, sees it once, and revokes it; the key then works on
//! the Meta-compatible endpoint, and stops at once. Agents get 403.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use sqlx::PgPool;

use super::*;

/// The status of `GET /graph/v23.0/{PHONE_NUMBER_ID}` with `key`.
async fn graph_status(app: &TestApp, key: &str) -> StatusCode {
    let request = Request::get(format!("/graph/v23.0/{PHONE_NUMBER_ID}/nothing"))
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
    app.request(request).await.0
}

#[sqlx::test]
async fn an_admin_creates_a_key_sees_it_once_and_revokes_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut ada = signed_in_admin(&app).await;
    let page = ada.get("/admin/api-keys").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"data-testid="no-keys""#));
    assert!(
        page.body.contains("http://switchboard.test/graph"),
        "{}",
        page.body
    );

    let csrf = ada.csrf().await;
    let created = ada
        .post_form(
            "/admin/api-keys",
            &[("csrf", &csrf), ("name", "Order system"), ("rate", "20")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.headers[header::CACHE_CONTROL], "no-store");
    let key = created
        .body
        .split(r#"data-testid="new-key""#)
        .next()
        .and_then(|before| before.rsplit(r#"value=""#).next())
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    assert!(key.starts_with("sbk_"), "{key}");
    // The key opens the endpoint (Meta's answer for a path it does not serve, not a 401).
    assert_eq!(graph_status(&app, &key).await, StatusCode::BAD_REQUEST);

    let listed = ada.get("/admin/api-keys").await;
    assert!(listed.body.contains(&key[..12]), "{}", listed.body);
    assert!(!listed.body.contains(&key[12..]), "never shown again");
    assert!(listed.body.contains("Order system") && listed.body.contains("20/s"));

    let id: i64 = app.scalar("select id from api_keys").await;
    let revoked = ada
        .post_form(&format!("/admin/api-keys/{id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    assert_eq!(graph_status(&app, &key).await, StatusCode::UNAUTHORIZED);
    // A second click is harmless.
    let again = ada
        .post_form(&format!("/admin/api-keys/{id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    let listed = ada.get("/admin/api-keys").await;
    assert!(listed.body.contains(r#"data-testid="revoked""#));
    let audited: i64 = app
        .scalar("select count(*) from audit_log where action in ('api_key.create', 'api_key.revoke') and user_id is not null")
        .await;
    assert_eq!(audited, 2);
}

#[sqlx::test]
async fn a_key_without_a_name_or_for_an_unknown_number_is_refused_in_words(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut ada = signed_in_admin(&app).await;
    let csrf = ada.csrf().await;
    let refused = ada
        .post_form("/admin/api-keys", &[("csrf", &csrf), ("name", "  ")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("A key&#39;s name has 1 to 80 characters."),
        "{}",
        refused.body
    );
    let refused = ada
        .post_form(
            "/admin/api-keys",
            &[("csrf", &csrf), ("name", "Bot"), ("number", "42")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("There is no number 42"),
        "{}",
        refused.body
    );
    let keys: i64 = app.scalar("select count(*) from api_keys").await;
    assert_eq!(keys, 0);
}

#[sqlx::test]
async fn agents_cannot_manage_keys(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;
    assert_eq!(
        ana.get("/admin/api-keys").await.status,
        StatusCode::FORBIDDEN
    );
    let csrf = ana.csrf().await;
    let refused = ana
        .post_form("/admin/api-keys", &[("csrf", &csrf), ("name", "Mine")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}
