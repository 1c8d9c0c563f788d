//! The Graph client over real HTTP: a stub server on a local port records each request and
//! answers with bodies Meta (or SDKs' recordings of Meta) really sent, from `../shared/corpus`.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{FromRequest, Multipart, State},
    http::{HeaderMap, Method, Request, StatusCode, Uri, header},
};
use secrecy::SecretString;
use serde_json::{Value, json};
use switchboard::whatsapp::graph::{Auth, GraphClient, GraphError, GraphFailure};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");
const VERSION: &str = "v23.0";
const TOKEN: &str = "EAAJBtest-token-never-in-urls";
const PHONE_NUMBER_ID: &str = "106540352242922";
const WABA_ID: &str = "102290129340398";

/// A request as the stub saw it.
#[derive(Debug, Clone)]
struct Recorded {
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

impl Recorded {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }

    /// The query parameters, decoded.
    fn params(&self) -> Vec<(String, String)> {
        let url = format!("http://stub/?{}", self.query.as_deref().unwrap_or_default());
        reqwest::Url::parse(&url)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

/// What the stub answers, after `delay`.
#[derive(Clone)]
struct Answer {
    status: StatusCode,
    body: Bytes,
    delay: Duration,
}

#[derive(Clone, Default)]
struct StubState {
    /// Answered in order; the last one repeats.
    answers: Arc<Mutex<VecDeque<Answer>>>,
    recorded: Arc<Mutex<Vec<Recorded>>>,
}

/// A fake Graph API on 127.0.0.1 with its own port.
struct Stub {
    base_url: String,
    token: SecretString,
    state: StubState,
}

impl Stub {
    async fn start(answers: impl IntoIterator<Item = Answer>) -> Self {
        let state = StubState::default();
        state.answers.lock().unwrap().extend(answers);
        let router = Router::new()
            .fallback(record_and_answer)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            base_url,
            token: SecretString::from(TOKEN),
            state,
        }
    }

    fn auth(&self) -> Auth<'_> {
        Auth {
            base_url: &self.base_url,
            token: &self.token,
        }
    }

    fn requests(&self) -> Vec<Recorded> {
        self.state.recorded.lock().unwrap().clone()
    }

    fn only_request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "{requests:?}");
        requests[0].clone()
    }
}

async fn record_and_answer(
    State(state): State<StubState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, [(header::HeaderName, &'static str); 1], Bytes) {
    let recorded = Recorded {
        method,
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body,
    };
    state.recorded.lock().unwrap().push(recorded);
    let answer = {
        let mut answers = state.answers.lock().unwrap();
        if answers.len() > 1 {
            answers.pop_front()
        } else {
            answers.front().cloned()
        }
    }
    .expect("the stub was given an answer");
    tokio::time::sleep(answer.delay).await;
    (
        answer.status,
        [(header::CONTENT_TYPE, "application/json")],
        answer.body,
    )
}

fn corpus(path: &str) -> String {
    std::fs::read_to_string(format!("{CORPUS}/{path}"))
        .unwrap_or_else(|e| panic!("read corpus file {path} (is ../shared beside the repo?): {e}"))
}

fn answer(status: u16, body: impl Into<Bytes>) -> Answer {
    Answer {
        status: StatusCode::from_u16(status).unwrap(),
        body: body.into(),
        delay: Duration::ZERO,
    }
}

/// HTTP 200 with a corpus file.
fn ok(path: &str) -> Answer {
    answer(200, corpus(path))
}

fn client() -> GraphClient {
    GraphClient::new(VERSION).unwrap()
}

fn text_message() -> Value {
    json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "13437772910",
            "type": "text", "text": { "body": "hola", "preview_url": false } })
}

fn api_error(failure: GraphFailure) -> GraphError {
    match failure {
        GraphFailure::Api(error) => error,
        other => panic!("expected Meta's error object, got {other:?}"),
    }
}

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

