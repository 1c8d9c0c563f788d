//! Conversations: the inbox's list (views, filters, keyset pages), one conversation, and the
//! teamwork an agent does on it — assign, status, labels, notes — each a timeline event that
//! names the key, announced to open inbox pages as an agent's change is.

use anyhow::Context;
use axum::{
    Extension,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    ApiError, conversation, number,
    schema::{
        Assignee, Assignment, Changed, ContactOut, ConversationOut, ConversationPage,
        ConversationRow, ErrorBody, LabelOut, NewLabel, NewNote, RowContact, StatusChange,
        WindowOut,
    },
};
use crate::{
    domain::{
        api_keys::Caller,
        conversations::ConversationStatus,
        ids::{ConversationId, LabelId, UserId},
        messages::SentBy,
        teamwork::{self, Actor, LABEL_LIMIT, NOTE_LIMIT, Outcome},
    },
    error::{AppError, FieldError},
    http::{
        AppState,
        extract::{Json, Path, Query},
    },
    inbox::{
        list::{Cursor, Filters, View, rows, views},
        thread::query as thread_query,
    },
    window::Window,
};

/// The list's query string.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `all` (the default), `unassigned`, or `closing` (open conversations whose customer wrote
    /// last and whose window closes within 4 hours, most urgent first).
    #[serde(default)]
    view: Option<String>,
    /// `open` (the default), `pending` or `resolved`; `closing` is always open.
    #[serde(default)]
    status: Option<String>,
    /// Meta's id of one of the tenant's numbers.
    #[serde(default)]
    phone_number_id: Option<String>,
    /// A label's id.
    #[serde(default)]
    label: Option<i64>,
    /// The `next` of the page before.
    #[serde(default)]
    after: Option<String>,
}

/// A page of 50 conversations of a view, by last activity (Closing soon: most urgent first).
#[utoipa::path(
    get, path = "/conversations", tag = "conversations", operation_id = "list_conversations",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of conversations", body = ConversationPage),
        (status = 422, description = "A view, status or cursor that does not exist", body = ErrorBody),
    )
)]
pub(super) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ListQuery>,
) -> Result<Json<ConversationPage>, ApiError> {
    let view = match query.view.as_deref() {
        None | Some("all") => View::All,
        Some("unassigned") => View::Unassigned,
        Some("closing") => View::Closing,
        Some(_) => return Err(invalid("view", "one of all, unassigned, closing")),
    };
    let status = match query.status.as_deref() {
        None => ConversationStatus::Open,
        Some(text) => parse_status(text).ok_or_else(|| invalid("status", STATUSES))?,
    };
    let after = match query.after.as_deref() {
        None => None,
        Some(text) => {
            Some(Cursor::parse(text).ok_or_else(|| invalid("after", "the `next` of a page"))?)
        }
    };
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    let number = match query.phone_number_id.as_deref() {
        Some(id) => Some(number(&mut conn, &caller, id).await?),
        None => None,
    };
    let filters = Filters {
        status: if view == View::Closing {
            ConversationStatus::Open
        } else {
            status
        },
        number,
        label: query.label.map(LabelId::new),
    };
    let ids = views::page(
        &mut conn,
        caller.tenant_id,
        None,
        caller.numbers.as_deref(),
        view,
        &filters,
        after,
    )
    .await?;
    let rows = rows::rows(&mut conn, caller.tenant_id, None, &ids).await?;
    let next = (rows.len() == usize::try_from(rows::PAGE).unwrap_or(usize::MAX))
        .then(|| rows.last())
        .flatten()
        .map(|row| row.cursor(view).to_string());
    let now = Utc::now();
    let data = rows
        .into_iter()
        .map(|row| ConversationRow {
            window: row.window(now).into(),
            id: row.id.get(),
            phone_number_id: row.phone_number_id,
            status: row.status.as_str(),
            contact: RowContact {
                name: row.contact_name,
                wa_id: row.wa_id,
                user_id: row.user_id,
            },
            assignee: row.assignee_id.map(|id| Assignee {
                id: id.get(),
                name: row.assignee_name,
            }),
            last_message_at: row.last_message_at,
            last_message: row.snippet,
            last_message_outbound: row.snippet_outbound,
            labels: row.labels,
        })
        .collect();
    Ok(Json(ConversationPage { data, next }))
}

/// One conversation, with its customer, labels and window.
#[utoipa::path(
    get, path = "/conversations/{id}", tag = "conversations", operation_id = "get_conversation",
    params(("id" = i64, Path, description = "The conversation's id")),
    responses(
        (status = 200, description = "The conversation", body = ConversationOut),
        (status = 404, description = "No such conversation for this key", body = ErrorBody),
    )
)]
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<ConversationId>,
) -> Result<Json<ConversationOut>, ApiError> {
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    let found = conversation(&mut conn, &caller, id).await?;
    let labels = thread_query::labels(&mut conn, caller.tenant_id, id).await?;
    let window = Window::at(
        found.last_customer_message_at,
        found.window_closed_by_meta_at,
        Utc::now(),
    );
    Ok(Json(ConversationOut {
        id: found.id.get(),
        phone_number_id: found.phone_number_id,
        status: found.status.as_str(),
        contact: ContactOut {
            id: found.contact_id.get(),
            name: found.contact_name,
            wa_id: found.wa_id,
            user_id: found.user_id,
            language: found.language,
            marketing_opted_out_at: found.opted_out_at,
            erased: found.erased,
        },
        assignee: found.assignee_id.map(|id| Assignee {
            id: id.get(),
            name: found.assignee_name,
        }),
        labels: labels
            .into_iter()
            .map(|(id, name)| LabelOut { id: id.get(), name })
            .collect(),
        window: WindowOut::from(window),
        number_paused: found.number_paused,
        number_removed: found.number_removed,
    }))
}

