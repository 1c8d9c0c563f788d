//! Real WhatsApp SDKs, unchanged but for their base URL and token, against the running server
//! (`tests/sdk/`): pywa (its documented `session=` client), @kapso/whatsapp-cloud-api (`baseUrl`)
//! and whatsapp-api-js (its `ponyfill.fetch`). Each sends text, a reply, a template with
//! parameters, an uploaded image; marks a message read; and gets its typed refusal for a message
//! outside the window and for a marketing template to a customer who opted out. Without Python
//! and pywa, or Node and the SDKs (`npm ci` in `tests/sdk`), they say so loudly and skip, unless
//! `SWITCHBOARD_SDK_TESTS=required` (set by `.ci/run`, which installs them).

use std::path::PathBuf;

use tokio::process::Command;

use serde_json::{Value, json};
use sqlx::PgPool;

use super::*;

const CLOSED: &str = "15550002222";
const OPTED_OUT: &str = "15550003333";
const INBOUND: &str = "wamid.in.sdk";

pub fn sdk_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk"))
}

/// Whether the runtime and the SDK are here; when not, skips loudly, or fails when required.
pub async fn available(what: &str, check: &mut Command) -> bool {
    let present = check
        .current_dir(sdk_dir())
        .output()
        .await
        .is_ok_and(|output| output.status.success());
    if !present {
        let required = std::env::var("SWITCHBOARD_SDK_TESTS").as_deref() == Ok("required");
        assert!(
            !required,
            "{what} is missing and SWITCHBOARD_SDK_TESTS=required"
        );
        eprintln!(
            "\n*** SKIPPED: {what} is missing (pip install -r tests/sdk/requirements.txt; \
             npm ci --prefix tests/sdk); set SWITCHBOARD_SDK_TESTS=required to fail instead ***\n"
        );
    }
    present
}

/// A tenant with three customers (one in the window, one whose window closed, one who opted out
/// of marketing), a utility and a marketing template, and a program's key; runs `program` with
/// them in its environment and returns what it printed.
async fn run(pool: PgPool, program: &mut Command) -> (Integrator, Value) {
    let integrator = Integrator::served(pool).await;
    let app = &integrator.app;
    customer_writes(app, INBOUND, "Where is my order?", 1).await;
    customer_writes_as(app, CLOSED, "wamid.in.closed", "Hello", 30).await;
    customer_writes_as(app, OPTED_OUT, "wamid.in.optout", "STOP", 1).await;
    sqlx::query("update contacts set opted_out_at = now() where wa_id = $1")
        .bind(OPTED_OUT)
        .execute(&app.pool)
        .await
        .unwrap();
    approved_template(app).await;
    let components = json!([{ "type": "BODY", "text": "Spring sale: {{1}} off everything.",
                              "example": { "body_text": [["20%"]] } }]);
    let record = switchboard::domain::templates::TemplateRecord {
        meta_template_id: None,
        name: "spring_sale",
        language: "en_US",
        category: Some("MARKETING"),
        status: "APPROVED",
        components: &components,
        parameter_format: "POSITIONAL",
    };
    let mut conn = app.pool.acquire().await.unwrap();
    switchboard::domain::templates::upsert(&mut conn, app.tenant_id, WABA_ID, &record)
        .await
        .unwrap();
    drop(conn);

    let url = format!("{}/graph", app.url);
    let output = program
        .current_dir(sdk_dir())
        .env("SB_GRAPH_URL", &url)
        .env("SB_KEY", &integrator.key)
        .env("SB_PHONE_ID", PHONE_NUMBER_ID)
        .env("SB_WABA_ID", WABA_ID)
        .env("SB_CUSTOMER_OPEN", CUSTOMER)
        .env("SB_CUSTOMER_CLOSED", CLOSED)
        .env("SB_CUSTOMER_OPTED_OUT", OPTED_OUT)
        .env("SB_INBOUND_WAMID", INBOUND)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let got = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|_| panic!("not JSON: {stdout}"));
    (integrator, got)
}

/// The sends the SDK reported went out under Meta's wamids, as the key, the reply quoting the
/// customer's message; nothing went to the customers it was refused for.
async fn check_sends(integrator: &Integrator, got: &Value) {
    for step in ["text", "reply", "template", "image"] {
        let wamid = got[step].as_str().unwrap_or_default();
        assert!(wamid.starts_with("wamid."), "{step}: {got}");
        let (kind, context): (String, Option<String>) =
            sqlx::query_as("select sent_by_kind, context_wamid from messages where wamid = $1")
                .bind(wamid)
                .fetch_one(&integrator.app.pool)
                .await
                .unwrap();
        assert_eq!(kind, "api_key", "{step}");
        assert_eq!(
            context.as_deref() == Some(INBOUND),
            step == "reply",
            "{step}"
        );
    }
    let refused: i64 = sqlx::query_scalar(
        "select count(*) from messages m
         join conversations c on c.id = m.conversation_id
         join contacts k on k.id = c.contact_id
         where m.direction = 'outbound' and k.wa_id in ($1, $2)",
    )
    .bind(CLOSED)
    .bind(OPTED_OUT)
    .fetch_one(&integrator.app.pool)
    .await
    .unwrap();
    assert_eq!(refused, 0);
}

#[sqlx::test]
async fn pywa(pool: PgPool) {
    let mut check = Command::new("python3");
    if !available("pywa", check.args(["-c", "import pywa"])).await {
        return;
    }
    let (integrator, got) = run(pool, Command::new("python3").arg("pywa_client.py")).await;
    check_sends(&integrator, &got).await;
    assert_eq!(got["media_bytes"], 13, "{got}");
    assert_eq!(got["read"], true);
    assert_eq!(got["templates"], json!(["order_update", "spring_sale"]));
    assert_eq!(got["reengagement"], "ReEngagementMessage");
    assert_eq!(
        got["opted_out"],
        json!(["UserStoppedMarketingMessages", 131050])
    );
}

#[sqlx::test]
async fn kapso_whatsapp_cloud_api(pool: PgPool) {
    let mut check = Command::new("node");
    let probe = "import('@kapso/whatsapp-cloud-api')";
    if !available("@kapso/whatsapp-cloud-api", check.args(["-e", probe])).await {
        return;
    }
    let (integrator, got) = run(pool, Command::new("node").arg("kapso_client.mjs")).await;
    check_sends(&integrator, &got).await;
    assert_eq!(got["media_mime"], "image/png", "{got}");
    assert_eq!(got["read"], true);
    assert_eq!(got["templates"], json!(["order_update", "spring_sale"]));
    assert_eq!(got["reengagement"], json!([131047, "reengagementWindow"]));
    assert_eq!(got["opted_out"][0], 131050);
}

#[sqlx::test]
async fn whatsapp_api_js(pool: PgPool) {
    let mut check = Command::new("node");
    if !available(
        "whatsapp-api-js",
        check.args(["-e", "import('whatsapp-api-js')"]),
    )
    .await
    {
        return;
    }
    let (integrator, got) = run(pool, Command::new("node").arg("whatsapp_api_js_client.mjs")).await;
    check_sends(&integrator, &got).await;
    assert_eq!(got["media_mime"], "image/png", "{got}");
    assert_eq!(got["read"], true);
    assert_eq!(got["reengagement"], 131047);
    assert_eq!(got["opted_out"], 131050);
}
