//! `/admin/webhooks`: the endpoints Switchboard posts the tenant's events to. An admin registers
//! one (its URL, its format, and for Switchboard's format the events it takes), sees its secret
//! once, turns it off or on, deletes it, and reads each endpoint's delivery log (status, latency,
//! the receiver's answer) with a Replay per delivery. An endpoint turned off after a day of failed
//! deliveries says so at the top of the page. Changes are audited (in [`webhook_endpoints`]);
//! another tenant's endpoint or delivery is 404.

use askama::Template;
use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::{
    admin::{field, sentence, values},
    domain::{
        ids::{WebhookDeliveryId, WebhookEndpointId},
        webhook_endpoints::{
            self, Delivery, EVENTS, EndpointSummary, Format, LOG_PAGE, NewEndpoint,
        },
    },
    error::{AppError, Result},
    http::{
        AppState,
        extract::{Form, Path, Query},
    },
    inbox::{auth::Agent, page::render},
};

/// `templates/admin/webhooks.html`.
#[derive(Template)]
#[template(path = "admin/webhooks.html")]
struct EndpointsPage {
    agent: Agent,
    endpoints: Vec<EndpointSummary>,
    events: &'static [&'static str],
    /// A refused form's message, and what was typed.
    refusal: Option<String>,
    url: String,
}

/// `templates/admin/webhook_created.html`: the new endpoint's secret, shown once.
#[derive(Template)]
#[template(path = "admin/webhook_created.html")]
struct CreatedPage {
    agent: Agent,
    id: WebhookEndpointId,
    url: String,
    format: Format,
    secret: String,
}

/// `templates/admin/webhook.html`: one endpoint and its delivery log.
#[derive(Template)]
#[template(path = "admin/webhook.html")]
struct EndpointPage {
    agent: Agent,
    endpoint: EndpointSummary,
    deliveries: Vec<Delivery>,
    /// The next page of the log.
    older: Option<WebhookDeliveryId>,
}

/// `GET /admin/webhooks`.
pub async fn show(State(state): State<AppState>, agent: Agent) -> Result<Response> {
    let page = endpoints_page(&state, agent, None, String::new()).await?;
    Ok(render(&page)?.into_response())
}

/// `POST /admin/webhooks`: `url`, `format` (`meta` or `switchboard`), and an `event` field per
/// event taken.
pub async fn create(
    State(state): State<AppState>,
    agent: Agent,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let format = Format::parse(field(&fields, "format").unwrap_or_default())
        .ok_or_else(|| AppError::BadRequest("choose a format: meta or switchboard".into()))?;
    let events = values(&fields, "event");
    let url = field(&fields, "url").unwrap_or_default().to_owned();
    let new = NewEndpoint {
        url: &url,
        format,
        events: &events,
    };
    let mut conn = state.db.acquire().await?;
    let created = webhook_endpoints::create(
        &mut conn,
        &state.cipher,
        agent.tenant_id,
        Some(agent.user_id),
        &new,
    )
    .await?;
    drop(conn);
    match created {
        Ok(created) => {
            let page = CreatedPage {
                id: created.id,
                url: url.trim().to_owned(),
                format,
                secret: created.secret.expose_secret().to_owned(),
                agent,
            };
            // The secret is on this page alone: no copy of it in any cache.
            let no_store = [(header::CACHE_CONTROL, "no-store")];
            Ok((no_store, render(&page)?).into_response())
        }
        Err(refused) => {
            let message = sentence(&refused.to_string());
            let page = endpoints_page(&state, agent, Some(message), url).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    before: Option<WebhookDeliveryId>,
}

/// `GET /admin/webhooks/{id}?before=…`: the endpoint and a page of its delivery log.
pub async fn log(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<WebhookEndpointId>,
    Query(query): Query<LogQuery>,
) -> Result<Response> {
    let mut conn = state.db.acquire().await?;
    let endpoint = webhook_endpoints::find(&mut conn, agent.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let deliveries =
        webhook_endpoints::deliveries(&mut conn, agent.tenant_id, id, query.before).await?;
    let older = (deliveries.len() == usize::try_from(LOG_PAGE).unwrap_or(usize::MAX))
        .then(|| deliveries.last().map(|delivery| delivery.id))
        .flatten();
    let page = EndpointPage {
        agent,
        endpoint,
        deliveries,
        older,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Deserialize)]
pub struct SwitchForm {
    /// `on` or `off`.
    state: String,
}

/// `POST /admin/webhooks/{id}/state`: turns the endpoint on or off.
pub async fn switch(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<WebhookEndpointId>,
    Form(form): Form<SwitchForm>,
) -> Result<Response> {
    let enabled = match form.state.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(AppError::BadRequest("state is on or off".into())),
    };
    let mut conn = state.db.acquire().await?;
    if !webhook_endpoints::set_enabled(&mut conn, agent.tenant_id, Some(agent.user_id), id, enabled)
        .await?
    {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("/admin/webhooks/{id}")).into_response())
}

/// `POST /admin/webhooks/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<WebhookEndpointId>,
) -> Result<Response> {
    let mut conn = state.db.acquire().await?;
    if !webhook_endpoints::delete(&mut conn, agent.tenant_id, Some(agent.user_id), id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/admin/webhooks").into_response())
}

/// `POST /admin/webhooks/{id}/deliveries/{delivery}/replay`: sends the event again.
pub async fn replay(
    State(state): State<AppState>,
    agent: Agent,
    Path((id, delivery)): Path<(WebhookEndpointId, WebhookDeliveryId)>,
) -> Result<Response> {
    let mut conn = state.db.acquire().await?;
    if !webhook_endpoints::replay(
        &mut conn,
        agent.tenant_id,
        Some(agent.user_id),
        id,
        delivery,
    )
    .await?
    {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("/admin/webhooks/{id}")).into_response())
}

async fn endpoints_page(
    state: &AppState,
    agent: Agent,
    refusal: Option<String>,
    url: String,
) -> Result<EndpointsPage> {
    let mut conn = state.db.acquire().await?;
    Ok(EndpointsPage {
        endpoints: webhook_endpoints::list(&mut conn, agent.tenant_id).await?,
        events: &EVENTS,
        agent,
        refusal,
        url,
    })
}
