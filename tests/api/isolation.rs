//! Isolation, proven route by route (issue 9, §7). The routes come from the router itself (its
//! debug form lists every path it matches), so a route added without a case here fails
//! `every_route_has_a_case`. An admin and an agent of tenant A ask for tenant B's objects by id,
//! on every route that takes one, by every method it serves: each answer is 404 (403 for the
//! agent on admin routes), nothing of B's is in any body or in A's live stream, and none of B's
//! rows changed.

use std::time::Duration;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use sqlx::PgPool;
use tower::ServiceExt;

use crate::{
    helpers::*,
    inbox::{Client, signed_in_admin, user},
};

/// What a route is, for this suite.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    /// Reads or changes tenant objects named in its path: asked with B's ids.
    Objects(&'static [Method]),
    /// A tenant's own page or form without ids: answered with A's data only.
    Own(&'static [Method]),
    /// Not a tenant's: signed out (sign-in, one-time links, files), Meta's webhooks (signed per
    /// app), probes, the operator's metrics, the sandbox's own Graph API.
    Outside(&'static str),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Method {
    Get,
    Post,
}

use Case::{Objects, Outside, Own};
use Method::{Get, Post};

/// The Meta-compatible endpoint answers API keys, not sessions: a key reaches its tenant's
/// numbers only (`graph_endpoint::keys`).
const GRAPH: &str = "an API key's own tenant and numbers: proven in graph_endpoint::keys";
/// So does the JSON API (`json_api::keys`).
const API: &str = "an API key's own tenant and numbers: proven in json_api::keys";

/// Every route of the app and its case; a route missing here fails the suite.
const ROUTES: &[(&str, Case)] = &[
    ("/", Outside("redirects to the inbox")),
    (
        "/account/{token}",
        Outside("a one-time link: the token is the credential"),
    ),
    ("/setup/{token}", Outside("the first run's one-time link")),
    ("/login", Outside("signed out")),
    ("/logout", Outside("ends the caller's own session")),
    ("/healthz", Outside("a probe")),
    ("/readyz", Outside("a probe")),
    ("/metrics", Outside("the operator's, behind METRICS_TOKEN")),
    ("/static/{file}", Outside("files")),
    (
        "/webhooks",
        Outside("Meta's, signed with each app's secret"),
    ),
    (
        "/webhooks/whatsapp/{app_id}",
        Outside("Meta's, signed with each app's secret"),
    ),
    (
        "/sandbox/graph",
        Outside("the fake Graph API, authorised by number tokens"),
    ),
    (
        "/sandbox/graph/",
        Outside("the fake Graph API, authorised by number tokens"),
    ),
    ("/api/v1", Outside(API)),
    ("/api/v1/contacts/{id}", Outside(API)),
    ("/api/v1/contacts/{id}/marketing", Outside(API)),
    ("/api/v1/conversations", Outside(API)),
    ("/api/v1/conversations/{id}", Outside(API)),
    ("/api/v1/conversations/{id}/assignee", Outside(API)),
    ("/api/v1/conversations/{id}/labels", Outside(API)),
    ("/api/v1/conversations/{id}/labels/{label_id}", Outside(API)),
    ("/api/v1/conversations/{id}/messages", Outside(API)),
    ("/api/v1/conversations/{id}/notes", Outside(API)),
    ("/api/v1/conversations/{id}/status", Outside(API)),
    ("/api/v1/numbers", Outside(API)),
    ("/api/v1/templates", Outside(API)),
    (
        "/api/v1/docs",
        Outside("the API's description, the same for everyone"),
    ),
    (
        "/api/v1/openapi.json",
        Outside("the API's description, the same for everyone"),
    ),
    ("/graph", Outside(GRAPH)),
    ("/graph/media/{id}", Outside(GRAPH)),
    ("/graph/{version}/{id}", Outside(GRAPH)),
    ("/graph/{version}/{id}/media", Outside(GRAPH)),
    ("/graph/{version}/{id}/message_templates", Outside(GRAPH)),
    ("/graph/{version}/{id}/messages", Outside(GRAPH)),
    ("/inbox", Own(&[Get])),
    ("/inbox/events", Outside("A's live stream: checked below")),
    ("/inbox/conversations/{id}", Objects(&[Get])),
    ("/inbox/conversations/{id}/assign", Objects(&[Post])),
    ("/inbox/conversations/{id}/attachments", Objects(&[Post])),
    ("/inbox/conversations/{id}/canned", Objects(&[Post])),
    ("/inbox/conversations/{id}/labels", Objects(&[Post])),
    (
        "/inbox/conversations/{id}/labels/{label}/remove",
        Objects(&[Post]),
    ),
    ("/inbox/conversations/{id}/messages", Objects(&[Post])),
    (
        "/inbox/conversations/{id}/messages/{message}/react",
        Objects(&[Post]),
    ),
    (
        "/inbox/conversations/{id}/messages/{message}/retry",
        Objects(&[Post]),
    ),
    ("/inbox/conversations/{id}/notes", Objects(&[Post])),
    ("/inbox/conversations/{id}/status", Objects(&[Post])),
    ("/inbox/conversations/{id}/templates", Objects(&[Post])),
    ("/inbox/conversations/{id}/viewing", Objects(&[Post])),
    ("/inbox/media/{id}", Objects(&[Get])),
    ("/admin", Own(&[Get])),
    ("/admin/apps", Own(&[Post])),
    ("/admin/apps/{id}/numbers", Objects(&[Post])),
    ("/admin/apps/{id}/secrets", Objects(&[Post])),
    ("/admin/audit", Own(&[Get])),
    ("/admin/api-keys", Own(&[Get, Post])),
    ("/admin/api-keys/{id}/revoke", Objects(&[Post])),
    ("/admin/webhooks", Own(&[Get, Post])),
    ("/admin/webhooks/{id}", Objects(&[Get])),
    ("/admin/webhooks/{id}/state", Objects(&[Post])),
    ("/admin/webhooks/{id}/delete", Objects(&[Post])),
    (
        "/admin/webhooks/{id}/deliveries/{delivery}/replay",
        Objects(&[Post]),
    ),
    ("/admin/canned", Own(&[Post])),
    ("/admin/contacts/{id}/erase", Objects(&[Post])),
    ("/admin/canned/{id}", Objects(&[Post])),
    ("/admin/canned/{id}/delete", Objects(&[Post])),
    ("/admin/events/{id}/dismiss", Objects(&[Post])),
    ("/admin/events/{id}/replay", Objects(&[Post])),
    ("/admin/labels/{id}", Objects(&[Post])),
    ("/admin/labels/{id}/delete", Objects(&[Post])),
    ("/admin/numbers", Own(&[Get])),
    ("/admin/numbers/{id}", Objects(&[Post])),
    ("/admin/numbers/{id}/check", Objects(&[Post])),
    ("/admin/numbers/{id}/customer", Objects(&[Post])),
    ("/admin/numbers/{id}/pause", Objects(&[Post])),
    ("/admin/numbers/{id}/remove", Objects(&[Post])),
    ("/admin/numbers/{id}/settings", Objects(&[Post])),
    ("/admin/operations", Own(&[Get])),
    ("/admin/reports", Own(&[Get])),
    ("/admin/reports/export", Own(&[Get])),
    ("/admin/sandbox", Own(&[Post])),
    ("/admin/settings", Own(&[Get])),
    ("/admin/team", Own(&[Get])),
    ("/admin/team/invite", Own(&[Post])),
    ("/admin/team/{id}/access", Objects(&[Post])),
    ("/admin/team/{id}/reset", Objects(&[Post])),
    ("/admin/team/{id}/role", Objects(&[Post])),
    ("/admin/templates", Own(&[Get])),
    ("/admin/templates/new", Own(&[Get])),
    ("/admin/templates/sample", Objects(&[Post])),
    ("/admin/templates/sync", Own(&[Post])),
    ("/admin/templates/{id}/delete", Objects(&[Post])),
    ("/admin/templates/{id}/edit", Objects(&[Get, Post])),
];

/// The paths the router matches, read from its debug form (axum lists each route's path there);
/// axum's own catch-alls left out.
fn router_paths(app: &TestApp) -> Vec<String> {
    let text = format!("{:?}", app.router);
    let mut paths: Vec<String> = text
        .split('"')
        .filter(|piece| piece.starts_with('/') && !piece.contains("__private__axum"))
        .map(str::to_owned)
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

#[sqlx::test]
async fn every_route_has_a_case(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let paths = router_paths(&app);
    assert!(
        paths.len() > 50,
        "the router's paths were not found: {paths:?}"
    );
    let missing: Vec<&String> = paths
        .iter()
        .filter(|path| !ROUTES.iter().any(|(known, _)| known == path))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without an isolation case: {missing:?}"
    );
    let gone: Vec<&str> = ROUTES
        .iter()
        .map(|(path, _)| *path)
        .filter(|path| !paths.iter().any(|p| p == path))
        .collect();
    assert!(
        gone.is_empty(),
        "cases for routes that no longer exist: {gone:?}"
    );
}

/// What tenant B has, named with a marker that must never reach A.
struct Other {
    ids: Vec<(&'static str, i64)>,
}

const MARK: &str = "GLOBEX-PRIVATE";
/// B's WABA.
const OTHER_WABA: &str = "8880001112223";

impl Other {
    async fn create(app: &TestApp) -> Self {
        let (tenant, app_id) = app
            .add_tenant("Globex", "5555555555", "globex-secret")
            .await;
        let number = app
            .add_number(tenant, app_id, "9990001112223", OTHER_WABA, None)
            .await;
        let user = user(app, tenant, "eve@globex.test", &format!("Eve {MARK}")).await;
        let one = |sql: &'static str| {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(tenant.get())
                .bind(number.get())
                .bind(format!("{MARK} text"))
                .fetch_one(&app.pool)
        };
        let contact = one("insert into contacts (tenant_id, wa_id, profile_name)
             select $1, '4479990001', $3 where $2 is not null returning id")
        .await
        .unwrap();
        let conversation: i64 = sqlx::query_scalar(
            "insert into conversations (tenant_id, phone_number_id, contact_id)
             values ($1, $2, $3) returning id",
        )
        .bind(tenant.get())
        .bind(number.get())
        .bind(contact)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        let message: i64 = sqlx::query_scalar(
            "insert into messages (tenant_id, conversation_id, phone_number_id, direction, wamid,
                                   type, body, content, status)
             values ($1, $2, $3, 'inbound', 'wamid.globex', 'image', $4,
                     jsonb_build_object('type', 'image', 'image',
                                        jsonb_build_object('id', '778899', 'caption', $4)),
                     'received')
             returning id",
        )
        .bind(tenant.get())
        .bind(conversation)
        .bind(number.get())
        .bind(format!("{MARK} text"))
        .fetch_one(&app.pool)
        .await
        .unwrap();
        let label = one(
            "insert into labels (tenant_id, name) select $1, $3 where $2 is not null returning id",
        )
        .await
        .unwrap();
        sqlx::query(
            "insert into conversation_labels (tenant_id, conversation_id, label_id)
             values ($1, $2, $3)",
        )
        .bind(tenant.get())
        .bind(conversation)
        .bind(label)
        .execute(&app.pool)
        .await
        .unwrap();
        let canned = one("insert into canned_responses (tenant_id, shortcut, body)
             select $1, 'globex', $3 where $2 is not null returning id")
        .await
        .unwrap();
        let template = one(
            "insert into message_templates (tenant_id, waba_id, name, language, status,
                                            meta_template_id)
             select $1, '8880001112223', 'globex_private', 'en', 'APPROVED', '4455'
             where $2 is not null returning id",
        )
        .await
        .unwrap();
        let api_key = one(
            "insert into api_keys (tenant_id, name, prefix, secret_sha256, rate_per_second)
             select $1, $3, 'sbk_globex00', sha256(convert_to($3, 'UTF8')), 10
             where $2 is not null returning id",
        )
        .await
        .unwrap();
        let webhook = one(
            "insert into webhook_endpoints (tenant_id, url, format, events, secret_encrypted)
             select $1, 'https://globex.example/' || $3, 'switchboard', '{message.received}',
                    '\\x00' where $2 is not null returning id",
        )
        .await
        .unwrap();
        let delivery: i64 = sqlx::query_scalar(
            "insert into webhook_deliveries (tenant_id, endpoint_id, event_id, event_type,
                                             order_key, body, state)
             values ($1, $2, 'evt_globex', 'message.received', 'c1', convert_to($3, 'UTF8'),
                     'delivered') returning id",
        )
        .bind(tenant.get())
        .bind(webhook)
        .bind(format!("{MARK} text"))
        .fetch_one(&app.pool)
        .await
        .unwrap();
        let event: i64 = sqlx::query_scalar(
            "insert into webhook_events (app_id, body, state) values ($1, convert_to($2, 'UTF8'),
                                                                   'failed') returning id",
        )
        .bind(app_id.get())
        .bind(format!("{{\"note\": \"{MARK}\"}}"))
        .fetch_one(&app.pool)
        .await
        .unwrap();
        Self {
            ids: vec![
                ("conversation", conversation),
                ("contact", contact),
                ("message", message),
                ("label", label),
                ("canned", canned),
                ("api_key", api_key),
                ("webhook", webhook),
                ("delivery", delivery),
                ("template", template),
                ("event", event),
                ("app", app_id.get()),
                ("number", number.get()),
                ("user", user.get()),
            ],
        }
    }

    fn id(&self, name: &str) -> i64 {
        self.ids.iter().find(|(n, _)| *n == name).unwrap().1
    }

    /// `path` with B's ids in place of its parameters.
    fn fill(&self, path: &str) -> String {
        let kind = if path.starts_with("/inbox/conversations") {
            "conversation"
        } else if path.starts_with("/inbox/media") {
            "message"
        } else {
            match path.split('/').nth(2) {
                Some("api-keys") => "api_key",
                Some("webhooks") => "webhook",
                Some("apps") => "app",
                Some("canned") => "canned",
                Some("contacts") => "contact",
                Some("events") => "event",
                Some("labels") => "label",
                Some("numbers") => "number",
                Some("team") => "user",
                Some("templates") => "template",
                other => panic!("no object for {path} ({other:?})"),
            }
        };
        path.replace("{id}", &self.id(kind).to_string())
            .replace("{message}", &self.id("message").to_string())
            .replace("{label}", &self.id("label").to_string())
            .replace("{delivery}", &self.id("delivery").to_string())
    }

    /// Every row of B's, as text, to compare before and after.
    async fn snapshot(&self, app: &TestApp) -> String {
        const B: &str = "(select id from tenants where name = 'Globex')";
        let tables = [
            ("contacts", "id"),
            ("conversations", "id"),
            ("messages", "id"),
            ("labels", "id"),
            ("conversation_labels", "conversation_id"),
            ("canned_responses", "id"),
            ("api_keys", "id"),
            ("webhook_endpoints", "id"),
            ("webhook_deliveries", "id"),
            ("message_templates", "id"),
            ("users", "id"),
            ("phone_numbers", "id"),
            ("meta_apps", "id"),
        ];
        let mut parts = vec![format!(
            "(select string_agg(t::text, ',') from tenants t where t.id = {B})"
        )];
        parts.extend(tables.iter().map(|(table, order)| {
            format!(
                "(select string_agg(x::text, ',' order by x.{order}) from {table} x \
                 where x.tenant_id = {B})"
            )
        }));
        parts.push(format!(
            "(select string_agg(x.id || x.state, ',' order by x.id) from webhook_events x \
             where x.app_id in (select id from meta_apps where tenant_id = {B}))"
        ));
        parts.push(format!(
            "(select count(*)::text from audit_log x where x.tenant_id = {B})"
        ));
        sqlx::query_scalar(&format!("select concat_ws(' | ', {})", parts.join(", ")))
            .fetch_one(&app.pool)
            .await
            .unwrap()
    }
}

