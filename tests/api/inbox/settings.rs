//! The admin console's team settings: canned responses, labels, opt-out keywords and the default
//! template language, each change audited, another tenant's snippet or label out of reach.

use axum::http::StatusCode;
use sqlx::PgPool;

use super::*;

async fn audited(app: &TestApp, action: &str) -> i64 {
    app.scalar(&format!(
        "select count(*) from audit_log where action = '{action}'"
    ))
    .await
}

#[sqlx::test]
async fn canned_responses_are_added_changed_and_deleted(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = signed_in_admin(&app).await;
    let csrf = admin.csrf().await;
    let added = admin
        .post_form(
            "/admin/canned",
            &[
                ("shortcut", "/hours"),
                ("body", "We answer 9–17."),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let refused = admin
        .post_form(
            "/admin/canned",
            &[("shortcut", "Bad Shortcut"), ("body", "x"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("A shortcut is 1 to 32 lower-case letters")
    );
    let id: i64 = app.scalar("select id from canned_responses").await;
    let changed = admin
        .post_form(
            &format!("/admin/canned/{id}"),
            &[("body", "We answer 8–20, every day."), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    let page = admin.get("/admin/settings").await;
    assert!(page.body.contains(r#"value="We answer 8–20, every day.""#));
    assert_eq!(audited(&app, "canned.update").await, 1);

    // Agents' composers offer the same snippet.
    let conversation = customer_writes(&app, "wamid.1", "Hi", 1).await;
    let thread = admin
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert!(thread.body.contains("We answer 8–20, every day."));

    let deleted = admin
        .post_form(&format!("/admin/canned/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let left: i64 = app.scalar("select count(*) from canned_responses").await;
    assert_eq!(left, 0);
    assert_eq!(audited(&app, "canned.delete").await, 1);
}

#[sqlx::test]
async fn labels_are_renamed_and_deleted_everywhere(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = signed_in_admin(&app).await;
    let csrf = admin.csrf().await;
    let conversation = customer_writes(&app, "wamid.1", "Hi", 1).await;
    let labels = format!("/inbox/conversations/{conversation}/labels");
    for name in ["VIP", "Refunds"] {
        admin
            .post_form(&labels, &[("name", name), ("csrf", &csrf)])
            .await;
    }
    let vip: i64 = app.scalar("select id from labels where name = 'VIP'").await;
    let page = admin.get("/admin/settings").await;
    assert!(page.body.contains("1 conversation<"), "{}", page.body);

    let taken = admin
        .post_form(
            &format!("/admin/labels/{vip}"),
            &[("name", "refunds"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.body.contains("There is already a label"));
    let renamed = admin
        .post_form(
            &format!("/admin/labels/{vip}"),
            &[("name", "Key account"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER);
    let list = admin.get("/inbox").await;
    assert!(
        list.body
            .contains(r#"<span class="label">Key account</span>"#)
    );

    let deleted = admin
        .post_form(&format!("/admin/labels/{vip}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let carried: i64 = app.scalar("select count(*) from conversation_labels").await;
    assert_eq!(carried, 1, "only Refunds is left on the conversation");
    let details: serde_json::Value = app
        .scalar("select details from audit_log where action = 'label.delete'")
        .await;
    assert_eq!(details["conversations"], 1);
    assert_eq!(audited(&app, "label.rename").await, 1);
}

#[sqlx::test]
async fn keywords_and_the_default_language_are_saved_in_use(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = signed_in_admin(&app).await;
    let csrf = admin.csrf().await;
    let saved = admin
        .post_form(
            "/admin/settings",
            &[
                ("opt_out", "stop, baja ,stop"),
                ("opt_in", "start"),
                ("default_language", "es"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let stored: (Vec<String>, Vec<String>, String) = sqlx::query_as(
        "select opt_out_keywords, opt_in_keywords, default_language from tenants where id = $1",
    )
    .bind(app.tenant_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        stored,
        (
            vec!["STOP".into(), "BAJA".into()],
            vec!["START".into()],
            "es".into()
        )
    );
    customer_writes(&app, "wamid.baja", "baja", 1).await;
    let opted_out: bool = app
        .scalar("select opted_out_at is not null from contacts")
        .await;
    assert!(opted_out, "the new keyword opts the customer out");

    let refused = admin
        .post_form(
            "/admin/settings",
            &[
                ("opt_out", " , "),
                ("opt_in", "start"),
                ("default_language", "en"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("Give at least one opt-out and one opt-in keyword.")
    );
    let language: String = app.scalar("select default_language from tenants").await;
    assert_eq!(language, "es", "a refused form changes nothing");
    assert_eq!(audited(&app, "tenant.keywords").await, 1);
}

#[sqlx::test]
async fn another_tenants_snippets_and_labels_are_not_found(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (other, _) = app
        .add_tenant("Globex", "5555555555", "globex-secret")
        .await;
    let other_user = user(&app, other, "gus@globex.test", "Gus").await;
    let canned: i64 = sqlx::query_scalar(
        "insert into canned_responses (tenant_id, shortcut, body, created_by)
         values ($1, 'secret', 'Globex only', $2) returning id",
    )
    .bind(other)
    .bind(other_user)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let label: i64 = sqlx::query_scalar(
        "insert into labels (tenant_id, name) values ($1, 'Globex') returning id",
    )
    .bind(other)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let mut admin = signed_in_admin(&app).await;
    let csrf = admin.csrf().await;
    let page = admin.get("/admin/settings").await;
    assert!(!page.body.contains("Globex"));
    for (path, fields) in [
        (
            format!("/admin/canned/{canned}"),
            vec![("body", "mine now")],
        ),
        (format!("/admin/canned/{canned}/delete"), vec![]),
        (format!("/admin/labels/{label}"), vec![("name", "mine now")]),
        (format!("/admin/labels/{label}/delete"), vec![]),
    ] {
        let mut fields = fields;
        fields.push(("csrf", &csrf));
        let answer = admin.post_form(&path, &fields).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
    }
    let untouched: (String, String) = sqlx::query_as(
        "select c.body, l.name from canned_responses c, labels l where c.id = $1 and l.id = $2",
    )
    .bind(canned)
    .bind(label)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(untouched, ("Globex only".into(), "Globex".into()));

    user(&app, app.tenant_id, "ana@acme.test", "Ana Lima").await;
    let mut agent = Client::signed_in(&app, "ana@acme.test").await;
    assert_eq!(
        agent.get("/admin/settings").await.status,
        StatusCode::FORBIDDEN
    );
}
