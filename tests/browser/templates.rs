//! The admin console's templates in a real browser: an admin writes a template, previews it as
//! customers will read it, submits it to WhatsApp (a fake Meta here), and finds it pending review.

use sqlx::PgPool;

use crate::{
    driver::Browser,
    helpers::{inbox::*, *},
};

#[sqlx::test]
async fn an_admin_writes_previews_and_submits_a_template(pool: PgPool) {
    let app = TestApp::with_fake_meta(pool).await;
    user(&app, app.tenant_id, "ada@acme.test", "Ada Admin").await;
    sqlx::query("update users set role = 'admin'")
        .execute(&app.pool)
        .await
        .unwrap();
    let Some(admin) = Browser::launch(&app).await else {
        return;
    };
    admin
        .run(async |browser| {
            browser.sign_in("ada@acme.test").await;
            browser.open("/admin/templates").await;
            browser.find("[data-testid=no-templates]").await;
            browser.click("[data-testid=new-template]").await;
            browser.wait_for_path("/admin/templates/new").await;
            browser.fill("#name", "parcel_update").await;
            browser
                .fill("#body", "Hi {{1}}, your parcel arrives on {{2}}.")
                .await;
            browser.fill("#body-examples", "Ana\nFriday").await;
            browser.fill("#footer", "Acme Shop").await;
            browser
                .eval::<()>("document.querySelector('#button0-kind').value = 'quick_reply'")
                .await;
            browser.fill("#button0-text", "Thanks").await;
            browser.click("button[value=preview]").await;
            browser
                .wait_for_text(
                    "[data-testid=template-preview] .preview-body",
                    "Hi Ana, your parcel arrives on Friday.",
                )
                .await;
            assert_eq!(
                browser
                    .text("[data-testid=template-preview] .preview-button")
                    .await,
                "Thanks"
            );
            // What was typed is still there to submit.
            assert_eq!(
                browser
                    .eval::<String>("return document.querySelector('#name').value")
                    .await,
                "parcel_update"
            );
            browser.click("[data-testid=submit-template]").await;
            browser.wait_for_path("/admin/templates").await;
            browser
                .wait_for_text(
                    "[data-name=parcel_update] [data-testid=template-status]",
                    "Pending",
                )
                .await;
        })
        .await;
}
