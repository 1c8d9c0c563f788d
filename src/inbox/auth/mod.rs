//! Who is asking: sign-in and sign-out, sessions, CSRF and throttling. Every inbox route sits
//! behind [`require_agent`], which finds the request's session, refuses a state-changing request
//! without the session's CSRF token, and hands handlers an [`Agent`] whose tenant scopes every
//! query they make.

pub mod csrf;
mod login;
pub mod sessions;
mod throttle;

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{HeaderMap, Method, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use url::form_urlencoded;

pub use login::{router, sign_out};
pub use sessions::Agent;

use crate::{domain::accounts, error::AppError, http::AppState};

/// How often expired sessions and stale sign-in failures are deleted.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Deletes expired sessions, sign-in failures and one-time account links every [`PRUNE_EVERY`]
/// until `shutdown`; any instance may do it, and two doing it at once delete the same rows.
pub async fn prune_until(db: sqlx::PgPool, shutdown: tokio_util::sync::CancellationToken) {
    loop {
        let pruned = (
            sessions::prune(&db).await,
            throttle::prune(&db).await,
            accounts::prune_links(&db).await,
        );
        match pruned {
            (Ok(sessions), Ok(failures), Ok(links)) => {
                tracing::debug!(
                    sessions,
                    failures,
                    links,
                    "pruned expired sessions, sign-in failures and account links"
                );
            }
            (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
                tracing::warn!(error = ?error, "prune sessions");
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(PRUNE_EVERY) => {}
        }
    }
}

/// The session cookie.
const SESSION_COOKIE: &str = "sb_session";
/// The largest form body read here for its CSRF token.
const FORM_LIMIT: usize = 256 * 1024;

/// The session cookie for `token`: HttpOnly, SameSite=Lax, Secure when the site is served over
/// https; it lives as long as the session may.
pub(crate) fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(
            i64::try_from(sessions::ABSOLUTE.as_secs()).unwrap_or(i64::MAX),
        ))
        .build()
}

/// The client's address, when known: the peer, or behind a trusted proxy (`TRUST_PROXY=on`) the
/// last `X-Forwarded-For` entry, the one the proxy added. Tests' in-process requests have none.
pub struct ClientAddress(pub Option<String>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| *address);
        Ok(Self(client_address(
            &parts.headers,
            peer,
            state.config.trust_proxy,
        )))
    }
}

fn client_address(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_proxy: bool,
) -> Option<String> {
    if trust_proxy {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty());
        if let Some(address) = forwarded {
            return Some(address.to_owned());
        }
    }
    peer.map(|peer| peer.ip().to_string())
}

/// Lets a request through only with a live session: a page request without one is sent to the
/// sign-in page (and back after), a script's request gets 401. A request that changes something
/// must carry the session's CSRF token, in the `X-CSRF-Token` header or a form's `csrf` field.
pub async fn require_agent(
    State(state): State<AppState>,
    jar: CookieJar,
    request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let agent = match jar.get(SESSION_COOKIE) {
        Some(cookie) => sessions::load(&state.db, cookie.value())
            .await
            .map_err(AppError::from_database)?,
        None => None,
    };
    let Some(agent) = agent else {
        return Ok(signed_out(&request));
    };
    let request = if request.method() == Method::GET || request.method() == Method::HEAD {
        request
    } else {
        check_csrf(&agent, request).await?
    };
    let mut request = request;
    request.extensions_mut().insert(agent);
    Ok(next.run(request).await)
}

/// What a request without a session gets.
fn signed_out(request: &Request) -> Response {
    let wants_page = request.method() == Method::GET
        && !request.headers().contains_key(csrf::HEADER)
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|accept| accept.contains("text/html") || accept.contains("*/*"));
    if !wants_page {
        return AppError::Unauthorized("sign in first").into_response();
    }
    let next = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/inbox");
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("next", next)
        .finish();
    Redirect::to(&format!("/login?{query}")).into_response()
}

/// The request, if it carries the session's CSRF token (its body read and put back).
async fn check_csrf(agent: &Agent, request: Request) -> Result<Request, AppError> {
    csrf::same_site(request.headers())?;
    if let Some(token) = request.headers().get(csrf::HEADER) {
        let token = token.to_str().unwrap_or_default();
        return if csrf::matches(&agent.csrf_token, token) {
            Ok(request)
        } else {
            Err(AppError::Forbidden)
        };
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("multipart/form-data") {
        // An upload's token is a field of its body, read by its handler as the body streams in:
        // only handlers that take a `MultipartAgent` check it, and `Agent` refuses the request.
        let mut request = request;
        request.extensions_mut().insert(CsrfInBody);
        return Ok(request);
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(AppError::Forbidden);
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    let presented = form_urlencoded::parse(&bytes)
        .find(|(key, _)| key == "csrf")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    if !csrf::matches(&agent.csrf_token, &presented) {
        return Err(AppError::Forbidden);
    }
    Ok(Request::from_parts(parts, bytes.into()))
}

/// Marks a multipart request whose CSRF token is still to be read from its body.
#[derive(Debug, Clone, Copy)]
struct CsrfInBody;

impl<S: Send + Sync> FromRequestParts<S> for Agent {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        if parts.extensions.get::<CsrfInBody>().is_some() {
            // A multipart body reached a handler that does not check its token.
            return Err(AppError::Forbidden);
        }
        agent_of(parts)
    }
}

/// The agent of a multipart request: its handler must check the body's `csrf` field
/// (`csrf::matches` against `agent.csrf_token`) before acting on anything else in it.
pub struct MultipartAgent(pub Agent);

impl<S: Send + Sync> FromRequestParts<S> for MultipartAgent {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        if parts.extensions.get::<CsrfInBody>().is_none() {
            return Err(AppError::UnsupportedMediaType(
                "send the file as multipart/form-data".into(),
            ));
        }
        agent_of(parts).map(Self)
    }
}

fn agent_of(parts: &Parts) -> Result<Agent, AppError> {
    parts
        .extensions
        .get::<Agent>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a route outside require_agent")))
}