#[tokio::test]
async fn upload_media_sends_multipart_with_the_right_fields() {
    let stub = Stub::start([ok(
        "media/ruby__medias__upload_media_with_success_response__response_http200.json",
    )])
    .await;
    let png = Bytes::from_static(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR not really an image");

    let media_id = client()
        .upload_media(
            &stub.auth(),
            PHONE_NUMBER_ID,
            png.clone(),
            "image/png",
            "receipt.png",
        )
        .await
        .unwrap();

    assert_eq!(media_id, "3281363908663165");
    let request = stub.only_request();
    assert_eq!(
        (request.method.clone(), request.path.as_str()),
        (Method::POST, "/v23.0/106540352242922/media")
    );
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let content_type = request.header("content-type").unwrap();
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );
    let form = Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(request.body.clone()))
        .unwrap();
    let mut multipart = Multipart::from_request(form, &()).await.unwrap();
    let mut fields = Vec::new();
    while let Some(field) = multipart.next_field().await.unwrap() {
        let name = field.name().unwrap().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        fields.push((name, file_name, content_type, field.bytes().await.unwrap()));
    }
    let field = |wanted: &str| {
        fields
            .iter()
            .find(|(name, ..)| name == wanted)
            .cloned()
            .unwrap()
    };
    assert_eq!(field("messaging_product").3, "whatsapp");
    assert_eq!(field("type").3, "image/png");
    assert_eq!(
        field("file"),
        (
            "file".into(),
            Some("receipt.png".into()),
            Some("image/png".into()),
            png
        )
    );
    assert_eq!(fields.len(), 3);
}

#[tokio::test]
async fn media_info_handles_integer_and_string_file_size() {
    let cases = [
        (
            "media/ruby__medias__media_with_success_response__response_http200.json",
            "1761991787669262",
            182859,
        ),
        (
            "media/bindambc__get_media_response.json",
            "1227829768162607",
            103632,
        ),
        (
            "media/openapi__get_media__retrieve_media_url.json",
            "2621233374848975",
            303833,
        ),
    ];
    for (path, media_id, size) in cases {
        let stub = Stub::start([ok(path)]).await;

        let info = client().media_info(&stub.auth(), media_id).await.unwrap();

        assert_eq!(info.id, media_id, "{path}");
        assert_eq!(info.file_size, Some(size), "{path}");
        assert!(info.mime_type.starts_with("image/"), "{path}");
        let request = stub.only_request();
        assert_eq!(
            (request.method, request.path),
            (Method::GET, format!("/{VERSION}/{media_id}"))
        );
    }
    let stub = Stub::start([ok(
        "media/ruby__medias__media_with_success_response__response_http200.json",
    )])
    .await;
    let info = client()
        .media_info(&stub.auth(), "1761991787669262")
        .await
        .unwrap();
    assert!(info.url.starts_with(
        "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1761991787669262"
    ));
    assert_eq!(
        info.sha256.as_deref(),
        Some("c86c28d437534f7367e73b283155c083dddfdaf7f9b4dfae27e140f880035141")
    );
}

#[tokio::test]
async fn media_info_errors_parse_as_api() {
    let error = corpus("media/ruby__medias__media_handles_error_response__response_http400.json");
    let stub = Stub::start([answer(400, error)]).await;

    let failure = client()
        .media_info(&stub.auth(), "123_123")
        .await
        .unwrap_err();

    let error = api_error(failure);
    assert_eq!((error.code, error.subcode), (100, Some(33)));
}

