//! The fake Graph API over real HTTP: Meta's success and error bodies, queued faults, the 24-hour
//! rule, template checks, media, template management, and the signed webhooks it sends back to
//! Switchboard's webhook endpoint (served on a real port by `TestApp`).

use std::time::Duration;

use reqwest::{RequestBuilder, StatusCode, multipart};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use switchboard::sandbox::{FakeGraph, FakeGraphConfig, queue_fault};
use tokio::time::{Instant, sleep};

use crate::helpers::*;

const TOKEN: &str = "test-access-token";
const STRANGER: &str = "15550009999";

/// A `TestApp` and a fake Meta posting its webhooks to it.
struct Meta {
    app: TestApp,
    fake: FakeGraph,
    url: String,
    http: reqwest::Client,
}

impl Meta {
    async fn new(pool: PgPool) -> Self {
        Self::with_delays(pool, Some([20, 40, 60].map(Duration::from_millis))).await
    }

    async fn with_delays(pool: PgPool, status_delays: Option<[Duration; 3]>) -> Self {
        let app = TestApp::new(pool).await;
        let config = FakeGraphConfig {
            switchboard_url: app.url.clone(),
            status_delays,
            public_url: String::new(),
            sandbox_only: false,
        };
        let fake = FakeGraph::new(app.pool.clone(), app.config.secret_key.cipher(), config);
        let url = fake.clone().spawn().await.unwrap();
        Self {
            app,
            fake,
            url,
            http: reqwest::Client::new(),
        }
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(TOKEN)
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(TOKEN)
    }

    async fn call(&self, request: RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    async fn send(&self, body: Value) -> (StatusCode, Value) {
        self.call(
            self.post(&format!("/v23.0/{PHONE_NUMBER_ID}/messages"))
                .json(&body),
        )
        .await
    }

    async fn send_text(&self, to: &str) -> (StatusCode, Value) {
        let body = json!({ "messaging_product": "whatsapp", "to": to, "type": "text", "text": { "body": "Hi!" } });
        self.send(body).await
    }

    async fn send_template(
        &self,
        name: &str,
        language: &str,
        components: Value,
    ) -> (StatusCode, Value) {
        self.send(json!({
            "messaging_product": "whatsapp",
            "to": STRANGER,
            "type": "template",
            "template": { "name": name, "language": { "code": language }, "components": components },
        }))
        .await
    }

    /// [`CUSTOMER`] writes to the number, `hours_ago` hours ago (by the real clock).
    async fn customer_wrote(&self, hours_ago: i64) {
        let ts = chrono::Utc::now().timestamp() - hours_ago * 3600;
        let message = text(&format!("wamid.in.{ts}"), ts, "Hello?");
        self.app
            .deliver(messages_webhook(vec![message], vec![]))
            .await;
    }

    /// Stores a template for the test WABA, as Switchboard keeps them.
    async fn template(&self, name: &str, language: &str, status: &str, components: Value) {
        sqlx::query(
            "insert into message_templates (tenant_id, waba_id, meta_template_id, name, language,
                 category, status, components)
             values ($1, $2, $3, $4, $5, 'UTILITY', $6, $7)",
        )
        .bind(self.app.tenant_id)
        .bind(WABA_ID)
        .bind(format!("meta-{name}-{language}"))
        .bind(name)
        .bind(language)
        .bind(status)
        .bind(components)
        .execute(&self.app.pool)
        .await
        .unwrap();
    }

    /// Applies webhooks as they arrive until `count_sql` (bound to `bind`) reaches `expected`.
    async fn wait_for(&self, count_sql: &str, bind: &str, expected: i64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            self.app.apply().await;
            let count: i64 = sqlx::query_scalar(count_sql)
                .bind(bind)
                .fetch_one(&self.app.pool)
                .await
                .unwrap();
            if count >= expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {expected}: {count_sql} ({bind})"
            );
            sleep(Duration::from_millis(20)).await;
        }
    }

    async fn statuses(&self, wamid: &str) -> Vec<(String, Option<Value>, Option<Value>)> {
        sqlx::query_as(
            "select status, errors, pricing from message_statuses where wamid = $1 order by id",
        )
        .bind(wamid)
        .fetch_all(&self.app.pool)
        .await
        .unwrap()
    }
}

fn wamid(body: &Value) -> String {
    body["messages"][0]["id"].as_str().unwrap().to_owned()
}

const STATUS_COUNT: &str = "select count(*) from message_statuses where wamid = $1";

