//! `/admin/templates`: the tenant's message templates as Meta has them (synced on demand, with
//! progress, and on a schedule; status, quality and category changes arrive by webhook at once),
//! each with the last 30 days' figures: sent, delivered, read, failed by reason, replies within
//! 24 hours, and the time Meta took to approve it. A template can be deleted here (at Meta, then
//! marked deleted; its figures stay).

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, TimeDelta, Utc};

use crate::{
    domain::{
        ids::TemplateId,
        messages::SentBy,
        templates::{
            self, TemplateStatus,
            figures::{self, Failures, TemplateFigures},
            syncs::{self, SyncState},
        },
    },
    error::{AppError, Result},
    http::{AppState, extract::Path},
    inbox::{auth::Agent, page::render, time},
    whatsapp::{errors, template_draft::Draft},
};

/// The period the figures cover.
const FIGURES_FOR: TimeDelta = TimeDelta::days(30);

/// `templates/admin/templates.html`.
#[derive(Template)]
#[template(path = "admin/templates.html")]
struct TemplatesPage {
    agent: Agent,
    sync: Option<SyncState>,
    templates: Vec<TemplateFigures>,
    failures: Vec<Failures>,
    /// Whether the tenant's templates come from more than one WABA (then each row names its own).
    several_wabas: bool,
    /// A refused action's words.
    refusal: Option<String>,
    now: DateTime<Utc>,
}

impl TemplatesPage {
    fn syncing(&self) -> bool {
        self.sync.as_ref().is_some_and(|s| s.finished_at.is_none())
    }

    fn at(&self, at: &DateTime<Utc>) -> String {
        time::when(*at, self.now)
    }

    /// "Approved", "Paused", "Pending deletion".
    fn status_words(&self, status: &TemplateStatus) -> String {
        let mut words = status.as_str().replace('_', " ").to_lowercase();
        if let Some(first) = words.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        words
    }

    /// `n` of `of` as a whole percentage, or a dash when there was nothing to count.
    fn rate(&self, n: &i64, of: &i64) -> String {
        if *of == 0 {
            "—".to_owned()
        } else {
            format!("{}\u{a0}%", n * 100 / of)
        }
    }

    /// The template's failures, most frequent first, in words: ("Message undeliverable", 3).
    fn failures_of(&self, id: &TemplateId) -> Vec<(String, i64)> {
        self.failures
            .iter()
            .filter(|f| f.template_id == *id)
            .map(|f| {
                let title = match f.code {
                    Some(code) => errors::explain(code.into(), None, None, false).title,
                    None => "No answer from WhatsApp".to_owned(),
                };
                (title, f.count)
            })
            .collect()
    }

    /// Meta's reason for a rejection or pause, in words (`NONE` is no reason).
    fn reason_words(&self, reason: &Option<String>) -> Option<String> {
        let words = match reason.as_deref()? {
            "NONE" | "" => return None,
            "LOW_QUALITY" => "Customers blocked or reported it",
            "INVALID_FORMAT" => "Meta found its format invalid",
            "INCORRECT_CATEGORY" => "Meta says its category is wrong",
            "ABUSIVE_CONTENT" => "Meta found its content abusive",
            "SCAM" => "Meta took it for a scam",
            "TAG_CONTENT_MISMATCH" => "Its content does not match its category",
            "PROMOTIONAL" => "Meta found it promotional for its category",
            other => return Some(other.replace('_', " ").to_lowercase()),
        };
        Some(words.to_owned())
    }

    /// Whether Meta lets the template be edited and the form can write it (no media header,
    /// not Meta's authentication layout); the form then says whether it can be edited today.
    fn editable(&self, template: &TemplateFigures) -> bool {
        matches!(
            template.status,
            TemplateStatus::Approved | TemplateStatus::Rejected | TemplateStatus::Paused
        ) && Draft::from_definition(
            &template.name,
            &template.language,
            template.category.map_or("", |c| c.as_str()),
            &template.components,
            template.parameter_format.eq_ignore_ascii_case("NAMED"),
        )
        .is_some()
    }

    fn approval(&self, template: &TemplateFigures) -> String {
        template
            .approval_time()
            .map_or_else(|| "—".to_owned(), time::span)
    }
}

/// `GET /admin/templates`.
pub async fn show(State(state): State<AppState>, agent: Agent) -> Result<Response> {
    let page = templates_page(&state, agent, None).await?;
    Ok(render(&page)?.into_response())
}

async fn templates_page(
    state: &AppState,
    agent: Agent,
    refusal: Option<String>,
) -> Result<TemplatesPage> {
    let mut conn = state.db.acquire().await?;
    let now = Utc::now();
    let sync = syncs::latest(&mut conn, agent.tenant_id).await?;
    let templates = figures::list(&mut conn, agent.tenant_id, now - FIGURES_FOR).await?;
    let failures = figures::failures(&mut conn, agent.tenant_id, now - FIGURES_FOR).await?;
    let several_wabas = templates.iter().any(|t| {
        templates
            .first()
            .is_some_and(|first| first.waba_id != t.waba_id)
    });
    Ok(TemplatesPage {
        agent,
        sync,
        templates,
        failures,
        several_wabas,
        refusal,
        now,
    })
}

/// `POST /admin/templates/sync`: queue a sync (or join the one running) and start it here.
pub async fn sync(State(state): State<AppState>, agent: Agent) -> Result<Response> {
    let mut conn = state.db.acquire().await?;
    syncs::request(&mut conn, agent.tenant_id, agent.user_id).await?;
    state.template_syncs.notify_one();
    Ok(Redirect::to("/admin/templates").into_response())
}

/// `POST /admin/templates/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<TemplateId>,
) -> Result<Response> {
    let deleted = templates::delete(
        &state.db,
        &state.cipher,
        &state.graph,
        &state.config.graph_urls(),
        agent.tenant_id,
        SentBy::Agent(agent.user_id),
        id,
    )
    .await?
    .ok_or(AppError::NotFound)?;
    match deleted {
        Ok(()) => Ok(Redirect::to("/admin/templates").into_response()),
        Err(failure) => {
            let (title, message) = failure.in_words();
            let refusal = format!("WhatsApp did not delete it: {title}. {message}");
            let page = templates_page(&state, agent, Some(refusal)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}