#[tokio::test]
async fn download_media_sends_the_bearer_token() {
    let bytes = Bytes::from_static(b"\xff\xd8\xff\xe0 binary \x00\x01 jpeg");
    let stub = Stub::start([answer(200, bytes.clone())]).await;
    let url = format!(
        "{}/whatsapp_business/attachments/?mid=1761991787669262&ext=1728904986&hash=ATta",
        stub.base_url
    );

    let downloaded = client().download_media(&stub.auth(), &url).await.unwrap();

    assert_eq!(downloaded, bytes);
    let request = stub.only_request();
    assert_eq!(request.method, Method::GET);
    assert_eq!(request.path, "/whatsapp_business/attachments/");
    assert_eq!(
        request.query.as_deref(),
        Some("mid=1761991787669262&ext=1728904986&hash=ATta")
    );
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn a_failed_download_is_not_returned_as_media() {
    let stub = Stub::start([answer(404, "<html>Not Found</html>")]).await;
    let url = format!("{}/whatsapp_business/attachments/?mid=1", stub.base_url);

    let failure = client()
        .download_media(&stub.auth(), &url)
        .await
        .unwrap_err();

    assert!(
        matches!(failure, GraphFailure::Unreadable { status: 404, .. }),
        "{failure:?}"
    );
}

#[tokio::test]
async fn list_templates_follows_the_after_cursor() {
    let stub = Stub::start([
        ok("templates/bindambc__list_templates_response_2.json"),
        ok("templates/bindambc__list_templates_response_3.json"),
    ])
    .await;
    let client = client();

    let first = client
        .list_templates(&stub.auth(), WABA_ID, None)
        .await
        .unwrap();
    let second = client
        .list_templates(&stub.auth(), WABA_ID, first.after.as_deref())
        .await
        .unwrap();

    assert_eq!(first.data.len(), 2);
    assert_eq!(first.after.as_deref(), Some("MQZDZD"));
    assert_eq!(second.data.len(), 1);
    assert_eq!(
        second.after, None,
        "the last page has a cursor but no `next`"
    );
    let template = &first.data[1];
    assert_eq!(
        (template.name.as_str(), template.language.as_str()),
        ("schedule_confirmation5", "pt_BR")
    );
    assert_eq!(
        (template.status.as_str(), template.category.as_deref()),
        ("APPROVED", Some("UTILITY"))
    );
    assert_eq!(template.id, "1145489599421404");
    assert_eq!(template.components[3]["buttons"][1]["text"], "NÃO");
    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(
            (&request.method, request.path.as_str()),
            (&Method::GET, "/v23.0/102290129340398/message_templates")
        );
    }
    let first_params = requests[0].params();
    assert!(
        first_params.iter().all(|(key, _)| key != "after"),
        "{first_params:?}"
    );
    assert!(first_params.contains(&("limit".into(), "100".into())));
    let fields = first_params
        .iter()
        .find(|(key, _)| key == "fields")
        .unwrap();
    assert!(fields.1.contains("parameter_format"), "{fields:?}");
    assert!(
        requests[1]
            .params()
            .contains(&("after".into(), "MQZDZD".into()))
    );
}

#[tokio::test]
async fn template_pages_from_meta_parse() {
    let by_id = corpus("templates/ruby__templates__get_a_template_by_id__response_http200.json");
    let cases = [
        (
            ok("templates/ruby__templates__get_templates__response_http200.json"),
            None,
        ),
        (
            ok("templates/openapi__list_templates_response__example_response.json"),
            None,
        ),
        (
            ok(
                "templates/ruby__templates__get_templates_when_empty_response_is_returned__response_http200.json",
            ),
            None,
        ),
        (
            answer(200, format!("{{\"data\":[{by_id}]}}")),
            Some("POSITIONAL"),
        ),
    ];
    for (page, parameter_format) in cases {
        let stub = Stub::start([page]).await;

        let page = client()
            .list_templates(&stub.auth(), WABA_ID, None)
            .await
            .unwrap();

        assert_eq!(page.after, None);
        assert!(
            page.data
                .iter()
                .all(|t| !t.name.is_empty() && !t.id.is_empty() && t.components.is_array())
        );
        if let Some(format) = parameter_format {
            assert_eq!(page.data[0].parameter_format.as_deref(), Some(format));
        }
    }
}

