//! The admin console's numbers page in a real browser: an admin adds a Meta app and a number,
//! reads what to paste into Meta's dashboard, checks a number's connection and pauses it; the
//! composer then says why replies wait.

use sqlx::PgPool;

use crate::{
    driver::Browser,
    helpers::{inbox::*, *},
};

#[sqlx::test]
async fn an_admin_adds_an_app_and_a_number_then_checks_and_pauses_one(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ada@acme.test", "Ada Admin").await;
    sqlx::query("update users set role = 'admin'")
        .execute(&app.pool)
        .await
        .unwrap();
    let conversation = customer_writes(&app, "wamid.browser.numbers", "Hello", 1).await;
    let Some(admin) = Browser::launch(&app).await else {
        return;
    };
    admin
        .run(async |browser| {
            browser.sign_in("ada@acme.test").await;
            browser.open("/admin/numbers").await;
            browser.fill("#meta-app-id", "2468013579").await;
            browser
                .fill("#app-secret", "a-browser-typed-secret-WXYZ")
                .await;
            browser
                .click("form[action='/admin/apps'] button[type=submit]")
                .await;
            let app_card = "[data-testid=app][data-app-id='2468013579']";
            browser
                .wait_for_text(
                    &format!("{app_card} [data-testid=callback-url]"),
                    "/webhooks/whatsapp/2468013579",
                )
                .await;
            let token = browser
                .text(&format!("{app_card} [data-testid=verify-token]"))
                .await;
            assert!(token.len() >= 32, "a generated verify token: {token:?}");
            assert!(
                browser
                    .text(&format!("{app_card} [data-testid=secret-ending]"))
                    .await
                    .contains("WXYZ")
            );
            // Copy buttons show where the clipboard can be written (a secure context).
            assert_eq!(
                browser
                    .count(&format!("{app_card} button[data-copy]"))
                    .await,
                2
            );

            browser.click(&format!("{app_card} details summary")).await;
            browser
                .fill(
                    &format!("{app_card} input[name=phone_number_id]"),
                    "3690001112223",
                )
                .await;
            browser
                .fill(&format!("{app_card} input[name=waba_id]"), "3690001112224")
                .await;
            browser
                .fill(
                    &format!("{app_card} input[name=display_phone_number]"),
                    "+1 555 369 0001",
                )
                .await;
            browser
                .fill(
                    &format!("{app_card} input[name=access_token]"),
                    "EAAG-browser-token",
                )
                .await;
            browser
                .click(&format!(
                    "{app_card} form[action$='/numbers'] button[type=submit]"
                ))
                .await;
            let number = "[data-testid=number][data-phone-number-id='3690001112223']";
            browser
                .wait_for_text(&format!("{number} [data-testid=number-state]"), "Sending")
                .await;
            assert!(browser.text(number).await.contains("+1 555 369 0001"));

            let ours = format!("[data-testid=number][data-phone-number-id='{PHONE_NUMBER_ID}']");
            // The test's Meta is an address nothing listens on: the check says so in words.
            browser
                .click(&format!("{ours} [data-testid=check-connection]"))
                .await;
            browser
                .wait_for_text(
                    &format!("{ours} [data-testid=check]"),
                    "Could not reach WhatsApp",
                )
                .await;
            browser.click(&format!("{ours} [data-testid=pause]")).await;
            browser
                .wait_for_text(&format!("{ours} [data-testid=number-state]"), "Paused")
                .await;

            browser
                .open(&format!("/inbox/conversations/{conversation}"))
                .await;
            browser
                .wait_for_text("[data-testid=number-paused]", "paused sending")
                .await;
        })
        .await;
    let secret_in_audit: i64 = app
        .scalar("select count(*) from audit_log where details::text like '%WXYZ%'")
        .await;
    assert_eq!(secret_in_audit, 0);
}
