//! The console's webhooks pages: an admin adds an endpoint and sees its secret once, reads its
//! delivery log, replays a delivery, turns it off, deletes it; a refused form keeps the URL.

use sqlx::PgPool;
use switchboard::{domain::webhook_endpoints::Format, outbound_webhooks::signing};

use super::*;
use crate::inbox::{Client, field, signed_in_admin};

#[sqlx::test]
async fn an_admin_adds_an_endpoint_reads_its_log_and_replays_a_delivery(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let mut admin = signed_in_admin(&app).await;
    let page = admin.get("/admin/webhooks").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = field(&page.body, "csrf");

    let refused = admin
        .post_form(
            "/admin/webhooks",
            &[
                ("csrf", &csrf),
                ("url", "ftp://example.com/in"),
                ("format", "switchboard"),
                ("event", "message.received"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("http:// or https://"));
    assert!(
        refused.body.contains("ftp://example.com/in"),
        "the URL typed is kept"
    );

    let created = admin
        .post_form(
            "/admin/webhooks",
            &[
                ("csrf", &csrf),
                ("url", &url),
                ("format", "switchboard"),
                ("event", "message.received"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.headers["cache-control"], "no-store");
    let secret = created
        .body
        .split("data-testid=\"new-secret\"")
        .next()
        .and_then(|before| before.rsplit("value=\"").next())
        .and_then(|value| value.split('"').next())
        .unwrap()
        .to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let list = admin.get("/admin/webhooks").await;
    assert!(list.body.contains(&url));
    assert!(!list.body.contains(&secret), "shown once");
    let id: i64 = app.scalar("select id from webhook_endpoints").await;
    let sealed: Vec<u8> = app
        .scalar("select secret_encrypted from webhook_endpoints")
        .await;
    assert!(
        !sealed.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "sealed at rest"
    );

    customer_writes(&app, "wamid.c1", "hello", 1).await;
    deliver_all(&deliverer(&app)).await;
    let now = chrono::Utc::now().timestamp();
    let got = receiver.got();
    assert_eq!(
        signing::verify(
            secret.as_bytes(),
            got[0].header("switchboard-signature"),
            &got[0].body,
            now
        ),
        Ok(()),
        "signed with the secret shown"
    );
    let log = admin.get(&format!("/admin/webhooks/{id}")).await;
    assert!(
        log.body.contains("data-state=\"delivered\""),
        "{}",
        log.body
    );
    assert!(log.body.contains("HTTP 200"));
    assert!(log.body.contains("thanks"), "the receiver's answer");

    let delivery: i64 = app.scalar("select id from webhook_deliveries").await;
    let replayed = admin
        .post_form(
            &format!("/admin/webhooks/{id}/deliveries/{delivery}/replay"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(replayed.status, StatusCode::SEE_OTHER);
    deliver_all(&deliverer(&app)).await;
    let got = receiver.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].body, got[1].body, "the same event again");

    let off = admin
        .post_form(
            &format!("/admin/webhooks/{id}/state"),
            &[("csrf", &csrf), ("state", "off")],
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    customer_writes(&app, "wamid.c2", "while off", 1).await;
    let queued: i64 = app
        .scalar("select count(*) from webhook_deliveries where state = 'pending'")
        .await;
    assert_eq!(queued, 0, "an endpoint that is off is not queued for");
    let deleted = admin
        .post_form(&format!("/admin/webhooks/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let left: i64 = app.scalar("select count(*) from webhook_endpoints").await;
    assert_eq!(left, 0);
    let audited: Vec<String> = sqlx::query_scalar(
        "select action from audit_log where action like 'webhook.%' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        audited,
        [
            "webhook.create",
            "webhook.replay",
            "webhook.disable",
            "webhook.delete"
        ]
    );
}

#[sqlx::test]
async fn an_agent_cannot_manage_webhooks(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    endpoint(&app, &url, Format::Meta, &[]).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let mut agent = Client::signed_in(&app, "ana@acme.test").await;
    assert_eq!(
        agent.get("/admin/webhooks").await.status,
        StatusCode::FORBIDDEN
    );
}
