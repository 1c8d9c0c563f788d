//! Signing in and out in a real browser, and the harness's own checks.

use sqlx::PgPool;

use crate::{
    driver::Browser,
    helpers::{inbox::*, *},
};

#[sqlx::test]
async fn an_agent_signs_in_lands_where_they_were_going_and_signs_out(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana Lima").await;
    let conversation = customer_writes(&app, "wamid.hi", "Where is my order?", 1).await;
    let Some(browser) = Browser::launch(&app).await else {
        return;
    };
    browser
        .run(async |browser| {
            // Signed out, a conversation's link leads to the sign-in form, and back after it.
            let link = format!("/inbox/conversations/{conversation}");
            browser.open(&link).await;
            browser.wait_for_path("/login").await;

            browser.fill("#email", "ana@acme.test").await;
            browser.fill("#password", "not the password").await;
            browser
                .click("form[action='/login'] button[type=submit]")
                .await;
            browser.find("[data-testid=login-error]").await;
            assert_eq!(browser.path().await, "/login");

            browser.fill("#password", PASSWORD).await;
            browser
                .click("form[action='/login'] button[type=submit]")
                .await;
            browser.wait_for_path(&link).await;
            browser
                .wait_for_text("[data-testid=thread]", "Where is my order?")
                .await;
            assert!(browser.text(".me").await.contains("Ana Lima"));
            let sessions: i64 = app.scalar("select count(*) from sessions").await;
            assert_eq!(sessions, 1);

            browser.click("[data-testid=logout]").await;
            browser.wait_for_path("/login").await;
            let sessions: i64 = app.scalar("select count(*) from sessions").await;
            assert_eq!(sessions, 0);
            browser.open("/inbox").await;
            browser.wait_for_path("/login").await;
        })
        .await;
}

/// The check every test ends with (no dialog is open) notices one.
#[sqlx::test]
async fn the_harness_notices_an_open_dialog(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let Some(browser) = Browser::launch(&app).await else {
        return;
    };
    browser
        .run(async |browser| {
            browser.open("/login").await;
            browser.assert_no_dialog().await;
            let _: serde_json::Value = browser
                .eval("setTimeout(() => alert('hello'), 0); return null")
                .await;
            browser
                .wait_until("the dialog opens", async || {
                    browser.client().get_alert_text().await.is_ok()
                })
                .await;
            let text = browser.client().get_alert_text().await.unwrap();
            assert_eq!(text, "hello");
            browser.client().dismiss_alert().await.unwrap();
        })
        .await;
}