/// Assigns the conversation to an agent, or to nobody.
#[utoipa::path(
    post, path = "/conversations/{id}/assignee", tag = "conversations",
    operation_id = "assign_conversation",
    params(("id" = i64, Path, description = "The conversation's id")),
    request_body = Assignment,
    responses(
        (status = 200, description = "Assigned (or already so)", body = Changed),
        (status = 404, description = "No such conversation, or no such agent", body = ErrorBody),
    )
)]
pub(super) async fn assign(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<ConversationId>,
    Json(assignment): Json<Assignment>,
) -> Result<Response, ApiError> {
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    conversation(&mut conn, &caller, id).await?;
    let assignee = assignment.assignee_id.map(UserId::new);
    let outcome = teamwork::assign(&mut conn, actor(&caller), id, assignee).await?;
    changed(outcome)
}

/// Moves the conversation to open, pending or resolved.
#[utoipa::path(
    post, path = "/conversations/{id}/status", tag = "conversations",
    operation_id = "set_conversation_status",
    params(("id" = i64, Path, description = "The conversation's id")),
    request_body = StatusChange,
    responses(
        (status = 200, description = "Moved (or already so)", body = Changed),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 422, description = "No such status", body = ErrorBody),
    )
)]
pub(super) async fn set_status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<ConversationId>,
    Json(change): Json<StatusChange>,
) -> Result<Response, ApiError> {
    let status = parse_status(&change.status).ok_or_else(|| invalid("status", STATUSES))?;
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    conversation(&mut conn, &caller, id).await?;
    let outcome = teamwork::set_status(&mut conn, actor(&caller), id, status).await?;
    changed(outcome)
}

/// Puts a label on the conversation, created if the tenant has none by that name.
#[utoipa::path(
    post, path = "/conversations/{id}/labels", tag = "conversations", operation_id = "add_label",
    params(("id" = i64, Path, description = "The conversation's id")),
    request_body = NewLabel,
    responses(
        (status = 200, description = "Labelled (or already so)", body = Changed),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 422, description = "An empty or overlong name", body = ErrorBody),
    )
)]
pub(super) async fn add_label(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<ConversationId>,
    Json(label): Json<NewLabel>,
) -> Result<Response, ApiError> {
    let name = label.name.trim();
    if name.is_empty() || name.chars().count() > LABEL_LIMIT {
        return Err(invalid("name", "1 to 40 characters"));
    }
    // The label is created and put on together, or neither.
    let mut tx = state.db.begin().await.context("begin")?;
    conversation(&mut tx, &caller, id).await?;
    let outcome = teamwork::add_label(&mut tx, actor(&caller), id, name).await?;
    tx.commit().await.context("commit")?;
    changed(outcome)
}

/// Takes a label off the conversation.
#[utoipa::path(
    delete, path = "/conversations/{id}/labels/{label_id}", tag = "conversations",
    operation_id = "remove_label",
    params(
        ("id" = i64, Path, description = "The conversation's id"),
        ("label_id" = i64, Path, description = "The label's id"),
    ),
    responses(
        (status = 200, description = "Taken off (or was not on)", body = Changed),
        (status = 404, description = "No such conversation", body = ErrorBody),
    )
)]
pub(super) async fn remove_label(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, label_id)): Path<(ConversationId, LabelId)>,
) -> Result<Response, ApiError> {
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    conversation(&mut conn, &caller, id).await?;
    let outcome = teamwork::remove_label(&mut conn, actor(&caller), id, label_id).await?;
    changed(outcome)
}

/// Leaves a private note in the timeline (never sent to WhatsApp).
#[utoipa::path(
    post, path = "/conversations/{id}/notes", tag = "conversations", operation_id = "add_note",
    params(("id" = i64, Path, description = "The conversation's id")),
    request_body = NewNote,
    responses(
        (status = 201, description = "Noted", body = Changed),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 422, description = "An empty or overlong note", body = ErrorBody),
    )
)]
pub(super) async fn add_note(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<ConversationId>,
    Json(note): Json<NewNote>,
) -> Result<Response, ApiError> {
    let body = note.body.trim();
    if body.is_empty() || body.chars().count() > NOTE_LIMIT {
        return Err(invalid("body", "1 to 4,096 characters"));
    }
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    conversation(&mut conn, &caller, id).await?;
    teamwork::add_note(&mut conn, actor(&caller), id, body).await?;
    Ok((StatusCode::CREATED, Json(Changed { changed: true })).into_response())
}

/// The key, as the author of a change.
fn actor(caller: &Caller) -> Actor {
    Actor {
        tenant_id: caller.tenant_id,
        by: SentBy::ApiKey(caller.key_id),
    }
}

/// A teamwork change's answer.
fn changed(outcome: Outcome) -> Result<Response, ApiError> {
    match outcome {
        Outcome::NotFound => Err(ApiError::App(AppError::NotFound)),
        Outcome::Changed | Outcome::Unchanged => Ok(Json(Changed {
            changed: outcome == Outcome::Changed,
        })
        .into_response()),
    }
}

const STATUSES: &str = "one of open, pending, resolved";

fn parse_status(text: &str) -> Option<ConversationStatus> {
    match text {
        "open" => Some(ConversationStatus::Open),
        "pending" => Some(ConversationStatus::Pending),
        "resolved" => Some(ConversationStatus::Resolved),
        _ => None,
    }
}

/// 422: `field` is not `expected`.
pub(super) fn invalid(field: &str, expected: &str) -> ApiError {
    ApiError::App(AppError::Unprocessable {
        message: format!("{field} must be {expected}"),
        fields: vec![FieldError {
            field: field.to_owned(),
            message: format!("must be {expected}"),
        }],
    })
}
