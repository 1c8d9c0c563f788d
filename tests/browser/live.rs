//! Live updates: what happens while the agent's page stays open (Server-Sent Events). None of
//! these tests reloads the page; each checks that it was not reloaded.

use sqlx::PgPool;
use switchboard::sandbox::{
    customer::{self, CustomerMessage},
    provision,
};

use crate::{
    customers::DANA,
    driver::Browser,
    helpers::{inbox::*, *},
};

#[sqlx::test]
async fn an_agent_sees_a_new_message_without_reloading(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.start_appliers();
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    DANA.writes(&app, "wamid.first", "Hi there").await;
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
                .wait_for_text("[data-testid=thread]", "Hi there")
                .await;
            browser.mark_document().await;

            DANA.writes(&app, "wamid.second", "Is it shipped yet?")
                .await;
            browser
                .wait_for_text("[data-testid=thread]", "Is it shipped yet?")
                .await;
            let row = format!("li.row[data-conversation='{conversation}']");
            browser.wait_for_text(&row, "Is it shipped yet?").await;

            // Someone new writes: their conversation joins the list.
            let kim = DANA.named("15550002222", "Kim");
            kim.writes(&app, "wamid.kim", "Do you ship to Haifa?").await;
            browser
                .wait_for_text("[data-testid=rows]", "Do you ship to Haifa?")
                .await;
            let thread = browser.text("[data-testid=thread]").await;
            assert!(!thread.contains("Haifa"), "Kim's message is not Dana's");
            browser.assert_same_document().await;
        })
        .await;
}

#[sqlx::test]
async fn an_agent_replies_and_watches_the_ticks_advance(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.start_appliers();
    app.start_outbox();
    app.start_sandbox_dispatcher();
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    {
        let mut conn = app.pool.acquire().await.unwrap();
        let cipher = app.config.secret_key.cipher();
        let number = provision::create_number(&mut conn, &cipher, app.tenant_id, None)
            .await
            .unwrap();
        let said = CustomerMessage {
            phone_number_id: &number.phone_number_id,
            from: "+1 555 000 3333",
            profile_name: "Sam",
            text: "Where is my order?",
            sent_at: chrono::Utc::now(),
        };
        customer::say(&mut conn, &cipher, &app.url, &said)
            .await
            .unwrap();
    }
    app.apply().await;
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
                .fill(
                    "[data-testid=reply-form] textarea",
                    "It ships today!\u{E007}",
                )
                .await;
            browser
                .wait_for_text("article.message.outbound", "It ships today!")
                .await;
            browser.mark_document().await;

            // The sandbox reports sent, delivered and read within about three seconds of the send.
            let tick =
                "return document.querySelector('article.message.outbound .tick')?.dataset.status";
            let mut seen: Vec<String> = vec![browser.eval(tick).await];
            browser
                .wait_until("the reply's tick reaches `read`", async || {
                    let status: String = browser.eval(tick).await;
                    if seen.last() != Some(&status) {
                        seen.push(status);
                    }
                    seen.last().is_some_and(|s| s == "read")
                })
                .await;
            let order = ["queued", "sent", "delivered", "read"];
            let rank = |s: &String| order.iter().position(|o| o == s);
            assert!(
                seen.windows(2).all(|w| rank(&w[0]) < rank(&w[1])),
                "the ticks went {seen:?}"
            );
            assert!(
                seen.len() >= 2,
                "the page showed `read` from the start: {seen:?}"
            );
            browser.assert_same_document().await;
            let status: String = app
                .scalar("select status from messages where direction = 'outbound'")
                .await;
            assert_eq!(status, "read");
        })
        .await;
}
