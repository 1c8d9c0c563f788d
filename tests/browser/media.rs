//! Media the inbox cannot show (WhatsApp keeps it for a limited time; here no Graph API has it)
//! reads as a line saying so, not as the browser's broken-image box.

use serde_json::json;
use sqlx::PgPool;

use crate::{
    customers::{DANA, message},
    driver::Browser,
    helpers::{inbox::*, *},
};

#[sqlx::test]
async fn an_image_that_cannot_be_fetched_says_so(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let image =
        json!({ "id": "4040", "mime_type": "image/jpeg", "sha256": "x", "caption": "Look" });
    DANA.sends(&app, message("wamid.image", "image", image), 0)
        .await;
    let conversation: i64 = app.scalar("select id from conversations").await;
    let Some(browser) = Browser::launch(&app).await else {
        return;
    };
    browser
        .run(async |browser| {
            browser.sign_in("ana@acme.test").await;
            browser
                .open(&format!("/inbox/conversations/{conversation}"))
                .await;
            browser
                .wait_for_text("[data-testid=media-missing]", "Image unavailable")
                .await;
            assert_eq!(browser.count("[data-testid=message-image]").await, 0);
            assert!(browser.text("[data-testid=thread]").await.contains("Look"));
        })
        .await;
}
