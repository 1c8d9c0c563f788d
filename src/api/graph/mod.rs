//! The Meta-compatible endpoint: `PUBLIC_URL/graph/{version}/…` answers as Meta's Graph API does,
//! so a WhatsApp SDK pointed at it (base URL and token changed, nothing else) keeps working, and
//! everything it sends goes through the send service: checked against the 24-hour window,
//! templates and opt-outs before it costs anything, paced per number, and shown in the agents'
//! inbox. Any `v{major}.{minor}` version is accepted; requests carry an API key as their bearer
//! token and are limited to the key's numbers and rate. Errors, a request the extractors cannot
//! read included, are Meta's envelope; so is a path Meta does not serve here.
//!
//! - `POST /{version}/{phone_number_id}/messages`: a message, a read receipt, a typing indicator
//!   ([`messages`]).
//! - `POST /{version}/{phone_number_id}/media`, `GET` and `DELETE /{version}/{media_id}`, and the
//!   media's bytes from the URL that `GET` answers ([`media`]).
//! - `GET /{version}/{phone_number_id}` ([`objects`]): Meta's answer, passed on.
//! - `GET`, `POST` and `DELETE /{version}/{waba_id}/message_templates` ([`templates`]).

mod media;
mod messages;
mod objects;
mod templates;

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderValue, Method, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use sqlx::PgConnection;

use super::bearer;
use crate::{
    domain::{
        api_keys::{Admission, Caller},
        ids::NumberId,
        numbers::{self, NumberCredentials},
    },
    error::Surface,
    http::{AppState, graph_paths},
    whatsapp::{
        envelope::MetaError,
        graph::{Auth, GraphUrls},
    },
};

/// The endpoint's routes, to nest under `/graph`.
pub fn router(state: AppState) -> Router<AppState> {
    let versioned = Router::new()
        .route("/{version}/{id}/messages", post(messages::send))
        .route(
            "/{version}/{id}/media",
            post(media::upload).layer(media::body_limit()),
        )
        .route(
            "/{version}/{id}/message_templates",
            get(templates::list)
                .post(templates::create)
                .delete(templates::delete),
        )
        .route("/{version}/{id}", get(objects::show).delete(media::delete))
        .route_layer(middleware::from_fn(graph_paths::require_version));
    Router::new()
        .merge(versioned)
        .route("/media/{id}", get(media::download))
        .fallback(graph_paths::unsupported)
        .method_not_allowed_fallback(graph_paths::unsupported)
        .layer(middleware::from_fn_with_state(state, admit))
        .layer(Surface::Meta.layer())
}

/// Lets in requests whose bearer token is a live API key within its rate; the key's [`Caller`]
/// goes with the request. Answers as Meta does without a token (104) or with a wrong one (190);
/// over the key's rate, 130429 with `Retry-After`.
async fn admit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(key) = bearer(request.headers()) else {
        return MetaError::token_required().into_response();
    };
    match state.admissions.admit(key).await {
        Ok(Admission::Admitted(caller)) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Ok(Admission::Refused) => MetaError::invalid_token().into_response(),
        Ok(Admission::Limited(_)) => {
            let mut response = MetaError::rate_limited().into_response();
            // The count starts again with the next second.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Err(error) => MetaError::from(error).into_response(),
    }
}

/// The caller's active number with Meta's `phone_number_id`, with its credentials; Meta's answer
/// for an object it cannot load otherwise (another tenant's number, one the key may not use, a
/// removed one).
async fn number(
    state: &AppState,
    conn: &mut PgConnection,
    caller: &Caller,
    method: &Method,
    phone_number_id: &str,
) -> Result<NumberCredentials, MetaError> {
    let id = usable_number(conn, caller, method, phone_number_id).await?;
    numbers::credentials_if_active(conn, &state.cipher, caller.tenant_id, id)
        .await?
        .ok_or_else(|| MetaError::unsupported(method, phone_number_id))
}

/// The row id of the tenant's number with Meta's `phone_number_id`, if the key may use it (removed
/// or not: the send service refuses a removed one); Meta's "no such object" otherwise.
async fn usable_number(
    conn: &mut PgConnection,
    caller: &Caller,
    method: &Method,
    phone_number_id: &str,
) -> Result<NumberId, MetaError> {
    caller
        .usable_number(conn, phone_number_id)
        .await?
        .ok_or_else(|| MetaError::unsupported(method, phone_number_id))
}

/// The caller's active numbers, each with its credentials (for objects that belong to none in
/// particular, such as a media id Meta gave out).
async fn numbers_of(
    state: &AppState,
    conn: &mut PgConnection,
    caller: &Caller,
) -> anyhow::Result<Vec<NumberCredentials>> {
    let mut found = Vec::new();
    for id in numbers::active_ids(conn, caller.tenant_id).await? {
        if caller.may_use(id)
            && let Some(credentials) =
                numbers::credentials_if_active(conn, &state.cipher, caller.tenant_id, id).await?
        {
            found.push(credentials);
        }
    }
    Ok(found)
}

/// Where a Graph call about `number` goes (Meta, or the sandbox's fake), with its token.
fn auth<'a>(urls: &'a GraphUrls, number: &'a NumberCredentials) -> Auth<'a> {
    Auth {
        base_url: urls.for_number(number.sandbox),
        token: &number.access_token,
    }
}
