//! Sends over real HTTP: responses parsed, errors classified as Meta meant them.

use super::*;

#[tokio::test]
async fn the_token_goes_only_in_the_authorization_header() {
    let stub = Stub::start([ok(
        "graph/ruby__messages__send_text_message_with_success_response__response_http200.json",
    )])
    .await;

    client()
        .send_message(&stub.auth(), PHONE_NUMBER_ID, &text_message())
        .await
        .unwrap();

    let request = stub.only_request();
    assert_eq!(request.method, Method::POST);
    assert_eq!(
        request.path,
        format!("/{VERSION}/{PHONE_NUMBER_ID}/messages")
    );
    assert_eq!(request.query, None);
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let mut elsewhere = request
        .headers
        .iter()
        .filter(|(name, _)| *name != header::AUTHORIZATION);
    assert!(elsewhere.all(|(_, value)| !value.to_str().unwrap_or_default().contains(TOKEN)));
    assert!(!String::from_utf8_lossy(&request.body).contains(TOKEN));
    assert_eq!(request.json(), text_message());
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("switchboard/")
    );
    assert!(!format!("{:?}", stub.auth()).contains(TOKEN));
}

#[tokio::test]
async fn send_parses_wamid_and_wa_id() {
    let stub = Stub::start([ok(
        "graph/ruby__messages__send_text_message_with_success_response__response_http200.json",
    )])
    .await;
    let sent = client()
        .send_message(&stub.auth(), PHONE_NUMBER_ID, &text_message())
        .await
        .unwrap();
    assert_eq!(
        sent.wamid,
        "wamid.HBgLMTM0Mzc3NzI5MTAVAgARGBIyQzU4M0Q4MDc2NDY4ODgwNjUA"
    );
    assert_eq!(sent.wa_id.as_deref(), Some("13437772910"));
    assert_eq!(sent.message_status, None);

    let template_response = "graph/ruby__messages__send_template_with_success_response_by_passing_components_json__response_http200.json";
    let stub = Stub::start([ok(template_response)]).await;
    let sent = client()
        .send_message(&stub.auth(), PHONE_NUMBER_ID, &text_message())
        .await
        .unwrap();
    assert_eq!(sent.message_status.as_deref(), Some("accepted"));

    // Meta's documented example pads the wa_id with a space.
    let stub = Stub::start([ok("graph/bindambc__send_response_success.json")]).await;
    let sent = client()
        .send_message(&stub.auth(), PHONE_NUMBER_ID, &text_message())
        .await
        .unwrap();
    assert_eq!(
        (sent.wamid.as_str(), sent.wa_id.as_deref()),
        ("wamid.gBGGSFcCNEOPAgkO_KJ55r4w_ww", Some("48XXXXXXXXX"))
    );
}

#[tokio::test]
async fn a_bsuid_send_response_without_wa_id_parses() {
    for path in [
        "graph/restfb__send_response__bsuid.json",
        "graph/restfb__send_response__group.json",
    ] {
        let stub = Stub::start([ok(path)]).await;
        let sent = client()
            .send_message(&stub.auth(), PHONE_NUMBER_ID, &text_message())
            .await
            .unwrap();
        assert_eq!(sent.wamid, "wamid.foobar", "{path}");
        assert_eq!(sent.wa_id, None, "{path}");
    }
}

