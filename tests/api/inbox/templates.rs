//! The admin console's templates: synced from Meta on demand (with progress) and on a schedule,
//! each with its figures, deleted at Meta; only the tenant's.

use axum::http::StatusCode;
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
    assert!(cell(body, "order_update", "read").contains("1 <span class=\"muted\">(50 %)"));
    let failed = cell(body, "order_update", "failed");
    assert!(failed.starts_with('1'), "{failed}");
    assert!(failed.contains("Message undeliverable: 1"), "{failed}");
    assert!(cell(body, "order_update", "replied").starts_with("1 "));
    assert_eq!(cell(body, "order_update", "approval"), "3 h");
}

#[sqlx::test]
async fn a_template_is_deleted_at_meta_and_only_by_its_tenants_admins(pool: PgPool) {
    let app = super::numbers::with_fake_meta(pool).await;
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
