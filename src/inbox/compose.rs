//! The composer's forms: a free-text reply while the window is open, a template when it is not.
//! Both go through the send service, which checks the window again whatever the page showed. Each
//! form carries an idempotency key chosen when the page was rendered, so a double click or a
//! resubmitted form sends once. A refused send renders the page again with the agent's text (or
//! template values) still in the form and the reason beside it.

use std::collections::BTreeMap;

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    auth::{Agent, sessions::random_token},
    list::ListParams,
    page::render,
    pages::{Opened, conversation_page},
    template_fields,
    thread::query as thread_query,
};
use crate::{
    domain::{
        ids::{ConversationId, MessageId, TemplateId},
        messages::SentBy,
        templates,
    },
    error::{AppError, Result},
    http::{
        AppState,
        extract::{Form, Path, Query},
    },
    outbox::send::{SendError, SendRefused, SendRequest, SendTo},
    whatsapp::outbound::Outbound,
};

/// What the composer holds: the agent's unsent text or template values, the key its next send
/// carries, and why the last send was refused.
pub struct Draft {
    pub text: String,
    pub values: Vec<String>,
    pub idempotency_key: String,
    pub error: Option<String>,
    /// What is wrong with each template value, by the variables' order (empty: nothing).
    pub problems: Vec<Option<&'static str>>,
    /// The message the reply quotes: its id and one-line summary.
    pub reply_to: Option<(MessageId, String)>,
}

impl Default for Draft {
    fn default() -> Self {
        Self {
            text: String::new(),
            values: Vec::new(),
            idempotency_key: random_token(),
            error: None,
            problems: Vec::new(),
            reply_to: None,
        }
    }
}

impl Draft {
    /// The value typed for the template variable at `index`.
    pub fn value(&self, index: &usize) -> &str {
        self.values
            .get(*index)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// What is wrong with the template value at `index`, if anything.
    pub fn problem(&self, index: &usize) -> Option<&'static str> {
        self.problems.get(*index).copied().flatten()
    }
}

#[derive(Deserialize)]
pub struct TextForm {
    #[serde(default)]
    text: String,
    idempotency_key: String,
    /// The id of the message the reply quotes.
    #[serde(default)]
    reply_to: Option<String>,
}

/// `POST /inbox/conversations/{id}/messages`.
pub async fn send_text(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<ConversationId>,
    Query(list): Query<ListParams>,
    Form(form): Form<TextForm>,
) -> Result<Response> {
    let quoted = match form.reply_to.as_deref().and_then(|r| r.parse().ok()) {
        Some(message) => Some((message, quotable(&state, &agent, id, message).await?)),
        None => None,
    };
    let request = SendRequest {
        to: SendTo::Conversation(id),
        content: Outbound::Text {
            preview_url: form.text.contains("https://") || form.text.contains("http://"),
            body: form.text.clone(),
        },
        reply_to: quoted.as_ref().map(|(_, (wamid, _))| wamid.clone()),
        idempotency_key: form.idempotency_key.clone(),
        sent_by: SentBy::Agent(agent.user_id),
    };
    let draft = Draft {
        text: form.text,
        idempotency_key: form.idempotency_key,
        reply_to: quoted.map(|(message, (_, summary))| (message, summary)),
        ..Draft::default()
    };
    answer(&state, agent, id, list, None, draft, request).await
}

/// The template form: `template_id`, `idempotency_key`, and the variables' values in the order of
/// the template's variables (`v0`, `v1`, …). Read as a map because the variables differ per
/// template.
pub struct TemplateForm(BTreeMap<String, String>);

impl TemplateForm {
    fn field(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or_default()
    }

    fn values(&self, count: usize) -> Vec<String> {
        (0..count)
            .map(|i| self.field(&format!("v{i}")).to_owned())
            .collect()
    }
}

