//! Signing in and out: sessions, throttling, CSRF, redirects, and no hint of which addresses exist.

use axum::http::StatusCode;
use sqlx::PgPool;

use super::*;

#[sqlx::test]
async fn an_agent_signs_in_sees_the_inbox_and_signs_out(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana Lima").await;
    let mut browser = Client::new(&app);

    let before = browser.get("/inbox").await;
    assert_eq!(before.status, StatusCode::SEE_OTHER);
    assert_eq!(before.location(), "/login?next=%2Finbox");

    let signed_in = browser.sign_in("ANA@acme.test", PASSWORD).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert_eq!(signed_in.location(), "/inbox");
    let cookie = signed_in.headers[axum::http::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("sb_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let sessions: i64 = app.scalar("select count(*) from sessions").await;
    assert_eq!(sessions, 1);

    let inbox = browser.get("/inbox").await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(inbox.body.contains("Ana Lima"), "{}", inbox.body);
    assert!(inbox.body.contains("Acme"), "{}", inbox.body);

    let csrf = field(&inbox.body, "csrf");
    let out = browser.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/login");
    let sessions: i64 = app.scalar("select count(*) from sessions").await;
    assert_eq!(sessions, 0);
    assert_eq!(browser.get("/inbox").await.status, StatusCode::SEE_OTHER);
}

#[sqlx::test]
async fn a_wrong_password_and_an_unknown_address_get_the_same_answer(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let wrong = Client::new(&app)
        .sign_in("ana@acme.test", "not the password")
        .await;
    let unknown = Client::new(&app)
        .sign_in("nobody@acme.test", PASSWORD)
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let message = |body: &str| {
        let start = body.find(r#"data-testid="login-error">"#).unwrap();
        body[start..].split('<').next().unwrap().to_owned()
    };
    assert_eq!(message(&wrong.body), message(&unknown.body));
    assert!(
        !wrong.headers.contains_key("set-cookie")
            || !wrong.headers["set-cookie"]
                .to_str()
                .unwrap()
                .starts_with("sb_session")
    );
}

#[sqlx::test]
async fn repeated_failures_lock_the_account_for_a_while_even_with_the_right_password(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    for _ in 0..5 {
        let answer = Client::new(&app).sign_in("ana@acme.test", "guess").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let locked = Client::new(&app).sign_in("ana@acme.test", PASSWORD).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    let retry_after: i64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((800..=900).contains(&retry_after), "{retry_after}");
    assert!(locked.body.contains("Try again at"), "{}", locked.body);
    // Another account is not affected.
    user(&app, app.tenant_id, "ben@acme.test", "Ben").await;
    Client::signed_in(&app, "ben@acme.test").await;
}

#[sqlx::test]
async fn forms_without_their_csrf_token_are_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    // Sign-in without the form's cookie token.
    let mut stranger = Client::new(&app);
    let forged = stranger
        .post_form(
            "/login",
            &[
                ("email", "ana@acme.test"),
                ("password", PASSWORD),
                ("csrf", "x"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let mut browser = Client::signed_in(&app, "ana@acme.test").await;
    let conversation = customer_writes(&app, "wamid.csrf", "Hi", 1).await;
    let path = format!("/inbox/conversations/{conversation}/messages");
    let without = browser
        .post_form(&path, &[("text", "Hello"), ("idempotency_key", "k1")])
        .await;
    assert_eq!(without.status, StatusCode::FORBIDDEN);
    let wrong = browser
        .post_form(
            &path,
            &[
                ("text", "Hello"),
                ("idempotency_key", "k1"),
                ("csrf", "wrong"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let sent: i64 = app
        .scalar("select count(*) from messages where direction = 'outbound'")
        .await;
    assert_eq!(sent, 0);
}

#[sqlx::test]
async fn after_sign_in_only_paths_on_this_site_are_followed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    for (next, expected) in [
        ("/inbox?view=mine", "/inbox?view=mine"),
        ("//evil.example/x", "/inbox"),
        ("https://evil.example", "/inbox"),
    ] {
        let mut browser = Client::new(&app);
        let page = browser
            .get(&format!("/login?next={}", urlencode(next)))
            .await;
        let csrf = field(&page.body, "csrf");
        let carried = field(&page.body, "next");
        let answer = browser
            .post_form(
                "/login",
                &[
                    ("email", "ana@acme.test"),
                    ("password", PASSWORD),
                    ("csrf", &csrf),
                    ("next", &carried),
                ],
            )
            .await;
        assert_eq!(answer.location(), expected, "{next}");
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
