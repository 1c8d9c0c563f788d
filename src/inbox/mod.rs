//! The agent inbox: server-rendered pages for support agents. Every page works as plain HTML
//! forms; `static/app.js` adds live updates and in-place swaps on top. Signed-out routes (sign-in,
//! the first run's setup, static files) sit beside the inbox proper, which is behind
//! [`auth::require_agent`].

mod account_link;
mod actions;
mod assets;
mod attach;
pub mod auth;
mod compose;
pub(crate) mod list;
mod live;
pub mod media;
pub(crate) mod page;
mod pages;
pub mod receipts;
pub mod render;
pub mod setup;
mod template_fields;
pub(crate) mod thread;
pub mod time;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    middleware,
    response::Redirect,
    routing::{get, post},
};

use crate::http::AppState;

/// The inbox's routes, signed-out and signed-in.
pub fn router(state: AppState) -> Router<AppState> {
    let signed_in = Router::new()
        .route("/inbox", get(pages::inbox))
        .route("/inbox/events", get(live::events))
        .route("/inbox/conversations/{id}", get(pages::conversation))
        .route(
            "/inbox/conversations/{id}/messages",
            post(compose::send_text),
        )
        .route(
            "/inbox/conversations/{id}/templates",
            post(compose::send_template),
        )
        .route("/inbox/media/{id}", get(media::show_media))
        .route("/inbox/conversations/{id}/assign", post(actions::assign))
        .route("/inbox/conversations/{id}/status", post(actions::status))
        .route("/inbox/conversations/{id}/notes", post(actions::note))
        .route("/inbox/conversations/{id}/labels", post(actions::add_label))
        .route(
            "/inbox/conversations/{id}/canned",
            post(actions::add_canned),
        )
        .route("/inbox/conversations/{id}/viewing", post(actions::viewing))
        .route(
            "/inbox/conversations/{id}/attachments",
            post(attach::attach).layer(DefaultBodyLimit::max(attach::MAX_BYTES + 64 * 1024)),
        )
        .route(
            "/inbox/conversations/{id}/labels/{label}/remove",
            post(actions::remove_label),
        )
        .route(
            "/inbox/conversations/{id}/messages/{message}/retry",
            post(actions::retry),
        )
        .route(
            "/inbox/conversations/{id}/messages/{message}/react",
            post(compose::react),
        )
        .route("/logout", post(auth::sign_out))
        .route_layer(middleware::from_fn_with_state(state, auth::require_agent));
    Router::new()
        .route("/", get(|| async { Redirect::to("/inbox") }))
        .merge(auth::router())
        .merge(setup::router())
        .merge(account_link::router())
        .merge(assets::router())
        .merge(signed_in)
}