/// `POST /inbox/conversations/{id}/templates`.
pub async fn send_template(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<ConversationId>,
    Query(list): Query<ListParams>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Result<Response> {
    let form = TemplateForm(form);
    let template_id: TemplateId = form
        .field("template_id")
        .parse()
        .map_err(|_| AppError::BadRequest("choose a template".into()))?;
    let mut conn = state
        .db
        .acquire()
        .await
        .map_err(|e| AppError::from_database(e.into()))?;
    let template = templates::by_id(&mut conn, agent.tenant_id, template_id)
        .await
        .map_err(AppError::from_database)?
        .ok_or(AppError::NotFound)?;
    drop(conn);
    let option = template.option();
    let values = form.values(option.variables.len());
    if let Some(problems) = template_fields::problems(&option.variables, &values) {
        // Nothing is sent: the form again, each problem beside its field.
        let draft = Draft {
            values,
            idempotency_key: form.field("idempotency_key").to_owned(),
            error: Some("Check the fields marked below; nothing was sent.".into()),
            problems,
            ..Draft::default()
        };
        let opened = Opened {
            id,
            before: None,
            template: Some(template.id),
            draft,
        };
        let page = conversation_page(&state, agent, list, opened).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    }
    let components = option.values(&values).components(&template.definition());
    let request = SendRequest {
        to: SendTo::Conversation(id),
        content: Outbound::Template {
            name: template.name.clone(),
            language: template.language.clone(),
            components,
        },
        reply_to: None,
        idempotency_key: form.field("idempotency_key").to_owned(),
        sent_by: SentBy::Agent(agent.user_id),
    };
    let draft = Draft {
        values,
        idempotency_key: form.field("idempotency_key").to_owned(),
        ..Draft::default()
    };
    answer(&state, agent, id, list, Some(template.id), draft, request).await
}

/// The reactions the inbox offers (WhatsApp's quick reactions).
pub const REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

#[derive(Deserialize)]
pub struct ReactionForm {
    emoji: String,
    /// The page's key: with the message and the emoji, it names this reaction.
    idempotency_key: String,
}

/// `POST /inbox/conversations/{id}/messages/{message}/react`: reacts with one of [`REACTIONS`]
/// (an empty emoji takes the reaction back). A reaction is free-form: only inside the window.
pub async fn react(
    State(state): State<AppState>,
    agent: Agent,
    Path((id, message)): Path<(ConversationId, MessageId)>,
    Query(list): Query<ListParams>,
    Form(form): Form<ReactionForm>,
) -> Result<Response> {
    if !form.emoji.is_empty() && !REACTIONS.contains(&form.emoji.as_str()) {
        return Err(AppError::BadRequest(
            "choose one of the reactions offered".into(),
        ));
    }
    let (wamid, _) = quotable(&state, &agent, id, message).await?;
    let request = SendRequest {
        to: SendTo::Conversation(id),
        content: Outbound::Reaction {
            message_id: wamid,
            emoji: form.emoji.clone(),
        },
        reply_to: None,
        idempotency_key: format!("{}/react/{message}/{}", form.idempotency_key, form.emoji),
        sent_by: SentBy::Agent(agent.user_id),
    };
    answer(&state, agent, id, list, None, Draft::default(), request).await
}

/// The message `message` of the conversation, to quote or react to (404 otherwise).
async fn quotable(
    state: &AppState,
    agent: &Agent,
    id: ConversationId,
    message: MessageId,
) -> Result<(String, String)> {
    let mut conn = state
        .db
        .acquire()
        .await
        .map_err(|e| AppError::from_database(e.into()))?;
    thread_query::quotable(&mut conn, agent.tenant_id, id, message)
        .await
        .map_err(AppError::from_database)?
        .ok_or(AppError::NotFound)
}

/// Sends `request`; on success back to the conversation, on a refusal the page again with the
/// draft kept and the reason shown.
async fn answer(
    state: &AppState,
    agent: Agent,
    id: ConversationId,
    list: ListParams,
    template: Option<TemplateId>,
    mut draft: Draft,
    request: SendRequest,
) -> Result<Response> {
    let refusal = match state.sends.send(agent.tenant_id, request).await {
        Ok(_) => {
            let to = format!("/inbox/conversations/{id}?{}", list.current());
            return Ok(Redirect::to(&to).into_response());
        }
        Err(SendError::Refused(SendRefused::NotFound)) => return Err(AppError::NotFound),
        Err(SendError::Refused(refusal)) => refusal,
        Err(SendError::Internal(error)) => return Err(AppError::from_database(error)),
    };
    draft.error = Some(refusal.to_string());
    let opened = Opened {
        id,
        before: None,
        template,
        draft,
    };
    let page = conversation_page(state, agent, list, opened).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}
