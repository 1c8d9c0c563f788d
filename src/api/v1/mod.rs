//! The JSON API (`/api/v1`): a program with an API key of the tenant works the inbox as an agent
//! does — lists conversations with the inbox's views and filters, reads threads, sends (checked
//! against the window, templates and opt-outs like any send, refused with the templates to send
//! instead), assigns, moves between statuses, labels, leaves notes, opts contacts out or in — and
//! reads the templates and numbers. A key limited to some numbers sees and touches only their
//! conversations; anything else, like another tenant's, is 404.
//!
//! The routes and their OpenAPI document come from the same handlers ([`utoipa_axum`]), so the
//! document served at `/api/v1/openapi.json` (and readable at `/api/v1/docs`) cannot describe a
//! route that is not served. Errors are `{"error":{"code","message"}}` ([`ApiError`]).

mod contacts;
mod conversations;
mod docs;
mod errors;
mod messages;
mod numbers;
mod schema;
mod templates;

use axum::{
    Router,
    extract::{Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use sqlx::PgConnection;
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

pub use errors::ApiError;

use super::bearer;
use crate::{
    domain::{
        api_keys::{Admission, Caller},
        ids::{ConversationId, NumberId},
    },
    error::{self, AppError, Surface},
    http::AppState,
    inbox::thread::query::{self as thread_query, Conversation},
};

/// The API's routes, to nest under `/api/v1`: the documented ones behind the key check, the
/// document and its page open to all.
pub fn router(state: AppState) -> Router<AppState> {
    let (documented, _) = documented().split_for_parts();
    // A route layer: a path or method not served stays 404 or 405, without a key too.
    documented
        .route_layer(middleware::from_fn_with_state(state, admit))
        .route("/openapi.json", get(docs::json))
        .route("/docs", get(docs::page))
        .fallback(error::not_found)
        .layer(Surface::Json.layer())
}

/// The OpenAPI document of the routes [`router`] serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}

/// Every documented route, each with its part of the document.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(schema::Document::openapi())
        .routes(routes!(conversations::list))
        .routes(routes!(conversations::show))
        .routes(routes!(messages::list, messages::send))
        .routes(routes!(conversations::assign))
        .routes(routes!(conversations::set_status))
        .routes(routes!(conversations::add_label))
        .routes(routes!(conversations::remove_label))
        .routes(routes!(conversations::add_note))
        .routes(routes!(contacts::show))
        .routes(routes!(contacts::set_opt_out))
        .routes(routes!(templates::list))
        .routes(routes!(numbers::list))
}

/// Lets in requests whose bearer token is a live API key within its rate; the key's [`Caller`]
/// goes with the request. 401 without a key or with a wrong one; 429 with `Retry-After` over the
/// key's rate.
async fn admit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(key) = bearer(request.headers()) else {
        return AppError::Unauthorized("an API key is required: Authorization: Bearer <key>")
            .into_response();
    };
    match state.admissions.admit(key).await {
        Ok(Admission::Admitted(caller)) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Ok(Admission::Refused) => {
            AppError::Unauthorized("this API key is not valid (or was revoked)").into_response()
        }
        // The count starts again with the next second.
        Ok(Admission::Limited(_)) => AppError::TooManyRequests {
            retry_after: std::time::Duration::from_secs(1),
        }
        .into_response(),
        Err(error) => AppError::from_database(error).into_response(),
    }
}

/// The caller's conversation `id`: the tenant's, on a number the key may use; 404 otherwise.
async fn conversation(
    conn: &mut PgConnection,
    caller: &Caller,
    id: ConversationId,
) -> Result<Conversation, ApiError> {
    thread_query::conversation(conn, caller.tenant_id, id)
        .await?
        .filter(|conversation| caller.may_use(conversation.number_id))
        .ok_or(ApiError::App(AppError::NotFound))
}

/// The row id of the tenant's number with Meta's `phone_number_id`, if the key may use it; 404
/// otherwise.
async fn number(
    conn: &mut PgConnection,
    caller: &Caller,
    phone_number_id: &str,
) -> Result<NumberId, ApiError> {
    caller
        .usable_number(conn, phone_number_id)
        .await?
        .ok_or(ApiError::App(AppError::NotFound))
}
