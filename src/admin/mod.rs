//! The admin console (issue 9): the same server-rendered pages as the inbox, for admins only.
//! Every route is behind the inbox's session and CSRF checks ([`require_agent`]) and then
//! [`require_admin`]: an agent gets 403. Everything is read and changed with the admin's tenant.
//!
//! Built so far: Meta apps and numbers (`/admin/numbers`), message templates
//! (`/admin/templates`), the team (`/admin/team`), what the team shares (`/admin/settings`),
//! reports with their CSV exports (`/admin/reports`), operations (`/admin/operations`) and the
//! audit trail (`/admin/audit`).

mod api_keys;
mod audit;
mod charts;
mod contacts;
mod numbers;
mod operations;
mod report_export;
mod reports;
mod settings;
mod team;
mod template_form;
mod templates;
mod webhooks;

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request},
    middleware::{self, Next},
    response::{Redirect, Response},
    routing::{get, post},
};

use crate::{
    domain::users::Role,
    error::AppError,
    http::AppState,
    inbox::auth::{Agent, require_agent},
};

/// The console's routes.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .route(
            "/admin/api-keys",
            get(api_keys::show).post(api_keys::create),
        )
        .route("/admin/api-keys/{id}/revoke", post(api_keys::revoke))
        .route("/admin/apps", post(numbers::add_app))
        .route(
            "/admin/webhooks",
            get(webhooks::show).post(webhooks::create),
        )
        .route("/admin/webhooks/{id}", get(webhooks::log))
        .route("/admin/webhooks/{id}/state", post(webhooks::switch))
        .route("/admin/webhooks/{id}/delete", post(webhooks::delete))
        .route(
            "/admin/webhooks/{id}/deliveries/{delivery}/replay",
            post(webhooks::replay),
        )
        .route("/admin/canned", post(settings::add_canned))
        .route("/admin/contacts/{id}/erase", post(contacts::erase))
        .route("/admin/canned/{id}", post(settings::update_canned))
        .route("/admin/canned/{id}/delete", post(settings::delete_canned))
        .route("/admin/apps/{id}/secrets", post(numbers::change_secrets))
        .route("/admin/apps/{id}/numbers", post(numbers::add_number))
        .route("/admin/audit", get(audit::show))
        .route("/admin/events/{id}/dismiss", post(numbers::dismiss_event))
        .route("/admin/events/{id}/replay", post(numbers::replay_event))
        .route("/admin/labels/{id}", post(settings::rename_label))
        .route("/admin/labels/{id}/delete", post(settings::delete_label))
        .route("/admin/numbers", get(numbers::show))
        .route("/admin/numbers/{id}", post(numbers::edit_number))
        .route("/admin/numbers/{id}/check", post(numbers::check))
        .route("/admin/numbers/{id}/customer", post(numbers::play_customer))
        .route("/admin/numbers/{id}/pause", post(numbers::pause))
        .route("/admin/numbers/{id}/remove", post(numbers::remove))
        .route("/admin/numbers/{id}/settings", post(numbers::settings))
        .route("/admin/operations", get(operations::show))
        .route("/admin/reports", get(reports::show))
        .route("/admin/reports/export", get(report_export::export))
        .route("/admin/sandbox", post(numbers::add_sandbox_number))
        .route("/admin/settings", get(settings::show).post(settings::save))
        .route("/admin/team", get(team::show))
        .route("/admin/templates", get(templates::show))
        .route(
            "/admin/templates/new",
            get(template_form::show).post(template_form::submit),
        )
        .route(
            "/admin/templates/sample",
            post(template_form::sample).layer(DefaultBodyLimit::max(
                template_form::SAMPLE_LIMIT + 64 * 1024,
            )),
        )
        .route("/admin/templates/sync", post(templates::sync))
        .route("/admin/templates/{id}/delete", post(templates::delete))
        .route(
            "/admin/templates/{id}/edit",
            get(template_form::show_edit).post(template_form::submit_edit),
        )
        .route("/admin/team/invite", post(team::invite))
        .route("/admin/team/{id}/reset", post(team::reset))
        .route("/admin/team/{id}/access", post(team::access))
        .route("/admin/team/{id}/role", post(team::role))
        .route_layer(middleware::from_fn(require_admin))
        .route_layer(middleware::from_fn_with_state(state, require_agent))
}

/// `GET /admin`: the console opens on the numbers page, where the week's alerts are.
async fn home() -> Redirect {
    Redirect::to("/admin/numbers")
}

/// The value of a form's field `name` (its first, if repeated).
fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Every value of a form's repeated field `name` (ticked checkboxes), in order.
fn values(fields: &[(String, String)], name: &str) -> Vec<String> {
    fields
        .iter()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
        .collect()
}

/// Lets only admins through; runs after [`require_agent`] has found the session.
async fn require_admin(request: Request, next: Next) -> Result<Response, AppError> {
    match request.extensions().get::<Agent>() {
        Some(agent) if agent.role == Role::Admin => Ok(next.run(request).await),
        _ => Err(AppError::Forbidden),
    }
}

/// A refusal's words as a sentence: "give at least …" → "Give at least ….".
fn sentence(text: &str) -> String {
    let mut sentence = text.to_owned();
    if let Some(first) = sentence.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    if !sentence.ends_with('.') {
        sentence.push('.');
    }
    sentence
}