/// Every synchronous error body in the corpus, with the HTTP status it was recorded with.
fn error_bodies() -> Vec<(String, u16)> {
    let mut paths: Vec<String> = std::fs::read_dir(format!("{CORPUS}/graph"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| {
            name.starts_with("openapi__error_") || name.ends_with("response_http400.json")
        })
        .map(|name| format!("graph/{name}"))
        .collect();
    paths.sort();
    paths.extend(
        [
            "graph/netflie__error_190_invalid_oauth_token.json",
            "graph/bindambc__error_130429_rate_limit_hit_http500.json",
            "graph/bindambc__error_requestcodeerror.json",
            "templates/ruby__templates__delete_template_with_error_response__response_http400.json",
            "media/ruby__medias__media_handles_error_response__response_http400.json",
        ]
        .map(String::from),
    );
    paths
        .into_iter()
        .map(|path| {
            let status = path
                .split("_http")
                .nth(1)
                .and_then(|rest| rest.get(..3)?.parse().ok());
            (path, status.unwrap_or(400))
        })
        .collect()
}

#[tokio::test]
async fn each_error_body_parses_code_subcode_details_trace_title_and_transience() {
    let bodies = error_bodies();
    assert!(
        bodies.len() > 30,
        "expected the corpus's error bodies, found {}",
        bodies.len()
    );
    for (path, status) in bodies {
        let raw: Value = serde_json::from_str(&corpus(&path)).unwrap();
        let raw = &raw["error"];
        let stub = Stub::start([answer(status, corpus(&path))]).await;

        let failure = client()
            .send_message(&stub.auth(), PHONE_NUMBER_ID, &text_message())
            .await
            .unwrap_err();

        let error = api_error(failure);
        let text = |key: &str| raw[key].as_str().map(str::to_owned);
        assert_eq!(error.http_status, status, "{path}");
        assert_eq!(Some(error.code), raw["code"].as_i64(), "{path}");
        assert_eq!(error.subcode, raw["error_subcode"].as_i64(), "{path}");
        assert_eq!(Some(error.message.clone()), text("message"), "{path}");
        assert_eq!(error.kind, text("type"), "{path}");
        assert_eq!(
            error.details.as_deref(),
            raw["error_data"]["details"].as_str(),
            "{path}"
        );
        assert_eq!(error.fbtrace_id, text("fbtrace_id"), "{path}");
        assert_eq!(
            error.is_transient,
            raw["is_transient"].as_bool().unwrap_or(false),
            "{path}"
        );
        assert_eq!(error.user_title, text("error_user_title"), "{path}");
        assert_eq!(error.user_message, text("error_user_msg"), "{path}");
        assert!(
            error.message.ends_with(error.title()) && !error.title().starts_with("(#"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn error_titles_details_and_hints_read_as_meta_meant_them() {
    let cases = [
        (
            "graph/ruby__messages__read_message_with_an_invalid_response__response_http400.json",
            400,
        ),
        (
            "graph/openapi__error_2__phone_number_get_http500_service_unavailable.json",
            500,
        ),
        ("graph/pywa__error_object_190_expiredaccesstoken.json", 401),
    ];
    let mut errors = Vec::new();
    for (path, status) in cases {
        let body = match path {
            // pywa keeps the bare error object; Graph wraps it in `{"error": …}`.
            p if p.starts_with("graph/pywa") => format!("{{\"error\": {}}}", corpus(p)),
            p => corpus(p),
        };
        let stub = Stub::start([answer(status, body)]).await;
        let failure = client()
            .send_message(&stub.auth(), PHONE_NUMBER_ID, &text_message())
            .await
            .unwrap_err();
        errors.push(api_error(failure));
    }
    assert_eq!(errors[0].title(), "Invalid parameter");
    assert_eq!(
        errors[0].details.as_deref(),
        Some("Please check the message ID you have provided.")
    );
    assert_eq!(
        errors[0].fbtrace_id.as_deref(),
        Some("A3PJ2-1aODhbAGAh66zQkwf")
    );
    assert!(errors[1].is_transient);
    assert_eq!(
        (errors[1].code, errors[1].kind.as_deref()),
        (2, Some("GraphMethodException"))
    );
    assert_eq!(
        (
            errors[2].code,
            errors[2].subcode,
            errors[2].details.as_deref()
        ),
        (190, Some(463), None)
    );
}

#[tokio::test]
async fn rate_limit_130429_served_with_http_500_still_parses_as_api() {
    let stub = Stub::start([answer(
        500,
        corpus("graph/bindambc__error_130429_rate_limit_hit_http500.json"),
    )])
    .await;

    let failure = client()
        .send_message(&stub.auth(), PHONE_NUMBER_ID, &text_message())
        .await
        .unwrap_err();

    let error = api_error(failure);
    assert_eq!(
        (error.http_status, error.code, error.subcode),
        (500, 130429, Some(2494055))
    );
    assert_eq!(error.title(), "Rate limit hit");
    assert!(
        error
            .details
            .unwrap()
            .starts_with("Message failed to send because there were too many messages")
    );
    assert_eq!(error.fbtrace_id.as_deref(), Some("Az8or2yhqkZfEZ-_4Qn_Bam"));
}

#[tokio::test]
async fn a_connection_refused_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let token = SecretString::from(TOKEN);
    let auth = Auth {
        base_url: &base_url,
        token: &token,
    };

    let failure = client()
        .send_message(&auth, PHONE_NUMBER_ID, &text_message())
        .await
        .unwrap_err();

    assert!(
        matches!(failure, GraphFailure::Unreachable(_)),
        "{failure:?}"
    );
    assert!(!failure.to_string().contains(TOKEN));
}

#[tokio::test]
async fn a_request_that_cannot_be_built_is_unreachable() {
    let token = SecretString::from(TOKEN);
    let auth = Auth {
        base_url: "not a url",
        token: &token,
    };

    let failure = client()
        .send_message(&auth, PHONE_NUMBER_ID, &text_message())
        .await
        .unwrap_err();

    assert!(
        matches!(failure, GraphFailure::Unreachable(_)),
        "{failure:?}"
    );
}

#[tokio::test]
async fn a_server_that_accepts_but_never_answers_is_ambiguous() {
    let mut silent =
        ok("graph/ruby__messages__send_text_message_with_success_response__response_http200.json");
    silent.delay = Duration::from_secs(10);
    let stub = Stub::start([silent]).await;
    let client = GraphClient::with_timeouts(
        VERSION,
        Duration::from_millis(300),
        Duration::from_millis(300),
    )
    .unwrap();

    let failure = client
        .send_message(&stub.auth(), PHONE_NUMBER_ID, &text_message())
        .await
        .unwrap_err();

    assert!(matches!(failure, GraphFailure::Ambiguous(_)), "{failure:?}");
    assert_eq!(stub.requests().len(), 1, "the request did reach the server");
}

#[tokio::test]
async fn a_garbage_body_is_unreadable() {
    let cases = [
        (
            200,
            "<html><body>Sorry, something went wrong.</body></html>",
            "Sorry",
        ),
        (502, "<html>Bad Gateway</html>", "Bad Gateway"),
        (
            200,
            r#"{"messaging_product":"whatsapp","messages":[]}"#,
            "messages",
        ),
        (400, r#"{"error":"not an object"}"#, "not an object"),
    ];
    for (status, body, excerpt) in cases {
        let stub = Stub::start([answer(status, body)]).await;

        let failure = client()
            .send_message(&stub.auth(), PHONE_NUMBER_ID, &text_message())
            .await
            .unwrap_err();

        match failure {
            GraphFailure::Unreadable { status: seen, body } => {
                assert_eq!(seen, status);
                assert!(body.contains(excerpt), "{body}");
            }
            other => panic!("expected Unreadable for {body:?}, got {other:?}"),
        }
    }
}
