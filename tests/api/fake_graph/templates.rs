//! Templates: sends checked against the stored definition (existence, approval, parameters), and
//! template management (listing page by page, creating with a review webhook, deleting).

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use super::{Meta, STATUS_COUNT, TOKEN, wamid};
use crate::helpers::*;

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
