//! The pictures in the README: the main pages of a day's inbox, on a laptop and on a phone, saved
//! under `docs/screenshots/`. Not part of the test command (it writes into the repository); with
//! an emoji font installed (Debian's `fonts-noto-color-emoji`), so that the emoji in the pages show:
//!
//!     DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!         cargo test --test browser -- --ignored screenshots

use std::path::{Path, PathBuf};

use serde_json::json;
use sqlx::PgPool;

use crate::{
    customers::{DANA, message},
    driver::Browser,
    helpers::{inbox::*, *},
};

const LAPTOP: (u32, u32) = (1440, 900);
const PHONE: (u32, u32) = (390, 844);

fn shot(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/screenshots")
        .join(format!("{name}.png"))
}

#[sqlx::test]
#[ignore = "writes docs/screenshots/; run with `-- --ignored screenshots`"]
async fn screenshots_of_the_main_pages(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let ana = user(&app, app.tenant_id, "ana@acme.test", "Ana Lima").await;
    let (dana, omar) = a_days_inbox(&app, ana).await;
    let Some(laptop) = Browser::launch_sized(&app, LAPTOP).await else {
        return;
    };
    laptop
        .run(async |browser| {
            browser.sign_in("ana@acme.test").await;
            browser.find("[data-testid=rows]").await;
            browser.screenshot(&shot("list")).await;

            browser.open("/inbox?q=invoice").await;
            browser.find("[data-testid=search-messages]").await;
            browser.screenshot(&shot("search")).await;

            browser.open(&format!("/inbox/conversations/{dana}")).await;
            browser.find("[data-testid=reply-form]").await;
            browser
                .fill(
                    "[data-testid=reply-form] textarea",
                    "Sure, I'll send a new one today.",
                )
                .await;
            scroll_thread(browser, "t.scrollHeight").await;
            browser.screenshot(&shot("thread")).await;
            scroll_thread(browser, "0").await;
            browser.screenshot(&shot("thread-top")).await;

            browser.open(&format!("/inbox/conversations/{omar}")).await;
            browser
                .click("form.template-choice button[type=submit]")
                .await;
            browser
                .fill("[data-testid=template-form] input[name=v0]", "Omar")
                .await;
            browser.screenshot(&shot("template-form")).await;
        })
        .await;

    // Templates in several states, one sent a few times.
    sqlx::query(
        "insert into message_templates (tenant_id, waba_id, name, language, category, status,
                                        status_reason, quality_score, submitted_at, approved_at)
         values ($1, $2, 'spring_sale', 'en_US', 'MARKETING', 'PAUSED', 'LOW_QUALITY', 'RED',
                 now() - interval '20 days', now() - interval '20 days' + interval '3 minutes'),
                ($1, $2, 'welcome_back', 'es', 'MARKETING', 'REJECTED', 'INVALID_FORMAT', null,
                 now() - interval '2 days', null),
                ($1, $2, 'appointment_reminder', 'en_US', 'UTILITY', 'PENDING', null, null,
                 now() - interval '10 minutes', null)",
    )
    .bind(app.tenant_id.get())
    .bind(WABA_ID)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into messages (tenant_id, conversation_id, phone_number_id, direction, type, body,
                               content, status, template_id, error_code, sent_at, created_at)
         select c.tenant_id, c.id, c.phone_number_id, 'outbound', 'template', 'order_update',
                '{}', s.status, t.id, s.code,
                case when s.status <> 'failed' then now() - interval '3 hours' end,
                now() - interval '3 hours'
         from conversations c
         cross join (values ('read', null), ('read', null), ('delivered', null), ('sent', null),
                            ('failed', 131026)) as s (status, code)
         join message_templates t on t.tenant_id = c.tenant_id and t.name = 'order_update'
         where c.id = $1",
    )
    .bind(omar)
    .execute(&app.pool)
    .await
    .unwrap();

    // The team, numbers, settings and templates pages, as an admin sees them.
    user(&app, app.tenant_id, "ada@acme.test", "Ada Admin").await;
    sqlx::query("update users set role = 'admin' where email = 'ada@acme.test'")
        .execute(&app.pool)
        .await
        .unwrap();
    let Some(admin) = Browser::launch_sized(&app, LAPTOP).await else {
        return;
    };
    admin
        .run(async |browser| {
            browser.sign_in("ada@acme.test").await;
            browser.open("/admin/team").await;
            browser.fill("#invite-email", "bo@acme.test").await;
            browser.fill("#invite-name", "Bo Chen").await;
            browser
                .click("form[action='/admin/team/invite'] button[type=submit]")
                .await;
            browser.find("[data-testid=one-time-link]").await;
            browser.screenshot(&shot("team-link")).await;
            browser.open("/admin/team").await;
            browser.find("[data-testid=members]").await;
            browser.screenshot(&shot("team")).await;
            browser.open("/admin/numbers").await;
            browser.find("[data-testid=number]").await;
            browser.screenshot(&shot("numbers")).await;
            browser.open("/admin/settings").await;
            browser.find("#keywords").await;
            browser.screenshot(&shot("settings")).await;
            browser.open("/admin/templates").await;
            browser.find("[data-testid=templates]").await;
            browser.screenshot(&shot("templates")).await;
            browser.open("/admin/templates/new").await;
            browser.fill("#name", "delivery_window").await;
            browser
                .fill(
                    "#body",
                    "Hi {{1}}, your order {{2}} arrives tomorrow between 9:00 and 12:00. Reply CHANGE to pick another time.",
                )
                .await;
            browser.fill("#body-examples", "Ana\n#1042").await;
            browser.fill("#footer", "Acme Shop").await;
            browser
                .eval::<()>("document.querySelector('#button0-kind').value = 'quick_reply'")
                .await;
            browser.fill("#button0-text", "Change the time").await;
            browser.click("button[value=preview]").await;
            browser.find("[data-testid=template-preview]").await;
            browser.screenshot(&shot("template-editor")).await;
            browser.open("/admin/api-keys").await;
            browser.fill("#key-name", "Order system").await;
            browser.click("form[action='/admin/api-keys'] button[type=submit]").await;
            browser.find("[data-testid=new-key]").await;
            browser.open("/admin/api-keys").await;
            browser.find("[data-testid=keys]").await;
            browser.screenshot(&shot("api-keys")).await;
            browser.open("/admin/webhooks").await;
            browser.fill("#endpoint-url", "https://hooks.acme.example/whatsapp").await;
            browser.click("form[action='/admin/webhooks'] button[type=submit]").await;
            browser.find("[data-testid=new-secret]").await;
            browser.open("/admin/webhooks").await;
            browser.find("[data-testid=endpoints]").await;
            browser.screenshot(&shot("webhooks")).await;
            browser.open("/api/v1/docs").await;
            browser.find(".api-docs").await;
            browser.screenshot(&shot("api-docs")).await;
        })
        .await;

    // Reports over four months of a seeded tenant.
    crate::reports::a_seeded_tenant(&app).await;
    let Some(lead) = Browser::launch_sized(&app, LAPTOP).await else {
        return;
    };
    lead.run(async |browser| {
        browser.sign_in("agent1@reports.example").await;
        browser.open("/admin/reports").await;
        browser.find("figure.chart svg").await;
        browser.screenshot(&shot("reports")).await;
    })
    .await;

    let Some(phone) = Browser::launch_sized(&app, PHONE).await else {
        return;
    };
    phone
        .run(async |browser| {
            browser.sign_in("ana@acme.test").await;
            browser.find("[data-testid=rows]").await;
            browser.screenshot(&shot("phone-list")).await;
            browser.open(&format!("/inbox/conversations/{dana}")).await;
            browser.find("[data-testid=reply-form]").await;
            scroll_thread(browser, "t.scrollHeight").await;
            browser.screenshot(&shot("phone-thread")).await;
            browser.open(&format!("/inbox/conversations/{omar}")).await;
            browser
                .click("form.template-choice button[type=submit]")
                .await;
            browser.find("[data-testid=template-form]").await;
            browser.screenshot(&shot("phone-template-form")).await;
        })
        .await;
}

