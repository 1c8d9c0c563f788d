//! `SANDBOX=on|off`: the sandbox's Graph API is mounted only when it is on, and its CLI commands
//! say so when it is off (the default when SWITCHBOARD_ENV=production).

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use sqlx::PgPool;
use tower::ServiceExt;

use crate::{
    cli::{Cli, stderr},
    helpers::*,
};

#[sqlx::test]
async fn with_the_sandbox_off_its_graph_api_is_not_there(pool: PgPool) {
    let app = TestApp::with_config(pool, |config| config.sandbox = false).await;
    let requests = [
        Request::get(format!("/sandbox/graph/v23.0/{PHONE_NUMBER_ID}")),
        Request::post(format!("/sandbox/graph/v23.0/{PHONE_NUMBER_ID}/messages")),
        Request::get("/sandbox/graph/media/1".to_owned()),
    ];
    for request in requests {
        let request = request.body(Body::empty()).unwrap();
        let uri = request.uri().clone();
        let response = app.router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8",
            "{uri}: the app's own 404 page, not the sandbox's answer"
        );
    }
}

#[sqlx::test]
async fn with_the_sandbox_on_its_graph_api_answers(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let request = Request::get(format!("/sandbox/graph/v23.0/{PHONE_NUMBER_ID}"))
        .body(Body::empty())
        .unwrap();
    let (status, body) = app.request(request).await;
    // No access token: Meta's error 104, from the sandbox.
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], 104);
}

#[sqlx::test]
async fn in_production_the_sandbox_commands_say_it_is_off(pool: PgPool) {
    let _app = TestApp::new(pool.clone()).await;
    let cli = Cli::new(&pool);
    let production = [("SWITCHBOARD_ENV", "production")];
    for args in [
        vec!["sandbox", "create", "--tenant", "acme"],
        vec![
            "sandbox",
            "fail-next",
            "--number",
            PHONE_NUMBER_ID,
            "--code",
            "131026",
        ],
    ] {
        let output = cli.run(&args, &production).await;
        assert!(!output.status.success(), "{args:?}");
        let error = stderr(&output);
        assert!(
            error.contains("the sandbox is off")
                && error.contains("SWITCHBOARD_ENV=production")
                && error.contains("SANDBOX=on"),
            "{error}"
        );
    }
    let queued: i64 = sqlx::query_scalar("select count(*) from sandbox_faults")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(queued, 0);

    let output = cli
        .run(
            &["sandbox", "create", "--tenant", "acme"],
            &[("SWITCHBOARD_ENV", "production"), ("SANDBOX", "on")],
        )
        .await;
    assert!(output.status.success(), "{}", stderr(&output));
}

#[sqlx::test]
async fn an_invalid_sandbox_setting_stops_the_command_with_a_clear_error(pool: PgPool) {
    let cli = Cli::new(&pool);
    let output = cli
        .run(
            &["sandbox", "create", "--tenant", "acme"],
            &[("SANDBOX", "yes")],
        )
        .await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("SANDBOX must be 'on' or 'off', not \"yes\""),
        "{}",
        stderr(&output)
    );
}
