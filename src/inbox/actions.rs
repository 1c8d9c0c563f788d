//! The conversation's teamwork forms: assign, status, labels, notes, and Retry on a failed
//! message. Each answers 303 back to the conversation (the page shows the change; open pages of
//! other agents get it live), or 404 for anything outside the agent's tenant.

use axum::{
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{auth::Agent, list::ListParams, thread::query as thread_query};
use crate::{
    domain::{
        canned::{self, CannedRefused},
        conversations::ConversationStatus,
        ids::{ConversationId, LabelId, MessageId, UserId},
        messages::SentBy,
        teamwork::{self, Actor, LABEL_LIMIT, NOTE_LIMIT, Outcome},
    },
    error::{AppError, FieldError, Result},
    http::{
        AppState,
        extract::{Form, Path, Query},
    },
    outbox::send::{SendError, SendRefused},
};

fn actor(agent: &Agent) -> Actor {
    Actor {
        tenant_id: agent.tenant_id,
        by: SentBy::Agent(agent.user_id),
    }
}

/// Back to the conversation, in the list it was opened from.
fn back(id: ConversationId, list: &ListParams) -> Result<Response> {
    let to = format!("/inbox/conversations/{id}?{}", list.current());
    Ok(Redirect::to(&to).into_response())
}

fn done(outcome: Outcome, id: ConversationId, list: &ListParams) -> Result<Response> {
    match outcome {
        Outcome::NotFound => Err(AppError::NotFound),
        Outcome::Changed | Outcome::Unchanged => back(id, list),
    }
}

#[derive(Deserialize)]
pub struct AssignForm {
    /// `me`, a user id, or empty for nobody.
    #[serde(default)]
    assignee: String,
}

pub async fn assign(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<ConversationId>,
    Query(list): Query<ListParams>,
    Form(form): Form<AssignForm>,
) -> Result<Response> {
    let assignee = match form.assignee.as_str() {
        "" => None,
        "me" => Some(agent.user_id),
        other => Some(
            other
                .parse::<UserId>()
                .map_err(|_| AppError::BadRequest("choose an agent".into()))?,
        ),
    };
    let mut tx = begin(&state).await?;
    let outcome = teamwork::assign(&mut tx, actor(&agent), id, assignee)
        .await
        .map_err(AppError::from_database)?;
    commit(tx).await?;
    done(outcome, id, &list)
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
}

pub async fn status(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<ConversationId>,
    Query(list): Query<ListParams>,
    Form(form): Form<StatusForm>,
) -> Result<Response> {
    let status = match form.status.as_str() {
        "open" => ConversationStatus::Open,
        "pending" => ConversationStatus::Pending,
        "resolved" => ConversationStatus::Resolved,
        _ => return Err(AppError::BadRequest("unknown status".into())),
    };
    let mut tx = begin(&state).await?;
    let outcome = teamwork::set_status(&mut tx, actor(&agent), id, status)
        .await
        .map_err(AppError::from_database)?;
    commit(tx).await?;
    done(outcome, id, &list)
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    body: String,
}

pub async fn note(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<ConversationId>,
    Query(list): Query<ListParams>,
    Form(form): Form<NoteForm>,
) -> Result<Response> {
    let body = form.body.trim();
    if body.is_empty() || body.chars().count() > NOTE_LIMIT {
        return Err(unprocessable(
            "body",
            &format!("A note has 1 to {NOTE_LIMIT} characters."),
        ));
    }
    let mut tx = begin(&state).await?;
    let outcome = teamwork::add_note(&mut tx, actor(&agent), id, body)
        .await
        .map_err(AppError::from_database)?;
    commit(tx).await?;
    done(outcome, id, &list)
}

#[derive(Deserialize)]
pub struct LabelForm {
    #[serde(default)]
    name: String,
}

pub async fn add_label(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<ConversationId>,
    Query(list): Query<ListParams>,
    Form(form): Form<LabelForm>,
) -> Result<Response> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > LABEL_LIMIT {
        return Err(unprocessable("name", "A label has 1 to 40 characters."));
    }
    let mut tx = begin(&state).await?;
    let outcome = teamwork::add_label(&mut tx, actor(&agent), id, name)
        .await
        .map_err(AppError::from_database)?;
    commit(tx).await?;
    done(outcome, id, &list)
}

