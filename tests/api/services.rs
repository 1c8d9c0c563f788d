//! The services every surface calls, tested directly: sending to a number's customer by phone or
//! business-scoped user id, who sent what, registering a number, syncing templates.

use axum::{Router, http::HeaderMap, routing::get};
use serde_json::{Value, json};
use sqlx::PgPool;
use switchboard::http::extract::{Json, Query};
use switchboard::{
    domain::{
        api_keys,
        apps::AppSecrets,
        messages::{self, SentBy},
        numbers::{self, Registration},
        templates,
    },
    outbox::send::{Queued, SendError, SendRefused, SendRequest, SendTo},
    whatsapp::{
        customer_id::CustomerId,
        graph::{GraphClient, GraphUrls},
        outbound::Outbound,
    },
};

use crate::helpers::*;

const BSUID: &str = "US.13491208655302741918";

/// A request to `customer` of the test number, as the operator sends it.
fn to_customer(customer: &str, key: &str, content: Outbound) -> SendRequest {
    SendRequest {
        to: SendTo::Customer {
            phone_number_id: PHONE_NUMBER_ID.into(),
            customer: CustomerId::parse(customer).unwrap(),
            numbers: None,
        },
        content,
        reply_to: None,
        idempotency_key: key.into(),
        sent_by: SentBy::Operator,
    }
}

fn hello() -> Outbound {
    Outbound::Text {
        body: "Hello!".into(),
        preview_url: false,
    }
}

async fn send(s: &Sending, request: SendRequest) -> Result<Queued, SendError> {
    s.service.send(s.app.tenant_id, request).await
}

async fn count(s: &Sending, sql: &str) -> i64 {
    scalar(s, sql).await
}

async fn scalar<T>(s: &Sending, sql: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    s.app.scalar(sql).await
}

#[sqlx::test]
async fn a_send_to_a_new_phone_starts_the_conversation_and_the_same_key_returns_the_same_message(
    pool: PgPool,
) {
    let s = Sending::new(pool).await;
    s.template("order_update", "en_US", "UTILITY", order_update())
        .await;
    let content = template("order_update", "en_US", order_update_params());

    let queued = send(&s, to_customer("+1 555-000 3333", "k1", content.clone()))
        .await
        .unwrap();
    let again = send(&s, to_customer("15550003333", "k1", content))
        .await
        .unwrap();

    assert!(!queued.duplicate);
    assert_eq!(
        (again.message_id, again.conversation_id, again.duplicate),
        (queued.message_id, queued.conversation_id, true)
    );
    let started: ConversationId = scalar(
        &s,
        "select c.id from conversations c join contacts k on k.id = c.contact_id
         where k.wa_id = '15550003333'",
    )
    .await;
    assert_eq!(started, queued.conversation_id);
    assert_eq!(
        s.wait_for(queued.message_id, MessageStatus::Read).await.0,
        MessageStatus::Read
    );
    assert_eq!(s.sends(), 1);
}

#[sqlx::test]
async fn a_send_to_a_customer_who_wrote_goes_to_their_conversation(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(1).await;

    let queued = send(&s, to_customer("+1 555 000 1111", "k1", hello()))
        .await
        .unwrap();

    assert_eq!(queued.conversation_id, conversation);
    assert_eq!(
        s.wait_for(queued.message_id, MessageStatus::Read).await.0,
        MessageStatus::Read
    );
}

#[sqlx::test]
async fn a_refused_first_message_leaves_no_conversation_behind(pool: PgPool) {
    let s = Sending::new(pool).await;

    let refused = refusal(send(&s, to_customer("+1 555 000 4444", "k1", hello())).await);

    assert!(matches!(refused, SendRefused::WindowNeverOpened { .. }));
    assert_eq!(count(&s, "select count(*) from contacts").await, 0);
    assert_eq!(count(&s, "select count(*) from conversations").await, 0);
}

#[sqlx::test]
async fn a_send_to_a_business_scoped_user_id_reaches_the_conversation_they_started(pool: PgPool) {
    let s = Sending::new(pool).await;
    let now = chrono::Utc::now().timestamp();
    let message = json!({
        "from_user_id": BSUID, "id": "wamid.bsuid.1", "timestamp": now.to_string(),
        "type": "text", "text": { "body": "Does it come in blue?" }
    });
    let mut body: Value = serde_json::from_str(&messages_webhook(vec![message], vec![])).unwrap();
    body["entry"][0]["changes"][0]["value"]["contacts"] =
        json!([{ "profile": { "name": "Sheena" }, "user_id": BSUID }]);
    s.app.deliver(body.to_string()).await;
    let conversation: ConversationId = scalar(&s, "select id from conversations").await;

    let queued = send(&s, to_customer(BSUID, "k1", hello())).await.unwrap();
    let again = send(&s, to_customer(BSUID, "k1", hello())).await.unwrap();

    assert_eq!(queued.conversation_id, conversation);
    assert_eq!(
        (again.message_id, again.duplicate),
        (queued.message_id, true)
    );
    let to: String = addressed_to(&s, queued.message_id).await;
    assert_eq!(to, BSUID);
}

