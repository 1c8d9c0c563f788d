//! On a touch screen (no hover), a message's reply link and reactions show under the message
//! tapped last, not under every message; tapping elsewhere in the thread hides them.

use sqlx::PgPool;

use crate::{
    driver::Browser,
    helpers::{inbox::*, *},
};

/// Whether the actions of message `index` (0 the oldest) are shown.
const SHOWN: &str = "const bar = document.querySelectorAll('[data-testid=message] .message-actions')[INDEX]; \
    return getComputedStyle(bar).display !== 'none';";

async fn shown(browser: &Browser, index: usize) -> bool {
    browser
        .eval(&SHOWN.replace("INDEX", &index.to_string()))
        .await
}

#[sqlx::test]
async fn a_tapped_message_shows_its_actions_and_only_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    customer_writes(&app, "wamid.first", "My parcel is late", 2).await;
    let conversation = customer_writes(&app, "wamid.second", "Any news?", 1).await;
    let Some(browser) = Browser::launch_sized(&app, (390, 844)).await else {
        return;
    };
    browser
        .run(async |browser| {
            browser.sign_in("ana@acme.test").await;
            browser
                .open(&format!("/inbox/conversations/{conversation}"))
                .await;
            let touch: bool = browser
                .eval("return matchMedia('(hover: none)').matches")
                .await;
            assert!(touch, "headless Chromium reports no hover, as a phone does");
            assert!(!shown(browser, 0).await && !shown(browser, 1).await);

            browser
                .click("[data-testid=message]:nth-of-type(1) .bubble")
                .await;
            assert!(shown(browser, 0).await && !shown(browser, 1).await);
            browser
                .click("[data-testid=message]:nth-of-type(2) .bubble")
                .await;
            assert!(!shown(browser, 0).await && shown(browser, 1).await);

            browser
                .click("[data-testid=message]:nth-of-type(2) [data-testid=reply-to]")
                .await;
            browser
                .wait_for_text("[data-testid=replying]", "Any news?")
                .await;
        })
        .await;
}

/// A live update of the thread (a new message, a tick) keeps the tapped message's actions shown:
/// an agent about to reply does not lose them under their thumb.
#[sqlx::test]
async fn a_tapped_message_keeps_its_actions_through_a_live_update(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.first", "My parcel is late", 2).await;
    let Some(browser) = Browser::launch_sized(&app, (390, 844)).await else {
        return;
    };
    browser
        .run(async |browser| {
            browser.sign_in("ana@acme.test").await;
            browser
                .open(&format!("/inbox/conversations/{conversation}"))
                .await;
            browser
                .click("[data-testid=message]:nth-of-type(1) .bubble")
                .await;
            assert!(shown(browser, 0).await);

            customer_writes(&app, "wamid.second", "Any news?", 0).await;
            browser
                .wait_until("the new message to arrive live", async || {
                    browser.count("[data-testid=message]").await == 2
                })
                .await;
            assert!(shown(browser, 0).await && !shown(browser, 1).await);
        })
        .await;
}

/// A reaction's button carries its emoji through the form script (which disables the form's
/// buttons against a second submission): the customer gets 👍, not an empty reaction that would
/// remove one.
#[sqlx::test]
async fn a_tapped_reaction_sends_that_emoji(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.react", "It arrived!", 1).await;
    let Some(browser) = Browser::launch_sized(&app, (390, 844)).await else {
        return;
    };
    browser
        .run(async |browser| {
            browser.sign_in("ana@acme.test").await;
            browser
                .open(&format!("/inbox/conversations/{conversation}"))
                .await;
            browser.click("[data-testid=message] .bubble").await;
            browser
                .click("[data-testid=message] button.react[value='👍']")
                .await;
            browser
                .wait_until("the reaction is queued", async || {
                    app.scalar::<i64>(
                        "select count(*) from messages
                         where type = 'reaction' and content::text like '%👍%'",
                    )
                    .await
                        == 1
                })
                .await;
        })
        .await;
}
