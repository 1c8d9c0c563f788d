//! A WABA's templates through the Meta-compatible endpoint: listed with Meta's paging (its links
//! lead back here), created with the admin console's checks (and stored at once, so the inbox
//! offers one when Meta approves it), deleted by name.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use super::*;

#[sqlx::test]
async fn templates_are_listed_with_metas_paging_leading_back_here(pool: PgPool) {
    let program = Integrator::new(pool).await;
    approved_template(&program.app).await;
    sqlx::query(
        "insert into message_templates (tenant_id, waba_id, name, language, category, status, components, parameter_format)
         select tenant_id, waba_id, 'welcome', language, category, status, components, parameter_format
         from message_templates",
    )
    .execute(&program.app.pool)
    .await
    .unwrap();
    let (status, first) = program
        .get(&format!(
            "/{WABA_ID}/message_templates?limit=1&fields=name,status"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["data"].as_array().map(Vec::len), Some(1));
    let next = first["paging"]["next"].as_str().unwrap();
    let prefix = format!(
        "{}/graph/v23.0/{WABA_ID}/message_templates?",
        program.app.config.public_url
    );
    assert!(next.starts_with(&prefix), "{next}");
    // The link, followed here with the same key, gives the next page.
    let path = next
        .strip_prefix(&format!("{}/graph/v23.0", program.app.config.public_url))
        .unwrap();
    let (status, second) = program.get(path).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let names = [&first["data"][0]["name"], &second["data"][0]["name"]];
    assert!(
        names.contains(&&json!("order_update")) && names.contains(&&json!("welcome")),
        "{names:?}"
    );

    let (status, body) = program.get("/999000/message_templates").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error(&body)["error_subcode"], 33);
}

/// A utility template with a numbered variable, as an SDK would create it.
fn shipping_notice(name: &str) -> Value {
    json!({
        "name": name,
        "language": "en_US",
        "category": "utility",
        "components": [
            { "type": "BODY", "text": "Your parcel {{1}} is on its way.",
              "example": { "body_text": [["PK-1042"]] } },
            { "type": "FOOTER", "text": "Reply STOP to opt out" },
        ],
    })
}

#[sqlx::test]
async fn a_template_is_checked_created_and_stored_for_the_inbox(pool: PgPool) {
    let program = Integrator::new(pool).await;
    let path = format!("/{WABA_ID}/message_templates");
    let (status, created) = program
        .post(&path, shipping_notice("shipping_notice"))
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["status"], "PENDING");
    assert_eq!(created["category"], "UTILITY");
    let meta_id = created["id"].as_str().unwrap();
    let stored: (String, String, Value) = sqlx::query_as(
        "select language, status, components from message_templates
         where waba_id = $1 and name = 'shipping_notice' and meta_template_id = $2",
    )
    .bind(WABA_ID)
    .bind(meta_id)
    .fetch_one(&program.app.pool)
    .await
    .unwrap();
    assert_eq!(stored.0, "en_US");
    assert_eq!(stored.2[0]["text"], "Your parcel {{1}} is on its way.");
    let audited: Value = program
        .app
        .scalar("select details from audit_log where action = 'template.submit'")
        .await;
    let key_id: String = program.app.scalar("select id::text from api_keys").await;
    assert_eq!(audited["api_key_id"], key_id.as_str());

    // The same name again, in the same language, is the console's refusal.
    let (status, again) = program
        .post(&path, shipping_notice("shipping_notice"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");
    assert_eq!(error(&again)["code"], 100);
    let details = error(&again)["error_data"]["details"].as_str().unwrap();
    assert!(
        details.starts_with("name: There is already a template"),
        "{details}"
    );
}

#[sqlx::test]
async fn a_template_meta_would_refuse_is_refused_before_it_reaches_meta(pool: PgPool) {
    let program = Integrator::new(pool).await;
    let path = format!("/{WABA_ID}/message_templates");
    let mut no_sample = shipping_notice("no_sample");
    no_sample["components"][0]
        .as_object_mut()
        .unwrap()
        .remove("example");
    let (status, refused) = program.post(&path, no_sample).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let details = error(&refused)["error_data"]["details"].as_str().unwrap();
    assert!(details.starts_with("body_examples: "), "{details}");

    let mut no_category = shipping_notice("no_category");
    no_category.as_object_mut().unwrap().remove("category");
    let (status, refused) = program.post(&path, no_category).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(
        error(&refused)["message"],
        "(#100) The parameter category is required."
    );

    let mut carousel = shipping_notice("spring_sale");
    carousel["components"] = json!([
        { "type": "BODY", "text": "Spring is here" },
        { "type": "CAROUSEL", "cards": [] },
    ]);
    let (status, refused) = program.post(&path, carousel).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(error(&refused)["code"], 100);

    let (status, refused) = program
        .post("/999000/message_templates", shipping_notice("elsewhere"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(error(&refused)["error_subcode"], 33);
    let stored: i64 = program
        .app
        .scalar("select count(*) from message_templates")
        .await;
    assert_eq!(stored, 0, "nothing refused is stored");
}

#[sqlx::test]
async fn a_template_is_deleted_by_name_at_meta_and_here(pool: PgPool) {
    let program = Integrator::new(pool).await;
    let path = format!("/{WABA_ID}/message_templates");
    let (status, created) = program
        .post(&path, shipping_notice("shipping_notice"))
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");

    let (status, refused) = answer(program.request(Method::DELETE, &path)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(
        error(&refused)["message"],
        "(#100) The parameter name is required."
    );
    let (status, unknown) =
        answer(program.request(Method::DELETE, &format!("{path}?name=no_such_template"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{unknown}");
    assert_eq!(
        error(&unknown)["error_subcode"],
        2593002,
        "Meta's own refusal"
    );

    let (status, deleted) =
        answer(program.request(Method::DELETE, &format!("{path}?name=shipping_notice"))).await;
    assert_eq!(
        (status, deleted),
        (StatusCode::OK, json!({ "success": true }))
    );
    let status: String = program
        .app
        .scalar("select status from message_templates where name = 'shipping_notice'")
        .await;
    assert_eq!(status, "DELETED");
    let audited: Value = program
        .app
        .scalar("select details from audit_log where action = 'template.delete'")
        .await;
    assert_eq!(audited["languages"], json!(["en_US"]));
}
