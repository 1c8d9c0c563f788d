//! `/admin/api-keys`: the keys programs call the Meta-compatible endpoint with. An admin creates
//! one (a name, optionally some numbers, a rate), sees it once, and revokes it at once; the page
//! lists the tenant's keys by their first characters with what they may use and when they were
//! last used, and says where programs point their SDKs. Creating and revoking are audited (in
//! [`api_keys`]); another tenant's key is 404.

use askama::Template;
use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

use crate::{
    admin::{field, sentence, values},
    domain::{
        api_keys::{self, ApiKey, DEFAULT_RATE},
        ids::ApiKeyId,
    },
    error::{AppError, Result},
    http::{
        AppState,
        extract::{Form, Path},
    },
    inbox::{auth::Agent, page::render},
};

/// `templates/admin/api_keys.html`.
#[derive(Template)]
#[template(path = "admin/api_keys.html")]
struct KeysPage {
    agent: Agent,
    keys: Vec<ApiKey>,
    /// The tenant's numbers a key may be limited to: Meta's id and a label.
    numbers: Vec<(String, String)>,
    /// Where programs point their SDKs.
    graph_url: String,
    default_rate: i32,
    /// A refused form's message.
    refusal: Option<String>,
}

/// `templates/admin/api_key_created.html`: the new key, shown once.
#[derive(Template)]
#[template(path = "admin/api_key_created.html")]
struct CreatedPage {
    agent: Agent,
    name: String,
    secret: String,
    graph_url: String,
}

/// `GET /admin/api-keys`.
pub async fn show(State(state): State<AppState>, agent: Agent) -> Result<Response> {
    let page = keys_page(&state, agent, None).await?;
    Ok(render(&page)?.into_response())
}

/// `POST /admin/api-keys`: `name`, `rate`, and a `number` field per number the key is limited
/// to (none: all of them).
pub async fn create(
    State(state): State<AppState>,
    agent: Agent,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let numbers = values(&fields, "number");
    let name = field(&fields, "name").unwrap_or_default().to_owned();
    let rate = match field(&fields, "rate").map(str::trim) {
        None | Some("") => DEFAULT_RATE,
        Some(rate) => rate.parse().unwrap_or(0),
    };
    let mut conn = state.db.acquire().await?;
    let created = api_keys::create(
        &mut conn,
        agent.tenant_id,
        Some(agent.user_id),
        &name,
        &numbers,
        rate,
    )
    .await?;
    drop(conn);
    match created {
        Ok(key) => {
            let page = CreatedPage {
                graph_url: graph_url(&state),
                name: name.trim().to_owned(),
                secret: key.secret,
                agent,
            };
            // The key is on this page alone: no copy of it in any cache.
            let no_store = [(header::CACHE_CONTROL, "no-store")];
            Ok((no_store, render(&page)?).into_response())
        }
        Err(refused) => {
            let page = keys_page(&state, agent, Some(sentence(&refused.to_string()))).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

/// `POST /admin/api-keys/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<ApiKeyId>,
) -> Result<Response> {
    let mut conn = state.db.acquire().await?;
    let revoked = api_keys::revoke(&mut conn, agent.tenant_id, Some(agent.user_id), id).await?;
    // A second click finds it revoked already; another tenant's key is not found at all.
    if !revoked
        && !api_keys::list(&mut conn, agent.tenant_id)
            .await?
            .iter()
            .any(|key| key.id == id)
    {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/admin/api-keys").into_response())
}

async fn keys_page(state: &AppState, agent: Agent, refusal: Option<String>) -> Result<KeysPage> {
    let mut conn = state.db.acquire().await?;
    Ok(KeysPage {
        keys: api_keys::list(&mut conn, agent.tenant_id).await?,
        numbers: api_keys::number_choices(&mut conn, agent.tenant_id).await?,
        graph_url: graph_url(state),
        default_rate: DEFAULT_RATE,
        agent,
        refusal,
    })
}

fn graph_url(state: &AppState) -> String {
    format!("{}/graph", state.config.public_url)
}