/// The business-scoped user the message was addressed to (Meta takes one as `recipient`).
async fn addressed_to(s: &Sending, message_id: MessageId) -> String {
    sqlx::query_scalar("select content ->> 'recipient' from messages where id = $1")
        .bind(message_id)
        .fetch_one(&s.app.pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_send_through_another_tenants_number_is_refused_and_starts_nothing(pool: PgPool) {
    let s = Sending::new(pool).await;
    let (other, other_app) = s.app.add_tenant("Globex", "999000111", "globex").await;
    s.app
        .add_number(other, other_app, "5550009999", "9990001", None)
        .await;
    let mut request = to_customer("+1 555 000 1111", "k1", hello());
    request.to = SendTo::Customer {
        phone_number_id: "5550009999".into(),
        customer: CustomerId::WaId(CUSTOMER.into()),
        numbers: None,
    };

    let refused = refusal(send(&s, request).await);

    assert!(
        matches!(&refused, SendRefused::NumberNotFound { phone_number_id } if phone_number_id == "5550009999")
    );
    assert_eq!(refused.code(), "number_not_found");
    assert_eq!(count(&s, "select count(*) from conversations").await, 0);
}

#[sqlx::test]
async fn a_send_limited_to_other_numbers_is_refused_as_if_the_number_did_not_exist(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(1).await;
    let other = s
        .app
        .add_number(s.app.tenant_id, s.app.app_id, "5550009999", WABA_ID, None)
        .await;
    let limited = |numbers| {
        let mut request = to_customer("+1 555 000 1111", "k1", hello());
        request.to = SendTo::Customer {
            phone_number_id: PHONE_NUMBER_ID.into(),
            customer: CustomerId::WaId(CUSTOMER.into()),
            numbers: Some(numbers),
        };
        request
    };

    let ours: NumberId = scalar(
        &s,
        &format!("select id from phone_numbers where phone_number_id = '{PHONE_NUMBER_ID}'"),
    )
    .await;

    let refused = refusal(send(&s, limited(vec![other])).await);
    let queued = send(&s, limited(vec![other, ours])).await.unwrap();

    assert!(
        matches!(&refused, SendRefused::NumberNotFound { phone_number_id } if phone_number_id == PHONE_NUMBER_ID)
    );
    assert_eq!(queued.conversation_id, conversation);
}

#[sqlx::test]
async fn every_message_records_who_sent_it_and_a_retry_who_retried(pool: PgPool) {
    let s = Sending::new(pool).await;
    let conversation = s.conversation(1).await;
    let agent: UserId = sqlx::query_scalar(
        "insert into users (tenant_id, email, password_hash, role)
         values ($1, 'ana@acme.test', 'x', 'agent') returning id",
    )
    .bind(s.app.tenant_id)
    .fetch_one(&s.app.pool)
    .await
    .unwrap();
    let mut conn = s.app.pool.acquire().await.unwrap();
    let api_key = api_keys::create(&mut conn, s.app.tenant_id, None, "Shop", &[], 10)
        .await
        .unwrap()
        .unwrap()
        .id;

    for (key, by) in [
        ("k-agent", SentBy::Agent(agent)),
        ("k-api", SentBy::ApiKey(api_key)),
        ("k-operator", SentBy::Operator),
    ] {
        let request = SendRequest {
            to: SendTo::Conversation(conversation),
            content: hello(),
            reply_to: None,
            idempotency_key: key.into(),
            sent_by: by,
        };
        let queued = s.service.send(s.app.tenant_id, request).await.unwrap();
        let recorded = messages::sent_by(&mut conn, s.app.tenant_id, queued.message_id)
            .await
            .unwrap();
        assert_eq!(recorded, Some(by), "{key}");
        // Delivered before the failure is queued, which the next send takes.
        s.wait_for(queued.message_id, MessageStatus::Read).await;
    }

    s.fail_next(131026).await;
    let failed = s.send_text(conversation, "k-fails", "Again").await.unwrap();
    s.wait_for(failed.message_id, MessageStatus::Failed).await;
    let by = SentBy::Agent(agent);
    s.service
        .retry(s.app.tenant_id, failed.message_id, by)
        .await
        .unwrap();
    let (user_id, details): (Option<UserId>, Value) =
        sqlx::query_as("select user_id, details from audit_log where action = 'message.retry'")
            .fetch_one(&s.app.pool)
            .await
            .unwrap();
    assert_eq!(user_id, Some(agent));
    assert_eq!(details["message_id"], failed.message_id.get());
    assert_eq!(details["by"], "agent");
}

#[sqlx::test]
async fn registering_a_number_creates_its_app_once_and_audits_it(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let cipher = app.config.secret_key.cipher();
    let registration = |phone_number_id, secrets: Option<AppSecrets>| Registration {
        tenant_id: app.tenant_id,
        meta_app_id: "1048576000000001",
        app_secrets: secrets,
        phone_number_id,
        waba_id: "555000111",
        display_phone_number: Some("+1 555 078 3881"),
        access_token: "EAAG-token".into(),
        by: None,
    };
    let secrets = || AppSecrets {
        app_secret: "s3cret".into(),
        verify_token: "verify-me".into(),
    };
    let mut tx = app.pool.begin().await.unwrap();

    let first = numbers::register(&mut tx, &cipher, registration("2001", Some(secrets())))
        .await
        .unwrap();
    let second = numbers::register(&mut tx, &cipher, registration("2002", None))
        .await
        .unwrap();
    let duplicate = numbers::register(&mut tx, &cipher, registration("2001", None)).await;
    tx.commit().await.unwrap();

    assert_ne!(first, second);
    let error = format!("{:#}", duplicate.unwrap_err());
    assert!(error.contains("already registered"), "{error}");
    let apps: i64 = app
        .scalar("select count(*) from meta_apps where meta_app_id = '1048576000000001'")
        .await;
    assert_eq!(apps, 1);
    let audited: i64 = app
        .scalar("select count(*) from audit_log where action = 'number.add'")
        .await;
    assert_eq!(audited, 2);
}

#[sqlx::test]
async fn registering_under_a_new_app_needs_its_secrets(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut tx = app.pool.begin().await.unwrap();
    let registration = Registration {
        tenant_id: app.tenant_id,
        meta_app_id: "1048576000000002",
        app_secrets: None,
        phone_number_id: "2003",
        waba_id: "555000111",
        display_phone_number: None,
        access_token: "EAAG-token".into(),
        by: None,
    };

    let refused = numbers::register(&mut tx, &app.config.secret_key.cipher(), registration).await;

    let error = format!("{:#}", refused.unwrap_err());
    assert!(error.contains("META_APP_SECRET"), "{error}");
}

/// A Meta that lists `bindambc`'s two template pages, and the bearer tokens it was called with.
pub(crate) async fn template_lister() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let tokens = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = tokens.clone();
    let list = move |Query(query): Query<std::collections::HashMap<String, String>>,
                     headers: HeaderMap| {
        let seen = seen.clone();
        async move {
            let token = headers["authorization"].to_str().unwrap().to_owned();
            seen.lock().unwrap().push(token);
            let page = match query.get("after").map(String::as_str) {
                None => "bindambc__list_templates_response_2.json",
                Some(_) => "bindambc__list_templates_response_3.json",
            };
            let path = format!(
                "{}/../shared/corpus/templates/{page}",
                env!("CARGO_MANIFEST_DIR")
            );
            Json(serde_json::from_str::<Value>(&std::fs::read_to_string(path).unwrap()).unwrap())
        }
    };
    let router = Router::new().route("/v23.0/{waba}/message_templates", get(list));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, tokens)
}

