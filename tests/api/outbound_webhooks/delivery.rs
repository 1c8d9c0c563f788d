//! How deliveries go: retried after a failure, holding back only the failing conversation;
//! nothing lost while a receiver is down; an endpoint failing for a day turned off and the admin
//! told; never to a private address or through a redirect.

use sqlx::PgPool;
use switchboard::domain::webhook_endpoints::Format;

use super::*;
use crate::inbox::signed_in_admin;

#[sqlx::test]
async fn a_failed_event_holds_back_only_its_conversation_and_is_retried(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    endpoint(&app, &url, Format::Switchboard, &["message.received"]).await;
    let deliverer = deliverer(&app);
    customer_writes_as(&app, "15550000001", "wamid.a1", "one", 1).await;
    receiver.answer(&[500]);
    deliver_all(&deliverer).await;
    customer_writes_as(&app, "15550000001", "wamid.a2", "two", 1).await;
    customer_writes_as(&app, "15550000002", "wamid.b1", "other", 1).await;
    deliver_all(&deliverer).await;
    let bodies = |receiver: &Receiver| -> Vec<String> {
        receiver
            .got()
            .iter()
            .map(|r| {
                r.json()["data"]["message"]["content"]["text"]["body"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(
        bodies(&receiver),
        ["one", "other"],
        "\"two\" waits behind \"one\""
    );
    let (state, attempts, status, error): (String, i32, Option<i32>, Option<String>) =
        sqlx::query_as(
            "select state, attempts, last_status, last_error from webhook_deliveries
             where convert_from(body, 'UTF8') like '%\"one\"%' order by id limit 1",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        (state.as_str(), attempts, status),
        ("pending", 1, Some(500))
    );
    assert_eq!(error.as_deref(), Some("answered 500 Internal Server Error"));

    retry_now(&app).await;
    deliver_all(&deliverer).await;
    assert_eq!(bodies(&receiver), ["one", "other", "one", "two"]);
    let ids: Vec<String> = receiver
        .got()
        .iter()
        .map(|r| r.header("switchboard-event-id").to_owned())
        .collect();
    assert_eq!(ids[0], ids[2], "a retry carries the same event id");
    let pending: i64 = app
        .scalar("select count(*) from webhook_deliveries where state <> 'delivered'")
        .await;
    assert_eq!(pending, 0);
}

#[sqlx::test]
async fn a_receiver_that_is_down_loses_nothing_and_delays_no_other_endpoint(pool: PgPool) {
    let app = TestApp::new(pool).await;
    // A port with nothing listening yet.
    let parked = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = parked.local_addr().unwrap();
    drop(parked);
    let down = Receiver::default();
    let up = Receiver::default();
    let up_url = up.start().await;
    endpoint(
        &app,
        &format!("http://{address}/hooks"),
        Format::Switchboard,
        &["message.received"],
    )
    .await;
    endpoint(&app, &up_url, Format::Switchboard, &["message.received"]).await;
    let deliverer = deliverer(&app);
    for i in 0..5 {
        customer_writes_as(
            &app,
            &format!("1555000000{i}"),
            &format!("wamid.d{i}"),
            &format!("m{i}"),
            1,
        )
        .await;
        deliver_all(&deliverer).await;
    }
    assert_eq!(
        up.got().len(),
        5,
        "the other endpoint got everything at once"
    );
    let (attempted, error): (i64, Option<String>) = sqlx::query_as(
        "select count(*) filter (where attempts > 0), max(last_error) from webhook_deliveries d
         join webhook_endpoints e on e.id = d.endpoint_id where e.url like '%' || $1 || '%'",
    )
    .bind(address.to_string())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        attempted, 1,
        "a receiver that does not answer is left alone, not asked five times"
    );
    assert!(error.unwrap_or_default().starts_with("could not connect"));

    // It comes back: everything arrives, each conversation in order.
    down.serve(tokio::net::TcpListener::bind(address).await.unwrap());
    retry_now(&app).await;
    deliver_all(&deliverer).await;
    let mut bodies: Vec<String> = down
        .got()
        .iter()
        .map(|r| {
            r.json()["data"]["message"]["content"]["text"]["body"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    bodies.sort();
    assert_eq!(bodies, ["m0", "m1", "m2", "m3", "m4"]);
}

#[sqlx::test]
async fn an_endpoint_failing_for_a_day_is_turned_off_and_the_admin_told(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let (id, _) = endpoint(&app, &url, Format::Switchboard, &["message.received"]).await;
    sqlx::query("update webhook_endpoints set failing_since = now() - interval '25 hours'")
        .execute(&app.pool)
        .await
        .unwrap();
    receiver.answer(&[503]);
    customer_writes(&app, "wamid.f1", "hello", 1).await;
    let deliverer = deliverer(&app);
    deliver_all(&deliverer).await;
    let reason: Option<String> = app
        .scalar("select disabled_reason from webhook_endpoints")
        .await;
    assert!(
        reason
            .as_deref()
            .is_some_and(|r| r.starts_with("Turned off after 24 hours")),
        "{reason:?}"
    );
    let audited: i64 = app
        .scalar("select count(*) from audit_log where action = 'webhook.auto_disable'")
        .await;
    assert_eq!(audited, 1);
    // Turned off, nothing is sent; what was queued waits, what happens meanwhile is not queued.
    customer_writes(&app, "wamid.f2", "again", 1).await;
    retry_now(&app).await;
    deliver_all(&deliverer).await;
    assert_eq!(receiver.got().len(), 1);
    let mut admin = signed_in_admin(&app).await;
    let page = admin.get("/admin/webhooks").await;
    assert!(
        page.body.contains("Turned off after 24 hours"),
        "the admin is told"
    );
    let csrf = admin.csrf().await;
    let on = admin
        .post_form(
            &format!("/admin/webhooks/{id}/state"),
            &[("csrf", &csrf), ("state", "on")],
        )
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);
    deliver_all(&deliverer).await;
    let got = receiver.got();
    assert_eq!(got.len(), 2, "what waited is sent once it is on");
    assert_eq!(got[0].body, got[1].body);
}

#[sqlx::test]
async fn private_addresses_and_redirects_are_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    // The receiver's own address is allowed (WEBHOOK_ALLOWED_HOSTS=127.0.0.1); its name is not.
    let by_name = url.replace("127.0.0.1", "localhost");
    endpoint(&app, &by_name, Format::Switchboard, &["message.received"]).await;
    endpoint(
        &app,
        "http://10.255.255.1/hooks",
        Format::Switchboard,
        &["message.received"],
    )
    .await;
    endpoint(&app, &url, Format::Switchboard, &["message.received"]).await;
    receiver.answer(&[302]);
    customer_writes(&app, "wamid.s1", "hello", 1).await;
    deliver_all(&deliverer(&app)).await;
    let errors: Vec<(String, Option<String>)> = sqlx::query_as(
        "select e.url, d.last_error from webhook_deliveries d
         join webhook_endpoints e on e.id = d.endpoint_id order by e.id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(
        errors[0]
            .1
            .as_deref()
            .unwrap_or_default()
            .contains("resolves only to private addresses"),
        "{errors:?}"
    );
    assert!(
        errors[1]
            .1
            .as_deref()
            .unwrap_or_default()
            .contains("10.255.255.1 is a private address"),
        "{errors:?}"
    );
    assert!(
        errors[2]
            .1
            .as_deref()
            .unwrap_or_default()
            .contains("redirects are not followed"),
        "{errors:?}"
    );
    assert_eq!(
        receiver.got().len(),
        1,
        "only the redirecting endpoint was reached"
    );
}