#[sqlx::test]
async fn a_wrong_or_missing_token_is_refused_like_meta(pool: PgPool) {
    let meta = Meta::new(pool).await;
    let path = format!("/v23.0/{PHONE_NUMBER_ID}/messages");
    let body = json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "text": { "body": "Hi" } });

    let (status, error) = meta
        .call(
            meta.http
                .post(format!("{}{path}", meta.url))
                .bearer_auth("EAAG-wrong")
                .json(&body),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error["error"]["code"], 190);
    assert_eq!(error["error"]["type"], "OAuthException");
    assert_eq!(
        error["error"]["message"],
        "Invalid OAuth access token - Cannot parse access token"
    );
    assert!(
        error["error"]["fbtrace_id"]
            .as_str()
            .unwrap()
            .starts_with('A')
    );

    let url = format!("{}{path}", meta.url);
    let (status, error) = meta.call(meta.http.post(url).json(&body)).await;
    assert_eq!(
        (status, error["error"]["code"].as_i64()),
        (StatusCode::UNAUTHORIZED, Some(104))
    );

    let call = &meta.fake.calls()[0];
    assert_eq!(
        (call.method.as_str(), call.path.as_str(), call.status),
        ("POST", path.as_str(), 401)
    );
    assert_eq!(
        (call.phone_number_id.as_deref(), call.error_code),
        (Some(PHONE_NUMBER_ID), Some(190))
    );
}

#[sqlx::test]
async fn unknown_numbers_and_paths_are_unsupported_requests(pool: PgPool) {
    let meta = Meta::new(pool).await;
    let body = json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "text": { "body": "Hi" } });
    let (status, error) = meta
        .call(meta.post("/v23.0/999000999/messages").json(&body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["code"], 100);
    assert_eq!(error["error"]["error_subcode"], 33);
    assert_eq!(error["error"]["type"], "GraphMethodException");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Unsupported post request. Object with ID '999000999' does not exist"),
        "{message}"
    );

    for path in [
        format!("/v23.0/{PHONE_NUMBER_ID}/nonsense"),
        format!("/latest/{PHONE_NUMBER_ID}"),
    ] {
        let (status, error) = meta.call(meta.get(&path)).await;
        assert_eq!(
            (status, &error["error"]["error_subcode"]),
            (StatusCode::BAD_REQUEST, &json!(33)),
            "{path}"
        );
    }
    let (status, error) = meta
        .call(meta.get(&format!("/v23.0/{PHONE_NUMBER_ID}/messages")))
        .await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (StatusCode::BAD_REQUEST, &json!(100))
    );
}

