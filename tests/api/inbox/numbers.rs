//! The admin console's apps and numbers: adding an app and a number from the browser and getting
//! webhooks through them; secrets shown by their ending only and kept when left blank; pausing
//! and removing a number with its queue; replaying an event that named a missing number; and
//! another tenant's apps, numbers and events out of reach.

use axum::{body::Body, http::Request, http::StatusCode};
use sqlx::PgPool;
use switchboard::{
    domain::apps,
    outbox::send::{SendError, SendRefused},
    whatsapp::signature,
};

use super::*;

type At = chrono::DateTime<chrono::Utc>;

const NEW_APP_ID: &str = "9876543210";
const NEW_SECRET: &str = "brand-new-app-secret-Zq7x";
const NEW_NUMBER_ID: &str = "5550001234567";
const NEW_WABA_ID: &str = "4440001234567";

/// The `meta_apps.id` of the app with Meta's App ID `meta_app_id`.
async fn app_row(app: &TestApp, meta_app_id: &str) -> i64 {
    app.scalar(&format!(
        "select id from meta_apps where meta_app_id = '{meta_app_id}'"
    ))
    .await
}

/// The part of the numbers page about the app `meta_app_id`.
fn app_section<'p>(page: &'p str, meta_app_id: &str) -> &'p str {
    let start = page
        .find(&format!("data-app-id=\"{meta_app_id}\""))
        .expect("the app's section");
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

/// A text from a customer to the number `phone_number_id`, signed with `secret` for `meta_app_id`.
async fn customer_writes_to(
    app: &TestApp,
    meta_app_id: &str,
    secret: &str,
    phone_number_id: &str,
    wamid: &str,
) -> StatusCode {
    let body = messages_webhook(
        vec![text(wamid, chrono::Utc::now().timestamp(), "Hello there")],
        vec![],
    )
    .replace(PHONE_NUMBER_ID, phone_number_id);
    let signature = signature::sign(secret.as_bytes(), body.as_bytes());
    app.post_webhook(meta_app_id, body, Some(signature)).await
}

