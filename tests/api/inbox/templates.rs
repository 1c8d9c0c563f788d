//! The admin console's templates: synced from Meta on demand (with progress) and on a schedule,
//! each with its figures, deleted at Meta; only the tenant's.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use sqlx::PgPool;
use switchboard::{
    domain::templates::syncs::{self, Syncer},
    whatsapp::graph::GraphClient,
};

use super::*;

fn syncer(app: &TestApp) -> Syncer {
    Syncer {
        db: app.pool.clone(),
        cipher: app.config.secret_key.cipher(),
        graph: GraphClient::new("v23.0").unwrap(),
        urls: app.config.graph_urls(),
    }
}

fn rows(page: &str) -> Vec<&str> {
    page.split(r#"<tr data-testid="template""#)
        .skip(1)
        .collect()
}

/// The cell `testid` of the row of template `name`.
fn cell<'a>(page: &'a str, name: &str, testid: &str) -> &'a str {
    let row = rows(page)
        .into_iter()
        .find(|row| row.contains(&format!(r#"data-name="{name}""#)))
        .unwrap_or_else(|| panic!("no row for {name}: {page}"));
    let start = row
        .find(&format!(r#"data-testid="{testid}">"#))
        .unwrap_or_else(|| panic!("no {testid} in {row}"));
    let rest = &row[start + testid.len() + 15..];
    rest[..rest.find("</td>").unwrap()].trim()
}

#[sqlx::test]
async fn sync_now_queues_one_sync_shows_its_progress_then_the_templates(pool: PgPool) {
    let (meta, _) = crate::services::template_lister().await;
    let app = TestApp::with_config(pool, |config| config.meta_graph_url = meta).await;
    let mut admin = signed_in_admin(&app).await;
    let empty = admin.get("/admin/templates").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("Not synced with WhatsApp yet."));
    assert!(empty.body.contains(r#"data-testid="no-templates""#));

    let csrf = admin.csrf().await;
    for _ in 0..2 {
        let asked = admin
            .post_form("/admin/templates/sync", &[("csrf", &csrf)])
            .await;
        assert_eq!(asked.status, StatusCode::SEE_OTHER);
        assert_eq!(asked.location(), "/admin/templates");
    }
    let waiting = admin.get("/admin/templates").await;
    assert!(
        waiting.body.contains("Sync waiting to start"),
        "{}",
        waiting.body
    );
    // The page refreshes itself while the sync runs, and offers no second one.
    assert!(waiting.body.contains(r#"<meta http-equiv="refresh""#));
    assert!(waiting.body.contains(r#"disabled data-testid="sync-now""#));
    assert_eq!(
        app.scalar::<i64>("select count(*) from template_syncs")
            .await,
        1,
        "asking again joins the waiting sync"
    );

    assert!(syncer(&app).run_next().await.unwrap());
    assert!(!syncer(&app).run_next().await.unwrap(), "nothing left");
    let page = admin.get("/admin/templates").await;
    assert!(
        page.body.contains("Last synced with WhatsApp"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"http-equiv="refresh""#));
    assert_eq!(rows(&page.body).len(), 2);
    assert_eq!(
        cell(&page.body, "schedule_confirmation5", "template-status"),
        r#"<span class="template-status approved">Approved</span>"#
    );
    assert!(cell(&page.body, "welcome_template3", "template-status").contains("Rejected"));
    assert_eq!(
        app.scalar::<i64>("select count(*) from audit_log where action = 'templates.sync'")
            .await,
        1
    );
}

#[sqlx::test]
async fn a_failed_sync_says_why_and_the_schedule_queues_one_per_tenant(pool: PgPool) {
    // Nobody answers at this address.
    let app = TestApp::with_config(pool, |config| {
        config.meta_graph_url = "http://127.0.0.1:9".into();
    })
    .await;
    assert_eq!(
        syncs::schedule(&app.pool, syncs::SCHEDULE).await.unwrap(),
        1
    );
    assert_eq!(
        syncs::schedule(&app.pool, syncs::SCHEDULE).await.unwrap(),
        0,
        "one waiting already"
    );
    assert!(syncer(&app).run_next().await.unwrap());
    assert_eq!(
        syncs::schedule(&app.pool, syncs::SCHEDULE).await.unwrap(),
        0,
        "not due again for hours"
    );
    let mut admin = signed_in_admin(&app).await;
    let page = admin.get("/admin/templates").await;
    assert!(page.body.contains("The last sync stopped"), "{}", page.body);
    assert!(page.body.contains("could not reach Meta"), "{}", page.body);
}

/// A template with messages: two delivered (one read, then answered within the day, one answered
/// two days later), one failed by Meta, one still queued.
#[sqlx::test]
async fn each_template_shows_what_its_messages_achieved(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let conversation = customer_writes(&app, "wamid.in", "Hello", 80).await;
    let template: i64 = sqlx::query_scalar(
        "insert into message_templates (tenant_id, waba_id, name, language, category, status,
                                        submitted_at)
         values ($1, $2, 'order_update', 'en', 'UTILITY', 'PENDING', now() - interval '3 hours')
         returning id",
    )
    .bind(app.tenant_id.get())
    .bind(WABA_ID)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    sqlx::query("update message_templates set status = 'APPROVED' where id = $1")
        .bind(template)
        .execute(&app.pool)
        .await
        .unwrap();
    let send = |status: &'static str, hours_ago: i64, code: Option<i32>| {
        sqlx::query(
            "insert into messages (tenant_id, conversation_id, phone_number_id, direction, type,
                                   body, content, status, template_id, error_code, sent_at,
                                   created_at)
             select c.tenant_id, c.id, c.phone_number_id, 'outbound', 'template', 'order_update',
                    '{}', $2, $3, $4,
                    case when $2 not in ('queued', 'failed')
                         then now() - make_interval(hours => $5) end,
                    now() - make_interval(hours => $5)
             from conversations c where c.id = $1",
        )
        .bind(conversation.get())
        .bind(status)
        .bind(template)
        .bind(code)
        .bind(hours_ago as i32)
        .execute(&app.pool)
    };
    let reply = |hours_ago: i64| {
        sqlx::query(
            "insert into messages (tenant_id, conversation_id, phone_number_id, direction, type,
                                   body, content, status, created_at)
             select c.tenant_id, c.id, c.phone_number_id, 'inbound', 'text', 'thanks', '{}',
                    'received', now() - make_interval(hours => $2)
             from conversations c where c.id = $1",
        )
        .bind(conversation.get())
        .bind(hours_ago as i32)
        .execute(&app.pool)
    };
    send("delivered", 70, None).await.unwrap();
    reply(20).await.unwrap(); // 50 h after the first: too late for it
    send("read", 10, None).await.unwrap();
    reply(2).await.unwrap(); // 8 h after the second
    send("failed", 1, Some(131026)).await.unwrap();
    send("queued", 0, None).await.unwrap();

    let mut admin = signed_in_admin(&app).await;
    let page = admin.get("/admin/templates").await;
    let body = &page.body;
    assert_eq!(cell(body, "order_update", "sent"), "2");
    assert!(cell(body, "order_update", "delivered").starts_with("2 "));
    assert!(cell(body, "order_update", "read").contains("1 <span class=\"muted\">(50\u{a0}%)"));
    let failed = cell(body, "order_update", "failed");
    assert!(failed.starts_with('1'), "{failed}");
    assert!(failed.contains("Message undeliverable: 1"), "{failed}");
    assert!(cell(body, "order_update", "replied").starts_with("1 "));
    assert_eq!(cell(body, "order_update", "approval"), "3 h");
}

#[sqlx::test]
async fn a_template_is_deleted_at_meta_and_only_by_its_tenants_admins(pool: PgPool) {
    let app = TestApp::with_fake_meta(pool).await;
    let template: i64 = sqlx::query_scalar(
        "insert into message_templates (tenant_id, waba_id, meta_template_id, name, language,
                                        category, status)
         values ($1, $2, '1234', 'spring_sale', 'en', 'MARKETING', 'APPROVED') returning id",
    )
    .bind(app.tenant_id.get())
    .bind(WABA_ID)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let path = format!("/admin/templates/{template}/delete");

    user(&app, app.tenant_id, "agent@acme.test", "Agent").await;
    let mut agent = Client::signed_in(&app, "agent@acme.test").await;
    let csrf = agent.csrf().await;
    let forbidden = agent.post_form(&path, &[("csrf", &csrf)]).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

    let (other, _) = app
        .add_tenant("Globex", "5555555555", "globex-secret")
        .await;
    user(&app, other, "root@globex.test", "Root").await;
    sqlx::query("update users set role = 'admin' where email = 'root@globex.test'")
        .execute(&app.pool)
        .await
        .unwrap();
    let mut stranger = Client::signed_in(&app, "root@globex.test").await;
    let csrf = stranger.csrf().await;
    let foreign = stranger.post_form(&path, &[("csrf", &csrf)]).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert!(
        !stranger
            .get("/admin/templates")
            .await
            .body
            .contains("spring_sale")
    );

    let mut admin = signed_in_admin(&app).await;
    let csrf = admin.csrf().await;
    let deleted = admin.post_form(&path, &[("csrf", &csrf)]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);
    let page = admin.get("/admin/templates").await;
    assert!(cell(&page.body, "spring_sale", "template-status").contains("Deleted"));
    assert_eq!(
        app.scalar::<i64>("select count(*) from audit_log where action = 'template.delete'")
            .await,
        1
    );

    // Meta no longer has it: its refusal is shown in words, on the page.
    let again = admin.post_form(&path, &[("csrf", &csrf)]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again.body.contains("WhatsApp did not delete it"),
        "{}",
        again.body
    );
}

/// The form's fields for a template with two numbered variables and a link button.
fn template_form<'a>(csrf: &'a str, intent: &'a str, body: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("intent", intent),
        ("waba_id", WABA_ID),
        ("name", "order_shipped"),
        ("category", "utility"),
        ("language", "en_US"),
        ("format", "positional"),
        ("header", ""),
        ("header_example", ""),
        ("body", body),
        ("body_examples", "Ana\r\n#1042"),
        ("footer", "Acme Shop"),
        ("button0_kind", "url"),
        ("button0_text", "Track it"),
        ("button0_value", "https://shop.example/track/{{1}}"),
        ("button0_example", "1042"),
        ("button1_kind", ""),
    ]
}

#[sqlx::test]
async fn a_template_is_written_previewed_and_submitted_for_review(pool: PgPool) {
    let app = TestApp::with_fake_meta(pool).await;
    let mut admin = signed_in_admin(&app).await;
    let form = admin.get("/admin/templates/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"data-testid="template-form""#));
    let csrf = admin.csrf().await;

    // Problems are shown beside their fields, everything typed is kept, and nothing reaches Meta.
    let bad = "{{1}}, order {{3}} has shipped.";
    let preview = admin
        .post_form(
            "/admin/templates/new",
            &template_form(&csrf, "preview", bad),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(preview.body.contains(r#"data-testid="problem-body""#));
    assert!(
        preview
            .body
            .contains("{{1}}, order {{3}} has shipped.</textarea>")
    );
    let refused = admin
        .post_form("/admin/templates/new", &template_form(&csrf, "submit", bad))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("cannot start or end with a variable"),
        "{}",
        refused.body
    );
    assert_eq!(
        app.scalar::<i64>("select count(*) from message_templates")
            .await,
        0
    );

    // The preview shows the samples where the customer will read the values.
    let good = "Hi {{1}}, order {{2}} has shipped.";
    let preview = admin
        .post_form(
            "/admin/templates/new",
            &template_form(&csrf, "preview", good),
        )
        .await;
    assert!(!preview.body.contains(r#"data-testid="problems""#));
    let shown = preview
        .body
        .split(r#"data-testid="template-preview""#)
        .nth(1)
        .unwrap();
    assert!(shown.contains(r#"Hi <mark data-preview="0">Ana</mark>, order <mark data-preview="1">#1042</mark> has shipped."#), "{shown}");
    assert!(
        shown.contains("Acme Shop") && shown.contains("Track it"),
        "{shown}"
    );

    let submitted = admin
        .post_form(
            "/admin/templates/new",
            &template_form(&csrf, "submit", good),
        )
        .await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
    let (status, components, submitted_at): (
        String,
        serde_json::Value,
        Option<chrono::DateTime<chrono::Utc>>,
    ) = sqlx::query_as(
        "select status, components, submitted_at from message_templates
             where name = 'order_shipped' and language = 'en_US'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(status, "PENDING");
    assert!(submitted_at.is_some());
    assert_eq!(components[0]["text"], good);
    assert_eq!(
        components[0]["example"]["body_text"],
        serde_json::json!([["Ana", "#1042"]])
    );
    let page = admin.get("/admin/templates").await;
    assert!(cell(&page.body, "order_shipped", "template-status").contains("Pending"));
    assert_eq!(
        app.scalar::<i64>("select count(*) from audit_log where action = 'template.submit'")
            .await,
        1
    );

    // The same name and language again is refused before Meta sees it.
    let again = admin
        .post_form(
            "/admin/templates/new",
            &template_form(&csrf, "submit", good),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains(r#"data-testid="problem-name""#));

    // Meta approves it: agents are offered it, with the definition submitted.
    meta_approves_order_shipped(&app, 0).await;
    let mut conn = app.pool.acquire().await.unwrap();
    let offered = switchboard::domain::templates::approved_options(
        &mut conn,
        app.tenant_id,
        WABA_ID,
        Some("en_US"),
        "en",
    )
    .await
    .unwrap();
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].variables.len(), 3, "{:?}", offered[0].variables);
    let page = admin.get("/admin/templates").await;
    assert!(cell(&page.body, "order_shipped", "template-status").contains("Approved"));
    assert_ne!(cell(&page.body, "order_shipped", "approval"), "—");
}

/// Meta's webhook approving the template `template_form` submits, `seconds_ago`.
async fn meta_approves_order_shipped(app: &TestApp, seconds_ago: i64) {
    app.deliver(envelope(
        WABA_ID,
        Some(chrono::Utc::now().timestamp() - seconds_ago),
        vec![serde_json::json!({
            "field": "message_template_status_update",
            "value": {
                "event": "APPROVED",
                "message_template_id": 1,
                "message_template_name": "order_shipped",
                "message_template_language": "en_US",
                "reason": "NONE",
            },
        })],
    ))
    .await;
}

/// A Meta that refuses every template with `error` (HTTP 400).
async fn refusing_meta(error: serde_json::Value) -> String {
    use axum::{Router, routing::post};
    use switchboard::http::extract::Json;
    let router = Router::new().route(
        "/v23.0/{waba}/message_templates",
        post(move || async move { (StatusCode::BAD_REQUEST, Json(error)) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[sqlx::test]
async fn metas_refusal_is_shown_in_words_and_keeps_the_form(pool: PgPool) {
    let meta = refusing_meta(serde_json::json!({ "error": {
        "message": "Invalid parameter",
        "type": "OAuthException",
        "code": 100,
        "error_subcode": 2388024,
        "is_transient": false,
        "error_user_title": "Content in This Language Already Exists",
        "error_user_msg": "There is already English (US) content for this template. You can create a new template and try again.",
        "fbtrace_id": "AbCdEf"
    }}))
    .await;
    let app = TestApp::with_config(pool, |config| config.meta_graph_url = meta).await;
    let mut admin = signed_in_admin(&app).await;
    let csrf = admin.csrf().await;
    let good = "Hi {{1}}, order {{2}} has shipped.";
    let refused = admin
        .post_form(
            "/admin/templates/new",
            &template_form(&csrf, "submit", good),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("There is already English (US) content"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(r#"value="order_shipped""#));
    assert_eq!(
        app.scalar::<i64>("select count(*) from message_templates")
            .await,
        0
    );
}

#[sqlx::test]
async fn an_approved_template_is_edited_once_a_day_and_keeps_its_name_and_category(pool: PgPool) {
    let app = TestApp::with_fake_meta(pool).await;
    let mut admin = signed_in_admin(&app).await;
    let csrf = admin.csrf().await;
    let first = "Hi {{1}}, order {{2}} has shipped.";
    let submitted = admin
        .post_form(
            "/admin/templates/new",
            &template_form(&csrf, "submit", first),
        )
        .await;
    assert_eq!(submitted.status, StatusCode::SEE_OTHER);
    meta_approves_order_shipped(&app, 60).await;
    let id: i64 = app
        .scalar("select id from message_templates where name = 'order_shipped'")
        .await;
    let path = format!("/admin/templates/{id}/edit");
    let list = admin.get("/admin/templates").await;
    assert!(list.body.contains(&format!(r#"href="{path}""#)));

    // The form shows the template as stored, name and language fixed.
    let form = admin.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains(&format!("{first}</textarea>")),
        "{}",
        form.body
    );
    assert!(form.body.contains("Ana\n#1042</textarea>"), "{}", form.body);
    assert!(
        form.body
            .contains(r#"value="https://shop.example/track/{{1}}""#)
    );
    assert!(form.body.contains(r#"value="order_shipped" required maxlength="512" pattern="[a-z0-9_]+" placeholder="order_update" autocomplete="off" readonly"#));

    let second = "Hello {{1}}, your order {{2}} is on its way.";
    let mut fields = template_form(&csrf, "submit", second);
    // A renamed template or another category is not this edit: the name stays, the category
    // of an approved template too.
    fields.retain(|(name, _)| *name != "name" && *name != "category");
    fields.push(("name", "renamed"));
    fields.push(("category", "marketing"));
    let refused = admin.post_form(&path, &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("An approved template keeps its category."),
        "{}",
        refused.body
    );
    fields.retain(|(name, _)| *name != "category");
    fields.push(("category", "utility"));
    let edited = admin.post_form(&path, &fields).await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let (name, status, components): (String, String, serde_json::Value) =
        sqlx::query_as("select name, status, components from message_templates where id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (name.as_str(), status.as_str()),
        ("order_shipped", "PENDING")
    );
    assert_eq!(components[0]["text"], second);
    assert_eq!(
        app.scalar::<i64>("select count(*) from audit_log where action = 'template.edit'")
            .await,
        1
    );

    // Approved again, it cannot be edited again the same day.
    sqlx::query("update message_templates set status = 'APPROVED' where id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    let again = admin.post_form(&path, &fields).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("once a day"), "{}", again.body);

    // A pending template is not editable at all; another tenant's is not found.
    sqlx::query("update message_templates set status = 'PENDING' where id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    let pending = admin.get(&path).await;
    assert!(
        pending
            .body
            .contains("WhatsApp edits only approved, rejected or paused templates")
    );
}

/// A template the form cannot write (a location header) is not offered for editing.
#[sqlx::test]
async fn only_templates_the_form_can_write_are_offered_for_editing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    sqlx::query(
        r#"insert into message_templates (tenant_id, waba_id, name, language, category, status,
                                          components)
           values ($1, $2, 'with_place', 'en', 'MARKETING', 'APPROVED',
                   '[{"type": "HEADER", "format": "LOCATION"}, {"type": "BODY", "text": "New in"}]'),
                  ($1, $2, 'with_photo', 'en', 'MARKETING', 'APPROVED',
                   '[{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "New in"}]'),
                  ($1, $2, 'plain_text', 'en', 'UTILITY', 'APPROVED',
                   '[{"type": "BODY", "text": "Your order shipped"}]')"#,
    )
    .bind(app.tenant_id.get())
    .bind(WABA_ID)
    .execute(&app.pool)
    .await
    .unwrap();
    let mut admin = signed_in_admin(&app).await;
    let page = admin.get("/admin/templates").await;
    assert!(cell(&page.body, "plain_text", "actions").contains("edit-template"));
    assert!(cell(&page.body, "with_photo", "actions").contains("edit-template"));
    assert!(!cell(&page.body, "with_place", "actions").contains("edit-template"));
}

/// Editing a template with an image header asks for a new sample (Meta lists the old one as a
/// URL of its own), uploaded from the edit form for the template's own WABA.
#[sqlx::test]
async fn a_media_header_is_edited_with_a_new_sample(pool: PgPool) {
    let app = TestApp::with_fake_meta(pool).await;
    let id: i64 = sqlx::query_scalar(
        r#"insert into message_templates (tenant_id, waba_id, meta_template_id, name, language,
                                          category, status, components)
           values ($1, $2, '4455', 'with_photo', 'en', 'MARKETING', 'APPROVED',
                   '[{"type": "HEADER", "format": "IMAGE",
                      "example": {"header_handle": ["https://scontent.whatsapp.net/v/old.png"]}},
                     {"type": "BODY", "text": "New in {{1}}", "example": {"body_text": [["May"]]}}]')
           returning id"#,
    )
    .bind(app.tenant_id.get())
    .bind(WABA_ID)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let mut admin = signed_in_admin(&app).await;
    let edit = admin.get(&format!("/admin/templates/{id}/edit")).await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.body);
    assert!(
        edit.body.contains(r#"<option value="image" selected>"#),
        "{}",
        edit.body
    );
    let csrf = admin.csrf().await;
    let id = id.to_string();
    let fields = [
        ("csrf", csrf.as_str()),
        ("intent", "submit"),
        ("editing", id.as_str()),
        ("category", "marketing"),
        ("format", "positional"),
        ("header_format", "image"),
        ("body", "New in {{1}}, and more."),
        ("body_examples", "June"),
    ];
    let refused = admin
        .post_form(&format!("/admin/templates/{id}/edit"), &fields)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains(r#"data-testid="problem-header_sample""#)
    );

    let body = multipart_form(
        &fields,
        Some(("header_sample", "new.png", "image/png", b"png")),
    );
    let uploaded = admin
        .send(
            Request::post("/admin/templates/sample").header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ),
            Body::from(body),
        )
        .await;
    assert_eq!(uploaded.status, StatusCode::OK, "{}", uploaded.body);
    assert!(
        uploaded.body.contains("Edit with_photo"),
        "{}",
        uploaded.body
    );
    let handle = field(&uploaded.body, "header_handle");
    let mut submit = fields.to_vec();
    submit.push(("header_handle", &handle));
    let edited = admin
        .post_form(&format!("/admin/templates/{id}/edit"), &submit)
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let components: serde_json::Value = app
        .scalar("select components from message_templates where name = 'with_photo'")
        .await;
    assert_eq!(
        components[0]["example"]["header_handle"][0],
        handle.as_str()
    );
    assert_eq!(components[1]["text"], "New in {{1}}, and more.");
}

/// An authentication template is asked for with its options alone: WhatsApp's words are previewed,
/// the creation body is Meta's layout, and agents are then asked for the code once in the body and
/// once for the button.
#[sqlx::test]
async fn an_authentication_template_is_submitted_in_metas_layout(pool: PgPool) {
    let app = TestApp::with_fake_meta(pool).await;
    let mut admin = signed_in_admin(&app).await;
    let csrf = admin.csrf().await;
    let form = |intent: &str, expiry: &str| -> Vec<(String, String)> {
        [
            ("csrf", csrf.as_str()),
            ("intent", intent),
            ("waba_id", WABA_ID),
            ("name", "login_code"),
            ("language", "en_US"),
            ("category", "authentication"),
            ("format", "positional"),
            ("security_recommendation", "on"),
            ("expiry_minutes", expiry),
            ("otp_type", "copy_code"),
            // Typed by mistake: an authentication template has no text of its own.
            ("body", "Ignored {{1}}"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec()
    };
    let bad = form("preview", "120");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let preview = admin.post_form("/admin/templates/new", &bad).await;
    assert!(
        preview
            .body
            .contains(r#"data-testid="problem-expiry_minutes""#),
        "{}",
        preview.body
    );
    let shown = form("preview", "10");
    let shown: Vec<(&str, &str)> = shown
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let shown = admin.post_form("/admin/templates/new", &shown).await;
    let shown = shown
        .body
        .split(r#"data-testid="template-preview""#)
        .nth(1)
        .unwrap();
    assert!(
        shown.contains("123456")
            && shown.contains("is your verification code")
            && shown.contains("This code expires in 10 minutes.")
            && !shown.contains("Ignored"),
        "{shown}"
    );
    let good = form("submit", "10");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let submitted = admin.post_form("/admin/templates/new", &good).await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
    let (category, components): (String, serde_json::Value) = sqlx::query_as(
        "select category, components from message_templates where name = 'login_code'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(category, "AUTHENTICATION");
    assert_eq!(
        components[0]["text"],
        "*{{1}}* is your verification code. For your security, do not share this code."
    );
    assert_eq!(components[1]["text"], "This code expires in 10 minutes.");
    assert_eq!(components[2]["buttons"][0]["otp_type"], "COPY_CODE");

    sqlx::query("update message_templates set status = 'APPROVED' where name = 'login_code'")
        .execute(&app.pool)
        .await
        .unwrap();
    let mut conn = app.pool.acquire().await.unwrap();
    let offered = switchboard::domain::templates::approved_options(
        &mut conn,
        app.tenant_id,
        WABA_ID,
        Some("en_US"),
        "en",
    )
    .await
    .unwrap();
    let variables: Vec<(&str, Option<&str>)> = offered[0]
        .variables
        .iter()
        .map(|v| (v.component, v.example.as_deref()))
        .collect();
    assert_eq!(
        variables,
        [("body", Some("123456")), ("button", None)],
        "{:?}",
        offered[0].variables
    );
}

/// A media header's sample is uploaded to Meta (its Resumable Upload API) from the form, which
/// keeps everything typed; the template is then submitted with the sample's handle.
#[sqlx::test]
async fn a_media_header_is_submitted_with_its_uploaded_sample(pool: PgPool) {
    let app = TestApp::with_fake_meta(pool).await;
    let mut admin = signed_in_admin(&app).await;
    let csrf = admin.csrf().await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("intent", "preview"),
        ("waba_id", WABA_ID),
        ("name", "spring_sale"),
        ("language", "en_US"),
        ("category", "marketing"),
        ("format", "positional"),
        ("header_format", "image"),
        ("body", "Spring sale: {{1}} off everything."),
        ("body_examples", "20%"),
    ];
    let upload = |filename: &str, mime: &str, bytes: &[u8]| {
        multipart_form(&fields, Some(("header_sample", filename, mime, bytes)))
    };
    let post = || {
        Request::post("/admin/templates/sample").header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
    };
    // Not an image: refused beside the field, nothing typed lost.
    let body = upload("notes.txt", "text/plain", b"hello");
    let refused = admin.send(post(), Body::from(body)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains(r#"data-testid="problem-header_sample""#)
    );
    assert!(
        refused
            .body
            .contains("Spring sale: {{1}} off everything.</textarea>")
    );

    let body = upload("banner.png", "image/png", b"\x89PNG sample");
    let uploaded = admin.send(post(), Body::from(body)).await;
    assert_eq!(uploaded.status, StatusCode::OK, "{}", uploaded.body);
    assert!(
        uploaded
            .body
            .contains(r#"data-testid="header-sample-name">(uploaded: banner.png)"#),
        "{}",
        uploaded.body
    );
    let handle = field(&uploaded.body, "header_handle");
    assert!(handle.starts_with("4::"), "{handle}");

    let mut submit: Vec<(&str, &str)> = fields.to_vec();
    submit[1] = ("intent", "submit");
    submit.push(("header_handle", &handle));
    let submitted = admin.post_form("/admin/templates/new", &submit).await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
    let components: serde_json::Value = app
        .scalar("select components from message_templates where name = 'spring_sale'")
        .await;
    assert_eq!(
        components[0],
        serde_json::json!({ "type": "HEADER", "format": "IMAGE",
                            "example": { "header_handle": [handle] } })
    );
}

/// An authentication template is edited by its options: the form shows the stored ones, and the
/// edit stores Meta's words for the new ones.
#[sqlx::test]
async fn an_authentication_template_is_edited_by_its_options(pool: PgPool) {
    let app = TestApp::with_fake_meta(pool).await;
    let id: i64 = sqlx::query_scalar(
        r#"insert into message_templates (tenant_id, waba_id, meta_template_id, name, language,
                                          category, status, components)
           values ($1, $2, '7788', 'login_code', 'en_US', 'AUTHENTICATION', 'APPROVED',
                   '[{"type": "BODY", "text": "*{{1}}* is your verification code.",
                      "add_security_recommendation": false},
                     {"type": "FOOTER", "text": "This code expires in 10 minutes.",
                      "code_expiration_minutes": 10},
                     {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE",
                                                      "text": "Copy code"}]}]')
           returning id"#,
    )
    .bind(app.tenant_id.get())
    .bind(WABA_ID)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let mut admin = signed_in_admin(&app).await;
    let page = admin.get("/admin/templates").await;
    assert!(cell(&page.body, "login_code", "actions").contains("edit-template"));
    let edit = admin.get(&format!("/admin/templates/{id}/edit")).await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.body);
    assert!(
        edit.body
            .contains(r#"name="expiry_minutes" type="number" min="1" max="90" value="10""#),
        "{}",
        edit.body
    );
    let csrf = admin.csrf().await;
    let edited = admin
        .post_form(
            &format!("/admin/templates/{id}/edit"),
            &[
                ("csrf", &csrf),
                ("intent", "submit"),
                ("category", "authentication"),
                ("security_recommendation", "on"),
                ("expiry_minutes", "15"),
                ("otp_type", "copy_code"),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let components: serde_json::Value = app
        .scalar("select components from message_templates where name = 'login_code'")
        .await;
    assert_eq!(
        components[0]["text"],
        "*{{1}}* is your verification code. For your security, do not share this code."
    );
    assert_eq!(components[1]["text"], "This code expires in 15 minutes.");
}
