//! The database's own guard on tenants and states: rows that point at each other belong to one
//! tenant, and a state column holds only the states the code writes. Raw SQL, bypassing the code.

use chrono::Utc;
use sqlx::PgPool;
use switchboard::domain::messages::MessageStatus;

use crate::helpers::*;

/// Acme (the [`TestApp`] tenant, with a conversation and a message) and Globex (its own app,
/// number, contact, user and conversation), by row id.
struct TwoTenants {
    app: TestApp,
    acme: Rows,
    globex: Rows,
}

struct Rows {
    tenant: i64,
    app: i64,
    number: i64,
    contact: i64,
    user: i64,
    conversation: i64,
}

impl TwoTenants {
    async fn new(pool: PgPool) -> Self {
        let app = TestApp::new(pool).await;
        app.outbound_message("wamid.OUT").await;
        let acme_number: i64 = app.scalar("select id from phone_numbers").await;
        let acme = Rows {
            tenant: app.tenant_id.get(),
            app: app.app_id.get(),
            number: acme_number,
            contact: app.scalar("select id from contacts").await,
            user: user(&app, app.tenant_id.get(), "dana@acme.test").await,
            conversation: app.scalar("select id from conversations").await,
        };
        let (tenant, globex_app) = app.add_tenant("Globex", "999000111", "globex-secret").await;
        let number = app
            .add_number(tenant, globex_app, "9988776655443", "555000", None)
            .await
            .get();
        let (tenant, globex_app) = (tenant.get(), globex_app.get());
        let contact = insert(
            &app,
            "insert into contacts (tenant_id, wa_id) values ($1, '15559990000') returning id",
            &[tenant],
        )
        .await
        .unwrap();
        let conversation = insert(
            &app,
            "insert into conversations (tenant_id, phone_number_id, contact_id)
             values ($1, $2, $3) returning id",
            &[tenant, number, contact],
        )
        .await
        .unwrap();
        let globex = Rows {
            tenant,
            app: globex_app,
            number,
            contact,
            user: user(&app, tenant, "hank@globex.test").await,
            conversation,
        };
        Self { app, acme, globex }
    }
}

async fn user(app: &TestApp, tenant: i64, email: &str) -> i64 {
    sqlx::query_scalar(
        "insert into users (tenant_id, email, password_hash, role)
         values ($1, $2, 'x', 'agent') returning id",
    )
    .bind(tenant)
    .bind(email)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// Runs `sql` with `binds` and returns the id it inserts, or the constraint that refused it.
async fn insert(app: &TestApp, sql: &str, binds: &[i64]) -> Result<i64, String> {
    let mut query = sqlx::query_scalar(sql);
    for bind in binds {
        query = query.bind(*bind);
    }
    query.fetch_one(&app.pool).await.map_err(refused_by)
}

fn refused_by(error: sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(e) => e.constraint().expect("a constraint refused it").to_owned(),
        other => panic!("expected a constraint violation, got {other:?}"),
    }
}

const NEW_CONVERSATION: &str = "insert into conversations (tenant_id, phone_number_id, contact_id,
    assignee_id) values ($1, $2, $3, $4) returning id";

#[sqlx::test]
async fn a_conversation_cannot_use_another_tenants_number(pool: PgPool) {
    let t = TwoTenants::new(pool).await;
    let (acme, globex) = (&t.acme, &t.globex);
    let refused = insert(
        &t.app,
        NEW_CONVERSATION,
        &[acme.tenant, globex.number, acme.contact, acme.user],
    )
    .await;
    assert_eq!(
        refused,
        Err("conversations_tenant_id_phone_number_id_fkey".into())
    );
}

#[sqlx::test]
async fn a_conversation_cannot_use_another_tenants_contact(pool: PgPool) {
    let t = TwoTenants::new(pool).await;
    let (acme, globex) = (&t.acme, &t.globex);
    let refused = insert(
        &t.app,
        NEW_CONVERSATION,
        &[globex.tenant, globex.number, acme.contact, globex.user],
    )
    .await;
    assert_eq!(
        refused,
        Err("conversations_tenant_id_contact_id_fkey".into())
    );
}

#[sqlx::test]
async fn a_conversation_cannot_be_assigned_to_another_tenants_agent(pool: PgPool) {
    let t = TwoTenants::new(pool).await;
    let (acme, globex) = (&t.acme, &t.globex);
    let refused = sqlx::query("update conversations set assignee_id = $2 where id = $1")
        .bind(globex.conversation)
        .bind(acme.user)
        .execute(&t.app.pool)
        .await
        .map_err(refused_by);
    assert_eq!(
        refused.err().as_deref(),
        Some("conversations_tenant_id_assignee_id_fkey")
    );
    // Unassigned is still fine: a null assignee is not checked.
    sqlx::query("update conversations set assignee_id = null where id = $1")
        .bind(globex.conversation)
        .execute(&t.app.pool)
        .await
        .unwrap();
}

#[sqlx::test]
async fn a_message_cannot_join_another_tenants_conversation(pool: PgPool) {
    let t = TwoTenants::new(pool).await;
    let (acme, globex) = (&t.acme, &t.globex);
    let new_message =
        "insert into messages (tenant_id, conversation_id, phone_number_id, direction,
            wamid, type, body, content, status)
        values ($1, $2, $3, 'inbound', 'wamid.X', 'text', 'Hi', '{}', 'received') returning id";
    let refused = insert(
        &t.app,
        new_message,
        &[globex.tenant, acme.conversation, globex.number],
    )
    .await;
    assert_eq!(
        refused,
        Err("messages_tenant_id_conversation_id_fkey".into())
    );
    // The same message in its own tenant's conversation is stored.
    let stored = insert(
        &t.app,
        new_message,
        &[globex.tenant, globex.conversation, globex.number],
    )
    .await;
    assert!(stored.is_ok(), "{stored:?}");
}

#[sqlx::test]
async fn a_number_cannot_sit_under_another_tenants_app(pool: PgPool) {
    let t = TwoTenants::new(pool).await;
    let (acme, globex) = (&t.acme, &t.globex);
    let refused = insert(
        &t.app,
        "insert into phone_numbers (tenant_id, app_id, phone_number_id, waba_id,
             access_token_encrypted)
         values ($1, $2, '4455667788990', '555000', '\\x00') returning id",
        &[acme.tenant, globex.app],
    )
    .await;
    assert_eq!(refused, Err("phone_numbers_tenant_id_app_id_fkey".into()));
}

#[sqlx::test]
async fn an_unknown_message_status_is_refused(pool: PgPool) {
    let t = TwoTenants::new(pool).await;
    let refused = sqlx::query("update messages set status = 'bounced' where wamid = 'wamid.OUT'")
        .execute(&t.app.pool)
        .await
        .map_err(refused_by);
    assert_eq!(refused.err().as_deref(), Some("messages_status_check"));
}

#[sqlx::test]
async fn a_delivery_status_meta_adds_later_still_applies(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.outbound_message("wamid.OUT").await;
    app.deliver(messages_webhook(
        vec![],
        vec![status("wamid.OUT", "warning", Utc::now().timestamp())],
    ))
    .await;
    let (state, error, _) = app.last_event().await;
    assert_eq!((state.as_str(), error), ("applied", None));
    assert_eq!(app.message_status("wamid.OUT").await, MessageStatus::Sent);
}