#[sqlx::test]
async fn requests_are_checked_like_meta_checks_them(pool: PgPool) {
    let meta = Meta::new(pool).await;
    let (status, error) = meta
        .send(json!({ "to": CUSTOMER, "text": { "body": "Hi" } }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error["error"]["message"],
        "(#100) The parameter messaging_product is required."
    );

    let (_, error) = meta
        .send(json!({ "messaging_product": "sms", "to": CUSTOMER, "text": { "body": "Hi" } }))
        .await;
    assert_eq!(error["error"]["code"], 100);
    let details = error["error"]["error_data"]["details"].as_str().unwrap();
    assert!(details.contains("messaging_product"), "{details}");

    let read =
        json!({ "messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN" });
    assert_eq!(
        meta.send(read).await,
        (StatusCode::OK, json!({ "success": true }))
    );
}

#[sqlx::test]
async fn a_text_inside_the_window_is_sent_delivered_and_read_by_signed_webhooks(pool: PgPool) {
    let meta = Meta::new(pool).await;
    meta.customer_wrote(1).await;

    let (status, body) = meta.send_text(&format!("+{CUSTOMER}")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["messaging_product"], "whatsapp");
    assert_eq!(
        body["contacts"],
        json!([{ "input": format!("+{CUSTOMER}"), "wa_id": CUSTOMER }])
    );
    let wamid = wamid(&body);
    assert!(wamid.starts_with("wamid.HBg"), "{wamid}");
    assert!(body["messages"][0].get("message_status").is_none());

    meta.wait_for(STATUS_COUNT, &wamid, 3).await;
    let statuses = meta.statuses(&wamid).await;
    let kinds: Vec<&str> = statuses
        .iter()
        .map(|(status, ..)| status.as_str())
        .collect();
    assert_eq!(kinds, ["sent", "delivered", "read"]);
    let pricing = statuses[0].2.as_ref().unwrap();
    assert_eq!(
        (&pricing["category"], &pricing["billable"]),
        (&json!("service"), &json!(true))
    );
    let failed: i64 = meta
        .app
        .scalar("select count(*) from webhook_events where state <> 'applied'")
        .await;
    assert_eq!(failed, 0, "every webhook was signed, accepted and applied");
}

#[sqlx::test]
async fn a_text_outside_the_window_is_accepted_then_fails_with_131047(pool: PgPool) {
    let meta = Meta::new(pool).await;
    meta.customer_wrote(25).await;

    let (status, late) = meta.send_text(CUSTOMER).await;
    assert_eq!(status, StatusCode::OK, "Meta accepts it first");
    let (status, never_wrote) = meta.send_text(STRANGER).await;
    assert_eq!(status, StatusCode::OK);

    for wamid in [wamid(&late), wamid(&never_wrote)] {
        meta.wait_for(STATUS_COUNT, &wamid, 1).await;
        let statuses = meta.statuses(&wamid).await;
        let (status, errors, _) = &statuses[0];
        assert_eq!(status, "failed");
        let error = &errors.as_ref().unwrap()[0];
        assert_eq!(
            (&error["code"], &error["title"]),
            (&json!(131047), &json!("Re-engagement message"))
        );
    }
    // The delivered and read delays have passed: nothing but the failure was reported.
    sleep(Duration::from_millis(150)).await;
    meta.app.apply().await;
    assert_eq!(meta.statuses(&wamid(&late)).await.len(), 1);
}

#[sqlx::test]
async fn a_template_must_exist_in_that_language_and_be_approved(pool: PgPool) {
    let meta = Meta::new(pool).await;
    let body = json!([{ "type": "BODY", "text": "Your order shipped." }]);

    let (status, error) = meta.send_template("order_update", "en_US", json!([])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["error"]["code"], 132001);
    assert_eq!(
        error["error"]["message"],
        "(#132001) Template name does not exist in the translation"
    );
    assert_eq!(
        error["error"]["error_data"]["details"],
        "template name (order_update) does not exist in en_US"
    );

    meta.template("order_update", "en_US", "PENDING", body.clone())
        .await;
    meta.template("order_update", "es", "APPROVED", body.clone())
        .await;
    let (status, error) = meta.send_template("order_update", "en_US", json!([])).await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (StatusCode::NOT_FOUND, &json!(132001))
    );
    let (status, _) = meta.send_template("order_update", "es", json!([])).await;
    assert_eq!(status, StatusCode::OK);

    meta.template("paused_one", "en_US", "PAUSED", body).await;
    let (_, error) = meta.send_template("paused_one", "en_US", json!([])).await;
    assert_eq!(error["error"]["code"], 132015);
}

#[sqlx::test]
async fn a_template_needs_as_many_parameters_as_placeholders(pool: PgPool) {
    let meta = Meta::new(pool).await;
    let definition = json!([
        { "type": "BODY", "text": "Hi {{1}}, order {{2}} ships today." },
        { "type": "BUTTONS", "buttons": [{ "type": "URL", "text": "Track", "url": "https://x.test/{{1}}" }] },
    ]);
    meta.template("shipping", "en_US", "APPROVED", definition)
        .await;
    let text = |t: &str| json!({ "type": "text", "text": t });
    let body = |params: Vec<Value>| json!({ "type": "body", "parameters": params });
    let button =
        json!({ "type": "button", "sub_type": "url", "index": "0", "parameters": [text("A1")] });

    let (status, error) = meta
        .send_template(
            "shipping",
            "en_US",
            json!([body(vec![text("Dana")]), button]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["code"], 132000);
    assert_eq!(
        error["error"]["error_data"]["details"],
        "body: number of localizable_params (1) does not match the expected number of params (2)"
    );
    let (_, error) = meta
        .send_template(
            "shipping",
            "en_US",
            json!([body(vec![text("Dana"), text("A1")])]),
        )
        .await;
    assert_eq!(
        error["error"]["code"], 132000,
        "the button's parameter is missing"
    );

    let components = json!([body(vec![text("Dana"), text("A1")]), button]);
    let (status, sent) = meta.send_template("shipping", "en_US", components).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sent["messages"][0]["message_status"], "accepted");
    // Templates need no open window: the stranger who never wrote gets it.
    let wamid = wamid(&sent);
    meta.wait_for(STATUS_COUNT, &wamid, 3).await;
    let pricing = meta.statuses(&wamid).await[0].2.clone().unwrap();
    assert_eq!(pricing["category"], "utility");

    meta.template(
        "named",
        "en_US",
        "APPROVED",
        json!([{ "type": "BODY", "text": "Hi {{first_name}}!" }]),
    )
    .await;
    let named = json!([{ "type": "body", "parameters": [{ "type": "text", "parameter_name": "first_name", "text": "Dana" }] }]);
    assert_eq!(
        meta.send_template("named", "en_US", named).await.0,
        StatusCode::OK
    );
}