#[tokio::test]
async fn create_and_delete_templates_hit_the_right_paths() {
    let request_body: Value = serde_json::from_str(&corpus(
        "templates/ruby__templates__create_a_template_with_named_parameters__request.json",
    ))
    .unwrap();
    let stub = Stub::start([ok(
        "templates/ruby__templates__create_a_template_with_named_parameters__response_http200.json",
    )])
    .await;

    let created = client()
        .create_template(&stub.auth(), WABA_ID, &request_body)
        .await
        .unwrap();

    assert_eq!(
        (
            created.id.as_str(),
            created.status.as_str(),
            created.category.as_str()
        ),
        ("1299189242256801", "PENDING", "MARKETING")
    );
    let request = stub.only_request();
    assert_eq!(
        (request.method.clone(), request.path.as_str()),
        (Method::POST, "/v23.0/102290129340398/message_templates")
    );
    assert_eq!(request.json(), request_body);

    let stub = Stub::start([ok(
        "templates/ruby__templates__delete_template_by_name__response_http200.json",
    )])
    .await;
    let client = client();
    client
        .delete_template(&stub.auth(), WABA_ID, "seasonal_promotion", None)
        .await
        .unwrap();
    client
        .delete_template(
            &stub.auth(),
            WABA_ID,
            "seasonal_promotion",
            Some("1299189242256801"),
        )
        .await
        .unwrap();

    let requests = stub.requests();
    for request in &requests {
        assert_eq!(
            (&request.method, request.path.as_str()),
            (&Method::DELETE, "/v23.0/102290129340398/message_templates")
        );
    }
    assert_eq!(
        requests[0].params(),
        [("name".to_owned(), "seasonal_promotion".to_owned())]
    );
    assert_eq!(
        requests[1].params(),
        [
            ("name".to_owned(), "seasonal_promotion".to_owned()),
            ("hsm_id".to_owned(), "1299189242256801".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_rejected_template_creation_still_parses() {
    let stub = Stub::start([ok(
        "templates/bindambc__create_template_response_rejected.json",
    )])
    .await;

    let created = client()
        .create_template(&stub.auth(), WABA_ID, &json!({ "name": "x" }))
        .await
        .unwrap();

    assert_eq!(
        (created.status.as_str(), created.category.as_str()),
        ("REJECTED", "UTILITY")
    );
}

#[tokio::test]
async fn mark_read_body_shape() {
    let expected: Value = serde_json::from_str(&corpus(
        "graph/ruby__messages__read_message_with_a_valid_response__request.json",
    ))
    .unwrap();
    let wamid = expected["message_id"].as_str().unwrap();
    let stub = Stub::start([ok("graph/bindambc__generic_success_true.json")]).await;

    client()
        .mark_read(&stub.auth(), PHONE_NUMBER_ID, wamid)
        .await
        .unwrap();

    let request = stub.only_request();
    assert_eq!(
        (request.method.clone(), request.path.as_str()),
        (Method::POST, "/v23.0/106540352242922/messages")
    );
    assert_eq!(request.json(), expected);
    assert_eq!(request.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn mark_read_of_an_outgoing_message_is_refused_with_details() {
    let refusal =
        corpus("graph/ruby__messages__read_message_with_a_valid_response__response_http400.json");
    let stub = Stub::start([answer(400, refusal)]).await;

    let failure = client()
        .mark_read(&stub.auth(), PHONE_NUMBER_ID, "wamid.x")
        .await
        .unwrap_err();

    let error = api_error(failure);
    assert_eq!(error.code, 100);
    assert!(
        error
            .details
            .unwrap()
            .ends_with("is outgoing. Please use an incoming message ID.")
    );

    let stub = Stub::start([answer(200, r#"{"success":false}"#)]).await;
    let failure = client()
        .mark_read(&stub.auth(), PHONE_NUMBER_ID, "wamid.x")
        .await
        .unwrap_err();
    assert!(
        matches!(failure, GraphFailure::Unreadable { status: 200, .. }),
        "{failure:?}"
    );
}

#[tokio::test]
async fn phone_number_reads_name_quality_and_throughput() {
    let stub = Stub::start([ok("graph/restfb__phone_number_default_response.json")]).await;

    let number = client()
        .phone_number(&stub.auth(), PHONE_NUMBER_ID)
        .await
        .unwrap();

    assert_eq!(number.id, "999999999999999");
    assert_eq!(
        number.verified_name.as_deref(),
        Some("Business Phone Numbers Name")
    );
    assert_eq!(
        number.display_phone_number.as_deref(),
        Some("+593 99 999 9999")
    );
    assert_eq!(number.quality_rating.as_deref(), Some("GREEN"));
    assert_eq!(number.throughput_level.as_deref(), Some("STANDARD"));
    assert_eq!(number.platform_type.as_deref(), Some("CLOUD_API"));
    let request = stub.only_request();
    assert_eq!(
        (request.method.clone(), request.path.as_str()),
        (Method::GET, "/v23.0/106540352242922")
    );
    let params = request.params();
    let fields = &params.iter().find(|(key, _)| key == "fields").unwrap().1;
    for field in [
        "verified_name",
        "display_phone_number",
        "quality_rating",
        "throughput",
    ] {
        assert!(fields.split(',').any(|f| f == field), "{fields}");
    }

    let stub = Stub::start([ok(
        "graph/ruby__phone_numbers__registered_number_with_success_response__response_http200.json",
    )])
    .await;
    let number = client()
        .phone_number(&stub.auth(), "107878721936019")
        .await
        .unwrap();
    assert_eq!(
        (number.account_mode.as_deref(), number.status.as_deref()),
        (Some("SANDBOX"), Some("DISCONNECTED"))
    );
    assert_eq!(number.throughput_level, None);
}
