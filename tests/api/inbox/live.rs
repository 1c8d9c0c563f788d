//! Live updates: each agent's stream carries its tenant's changes, and only those.

use std::time::Duration;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use sqlx::PgPool;
use tower::ServiceExt;

use super::*;

/// An open event stream, read frame by frame.
struct Stream(Body);

impl Stream {
    async fn open(app: &TestApp, browser: &mut Client<'_>, last_event_id: Option<&str>) -> Self {
        Self::open_at(app, browser, "/inbox/events", last_event_id).await
    }

    async fn open_at(
        app: &TestApp,
        browser: &mut Client<'_>,
        path: &str,
        last_event_id: Option<&str>,
    ) -> Self {
        let mut request = Request::get(path)
            .header(header::COOKIE, browser.cookie_header())
            .header(header::ACCEPT, "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = app
            .router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/event-stream"
        );
        Self(response.into_body())
    }

    /// The text received within `wait` (keep-alive comments included).
    async fn read_for(&mut self, wait: Duration) -> String {
        let mut text = String::new();
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, self.0.frame()).await {
            if let Ok(data) = frame.into_data() {
                text.push_str(&String::from_utf8_lossy(&data));
            }
        }
        text
    }

    /// Reads until `needle` arrives (at most 10 s); returns everything read.
    async fn until(&mut self, needle: &str) -> String {
        let mut text = String::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !text.contains(needle) {
            match tokio::time::timeout_at(deadline, self.0.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        text.push_str(&String::from_utf8_lossy(&data));
                    }
                }
                _ => panic!("{needle:?} did not arrive; got {text:?}"),
            }
        }
        text
    }
}

#[sqlx::test]
async fn a_new_message_reaches_its_tenants_streams_and_no_other(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let (other, _) = app.add_tenant("Globex", "99887766", "globex-secret").await;
    user(&app, other, "eve@globex.test", "Eve").await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;
    let mut eve = Client::signed_in(&app, "eve@globex.test").await;
    let mut ours = Stream::open(&app, &mut ana, None).await;
    let mut theirs = Stream::open(&app, &mut eve, None).await;

    let conversation = customer_writes(&app, "wamid.live", "Are you there?", 0).await;
    let received = ours.until("event: change").await;
    assert!(
        received.contains(&format!(r#""conversation":{conversation}"#)),
        "{received}"
    );
    assert!(received.contains("message_added"), "{received}");
    assert!(
        !received.contains("Are you there?"),
        "no content in events: {received}"
    );
    let leaked = theirs.read_for(Duration::from_millis(500)).await;
    assert!(!leaked.contains("event: change"), "{leaked}");
}

#[sqlx::test]
async fn a_reconnecting_page_is_told_to_resync(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;
    let mut stream = Stream::open(&app, &mut ana, Some("7")).await;
    let first = stream.until("event: resync").await;
    assert!(first.contains("id: 1"), "{first}");
}

/// The stream a page opens says when the page was rendered: a change between the render and the
/// stream's start is not lost.
#[sqlx::test]
async fn a_change_between_render_and_stream_is_not_lost(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;
    let events_url = |body: &str| {
        let start = body
            .find(r#"data-events=""#)
            .expect("the page names its stream")
            + 13;
        body[start..start + body[start..].find('"').unwrap()].replace("&amp;", "&")
    };

    // A hub vouches only for what it heard: for pages rendered from two seconds (the clock skew
    // it allows between processes) after it began listening.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let quiet = events_url(&ana.get("/inbox").await.body);
    assert!(quiet.starts_with("/inbox/events?since="), "{quiet}");
    let mut stream = Stream::open_at(&app, &mut ana, &quiet, None).await;
    let nothing = stream.read_for(Duration::from_millis(500)).await;
    assert!(!nothing.contains("event:"), "nothing changed: {nothing}");

    let missed = events_url(&ana.get("/inbox").await.body);
    let mut already_open = Stream::open(&app, &mut ana, None).await;
    let conversation = customer_writes(&app, "wamid.gap", "Anyone?", 0).await;
    // Once a stream open all along has it, the hub has heard the change.
    already_open
        .until(&format!(r#""conversation":{conversation}"#))
        .await;
    let mut stream = Stream::open_at(&app, &mut ana, &missed, None).await;
    let first = stream.until("event: resync").await;
    assert!(first.contains("id: 1"), "{first}");
}

#[sqlx::test]
async fn a_signed_out_stream_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = app
        .router
        .clone()
        .oneshot(
            Request::get("/inbox/events")
                .header(header::ACCEPT, "text/event-stream")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
