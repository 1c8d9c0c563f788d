//! A customer's message is text, never markup: script, event handlers and `javascript:` links in
//! it render as the characters they are, in the list and the thread, whether the page was loaded
//! with it or it arrived live. The Content-Security-Policy forbids inline script besides.

use sqlx::PgPool;

use crate::{
    customers::DANA,
    driver::Browser,
    helpers::{inbox::*, *},
};

/// Each part, if it ran, would set `window.xssRan` and open a dialog. (No underscores in it:
/// WhatsApp's `_italic_` would change the text shown.)
const HOSTILE: &str = "<script>window.xssRan = 'script'; alert(1)</script> \
    <img src=x onerror=\"window.xssRan = 'img'; alert(1)\"> \
    <a href=\"javascript:window.xssRan = 'link'; alert(1)\">open me</a> \
    <svg onload=\"window.xssRan = 'svg'\"></svg> \
    javascript:alert(1)";

/// A name that tries the same.
const HOSTILE_NAME: &str = "<img src=x onerror=\"window.xssRan = 'name'\">Mallory";

#[sqlx::test]
async fn markup_in_a_customer_message_renders_as_text(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    DANA.named("15550006666", HOSTILE_NAME)
        .writes(&app, "wamid.hostile", HOSTILE)
        .await;
    let conversation: i64 = app.scalar("select id from conversations").await;
    let Some(browser) = Browser::launch(&app).await else {
        return;
    };
    browser
        .run(async |browser| {
            browser.sign_in("ana@acme.test").await;
            browser
                .wait_for_text("[data-testid=rows]", "<script>")
                .await;
            assert_inert(browser).await;

            browser
                .open(&format!("/inbox/conversations/{conversation}"))
                .await;
            browser
                .wait_for_text("[data-testid=thread]", "<img src=x onerror=")
                .await;
            let thread = browser.text("[data-testid=thread]").await;
            assert!(thread.contains("<script>window.xssRan"), "{thread}");
            assert!(thread.contains("<a href=\"javascript:"), "{thread}");
            assert!(
                browser
                    .text(".conversation-header h2")
                    .await
                    .contains("<img src=x")
            );
            assert_inert(browser).await;
        })
        .await;
}

/// Needs live updates: the message arrives while the thread is open.
#[sqlx::test]
async fn markup_arriving_live_renders_as_text(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.start_appliers();
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.hi", "Hi", 1).await;
    let Some(browser) = Browser::launch(&app).await else {
        return;
    };
    browser
        .run(async |browser| {
            browser.sign_in("ana@acme.test").await;
            browser
                .open(&format!("/inbox/conversations/{conversation}"))
                .await;
            browser.mark_document().await;
            DANA.writes(&app, "wamid.hostile", HOSTILE).await;
            browser
                .wait_for_text("[data-testid=thread]", "<img src=x onerror=")
                .await;
            let row = format!("li.row[data-conversation='{conversation}']");
            browser.wait_for_text(&row, "<script>").await;
            assert_inert(browser).await;
            browser.assert_same_document().await;
        })
        .await;
}

/// Nothing of [`HOSTILE`] became an element, nothing of it ran, and no dialog opened.
async fn assert_inert(browser: &Browser) {
    for css in [
        "img[src='x']",
        "[onerror]",
        "[onload]",
        "svg",
        "a[href^='javascript' i]",
        ".thread script",
        ".rows script",
    ] {
        assert_eq!(browser.count(css).await, 0, "`{css}` is on the page");
    }
    let scripts: Vec<String> = browser
        .eval("return [...document.scripts].map(s => s.getAttribute('src') ?? 'inline')")
        .await;
    assert_eq!(scripts, ["/static/app.js"], "the page's only script");
    let ran: Option<String> = browser.eval("return window.xssRan ?? null").await;
    assert_eq!(ran, None, "a hostile part ran");
    browser.assert_no_dialog().await;
}