pub async fn remove_label(
    State(state): State<AppState>,
    agent: Agent,
    Path((id, label)): Path<(ConversationId, LabelId)>,
    Query(list): Query<ListParams>,
) -> Result<Response> {
    let mut tx = begin(&state).await?;
    let outcome = teamwork::remove_label(&mut tx, actor(&agent), id, label)
        .await
        .map_err(AppError::from_database)?;
    commit(tx).await?;
    done(outcome, id, &list)
}

/// `POST /inbox/conversations/{id}/viewing`: the open page's heartbeat (from its script), so
/// other agents see who is on the conversation. 204.
pub async fn viewing(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<ConversationId>,
) -> Result<axum::http::StatusCode> {
    let mut conn = state
        .db
        .acquire()
        .await
        .map_err(|e| AppError::from_database(e.into()))?;
    match teamwork::viewing(&mut conn, agent.tenant_id, agent.user_id, id)
        .await
        .map_err(AppError::from_database)?
    {
        Outcome::NotFound => Err(AppError::NotFound),
        Outcome::Changed | Outcome::Unchanged => Ok(axum::http::StatusCode::NO_CONTENT),
    }
}

#[derive(Deserialize)]
pub struct CannedForm {
    #[serde(default)]
    shortcut: String,
    #[serde(default)]
    body: String,
}

/// `POST /inbox/conversations/{id}/canned`: saves a canned response for the whole team.
pub async fn add_canned(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<ConversationId>,
    Query(list): Query<ListParams>,
    Form(form): Form<CannedForm>,
) -> Result<Response> {
    let mut conn = state
        .db
        .acquire()
        .await
        .map_err(|e| AppError::from_database(e.into()))?;
    // Saved for the whole tenant, from a conversation of the tenant's (else 404, like any
    // conversation's action).
    thread_query::conversation(&mut conn, agent.tenant_id, id)
        .await
        .map_err(AppError::from_database)?
        .ok_or(AppError::NotFound)?;
    let saved = canned::create(
        &mut conn,
        agent.tenant_id,
        agent.user_id,
        &form.shortcut,
        &form.body,
    )
    .await
    .map_err(AppError::from_database)?;
    match saved {
        Ok(_) => back(id, &list),
        Err(refused @ CannedRefused::Taken(_)) => Err(AppError::Conflict(refused.to_string())),
        Err(refused) => Err(unprocessable("shortcut", &refused.to_string())),
    }
}

/// `POST /inbox/conversations/{id}/messages/{message}/retry`: sends a failed or unconfirmed
/// message again, for real (the window is checked again for free text).
pub async fn retry(
    State(state): State<AppState>,
    agent: Agent,
    Path((id, message)): Path<(ConversationId, MessageId)>,
    Query(list): Query<ListParams>,
) -> Result<Response> {
    match state
        .sends
        .retry(agent.tenant_id, message, SentBy::Agent(agent.user_id))
        .await
    {
        Ok(()) => back(id, &list),
        Err(SendError::Refused(SendRefused::NotFound)) => Err(AppError::NotFound),
        // Already queued again (a second click): nothing to do.
        Err(SendError::Refused(SendRefused::NotRetryable)) => back(id, &list),
        Err(SendError::Refused(refusal)) => Err(AppError::Conflict(refusal.to_string())),
        Err(SendError::Internal(error)) => Err(AppError::from_database(error)),
    }
}

fn unprocessable(field: &str, message: &str) -> AppError {
    AppError::Unprocessable {
        message: message.to_owned(),
        fields: vec![FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
        }],
    }
}

async fn begin(state: &AppState) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    state
        .db
        .begin()
        .await
        .map_err(|e| AppError::from_database(e.into()))
}

async fn commit(tx: sqlx::Transaction<'static, sqlx::Postgres>) -> Result<()> {
    tx.commit()
        .await
        .map_err(|e| AppError::from_database(e.into()))
}