#[sqlx::test]
async fn an_admin_adds_an_app_and_a_number_and_its_webhooks_arrive(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = signed_in_admin(&app).await;
    let inbox = admin.get("/inbox").await;
    assert!(
        inbox
            .body
            .contains(r#"<a href="/admin" class="admin-link""#)
    );
    let home = admin.get("/admin").await;
    assert_eq!(
        (home.status, home.location()),
        (StatusCode::SEE_OTHER, "/admin/numbers")
    );
    let csrf = admin.csrf().await;
    let added = admin
        .post_form(
            "/admin/apps",
            &[
                ("meta_app_id", NEW_APP_ID),
                ("app_secret", NEW_SECRET),
                ("verify_token", ""),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let page = admin.get("/admin/numbers").await;
    assert_eq!(page.status, StatusCode::OK);
    let callback = format!("{}/webhooks/whatsapp/{NEW_APP_ID}", app.config.public_url);
    assert!(page.body.contains(&callback), "{}", page.body);
    assert!(page.body.contains("ending in <code>Zq7x</code>"));
    assert!(
        !page.body.contains(NEW_SECRET),
        "the secret is never shown again"
    );

    // The generated verify token is what the page shows, and Meta's handshake with it works.
    let row = app_row(&app, NEW_APP_ID).await;
    let mut conn = app.pool.acquire().await.unwrap();
    let cipher = app.config.secret_key.cipher();
    let stored = apps::find_credentials(&mut conn, &cipher, NEW_APP_ID)
        .await
        .unwrap()
        .unwrap();
    let token = secrecy::ExposeSecret::expose_secret(&stored.verify_token).to_owned();
    assert!(token.len() >= 32, "a generated token: {token}");
    assert!(page.body.contains(&format!(
        r#"<code id="token-{row}" data-testid="verify-token">{token}</code>"#
    )));
    let verified = "Meta verified the callback</dt>\n    <dd>";
    assert!(app_section(&page.body, NEW_APP_ID).contains(&format!("{verified}never")));
    let handshake = format!(
        "/webhooks/whatsapp/{NEW_APP_ID}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=42"
    );
    let (status, echoed) = app
        .request(Request::get(handshake).body(Body::empty()).unwrap())
        .await;
    assert_eq!((status, echoed.as_str()), (StatusCode::OK, "42"));

    let number = admin
        .post_form(
            &format!("/admin/apps/{row}/numbers"),
            &[
                ("phone_number_id", NEW_NUMBER_ID),
                ("waba_id", NEW_WABA_ID),
                ("display_phone_number", "+1 555 000 1234"),
                ("access_token", "EAAG-new-number-token-9f3k"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(number.status, StatusCode::SEE_OTHER, "{}", number.body);

    let status =
        customer_writes_to(&app, NEW_APP_ID, NEW_SECRET, NEW_NUMBER_ID, "wamid.new.1").await;
    assert_eq!(status, StatusCode::OK);
    app.apply().await;
    let routed: i64 = app
        .scalar(&format!(
            "select count(*) from messages m join phone_numbers n on n.id = m.phone_number_id
             where n.phone_number_id = '{NEW_NUMBER_ID}' and m.wamid = 'wamid.new.1'"
        ))
        .await;
    assert_eq!(routed, 1);

    let page = admin.get("/admin/numbers").await;
    assert!(page.body.contains("+1 555 000 1234"));
    assert!(page.body.contains("ending in <code>9f3k</code>"));
    assert!(!page.body.contains("EAAG-new-number-token-9f3k"));
    let section = app_section(&page.body, NEW_APP_ID);
    assert!(
        section.contains(&format!("{verified}today at")),
        "{section}"
    );
    let last_webhook = section
        .split("data-testid=\"last-webhook\">")
        .nth(1)
        .unwrap();
    assert!(last_webhook.starts_with("today at"), "{last_webhook}");

    let audited: i64 = app
        .scalar("select count(*) from audit_log where action in ('app.add', 'number.add')")
        .await;
    assert_eq!(audited, 2);
    let leaked: i64 = app
        .scalar(&format!(
            "select count(*) from audit_log where details::text like '%{NEW_SECRET}%'
             or details::text like '%EAAG%'"
        ))
        .await;
    assert_eq!(leaked, 0);
}

/// Checks the number's connection as the admin; returns what the page then says of it.
async fn check(admin: &mut Client<'_>, number: i64) -> String {
    let csrf = admin.csrf().await;
    let checked = admin
        .post_form(
            &format!("/admin/numbers/{number}/check"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(checked.status, StatusCode::SEE_OTHER);
    assert_eq!(
        checked.location(),
        format!("/admin/numbers#number-{number}")
    );
    let page = admin.get("/admin/numbers").await;
    let cell = page.body.split(r#"data-testid="check">"#).nth(1).unwrap();
    cell[..cell.find("</dd>").unwrap()].to_owned()
}

/// The numbers' health history: (source, field, value), oldest first.
async fn history(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as("select source, field, value from number_history order by id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn check_connection_shows_what_meta_says(pool: PgPool) {
    let app = TestApp::with_fake_meta(pool).await;
    let mut admin = signed_in_admin(&app).await;
    let number: i64 = app.scalar("select id from phone_numbers").await;
    let shown = check(&mut admin, number).await;
    assert!(shown.contains("check-ok"), "{shown}");
    assert!(shown.contains("Connected as Acme"), "{shown}");
    assert!(shown.contains("the app receives its webhooks"), "{shown}");
    let page = admin.get("/admin/numbers").await;
    assert!(
        page.body
            .contains("Messaging limit</dt><dd>250 customers a day")
    );
    let history = history(&app).await;
    assert_eq!(
        history,
        [
            ("check".into(), "quality".into(), "UNKNOWN".into()),
            ("check".into(), "limit".into(), "TIER_250".into()),
            ("check".into(), "name".into(), "Acme".into()),
        ]
    );

    // Checked again with nothing changed: no new history.
    check(&mut admin, number).await;
    let changes: i64 = app.scalar("select count(*) from number_history").await;
    assert_eq!(changes, 3);
    let audited: i64 = app
        .scalar("select count(*) from audit_log where action = 'number.check'")
        .await;
    assert_eq!(audited, 2);
}

#[sqlx::test]
async fn a_failed_check_says_why_in_words(pool: PgPool) {
    // The test app's Meta is an address nothing listens on.
    let app = TestApp::new(pool).await;
    let mut admin = signed_in_admin(&app).await;
    let number: i64 = app.scalar("select id from phone_numbers").await;
    let shown = check(&mut admin, number).await;
    assert!(shown.contains("check-failed"), "{shown}");
    assert!(shown.contains("Could not reach WhatsApp"), "{shown}");
    let changes: i64 = app.scalar("select count(*) from number_history").await;
    assert_eq!(changes, 0);
}

#[sqlx::test]
async fn quality_and_limit_changes_from_meta_become_history_and_alerts(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let flagged = || {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpus/webhooks/bindambc__phone_number_quality_update_flagged.json"
        ))
        .unwrap()
        .replace("waba-id", WABA_ID)
        .replace("16505551111", "972123456789")
    };
    app.deliver(flagged()).await;
    app.deliver(flagged()).await;
    let history = history(&app).await;
    assert_eq!(
        history,
        [
            ("webhook".into(), "quality".into(), "FLAGGED".into()),
            ("webhook".into(), "limit".into(), "TIER_10K".into()),
        ],
        "the same news twice is one change"
    );
    let mut admin = signed_in_admin(&app).await;
    let page = admin.get("/admin/numbers").await;
    let alerts = page.body.split(r#"data-testid="alerts">"#).nth(1).unwrap();
    let alerts = &alerts[..alerts.find("</ul>").unwrap()];
    assert!(
        alerts.contains("Quality: Flagged: quality is low"),
        "{alerts}"
    );
    assert!(
        alerts.contains("Messaging limit: 10,000 customers a day"),
        "{alerts}"
    );
    assert!(alerts.contains("reported by Meta"));
    assert!(page.body.contains(r#"data-testid="history">"#));
}

#[sqlx::test]
async fn an_admin_creates_a_sandbox_number_and_plays_its_customer(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = signed_in_admin(&app).await;
    let csrf = admin.csrf().await;
    let created = admin.post_form("/admin/sandbox", &[("csrf", &csrf)]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let (sandbox, pnid): (i64, String) = sqlx::query_as(
        "select id, phone_number_id from phone_numbers where sandbox and tenant_id = $1",
    )
    .bind(app.tenant_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let page = admin.get("/admin/numbers").await;
    assert!(page.body.contains(&format!(
        r#"data-testid="sandbox-number" data-phone-number-id="{pnid}""#
    )));
    let audited: Option<i64> = app
        .scalar("select user_id from audit_log where action = 'number.add'")
        .await;
    assert!(audited.is_some(), "audited with the admin who created it");

    let said = admin
        .post_form(
            &format!("/admin/numbers/{sandbox}/customer"),
            &[
                ("from", "+1 555 000 2222"),
                ("name", "Pat"),
                ("text", "Is my parcel on its way?"),
                ("hours_ago", "25"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(said.status, StatusCode::SEE_OTHER, "{}", said.body);
    assert_eq!(said.location(), "/inbox");
    // Applied before the answer: the inbox shows it as it opens.
    let (body, closed): (String, bool) = sqlx::query_as(
        "select m.body, c.last_customer_message_at < now() - interval '24 hours'
         from messages m join conversations c on c.id = m.conversation_id
         where c.phone_number_id = $1",
    )
    .bind(sandbox)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((body.as_str(), closed), ("Is my parcel on its way?", true));

    // Only the tenant's own sandbox numbers have a customer to play.
    let real: i64 = app
        .scalar("select id from phone_numbers where not sandbox")
        .await;
    let refused = admin
        .post_form(
            &format!("/admin/numbers/{real}/customer"),
            &[("from", "+1 555 000 2222"), ("text", "Hi"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let removed = admin
        .post_form(
            &format!("/admin/numbers/{sandbox}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let gone = admin
        .post_form(
            &format!("/admin/numbers/{sandbox}/customer"),
            &[("from", "+1 555 000 2222"), ("text", "Hi"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn refused_forms_keep_what_was_typed_except_secrets(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = signed_in_admin(&app).await;
    let csrf = admin.csrf().await;
    let bad_id = admin
        .post_form(
            "/admin/apps",
            &[
                ("meta_app_id", "my-app"),
                ("app_secret", NEW_SECRET),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(bad_id.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_id
            .body
            .contains("An App ID is the number the app dashboard shows")
    );
    assert!(bad_id.body.contains(r#"value="my-app""#));
    assert!(!bad_id.body.contains(NEW_SECRET));

    let taken = admin
        .post_form(
            "/admin/apps",
            &[
                ("meta_app_id", META_APP_ID),
                ("app_secret", NEW_SECRET),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.body.contains("already registered"));

    let row = app_row(&app, META_APP_ID).await;
    let duplicate = admin
        .post_form(
            &format!("/admin/apps/{row}/numbers"),
            &[
                ("phone_number_id", PHONE_NUMBER_ID),
                ("waba_id", WABA_ID),
                ("access_token", "EAAG-another-token"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        duplicate
            .body
            .contains("This phone number ID is already registered")
    );
    assert!(!duplicate.body.contains("EAAG-another-token"));
    let no_token = admin
        .post_form(
            &format!("/admin/apps/{row}/numbers"),
            &[
                ("phone_number_id", NEW_NUMBER_ID),
                ("waba_id", NEW_WABA_ID),
                ("access_token", "  "),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(no_token.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_token.body.contains("The access token is needed"));
    assert!(
        no_token
            .body
            .contains(&format!(r#"value="{NEW_NUMBER_ID}""#))
    );
    let numbers: i64 = app.scalar("select count(*) from phone_numbers").await;
    assert_eq!(numbers, 1);
}

#[sqlx::test]
async fn blank_secret_fields_keep_the_stored_ones_and_a_change_is_audited(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let mut admin = signed_in_admin(&app).await;
    let csrf = admin.csrf().await;
    let row = app_row(&app, META_APP_ID).await;
    let secrets = |app_secret: &'static str| {
        [
            ("app_secret", app_secret),
            ("verify_token", ""),
            ("csrf", csrf.as_str()),
        ]
    };
    let path = format!("/admin/apps/{row}/secrets");
    let kept = admin.post_form(&path, &secrets("")).await;
    assert_eq!(kept.status, StatusCode::SEE_OTHER);
    let stored = || async {
        let mut conn = app.pool.acquire().await.unwrap();
        let cipher = app.config.secret_key.cipher();
        let app = apps::find_credentials(&mut conn, &cipher, META_APP_ID)
            .await
            .unwrap()
            .unwrap();
        (
            secrecy::ExposeSecret::expose_secret(&app.app_secret).to_owned(),
            secrecy::ExposeSecret::expose_secret(&app.verify_token).to_owned(),
        )
    };
    assert_eq!(stored().await, (APP_SECRET.into(), VERIFY_TOKEN.into()));
    let unchanged: i64 = app
        .scalar("select count(*) from audit_log where action = 'app.secrets'")
        .await;
    assert_eq!(unchanged, 0, "nothing changed, nothing audited");

    let changed = admin.post_form(&path, &secrets(NEW_SECRET)).await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert_eq!(stored().await, (NEW_SECRET.into(), VERIFY_TOKEN.into()));
    let details: serde_json::Value = app
        .scalar("select details from audit_log where action = 'app.secrets'")
        .await;
    assert_eq!(details["changed"], serde_json::json!(["app_secret"]));
    assert!(!details.to_string().contains(NEW_SECRET));
}

#[sqlx::test]
async fn a_paused_number_keeps_its_messages_queued_until_it_resumes(pool: PgPool) {
    let sending = Sending::new(pool).await;
    let app = &sending.app;
    let mut admin = signed_in_admin(app).await;
    let csrf = admin.csrf().await;
    let conversation = sending.conversation(1).await;
    let number = sending.number_id;
    let pause = |paused: &'static str| [("paused", paused), ("csrf", csrf.as_str())];
    let paused = admin
        .post_form(&format!("/admin/numbers/{number}/pause"), &pause("true"))
        .await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER);

    let queued = sending
        .send_text(conversation, "paused-1", "Your order shipped")
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let status: MessageStatus = app
        .scalar(&format!(
            "select status from messages where id = {}",
            queued.message_id
        ))
        .await;
    assert_eq!(status, MessageStatus::Queued);
    assert_eq!(sending.sends(), 0, "nothing reached Meta while paused");
    let page = admin.get("/admin/numbers").await;
    assert!(
        page.body
            .contains("1 message, waiting until sending resumes"),
        "{}",
        page.body
    );
    let thread = admin
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert!(thread.body.contains(r#"data-testid="number-paused""#));
    assert!(
        thread.body.contains(r#"data-testid="reply-form""#),
        "agents may still queue replies"
    );

    let resumed = admin
        .post_form(&format!("/admin/numbers/{number}/pause"), &pause("false"))
        .await;
    assert_eq!(resumed.status, StatusCode::SEE_OTHER);
    sending
        .wait_for(queued.message_id, MessageStatus::Sent)
        .await;
    let audited: i64 = app
        .scalar("select count(*) from audit_log where action in ('number.pause', 'number.resume')")
        .await;
    assert_eq!(audited, 2);
}

#[sqlx::test]
async fn a_removed_number_fails_its_queue_refuses_sends_and_comes_back_with_its_events(
    pool: PgPool,
) {
    let sending = Sending::new(pool).await;
    let app = &sending.app;
    let mut admin = signed_in_admin(app).await;
    let csrf = admin.csrf().await;
    let conversation = sending.conversation(1).await;
    let number = sending.number_id;
    let pause = [("paused", "true"), ("csrf", csrf.as_str())];
    admin
        .post_form(&format!("/admin/numbers/{number}/pause"), &pause)
        .await;
    let queued = sending
        .send_text(conversation, "removed-1", "Still there?")
        .await
        .unwrap();

    let removed = admin
        .post_form(
            &format!("/admin/numbers/{number}/remove"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let (code, title, message) = sending.error(queued.message_id).await;
    assert_eq!((code, title.as_str()), (None, "Number removed"));
    assert!(
        message.contains("conversations are kept, read-only"),
        "{message}"
    );
    let refused = refusal(sending.send_text(conversation, "removed-2", "Hello?").await);
    assert!(matches!(refused, SendRefused::NumberRemoved), "{refused:?}");
    assert!(matches!(
        sending.retry(queued.message_id).await,
        Err(SendError::Refused(SendRefused::NumberRemoved))
    ));
    let thread = admin
        .get(&format!("/inbox/conversations/{conversation}"))
        .await;
    assert!(thread.body.contains(r#"data-testid="number-removed""#));
    assert!(!thread.body.contains(r#"data-testid="reply-form""#));
    assert!(
        thread.body.contains("Still there?"),
        "the conversation is kept"
    );

    // The customer writes to the removed number: kept as unroutable, shown with Replay.
    let status = customer_writes_to(
        app,
        META_APP_ID,
        APP_SECRET,
        PHONE_NUMBER_ID,
        "wamid.gone.1",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    app.apply().await;
    let page = admin.get("/admin/numbers").await;
    assert!(page.body.contains(r#"data-testid="number-state">Removed"#));
    let event: i64 = app
        .scalar("select id from webhook_events where state = 'unroutable'")
        .await;
    assert!(page.body.contains(&format!("/admin/events/{event}/replay")));
    assert!(page.body.contains(PHONE_NUMBER_ID));

    // Added again, the number gets its conversation back, and the replayed event lands in it.
    let row = app_row(app, META_APP_ID).await;
    let again = admin
        .post_form(
            &format!("/admin/apps/{row}/numbers"),
            &[
                ("phone_number_id", PHONE_NUMBER_ID),
                ("waba_id", WABA_ID),
                ("access_token", "EAAG-fresh-token"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    let replayed = admin
        .post_form(&format!("/admin/events/{event}/replay"), &[("csrf", &csrf)])
        .await;
    assert_eq!(replayed.status, StatusCode::SEE_OTHER);
    let landed: i64 = app
        .scalar(&format!(
            "select count(*) from messages where wamid = 'wamid.gone.1' and conversation_id = {conversation}"
        ))
        .await;
    assert_eq!(landed, 1);
    let state: String = app
        .scalar(&format!(
            "select state from webhook_events where id = {event}"
        ))
        .await;
    assert_eq!(state, "applied");
}

#[sqlx::test]
async fn another_tenants_apps_numbers_and_events_are_not_found(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (other, other_app) = app
        .add_tenant("Globex", "5555555555", "globex-secret")
        .await;
    let other_number = app
        .add_number(
            other,
            other_app,
            "9990001112223",
            "8880001112223",
            Some("+44 20 0000 0000"),
        )
        .await;
    let status = customer_writes_to(
        &app,
        "5555555555",
        "globex-secret",
        "1231231231231",
        "wamid.globex.1",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    app.apply().await;
    let other_event: i64 = app
        .scalar("select id from webhook_events where state = 'unroutable'")
        .await;

    let mut admin = signed_in_admin(&app).await;
    let csrf = admin.csrf().await;
    let page = admin.get("/admin/numbers").await;
    assert!(!page.body.contains("5555555555"));
    assert!(!page.body.contains("+44 20 0000 0000"));
    let attempts = [
        (
            format!("/admin/numbers/{other_number}/pause"),
            vec![("paused", "true")],
        ),
        (format!("/admin/numbers/{other_number}/remove"), vec![]),
        (format!("/admin/numbers/{other_number}/check"), vec![]),
        (
            format!("/admin/numbers/{other_number}/customer"),
            vec![("from", "+15550001111"), ("text", "Hi")],
        ),
        (
            format!("/admin/numbers/{other_number}/settings"),
            vec![("per_second", "10")],
        ),
        (
            format!("/admin/numbers/{other_number}"),
            vec![
                ("display_phone_number", "+1 000"),
                ("access_token", "stolen"),
            ],
        ),
        (
            format!("/admin/apps/{other_app}/secrets"),
            vec![("app_secret", "overwritten")],
        ),
        (
            format!("/admin/apps/{other_app}/numbers"),
            vec![
                ("phone_number_id", "7770001112223"),
                ("waba_id", "1"),
                ("access_token", "t"),
            ],
        ),
        (format!("/admin/events/{other_event}/replay"), vec![]),
        (format!("/admin/events/{other_event}/dismiss"), vec![]),
    ];
    for (path, mut fields) in attempts {
        fields.push(("csrf", &csrf));
        let answer = admin.post_form(&path, &fields).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
    }
    let untouched: (Option<At>, Option<At>, i32, Option<String>) = sqlx::query_as(
        "select paused_at, removed_at, max_messages_per_second, display_phone_number
             from phone_numbers where id = $1",
    )
    .bind(other_number)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(untouched, (None, None, 80, Some("+44 20 0000 0000".into())));
    let mut conn = app.pool.acquire().await.unwrap();
    let cipher = app.config.secret_key.cipher();
    let secret = apps::find_credentials(&mut conn, &cipher, "5555555555")
        .await
        .unwrap()
        .unwrap()
        .app_secret;
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&secret),
        "globex-secret"
    );
    let state: String = app
        .scalar(&format!(
            "select state from webhook_events where id = {other_event}"
        ))
        .await;
    assert_eq!(state, "unroutable");
    let numbers: i64 = app.scalar("select count(*) from phone_numbers").await;
    assert_eq!(numbers, 2);

    user(&app, app.tenant_id, "ana@acme.test", "Ana Lima").await;
    let mut agent = Client::signed_in(&app, "ana@acme.test").await;
    assert_eq!(
        agent.get("/admin/numbers").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(agent.get("/admin").await.status, StatusCode::FORBIDDEN);
}