#[sqlx::test]
async fn a_queued_fault_answers_the_next_send_once_with_that_error(pool: PgPool) {
    let meta = Meta::new(pool).await;
    meta.customer_wrote(1).await;
    let number_id: i64 = meta.app.scalar("select id from phone_numbers").await;
    let mut conn = meta.app.pool.acquire().await.unwrap();
    queue_fault(&mut conn, number_id, 130429).await.unwrap();
    queue_fault(&mut conn, number_id, 131000).await.unwrap();

    let (status, error) = meta.send_text(CUSTOMER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["message"], "(#130429) Rate limit hit");
    assert_eq!(
        (
            &error["error"]["error_subcode"],
            &error["error"]["is_transient"]
        ),
        (&json!(2494055), &json!(true))
    );
    assert_eq!(
        error["error"]["error_data"]["messaging_product"],
        "whatsapp"
    );
    let (status, error) = meta.send_text(CUSTOMER).await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (StatusCode::INTERNAL_SERVER_ERROR, &json!(131000))
    );
    assert_eq!(
        meta.send_text(CUSTOMER).await.0,
        StatusCode::OK,
        "each fault answers once"
    );

    let codes: Vec<Option<i64>> = meta
        .fake
        .calls()
        .iter()
        .map(|call| call.error_code)
        .collect();
    assert_eq!(codes, [Some(130429), Some(131000), None]);
    assert_eq!(
        meta.app
            .scalar::<i64>("select count(*) from sandbox_faults")
            .await,
        0
    );
}

