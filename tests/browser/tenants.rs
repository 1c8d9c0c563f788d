//! Tenants in a real browser: an agent of another tenant gets 404 for a conversation that is not
//! theirs, and sees nothing of it in any view, nor in the live stream while it changes.

use serde_json::Value;
use sqlx::PgPool;

use crate::{
    customers::{Customer, DANA},
    driver::Browser,
    helpers::{inbox::*, *},
};

/// Globex's customer, writing to Globex's own number through Globex's Meta app.
const OMAR: Customer = Customer {
    wa_id: "15550009999",
    name: "Omar",
    phone_number_id: "9988776655443",
    waba_id: "998877665544332",
    meta_app_id: "2222222222",
    app_secret: "globex-app-secret",
};

/// Acme (the test app's tenant, with Dana's conversation) and Globex (with Omar's), and Ben,
/// Globex's agent; returns the conversations of Dana and Omar.
async fn two_tenants(app: &TestApp) -> (i64, i64) {
    let (globex, globex_app) = app
        .add_tenant("Globex", OMAR.meta_app_id, OMAR.app_secret)
        .await;
    app.add_number(globex, globex_app, OMAR.phone_number_id, OMAR.waba_id, None)
        .await;
    user(app, globex, "ben@globex.test", "Ben").await;
    user(app, app.tenant_id, "ana@acme.test", "Ana").await;
    DANA.writes(app, "wamid.acme", "Acme secret order 4711")
        .await;
    OMAR.writes(app, "wamid.globex", "Globex hello").await;
    let of = async |name: &str| -> i64 {
        sqlx::query_scalar(
            "select c.id from conversations c join contacts k on k.id = c.contact_id
             where k.profile_name = $1",
        )
        .bind(name)
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    (of("Dana").await, of("Omar").await)
}

#[sqlx::test]
async fn another_tenants_agent_gets_404_and_sees_nothing_of_the_conversation(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (acme_conversation, _) = two_tenants(&app).await;
    let Some(browser) = Browser::launch(&app).await else {
        return;
    };
    browser
        .run(async |browser| {
            browser.sign_in("ben@globex.test").await;
            let foreign = format!("/inbox/conversations/{acme_conversation}");
            browser.open(&foreign).await;
            browser.find("[data-testid=error]").await;
            let status: u16 = browser
                .eval(&format!("return fetch('{foreign}').then(r => r.status)"))
                .await;
            assert_eq!(status, 404);
            let page = browser.text("body").await;
            assert!(!page.contains("Dana") && !page.contains("4711"), "{page}");

            for view in ["mine", "unassigned", "all", "closing"] {
                browser.open(&format!("/inbox?view={view}")).await;
                browser.find("[data-testid=rows]").await;
                let row = format!("li.row[data-conversation='{acme_conversation}']");
                assert_eq!(browser.count(&row).await, 0, "{view}");
                let page = browser.text("body").await;
                assert!(
                    !page.contains("Dana") && !page.contains("4711"),
                    "{view}: {page}"
                );
            }
            // Ben does see his own tenant's conversation: the views above are not merely empty.
            browser.open("/inbox?view=all").await;
            browser
                .wait_for_text("[data-testid=rows]", "Globex hello")
                .await;
        })
        .await;
}

/// Needs live updates: Ben's page stays open while both tenants' customers write.
#[sqlx::test]
async fn another_tenants_agent_sees_nothing_of_it_live(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.start_appliers();
    let (acme_conversation, globex_conversation) = two_tenants(&app).await;
    let Some(browser) = Browser::launch(&app).await else {
        return;
    };
    browser
        .run(async |browser| {
            browser.sign_in("ben@globex.test").await;
            browser.open("/inbox?view=all").await;
            browser
                .wait_for_text("[data-testid=rows]", "Globex hello")
                .await;
            browser.mark_document().await;
            // Besides the page, Ben's event stream itself, as raw text.
            let _: Value = browser
                .eval(
                    "window.__stream = ''; \
                     fetch('/inbox/events', { headers: { Accept: 'text/event-stream' } }) \
                       .then(async (r) => { \
                         const reader = r.body.getReader(), text = new TextDecoder(); \
                         for (;;) { \
                           const { value, done } = await reader.read(); \
                           if (done) break; \
                           window.__stream += text.decode(value, { stream: true }); \
                         } \
                       }); \
                     return null",
                )
                .await;

            DANA.writes(&app, "wamid.acme.2", "Acme second secret 4712")
                .await;
            // Then Omar writes: once Ben sees that, an event about Dana would have come before it.
            OMAR.writes(&app, "wamid.globex.2", "Globex again").await;
            browser
                .wait_for_text("[data-testid=rows]", "Globex again")
                .await;
            // The stream names conversations by id: Omar's must come, Dana's never.
            let conversations = async || -> Vec<i64> {
                let stream: String = browser.eval("return window.__stream").await;
                stream
                    .lines()
                    .filter_map(|line| line.strip_prefix("data:"))
                    .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
                    .filter_map(|event| event["conversation"].as_i64())
                    .collect()
            };
            browser
                .wait_until("Ben's stream names Omar's conversation", async || {
                    conversations().await.contains(&globex_conversation)
                })
                .await;
            let named = conversations().await;
            assert!(
                !named.contains(&acme_conversation),
                "Ben's stream named Dana's: {named:?}"
            );

            let page = browser.text("body").await;
            assert!(!page.contains("Dana") && !page.contains("4712"), "{page}");
            let stream: String = browser.eval("return window.__stream").await;
            for secret in ["Dana", "4711", "4712", "wamid.acme", "Acme"] {
                assert!(
                    !stream.contains(secret),
                    "Ben's stream carried {secret:?}: {stream}"
                );
            }
            browser.assert_same_document().await;
        })
        .await;
}