/// Scrolls the thread (`t`) to `top`, a script expression.
async fn scroll_thread(browser: &Browser, top: &str) {
    let script =
        format!("const t = document.querySelector('.thread'); t.scrollTop = {top}; return null");
    let _: serde_json::Value = browser.eval(&script).await;
}

/// Several customers in several states; Dana's thread has a message of every kind. Returns the
/// conversations of Dana (window open) and Omar (window closed, a template to choose).
async fn a_days_inbox(app: &TestApp, ana: UserId) -> (i64, i64) {
    approved_template(app).await;
    let omar = DANA.named("15550004444", "Omar Haddad");
    omar.sends(
        app,
        message(
            "wamid.o1",
            "text",
            json!({ "body": "Is the shop open on Saturday?" }),
        ),
        30 * 3600,
    )
    .await;
    let kim = DANA.named("15550002222", "Kim Nguyen");
    kim.sends(
        app,
        message(
            "wamid.k1",
            "text",
            json!({ "body": "Can I change the delivery address for order #1038?" }),
        ),
        21 * 3600,
    )
    .await;
    let lea = DANA.named("15550003333", "Léa Martin");
    for (i, text) in [
        "Hello!",
        "I was charged twice",
        "Here's the receipt number: 88-1192",
    ]
    .iter()
    .enumerate()
    {
        lea.sends(
            app,
            message(&format!("wamid.l{i}"), "text", json!({ "body": text })),
            600 - 60 * i as i64,
        )
        .await;
    }

    let mut unsupported = message(
        "wamid.d9",
        "unsupported",
        json!({ "type": "poll_creation" }),
    );
    unsupported["errors"] = json!([{ "code": 131051, "title": "Message type unknown", "message": "Message type unknown", "error_data": { "details": "Message type is currently not supported." } }]);
    let mut reply = message(
        "wamid.d12",
        "text",
        json!({ "body": "Yes please, to the same address." }),
    );
    reply["context"] = json!({ "from": CUSTOMER, "id": "wamid.out.1" });
    let thread = [
        (
            message(
                "wamid.d1",
                "text",
                json!({ "body": "Hi! My order *#1042* arrived but the box was _crushed_ 😕\nDetails: https://example.com/orders/1042" }),
            ),
            50,
        ),
        (
            message(
                "wamid.d2",
                "image",
                json!({ "id": "1001", "mime_type": "image/jpeg", "sha256": "x", "caption": "This is how it looked" }),
            ),
            49,
        ),
        (
            message(
                "wamid.d3",
                "document",
                json!({ "id": "1002", "mime_type": "application/pdf", "filename": "invoice-1042.pdf", "caption": "The invoice" }),
            ),
            48,
        ),
        (
            message(
                "wamid.d4",
                "audio",
                json!({ "id": "1003", "mime_type": "audio/ogg; codecs=opus", "voice": true }),
            ),
            47,
        ),
        (
            message(
                "wamid.d5",
                "location",
                json!({ "latitude": 32.0775, "longitude": 34.7748, "name": "Dizengoff Center", "address": "Dizengoff St 50, Tel Aviv" }),
            ),
            46,
        ),
        (
            message(
                "wamid.d6",
                "contacts",
                json!([{ "name": { "formatted_name": "Noa Levi", "first_name": "Noa" }, "phones": [{ "phone": "+972 50 123 4567", "type": "CELL" }] }]),
            ),
            45,
        ),
        (
            message(
                "wamid.d7",
                "sticker",
                json!({ "id": "1004", "mime_type": "image/webp", "animated": false }),
            ),
            44,
        ),
        (
            message(
                "wamid.d8",
                "order",
                json!({ "catalog_id": "77", "text": "Same again please", "product_items": [{ "product_retailer_id": "MUG-RED", "quantity": "2", "item_price": "12.50", "currency": "EUR" }] }),
            ),
            43,
        ),
        (unsupported, 42),
        (
            message(
                "wamid.d10",
                "interactive",
                json!({ "type": "button_reply", "button_reply": { "id": "replace", "title": "Send a replacement" } }),
            ),
            41,
        ),
        (
            message(
                "wamid.d11",
                "reaction",
                json!({ "message_id": "wamid.d1", "emoji": "👍" }),
            ),
            40,
        ),
    ];
    for (message, minutes_ago) in thread {
        DANA.sends(app, message, minutes_ago * 60).await;
    }
    let conversation: i64 = app
        .scalar("select c.id from conversations c join contacts k on k.id = c.contact_id where k.profile_name = 'Dana'")
        .await;
    for (i, (status, body, error)) in [
        (
            "read",
            "I'm sorry to hear that! Could you send a photo of the box?",
            None,
        ),
        (
            "delivered",
            "Thank you. A replacement is on its way, tracking follows.",
            None,
        ),
        (
            "failed",
            "Here is your tracking link: https://example.com/t/1042",
            Some((
                "Message undeliverable",
                "WhatsApp could not deliver this message. Check the number, or try again later.",
            )),
        ),
        ("sent", "Anything else I can help with?", None),
    ]
    .into_iter()
    .enumerate()
    {
        sqlx::query(
            "insert into messages (tenant_id, conversation_id, phone_number_id, direction, wamid,
                 type, body, content, status, error_title, error_message, sent_by_kind, sent_by,
                 created_at)
             select c.tenant_id, c.id, c.phone_number_id, 'outbound', $2, 'text', $3,
                 jsonb_build_object('text', jsonb_build_object('body', $3::text)), $4, $5, $6,
                 'agent', $7, now() - make_interval(mins => $8)
             from conversations c where c.id = $1",
        )
        .bind(conversation)
        .bind(format!("wamid.out.{i}"))
        .bind(body)
        .bind(status)
        .bind(error.map(|e| e.0))
        .bind(error.map(|e| e.1))
        .bind(ana)
        .bind(39 - 10 * i as i32)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    DANA.sends(app, reply, 5 * 60).await;
    let omar_conversation: i64 = app
        .scalar("select c.id from conversations c join contacts k on k.id = c.contact_id where k.profile_name = 'Omar Haddad'")
        .await;
    sqlx::query("update conversations set assignee_id = $1 where id in ($2, $3)")
        .bind(ana)
        .bind(conversation)
        .bind(omar_conversation)
        .execute(&app.pool)
        .await
        .unwrap();
    (conversation, omar_conversation)
}