#[sqlx::test]
async fn media_round_trips_through_upload_info_and_download(pool: PgPool) {
    let meta = Meta::new(pool).await;
    let bytes: Vec<u8> = b"\x89PNG\r\n\x1a\n fake image".to_vec();
    let file = multipart::Part::bytes(bytes.clone())
        .file_name("dot.png")
        .mime_str("image/png")
        .unwrap();
    let form = multipart::Form::new()
        .text("messaging_product", "whatsapp")
        .text("type", "image/png")
        .part("file", file);

    let (status, uploaded) = meta
        .call(
            meta.post(&format!("/v23.0/{PHONE_NUMBER_ID}/media"))
                .multipart(form),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let id = uploaded["id"].as_str().unwrap().to_owned();

    let (status, info) = meta.call(meta.get(&format!("/v23.0/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["messaging_product"], "whatsapp");
    assert_eq!(info["url"], format!("{}/media/{id}", meta.url));
    assert_eq!(info["mime_type"], "image/png");
    assert_eq!(info["sha256"], hex::encode(Sha256::digest(&bytes)));
    assert_eq!(info["file_size"], bytes.len());
    assert_eq!(info["id"], id.as_str());

    let url = info["url"].as_str().unwrap();
    let download = meta.http.get(url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert_eq!(download.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let anonymous = meta.http.get(url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = meta
        .call(
            meta.http
                .get(format!("{}/v23.0/{id}", meta.url))
                .bearer_auth("EAAG-wrong"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test]
async fn templates_are_listed_page_by_page(pool: PgPool) {
    let meta = Meta::new(pool).await;
    for name in ["alpha", "bravo", "charlie"] {
        meta.template(
            name,
            "en_US",
            "APPROVED",
            json!([{ "type": "BODY", "text": "Hi {{1}}" }]),
        )
        .await;
    }
    let (other_tenant, other_app) = meta.app.add_tenant("Other", "999", "other-secret").await;
    meta.app
        .add_number(other_tenant, other_app, "5550001", "777", None)
        .await;

    let path = format!("/v23.0/{WABA_ID}/message_templates");
    let (status, first) = meta.call(meta.get(&path).query(&[("limit", "2")])).await;
    assert_eq!(status, StatusCode::OK);
    let names = |page: &Value| {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&first), ["alpha", "bravo"]);
    let template = &first["data"][0];
    assert_eq!(
        (&template["status"], &template["category"]),
        (&json!("APPROVED"), &json!("UTILITY"))
    );
    assert_eq!(
        (&template["id"], &template["parameter_format"]),
        (&json!("meta-alpha-en_US"), &json!("POSITIONAL"))
    );
    assert!(first["paging"]["next"].is_string());

    let after = first["paging"]["cursors"]["after"].as_str().unwrap();
    let (_, second) = meta
        .call(meta.get(&path).query(&[("limit", "2"), ("after", after)]))
        .await;
    assert_eq!(names(&second), ["charlie"]);
    assert!(second["paging"].get("next").is_none());

    let (_, other) = meta.call(meta.get("/v23.0/777/message_templates")).await;
    assert_eq!(
        other,
        json!({ "data": [] }),
        "another WABA's templates are its own"
    );
}

#[sqlx::test]
async fn a_created_template_is_pending_then_reviewed_by_webhook(pool: PgPool) {
    let meta = Meta::new(pool).await;
    let path = format!("/v23.0/{WABA_ID}/message_templates");
    let create = |name: &str| {
        json!({
            "name": name,
            "language": "en_US",
            "category": "UTILITY",
            "parameter_format": "positional",
            "components": [{ "type": "BODY", "text": "Your order {{1}} shipped.", "example": { "body_text": [["A1"]] } }],
        })
    };

    let (status, created) = meta
        .call(meta.post(&path).json(&create("order_shipped")))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&created["status"], &created["category"]),
        (&json!("PENDING"), &json!("UTILITY"))
    );
    let id = created["id"].as_str().unwrap();
    let (_, rejected) = meta.call(meta.post(&path).json(&create("reject_me"))).await;

    let approved = "select count(*) from message_templates where meta_template_id = $1 and status = 'APPROVED'";
    meta.wait_for(approved, id, 1).await;
    let rejected_sql = "select count(*) from message_templates
                        where meta_template_id = $1 and status = 'REJECTED' and status_reason = 'INVALID_FORMAT'";
    meta.wait_for(rejected_sql, rejected["id"].as_str().unwrap(), 1)
        .await;

    let delete = meta
        .http
        .delete(format!("{}{path}", meta.url))
        .bearer_auth(TOKEN);
    let (status, deleted) = meta.call(delete.query(&[("name", "order_shipped")])).await;
    assert_eq!(
        (status, deleted),
        (StatusCode::OK, json!({ "success": true }))
    );
    let delete = meta
        .http
        .delete(format!("{}{path}", meta.url))
        .bearer_auth(TOKEN);
    let (_, missing) = meta.call(delete.query(&[("name", "never_made")])).await;
    assert_eq!(
        (
            &missing["error"]["code"],
            &missing["error"]["error_subcode"]
        ),
        (&json!(100), &json!(2593002))
    );
}

#[sqlx::test]
async fn phone_number_details_come_from_switchboards_numbers(pool: PgPool) {
    let meta = Meta::new(pool).await;
    let path = format!("/v23.0/{PHONE_NUMBER_ID}");

    let (status, details) = meta.call(meta.get(&path)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        details,
        json!({
            "verified_name": "Acme",
            "display_phone_number": "+972 12 345 6789",
            "quality_rating": "UNKNOWN",
            "code_verification_status": "VERIFIED",
            "platform_type": "CLOUD_API",
            "throughput": { "level": "STANDARD" },
            "id": PHONE_NUMBER_ID,
        })
    );
    let (_, some) = meta
        .call(
            meta.get(&path)
                .query(&[("fields", "verified_name,quality_rating")]),
        )
        .await;
    assert_eq!(
        some,
        json!({ "verified_name": "Acme", "quality_rating": "UNKNOWN", "id": PHONE_NUMBER_ID })
    );
    let (status, error) = meta
        .call(meta.get(&path).query(&[("fields", "nonsense")]))
        .await;
    assert_eq!(
        (status, &error["error"]["code"]),
        (StatusCode::BAD_REQUEST, &json!(100))
    );
    let call = meta.fake.calls().pop().unwrap();
    assert_eq!(
        call.phone_number_id, None,
        "an error about the number is not a call on it"
    );
    assert_eq!(
        meta.fake.calls()[0].phone_number_id.as_deref(),
        Some(PHONE_NUMBER_ID)
    );
}

#[sqlx::test]
async fn without_status_delays_no_webhooks_are_sent(pool: PgPool) {
    let meta = Meta::with_delays(pool, None).await;
    meta.customer_wrote(1).await;
    let before: i64 = meta.app.scalar("select count(*) from webhook_events").await;

    assert_eq!(meta.send_text(CUSTOMER).await.0, StatusCode::OK);
    assert_eq!(meta.send_text(STRANGER).await.0, StatusCode::OK);

    sleep(Duration::from_millis(200)).await;
    assert_eq!(
        meta.app
            .scalar::<i64>("select count(*) from webhook_events")
            .await,
        before
    );
}
