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

mod account;
mod media;
mod sends;
