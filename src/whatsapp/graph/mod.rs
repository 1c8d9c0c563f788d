//! The Graph API client: sends messages, marks them read, moves media, manages templates and reads
//! a number's settings. Every call names where to go and as whom ([`Auth`]: Meta or the sandbox,
//! and the number's access token), so one client serves every tenant. The token travels only in
//! the `Authorization` header and never appears in logs or `Debug` output. Failures say whether
//! Meta got the request ([`GraphFailure`]), because resending a message Meta did receive sends it
//! twice. <https://developers.facebook.com/docs/whatsapp/cloud-api/reference>

mod failure;
mod media;
mod messages;
mod phone;
mod relay;
mod templates;
mod uploads;

use std::{sync::Arc, time::Duration};

use anyhow::{Context, ensure};

use crate::metrics;
use bytes::Bytes;
use reqwest::{Method, RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

pub use failure::{GraphError, GraphFailure};
pub use media::MediaInfo;
pub use messages::SentMessage;
pub use phone::{PhoneNumberInfo, SubscribedApp};
pub use templates::{CreatedTemplate, Template, TemplatePage};

/// How long to wait for a TCP (and TLS) connection to Meta.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a whole call may take, from connecting to the last byte of the answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a media upload or download may take: files reach 100 MB.
pub const MEDIA_TIMEOUT: Duration = Duration::from_secs(120);
/// Meta's media host answers some clients without a User-Agent with an error page.
const USER_AGENT: &str = concat!("switchboard/", env!("CARGO_PKG_VERSION"));

/// A Graph API client for one API version; cheap to clone (the connection pool is shared).
#[derive(Clone, Debug)]
pub struct GraphClient {
    http: reqwest::Client,
    version: Arc<str>,
    media_timeout: Duration,
}

/// Where and as whom to call: Meta (or the sandbox) and the number's access token.
#[derive(Clone, Copy, Debug)]
pub struct Auth<'a> {
    /// Base URL without the version, e.g. `https://graph.facebook.com` (a trailing `/` is fine).
    pub base_url: &'a str,
    pub token: &'a SecretString,
}

/// Where Graph calls go: Meta's Graph API, or Switchboard's fake one for sandbox numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphUrls {
    pub meta: String,
    pub sandbox: String,
}

impl GraphUrls {
    /// The base URL for calls about a number (`sandbox` when it is a sandbox number).
    pub fn for_number(&self, sandbox: bool) -> &str {
        if sandbox { &self.sandbox } else { &self.meta }
    }
}

impl GraphClient {
    /// A client for Graph API `version` (e.g. `v23.0`) with the default timeouts.
    pub fn new(version: &str) -> anyhow::Result<Self> {
        Self::with_timeouts(version, CONNECT_TIMEOUT, REQUEST_TIMEOUT)
    }

    /// A client with explicit connect and whole-request timeouts (media transfers still get at
    /// least [`MEDIA_TIMEOUT`]).
    pub fn with_timeouts(
        version: &str,
        connect: Duration,
        request: Duration,
    ) -> anyhow::Result<Self> {
        ensure!(
            is_path_segment(version),
            "Graph API version {version:?} is not of the form v23.0"
        );
        let http = reqwest::Client::builder()
            .connect_timeout(connect)
            .timeout(request)
            .user_agent(USER_AGENT)
            .build()
            .context("build the Graph API HTTP client")?;
        Ok(Self {
            http,
            version: version.into(),
            media_timeout: request.max(MEDIA_TIMEOUT),
        })
    }

    /// `{base_url}/{version}/{segments…}`. Ids are checked so that a stored value can never
    /// point a call (and its token) at another path.
    fn url(&self, auth: &Auth<'_>, segments: &[&str]) -> Result<String, InvalidId> {
        let mut url = format!("{}/{}", auth.base_url.trim_end_matches('/'), self.version);
        for segment in segments {
            if !is_path_segment(segment) {
                return Err(InvalidId((*segment).to_owned()));
            }
            url.push('/');
            url.push_str(segment);
        }
        Ok(url)
    }

    /// A request carrying the bearer token (reqwest marks the header sensitive).
    fn request(&self, method: Method, url: &str, auth: &Auth<'_>) -> RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(auth.token.expose_secret())
    }

    /// Sends `request` and reads Meta's JSON answer as `T`.
    async fn call<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, GraphFailure> {
        let (status, body) = self.exchange(request).await?;
        if status.is_success()
            && let Ok(value) = serde_json::from_slice(&body)
        {
            return Ok(value);
        }
        Err(failure::from_answer(status, &body))
    }

    /// Sends `request` and reads the whole answer, whatever its status.
    async fn exchange(&self, request: RequestBuilder) -> Result<(StatusCode, Bytes), GraphFailure> {
        let started = std::time::Instant::now();
        let answer = async {
            let response = request.send().await.map_err(failure::from_send_error)?;
            let status = response.status();
            let body = response.bytes().await.map_err(failure::from_read_error)?;
            Ok((status, body))
        }
        .await;
        let outcome = match &answer {
            Ok((status, _)) if status.is_success() => "ok",
            Ok(_) => "error",
            Err(GraphFailure::Unreachable(_)) => "unreachable",
            Err(GraphFailure::Ambiguous(_)) => "ambiguous",
            Err(_) => "unreadable",
        };
        metrics::graph_call(outcome, started.elapsed());
        if let Ok((status, _)) = &answer {
            tracing::debug!(status = status.as_u16(), "Graph API answered");
        }
        answer
    }
}

/// An id that cannot be part of a Graph URL.
#[derive(Debug)]
struct InvalidId(String);

impl From<InvalidId> for GraphFailure {
    fn from(InvalidId(id): InvalidId) -> Self {
        GraphFailure::Unreachable(format!(
            "{id:?} is not a valid Graph id; the request was not sent"
        ))
    }
}

/// Graph ids, versions and edges: non-empty ASCII letters, digits, `.`, `_` and `-`, not `..`.
fn is_path_segment(value: &str) -> bool {
    !value.is_empty()
        && value != "."
        && value != ".."
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_token() {
        let token = SecretString::from("EAAJB-very-secret");
        let auth = Auth {
            base_url: "https://graph.facebook.com",
            token: &token,
        };
        let client = GraphClient::new("v23.0").unwrap();
        let shown = format!("{auth:?} {client:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
    }

    #[test]
    fn urls_join_base_version_and_ids_and_refuse_odd_ids() {
        let token = SecretString::from("t");
        let auth = Auth {
            base_url: "http://127.0.0.1:9/sandbox/graph/",
            token: &token,
        };
        let client = GraphClient::new("v23.0").unwrap();
        assert_eq!(
            client.url(&auth, &["106540352242922", "messages"]).unwrap(),
            "http://127.0.0.1:9/sandbox/graph/v23.0/106540352242922/messages"
        );
        for odd in ["", "..", "1/2", "1?x=2", "a b"] {
            let failure = GraphFailure::from(client.url(&auth, &[odd]).unwrap_err());
            assert!(matches!(failure, GraphFailure::Unreachable(_)));
        }
        assert!(GraphClient::new("v23.0/../x").is_err());
    }
}
