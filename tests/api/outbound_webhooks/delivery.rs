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
    assert_eq!(
        texts(&receiver),
        ["one", "other"],
        "\"two\" waits behind \"one\""
    );
    assert_eq!(waiting(&app).await, 1, "\"two\" is not even due");
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
    assert_eq!(texts(&receiver), ["one", "other", "one", "two"]);
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

/// The bodies' texts of the `message.received` events a receiver got, in order.
fn texts(receiver: &Receiver) -> Vec<String> {
    receiver
        .got()
        .iter()
        .map(|r| {
            r.json()["data"]["message"]["content"]["text"]["body"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// How many of the app's pending deliveries wait for an earlier one of their conversation.
async fn waiting(app: &TestApp) -> i64 {
    app.scalar(
        "select count(*) from webhook_deliveries
         where state = 'pending' and next_attempt_at = 'infinity'",
    )
    .await
}

#[sqlx::test]
async fn a_conversations_later_events_wait_until_the_one_before_is_delivered_or_given_up(
    pool: PgPool,
) {
    let app = TestApp::new(pool).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let (id, _) = endpoint(&app, &url, Format::Switchboard, &["message.received"]).await;
    let deliverer = deliverer(&app);
    customer_writes_as(&app, "15550000001", "wamid.w1", "one", 1).await;
    receiver.answer(&[500]);
    deliver_all(&deliverer).await;
    customer_writes_as(&app, "15550000001", "wamid.w2", "two", 1).await;
    customer_writes_as(&app, "15550000001", "wamid.w3", "three", 1).await;
    assert_eq!(waiting(&app).await, 2, "queued behind \"one\", not due");
    let log = signed_in_admin(&app)
        .await
        .get(&format!("/admin/webhooks/{id}"))
        .await;
    assert_eq!(
        log.body
            .matches("Waiting for an earlier event of its conversation")
            .count(),
        2,
        "{}",
        log.body
    );
    assert_eq!(
        deliverer.deliver_due().await.unwrap(),
        0,
        "nothing can go before \"one\" is retried"
    );

    // "one" fails for the last time: it is given up and "two", then "three", go.
    sqlx::query(
        "update webhook_deliveries set created_at = now() - interval '25 hours' where attempts = 1",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    retry_now(&app).await;
    receiver.answer(&[500]);
    deliver_all(&deliverer).await;
    assert_eq!(texts(&receiver), ["one", "one", "two", "three"]);
    let states: Vec<String> =
        sqlx::query_scalar("select state from webhook_deliveries order by id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(states, ["failed", "delivered", "delivered"]);
}

#[sqlx::test]
async fn an_event_queued_while_the_one_before_is_being_recorded_goes_once_that_is_done(
    pool: PgPool,
) {
    let app = TestApp::new(pool).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    endpoint(
        &app,
        &url,
        Format::Switchboard,
        &["message.received", "conversation.status"],
    )
    .await;
    let deliverer = deliverer(&app);
    let conversation = customer_writes_as(&app, "15550000001", "wamid.r1", "one", 1).await;
    // "one" is claimed and sent; its receiver has not answered yet.
    let held = receiver.hold();
    let sending = tokio::spawn({
        let deliverer = deliverer.clone();
        async move { deliverer.deliver_due().await.unwrap() }
    });
    while receiver.got().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // Meanwhile a change of the conversation is made, in a transaction still open when the
    // receiver answers and the deliverer records "one" as delivered.
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("select webhook_event($1, $2, null, 'conversation.status')")
        .bind(app.tenant_id)
        .bind(conversation.get())
        .execute(&mut *tx)
        .await
        .unwrap();
    let queued_waiting: bool = sqlx::query_scalar(
        "select next_attempt_at = 'infinity' from webhook_deliveries order by id desc limit 1",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert!(queued_waiting, "queued behind \"one\"");
    drop(held);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !sending.is_finished(),
        "recording \"one\" waits for the transaction that queued the next one"
    );
    tx.commit().await.unwrap();
    assert_eq!(sending.await.unwrap(), 1);
    assert_eq!(waiting(&app).await, 0, "the next one is due, not stranded");
    deliver_all(&deliverer).await;
    assert_eq!(
        receiver.types(),
        ["message.received", "conversation.status"]
    );
}

/// A queued event wakes the running deliverer: it goes out without waiting for a poll.
#[sqlx::test]
async fn a_queued_event_wakes_the_deliverer(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    endpoint(&app, &url, Format::Switchboard, &["message.received"]).await;
    // A poll that never comes within the test: only being woken delivers the event.
    let deliverer = deliverer(&app).polling_every(Duration::from_secs(3600));
    tokio::spawn(deliverer.run(app.shutdown()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let listening: bool = app
            .scalar(
                "select exists (select from pg_stat_activity where datname = current_database()
                                  and query = 'LISTEN \"webhook_deliveries\"')",
            )
            .await;
        if listening {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the deliverer never listened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    customer_writes_as(&app, "15550000001", "wamid.w1", "Are you there?", 1).await;
    while texts(&receiver).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the event was not delivered within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(texts(&receiver), ["Are you there?"]);
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
    let mut bodies = texts(&down);
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
