//! Sending through the JSON API: the same checks as an agent's send, refused with the reason (and,
//! for the window, the templates to send instead); once per Idempotency-Key; shown as the key's.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use super::*;

#[sqlx::test]
async fn a_reply_inside_the_window_is_queued_once_and_sent(pool: PgPool) {
    let program = Program::new(pool).await;
    let id = customer_writes(&program.app, "wamid.s1", "Is it in stock?", 1).await;
    let path = format!("/conversations/{id}/messages");
    let send = || {
        answer(
            program
                .request(Method::POST, &path)
                .header("Idempotency-Key", "reply-1")
                .json(&json!({ "type": "text", "text": "Yes, 4 left." })),
        )
    };
    let (status, queued) = send().await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["conversation_id"], id.get());
    assert_eq!(queued["duplicate"], false);
    let (status, again) = send().await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_eq!(
        (&again["id"], &again["duplicate"]),
        (&queued["id"], &json!(true))
    );

    // The fake Meta takes it: the thread shows it sent, by the key, newest first.
    let mut sent = Value::Null;
    for _ in 0..100 {
        let (_, page) = program.get(&path).await;
        sent = page["data"][0].clone();
        if sent["status"] != "queued" && sent["status"] != "sending" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(sent["id"], queued["id"]);
    assert_eq!(sent["status"], "sent", "{sent}");
    assert!(
        sent["wamid"].as_str().unwrap().starts_with("wamid."),
        "{sent}"
    );
    assert_eq!(sent["direction"], "outbound");
    assert_eq!(sent["type"], "text");
    assert_eq!(sent["sent_by"], "Order system (API)");
    let (_, page) = program.get(&path).await;
    assert_eq!(
        page["data"][1]["content"]["text"]["body"],
        "Is it in stock?"
    );
    let sends: i64 = program
        .app
        .scalar("select count(*) from messages where direction = 'outbound'")
        .await;
    assert_eq!(sends, 1, "sent once");
}

#[sqlx::test]
async fn outside_the_window_the_refusal_offers_the_templates_and_one_goes_out(pool: PgPool) {
    let program = Program::new(pool).await;
    approved_template(&program.app).await;
    let id = customer_writes(&program.app, "wamid.o1", "Thanks", 30).await;
    let path = format!("/conversations/{id}/messages");
    let (status, refused) = program
        .post(&path, json!({ "type": "text", "text": "Any news?" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let error = &refused["error"];
    assert_eq!(error["code"], "window_closed");
    assert_eq!(error["meta_code"], 131047);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("24-hour window closed")
    );
    let offered = &error["templates"][0];
    assert_eq!(offered["name"], "order_update");
    let variables: Vec<&Value> = offered["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["component"])
        .collect();
    assert_eq!(variables, ["body", "body", "button"]);

    let template = json!({
        "type": "template", "template_id": offered["id"],
        "values": ["Dana", "#1042", "1042"],
    });
    let (status, queued) = program.post(&path, template).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let components: Value = program
        .app
        .scalar(
            "select content #> '{template,components}' from messages where direction = 'outbound'",
        )
        .await;
    assert_eq!(components[0]["parameters"][0]["text"], "Dana");

    let (status, missing) = program
        .post(
            &path,
            json!({ "type": "template", "name": "no_such", "language": "en_US" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{missing}");
    assert_eq!(missing["error"]["code"], "template_missing");
    assert_eq!(missing["error"]["meta_code"], 132001);
}

#[sqlx::test]
async fn an_opted_out_customer_gets_no_marketing_template(pool: PgPool) {
    let program = Program::new(pool).await;
    let template = approved_template(&program.app).await;
    sqlx::query("update message_templates set category = 'MARKETING' where id = $1")
        .bind(template)
        .execute(&program.app.pool)
        .await
        .unwrap();
    let id = customer_writes(&program.app, "wamid.m1", "Hi", 2).await;
    let (_, conversation) = program.get(&format!("/conversations/{id}")).await;
    let contact = conversation["contact"]["id"].as_i64().unwrap();
    let marketing = format!("/contacts/{contact}/marketing");
    let opt = |opted_out: bool| program.post(&marketing, json!({ "opted_out": opted_out }));
    assert_eq!(
        opt(true).await,
        (StatusCode::OK, json!({ "changed": true }))
    );
    assert_eq!(opt(true).await.1, json!({ "changed": false }));
    let (_, shown) = program.get(&format!("/contacts/{contact}")).await;
    assert!(shown["marketing_opted_out_at"].is_string(), "{shown}");

    let send = json!({ "type": "template", "template_id": template.get(),
                       "values": ["Dana", "#1042", "1042"] });
    let path = format!("/conversations/{id}/messages");
    let (status, refused) = program.post(&path, send.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "opted_out");
    assert_eq!(refused["error"]["meta_code"], 131050);

    assert_eq!(opt(false).await.1, json!({ "changed": true }));
    let (status, queued) = program.post(&path, send).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let audited: i64 = program
        .app
        .scalar(
            "select count(*) from audit_log where action in ('contact.opt_out', 'contact.opt_in')",
        )
        .await;
    assert_eq!(audited, 2);
}

#[sqlx::test]
async fn a_send_the_api_cannot_read_is_refused_with_the_field(pool: PgPool) {
    let program = Program::new(pool).await;
    let id = customer_writes(&program.app, "wamid.b1", "Hi", 1).await;
    let path = format!("/conversations/{id}/messages");
    let (status, both) = program
        .post(
            &path,
            json!({ "type": "image", "media_id": "1", "link": "https://x.test/a.png" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{both}");
    assert_eq!(both["error"]["fields"][0]["field"], "media_id");
    let (status, quote) = program
        .post(
            &path,
            json!({ "type": "text", "text": "Yes", "reply_to": 999_999 }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{quote}");
    let (status, unknown) = program.post(&path, json!({ "type": "fax" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{unknown}");
    let (status, key) = answer(
        program
            .request(Method::POST, &path)
            .header("Idempotency-Key", "x".repeat(300))
            .json(&json!({ "type": "text", "text": "Yes" })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{key}");
    let sends: i64 = program
        .app
        .scalar("select count(*) from messages where direction = 'outbound'")
        .await;
    assert_eq!(sends, 0, "nothing refused is queued");
}
