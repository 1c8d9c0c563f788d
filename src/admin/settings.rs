//! `/admin/settings`: what the team shares. Canned responses (added here or from the composer;
//! their text changed or deleted here), labels (created from conversations; renamed or deleted
//! here, which takes a label off every conversation), the keywords that opt customers out of
//! marketing messages and back in, and the template language offered first. Every change is
//! audited; another tenant's snippet or label is 404.

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    admin::sentence,
    domain::{
        canned::{self, Canned},
        ids::{CannedResponseId, LabelId},
        labels::{self, LabelSummary},
        tenants::{self, Settings},
    },
    error::{AppError, Result},
    http::{
        AppState,
        extract::{Form, Path},
    },
    inbox::{auth::Agent, page::render},
};

/// `templates/admin/settings.html`.
#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    agent: Agent,
    canned: Vec<Canned>,
    labels: Vec<LabelSummary>,
    settings: Settings,
    /// A refused form's message, shown above the page's forms.
    refusal: Option<String>,
}

#[derive(Deserialize)]
pub struct CannedForm {
    #[serde(default)]
    shortcut: String,
    body: String,
}

#[derive(Deserialize)]
pub struct LabelForm {
    name: String,
}

#[derive(Deserialize)]
pub struct KeywordsForm {
    opt_out: String,
    opt_in: String,
    default_language: String,
}

/// `GET /admin/settings`.
pub async fn show(State(state): State<AppState>, agent: Agent) -> Result<Response> {
    let page = settings_page(&state, agent, None).await?;
    Ok(render(&page)?.into_response())
}

/// `POST /admin/settings`: keywords and the default template language.
pub async fn save(
    State(state): State<AppState>,
    agent: Agent,
    Form(form): Form<KeywordsForm>,
) -> Result<Response> {
    let words =
        |text: &str| -> Vec<String> { text.split([',', ' ', '\n']).map(str::to_owned).collect() };
    let by = Some(agent.user_id);
    let mut tx = state.db.begin().await?;
    let keywords = tenants::set_keywords(
        &mut tx,
        agent.tenant_id,
        by,
        &words(&form.opt_out),
        &words(&form.opt_in),
    )
    .await?;
    let language =
        tenants::set_default_language(&mut tx, agent.tenant_id, by, &form.default_language).await?;
    if let Err(refused) = keywords.map(|_| ()).and(language) {
        drop(tx);
        return refused_page(&state, agent, sentence(&refused.to_string())).await;
    }
    tx.commit().await?;
    Ok(Redirect::to("/admin/settings").into_response())
}

/// `POST /admin/canned`: a new canned response.
pub async fn add_canned(
    State(state): State<AppState>,
    agent: Agent,
    Form(form): Form<CannedForm>,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    let created = canned::create(
        &mut tx,
        agent.tenant_id,
        agent.user_id,
        &form.shortcut,
        &form.body,
    )
    .await?;
    if let Err(refused) = created {
        drop(tx);
        return refused_page(&state, agent, sentence(&refused.to_string())).await;
    }
    tx.commit().await?;
    Ok(Redirect::to("/admin/settings#canned").into_response())
}

/// `POST /admin/canned/{id}`: a canned response's new text.
pub async fn update_canned(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<CannedResponseId>,
    Form(form): Form<CannedForm>,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    let updated = canned::update(&mut tx, agent.tenant_id, agent.user_id, id, &form.body)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Err(refused) = updated {
        drop(tx);
        return refused_page(&state, agent, sentence(&refused.to_string())).await;
    }
    tx.commit().await?;
    Ok(Redirect::to("/admin/settings#canned").into_response())
}

/// `POST /admin/canned/{id}/delete`.
pub async fn delete_canned(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<CannedResponseId>,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    canned::delete(&mut tx, agent.tenant_id, agent.user_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/settings#canned").into_response())
}

/// `POST /admin/labels/{id}`: renames a label.
pub async fn rename_label(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<LabelId>,
    Form(form): Form<LabelForm>,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    let renamed = labels::rename(&mut tx, agent.tenant_id, agent.user_id, id, &form.name)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Err(refused) = renamed {
        drop(tx);
        return refused_page(&state, agent, sentence(&refused.to_string())).await;
    }
    tx.commit().await?;
    Ok(Redirect::to("/admin/settings#labels").into_response())
}

/// `POST /admin/labels/{id}/delete`: deletes a label, taking it off every conversation.
pub async fn delete_label(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<LabelId>,
) -> Result<Response> {
    let mut tx = state.db.begin().await?;
    labels::delete(&mut tx, agent.tenant_id, agent.user_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/settings#labels").into_response())
}

async fn settings_page(
    state: &AppState,
    agent: Agent,
    refusal: Option<String>,
) -> Result<SettingsPage> {
    let mut conn = state.db.acquire().await?;
    Ok(SettingsPage {
        canned: canned::list(&mut conn, agent.tenant_id).await?,
        labels: labels::summaries(&mut conn, agent.tenant_id).await?,
        settings: tenants::settings(&mut conn, agent.tenant_id).await?,
        agent,
        refusal,
    })
}

async fn refused_page(state: &AppState, agent: Agent, refusal: String) -> Result<Response> {
    let page = settings_page(state, agent, Some(refusal)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}