#[sqlx::test]
async fn template_sync_stores_every_page_meta_lists(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (meta, tokens) = template_lister().await;
    let urls = GraphUrls {
        meta,
        sandbox: app.config.sandbox_graph_url(),
    };
    let graph = GraphClient::new("v23.0").unwrap();
    let cipher = app.config.secret_key.cipher();

    let told = std::sync::Mutex::new(Vec::new());
    let progress = |stored| {
        told.lock().unwrap().push(stored);
        async { Ok(()) }
    };
    let synced = templates::sync(&app.pool, &cipher, &graph, &urls, app.tenant_id, progress)
        .await
        .unwrap();
    // Told after each of the two pages.
    let told = told.into_inner().unwrap();
    assert_eq!((told.len(), told.last()), (2, Some(&3)), "{told:?}");

    assert_eq!(synced.len(), 1);
    assert_eq!(
        (synced[0].waba_id.as_str(), synced[0].templates),
        (WABA_ID, 3)
    );
    let stored: Vec<(String, String)> =
        sqlx::query_as("select name, status from message_templates order by name")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        stored,
        [
            ("schedule_confirmation5".into(), "APPROVED".into()),
            ("welcome_template3".into(), "REJECTED".into())
        ]
    );
    assert_eq!(
        *tokens.lock().unwrap(),
        ["Bearer test-access-token", "Bearer test-access-token"]
    );
}
