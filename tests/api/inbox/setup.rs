//! The first run: a one-time link creates the organisation, its admin and a sandbox number.

use axum::http::StatusCode;
use sqlx::PgPool;
use switchboard::inbox::setup;

use super::*;

#[sqlx::test]
async fn the_setup_link_creates_the_first_admin_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let link = setup::issue_link(&app.pool, "http://switchboard.test")
        .await
        .unwrap()
        .expect("no user yet, so a link");
    let path = link
        .strip_prefix("http://switchboard.test")
        .unwrap()
        .to_owned();
    let mut browser = Client::new(&app);
    assert_eq!(
        browser.get("/setup/not-the-token").await.status,
        StatusCode::NOT_FOUND
    );
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = field(&page.body, "csrf");

    let short = browser
        .post_form(
            &path,
            &[
                ("csrf", &csrf),
                ("organisation", "Initech"),
                ("email", "boss@initech.test"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        short.body.contains("at least 10 characters"),
        "{}",
        short.body
    );
    assert!(short.body.contains(r#"value="Initech""#));

    let done = browser
        .post_form(
            &path,
            &[
                ("csrf", &csrf),
                ("organisation", "Initech"),
                ("name", "Bill"),
                ("email", "boss@initech.test"),
                ("password", PASSWORD),
                ("sandbox_number", "on"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/inbox");
    let inbox = browser.get("/inbox").await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(
        inbox.body.contains("Initech") && inbox.body.contains("Bill"),
        "{}",
        inbox.body
    );
    let role: String = app
        .scalar("select role from users where email = 'boss@initech.test'")
        .await;
    assert_eq!(role, "admin");
    let sandbox_numbers: i64 = app
        .scalar("select count(*) from phone_numbers n join tenants t on t.id = n.tenant_id where t.name = 'Initech' and n.sandbox")
        .await;
    assert_eq!(sandbox_numbers, 1);

    // Spent: the link, and any other, is 404 now that a user exists.
    assert_eq!(
        Client::new(&app).get(&path).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        setup::issue_link(&app.pool, "http://x").await.unwrap(),
        None
    );
}