/// A form with every field any of the app's forms reads, so that each request reaches the
/// handler's look-up of the object instead of stopping at a missing field.
fn every_field<'a>(csrf: &'a str, template: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("template_id", template),
        ("confirm", "yes"),
        ("back", "/inbox"),
        ("text", "hello"),
        ("body", "hello"),
        ("idempotency_key", "isolation-1"),
        ("emoji", "👍"),
        ("assignee", "me"),
        ("status", "resolved"),
        ("name", "renamed"),
        ("shortcut", "x"),
        ("paused", "true"),
        ("per_second", "10"),
        ("from", "15550001111"),
        ("hours_ago", "1"),
        ("active", "false"),
        ("role", "admin"),
        ("state", "off"),
        ("format", "switchboard"),
        ("url", "https://acme.example/hooks"),
        ("email", "x@acme.test"),
        ("display_name", "X"),
        ("phone_number_id", "1231231231"),
        ("waba_id", "3213213213"),
        ("access_token", "EAAtoken"),
        ("app_secret", "secret"),
        ("verify_token", "verify"),
    ]
}

async fn ask(
    client: &mut Client<'_>,
    method: Method,
    path: &str,
    other: &Other,
) -> (StatusCode, String) {
    let csrf = client.csrf().await;
    let answer = match method {
        Method::Get => client.get(path).await,
        // An upload, as the composer's attachment form and the template form's sample send it
        // (the sample for B's WABA).
        Method::Post if path.ends_with("/attachments") || path.ends_with("/sample") => {
            let boundary = "isolation-boundary";
            let (file, mime) = if path.ends_with("/sample") {
                ("header_sample", "image/png")
            } else {
                ("file", "text/plain")
            };
            let body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"idempotency_key\"\r\n\r\nk-1\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"waba_id\"\r\n\r\n{OTHER_WABA}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"header_format\"\r\n\r\nimage\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"{file}\"; filename=\"a\"\r\n\
                 Content-Type: {mime}\r\n\r\nhello\r\n--{boundary}--\r\n"
            );
            client
                .send(
                    Request::post(path).header(
                        header::CONTENT_TYPE,
                        format!("multipart/form-data; boundary={boundary}"),
                    ),
                    Body::from(body),
                )
                .await
        }
        Method::Post => {
            let template = other.id("template").to_string();
            client.post_form(path, &every_field(&csrf, &template)).await
        }
    };
    (answer.status, answer.body)
}

