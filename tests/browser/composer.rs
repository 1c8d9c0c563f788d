//! The composer in a real browser: the window closing under the agent's eyes, a template filled in
//! from the picker, and sends that go out once however impatient the agent is.

use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use serde_json::json;
use sqlx::PgPool;

use crate::{
    customers::{DANA, message},
    driver::Browser,
    helpers::{inbox::*, *},
};

#[sqlx::test]
async fn the_composer_becomes_the_template_form_when_the_window_closes(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    approved_template(&app).await;
    let Some(browser) = Browser::launch(&app).await else {
        return;
    };
    browser
        .run(async |browser| {
            browser.sign_in("ana@acme.test").await;
            // Dana wrote 24 hours ago, less eight seconds (time to open the page).
            let hello = message("wamid.old", "text", json!({ "body": "Hello?" }));
            DANA.sends(&app, hello, 24 * 3600 - 8).await;
            let conversation: i64 = app.scalar("select id from conversations").await;
            browser
                .open(&format!("/inbox/conversations/{conversation}"))
                .await;
            browser.find("[data-testid=window-open]").await;
            browser
                .fill("[data-testid=reply-form] textarea", "Are you still there?")
                .await;
            browser.mark_document().await;

            browser.find("[data-testid=window-closed]").await;
            assert_eq!(browser.count("[data-testid=reply-form]").await, 0);
            assert_eq!(browser.count("textarea[name=text]").await, 0);
            let kept = browser.text(".composer .kept-draft").await;
            assert!(kept.contains("Are you still there?"), "{kept:?}");
            let options = browser.text("select#template").await;
            assert!(options.contains("order_update"), "{options:?}");
            assert!(
                browser
                    .text("[data-testid=window-state]")
                    .await
                    .contains("closed"),
                "the side panel follows"
            );
            browser.assert_same_document().await;
        })
        .await;
}

#[sqlx::test]
async fn an_agent_sends_a_template_with_variables_from_the_picker(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let template = approved_template(&app).await;
    let conversation = customer_writes(&app, "wamid.old", "Hello?", 30).await;
    let Some(browser) = Browser::launch(&app).await else {
        return;
    };
    browser
        .run(async |browser| {
            browser.sign_in("ana@acme.test").await;
            browser
                .open(&format!("/inbox/conversations/{conversation}"))
                .await;
            browser.find("[data-testid=window-closed]").await;
            // The list of templates narrows to the names typed.
            let hidden = "[...document.querySelectorAll('select#template option')].filter(o => o.hidden).length";
            browser.fill("[data-testid=template-filter]", "nothing like it").await;
            assert_eq!(browser.eval::<u64>(&format!("return {hidden}")).await, 1);
            browser.fill("[data-testid=template-filter]", "ORDER upd").await;
            assert_eq!(browser.eval::<u64>(&format!("return {hidden}")).await, 0);
            browser
                .find("select#template")
                .await
                .select_by_value(&template.to_string())
                .await
                .unwrap();
            browser.click("form.template-choice button[type=submit]").await;

            let form = "[data-testid=template-form]";
            let first = browser.find(&format!("{form} input[name=v0]")).await;
            assert_eq!(first.attr("placeholder").await.unwrap().as_deref(), Some("Dana"));
            // The preview follows what is typed.
            browser.fill(&format!("{form} input[name=v0]"), "Maria").await;
            browser
                .wait_for_text("[data-testid=template-preview] .preview-body", "Hi Maria, your order #1042 has shipped.")
                .await;
            browser.fill(&format!("{form} input[name=v0]"), "Dana").await;
            browser.fill(&format!("{form} input[name=v1]"), "#1042").await;
            browser.fill(&format!("{form} input[name=v2]"), "1042").await;
            browser.click(&format!("{form} button[type=submit]")).await;

            browser.find("article.message.outbound").await;
            let content: serde_json::Value = app
                .scalar("select content from messages where direction = 'outbound'")
                .await;
            assert_eq!(content["template"]["name"], "order_update");
            assert_eq!(
                content["template"]["components"],
                json!([
                    { "type": "body", "parameters": [{ "type": "text", "text": "Dana" }, { "type": "text", "text": "#1042" }] },
                    { "type": "button", "sub_type": "url", "index": "0", "parameters": [{ "type": "text", "text": "1042" }] }
                ])
            );
        })
        .await;
}

#[sqlx::test]
async fn a_double_clicked_send_goes_out_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
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
            browser
                .fill("[data-testid=reply-form] textarea", "On its way")
                .await;
            let send = browser
                .find("[data-testid=reply-form] button[type=submit]")
                .await;
            let (down, up) = (
                PointerAction::Down {
                    button: MOUSE_BUTTON_LEFT,
                },
                PointerAction::Up {
                    button: MOUSE_BUTTON_LEFT,
                },
            );
            let at_send = PointerAction::MoveToElement {
                element: send,
                duration: None,
                x: 0.0,
                y: 0.0,
            };
            let double_click = MouseActions::new("mouse".into())
                .then(at_send)
                .then(down.clone())
                .then(up.clone())
                .then(down)
                .then(up);
            browser
                .client()
                .perform_actions(double_click)
                .await
                .unwrap();

            sent_once(&app, browser, "On its way").await;
        })
        .await;
}

#[sqlx::test]
async fn enter_pressed_twice_sends_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
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
            browser
                .fill(
                    "[data-testid=reply-form] textarea",
                    "On its way\u{E007}\u{E007}",
                )
                .await;

            sent_once(&app, browser, "On its way").await;
        })
        .await;
}

/// Waits for the page after the send, then expects exactly one outbound message saying `text`.
async fn sent_once(app: &TestApp, browser: &Browser, text: &str) {
    browser
        .wait_for_text("article.message.outbound", text)
        .await;
    // The last submission's answer is the page shown: by now every request has been made.
    assert_eq!(browser.count("article.message.outbound").await, 1);
    let rows: Vec<String> =
        sqlx::query_scalar("select body from messages where direction = 'outbound'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(rows, [text]);
}