#[sqlx::test]
async fn no_route_shows_or_changes_another_tenants_objects(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let other = Other::create(&app).await;
    let mut admin = signed_in_admin(&app).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let mut agent = Client::signed_in(&app, "ana@acme.test").await;
    let mut stream = open_stream(&app, &admin).await;
    let before = other.snapshot(&app).await;

    let mut failures = Vec::new();
    for (path, case) in ROUTES {
        let (methods, objects) = match case {
            Objects(methods) => (*methods, true),
            Own(methods) => (*methods, false),
            Outside(_) => continue,
        };
        let target = if objects {
            other.fill(path)
        } else {
            path.to_string()
        };
        for &method in methods {
            for (who, client) in [("admin", &mut admin), ("agent", &mut agent)] {
                let (status, body) = ask(client, method, &target, &other).await;
                let expected = if who == "agent" && path.starts_with("/admin") {
                    vec![StatusCode::FORBIDDEN]
                } else if objects {
                    vec![StatusCode::NOT_FOUND]
                } else {
                    // A's own page, or A's own form refused or done.
                    vec![
                        StatusCode::OK,
                        StatusCode::SEE_OTHER,
                        StatusCode::UNPROCESSABLE_ENTITY,
                    ]
                };
                if !expected.contains(&status) {
                    failures.push(format!("{who} {method:?} {target}: {status}"));
                }
                if body.contains(MARK) || body.contains("globex") {
                    failures.push(format!("{who} {method:?} {target}: B's data in the body"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(other.snapshot(&app).await, before, "B's rows changed");

    // B's own change reaches B only: A's stream stays silent.
    sqlx::query("select announce($1, $2, null, array['message_added'])")
        .bind(
            sqlx::query_scalar::<_, i64>("select id from tenants where name = 'Globex'")
                .fetch_one(&app.pool)
                .await
                .unwrap(),
        )
        .bind(other.id("conversation"))
        .execute(&app.pool)
        .await
        .unwrap();
    let heard = read_for(&mut stream, Duration::from_millis(500)).await;
    assert!(!heard.contains("event: change"), "{heard}");
}

async fn open_stream(app: &TestApp, client: &Client<'_>) -> Body {
    let response = app
        .router
        .clone()
        .oneshot(
            Request::get("/inbox/events")
                .header(header::COOKIE, client.cookie_header())
                .header(header::ACCEPT, "text/event-stream")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.into_body()
}

async fn read_for(body: &mut Body, wait: Duration) -> String {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, body.frame()).await {
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
    text
}
