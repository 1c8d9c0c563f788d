//! `GET /inbox` and `GET /inbox/conversations/{id}`: the list (with its views, counts and filters)
//! and, when a conversation is open, its thread, composer and side panel, as one page. Everything
//! shown is read with the agent's tenant; another tenant's conversation is 404.

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{
    auth::Agent,
    compose::{Draft, REACTIONS},
    list::{
        ListParams,
        page::{Choice, ListPane, choices, display_name, list_pane},
    },
    page::render,
    render::Body,
    thread::{
        self, Entry, Picker, WindowView,
        preview::{self, Preview},
        query as thread_query,
    },
    time,
};
use crate::{
    domain::{
        canned,
        events::{self, Kind},
        ids::{ConversationId, LabelId, MessageId, TemplateId},
        messages::{Direction, MessageStatus},
        teamwork, templates,
    },
    error::{AppError, Result},
    http::{
        AppState,
        extract::{Path, Query},
    },
    whatsapp::template_check::Variable,
    window::Window,
};

/// `templates/inbox/page.html`.
#[derive(Template)]
#[template(path = "inbox/page.html")]
pub struct InboxPage {
    pub agent: Agent,
    pub list: ListPane,
    pub conversation: Option<ConversationPanel>,
    /// When the page's data began to be read: its live stream resyncs if the tenant changed since.
    pub since: DateTime<Utc>,
}

/// The open conversation.
pub struct ConversationPanel {
    pub conversation: thread::Conversation,
    /// The tenant's agents, for the assignee picker (the assignee selected).
    pub agents: Vec<Choice>,
    pub labels: Vec<(LabelId, String)>,
    /// The customer's conversations with the tenant's other numbers.
    pub others: Vec<thread_query::OtherThread>,
    /// The other agents who have it open now.
    pub viewers: Vec<String>,
    /// The tenant's canned responses: (shortcut, text).
    pub canned: Vec<(String, String)>,
    pub name: String,
    pub window: WindowView,
    pub entries: Vec<Entry>,
    pub older: Option<MessageId>,
    pub picker: Picker,
    pub draft: Draft,
    pub now: DateTime<Utc>,
}

impl ConversationPanel {
    fn iso(&self, at: &DateTime<Utc>) -> String {
        time::iso(*at)
    }

    fn exact(&self, at: &DateTime<Utc>) -> String {
        time::exact(*at)
    }

    fn ago(&self, at: &DateTime<Utc>) -> String {
        time::ago(*at, self.now)
    }

    /// A message's time in the thread: the clock today, the day and clock before.
    fn clock(&self, at: &DateTime<Utc>) -> String {
        if at.date_naive() == self.now.date_naive() {
            at.format("%H:%M").to_string()
        } else {
            at.format("%-d %b %H:%M").to_string()
        }
    }

    fn status(&self, status: &MessageStatus) -> (&'static str, &'static str) {
        thread::status_label(*status)
    }

    /// "Ana is viewing", "Ana and Ben are viewing".
    fn viewing(&self) -> String {
        match self.viewers.as_slice() {
            [] => String::new(),
            [one] => format!("{one} is viewing"),
            [rest @ .., last] => format!("{} and {last} are viewing", rest.join(", ")),
        }
    }

    /// The file types the attachment form offers.
    fn accept(&self) -> String {
        super::attach::accept_attribute()
    }

    fn reactions(&self) -> [&'static str; 6] {
        REACTIONS
    }

    fn is_chosen(&self, id: &TemplateId) -> bool {
        self.picker.chosen.as_ref().is_some_and(|c| c.id == *id)
    }

    /// What the preview shows for `variable` while it is empty.
    fn fallback(&self, variable: &Variable) -> String {
        preview::fallback(variable)
    }

    /// "Body {{1}}", "Header image", "Button 0 URL suffix".
    fn variable_label(&self, variable: &Variable) -> String {
        let place = match variable.component {
            "header" => "Header",
            "body" => "Body",
            _ => "Button",
        };
        match variable.kind {
            "text" if variable.component == "button" => format!("{place} URL ending"),
            "text" => format!("{place} {{{{{}}}}}", variable.name),
            kind => format!("{place} {kind} link"),
        }
    }
}

impl InboxPage {
    fn row_link(&self, id: &ConversationId) -> String {
        format!("/inbox/conversations/{id}?{}", self.list.query)
    }

    fn assigned_to_me(&self) -> bool {
        self.conversation
            .as_ref()
            .is_some_and(|c| c.conversation.assignee_id == Some(self.agent.user_id))
    }

    /// The URL of a form of the open conversation (`assign`, `status`, …), in the current list.
    fn action(&self, what: &str) -> String {
        let id = self
            .conversation
            .as_ref()
            .map(|c| c.conversation.id.to_string())
            .unwrap_or_default();
        match what {
            // Retry URLs continue with "/{message}/retry": no query in the middle.
            "messages" | "labels" => format!("/inbox/conversations/{id}/{what}"),
            _ => format!("/inbox/conversations/{id}/{what}?{}", self.list.query),
        }
    }

    /// The live stream's URL, which says when the page was rendered.
    fn events_url(&self) -> String {
        format!("/inbox/events?since={}", self.since.timestamp_millis())
    }

    fn view_title(&self) -> String {
        match &self.list.search {
            Some(search) => format!("Search: {}", search.text),
            None => self.list.view.title().to_owned(),
        }
    }

    fn is_open(&self, id: &ConversationId) -> bool {
        self.conversation
            .as_ref()
            .is_some_and(|c| c.conversation.id == *id)
    }
}

pub async fn inbox(
    State(state): State<AppState>,
    agent: Agent,
    Query(params): Query<ListParams>,
) -> Result<Response> {
    let page = list_page(&state, agent, params).await?;
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize, Default)]
pub struct ConversationParams {
    #[serde(flatten)]
    pub list: ListParams,
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub template: Option<String>,
    /// The message to quote in the reply (without script, "Reply" is a link).
    #[serde(default)]
    pub reply_to: Option<String>,
}

pub async fn conversation(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<ConversationId>,
    Query(params): Query<ConversationParams>,
) -> Result<Response> {
    let before = params.before.as_deref().and_then(|b| b.parse().ok());
    let template = params.template.as_deref().and_then(|t| t.parse().ok());
    let mut draft = Draft::default();
    if let Some(message) = params.reply_to.as_deref().and_then(|r| r.parse().ok()) {
        let mut conn = state
            .db
            .acquire()
            .await
            .map_err(|e| AppError::from_database(e.into()))?;
        draft.reply_to = thread_query::quotable(&mut conn, agent.tenant_id, id, message)
            .await
            .map_err(AppError::from_database)?
            .map(|(_, summary)| (message, summary));
    }
    let opened = Opened {
        id,
        before,
        template,
        draft,
    };
    let page = conversation_page(&state, agent, params.list, opened).await?;
    Ok(render(&page)?.into_response())
}

/// The list page, nothing open.
pub async fn list_page(state: &AppState, agent: Agent, params: ListParams) -> Result<InboxPage> {
    // Before anything is read: the page's live stream compares it with the changes it hears.
    let since = Utc::now();
    let list = list(state, &agent, &params).await?;
    Ok(InboxPage {
        agent,
        list,
        conversation: None,
        since,
    })
}

/// The conversation open beside the list, and how.
pub struct Opened {
    pub id: ConversationId,
    /// The page of older messages before this one.
    pub before: Option<MessageId>,
    /// The template chosen in the picker.
    pub template: Option<TemplateId>,
    /// What the composer holds.
    pub draft: Draft,
}

/// The page with a conversation open beside the list. The two are read at the same time, each on
/// a connection of its own: they do not depend on each other, and the page costs the longer of
/// the two instead of both.
pub async fn conversation_page(
    state: &AppState,
    agent: Agent,
    params: ListParams,
    opened: Opened,
) -> Result<InboxPage> {
    // Before anything is read: the page's live stream compares it with the changes it hears.
    let since = Utc::now();
    let id = opened.id;
    let (conversation, mut list) = tokio::try_join!(
        conversation_panel(state, &agent, opened, since),
        list(state, &agent, &params)
    )?;
    list.opened(id);
    Ok(InboxPage {
        agent,
        list,
        conversation: Some(conversation),
        since,
    })
}

/// The list pane, on a connection of its own.
async fn list(state: &AppState, agent: &Agent, params: &ListParams) -> Result<ListPane> {
    let mut conn = state
        .db
        .acquire()
        .await
        .map_err(|e| AppError::from_database(e.into()))?;
    list_pane(&mut conn, agent, params)
        .await
        .map_err(AppError::from_database)
}

/// The open conversation of the agent's tenant (404 otherwise), marked read for the agent, as it
/// is at `now`.
async fn conversation_panel(
    state: &AppState,
    agent: &Agent,
    opened: Opened,
    now: DateTime<Utc>,
) -> Result<ConversationPanel> {
    let Opened {
        id,
        before,
        template,
        draft,
    } = opened;
    let mut conn = state
        .db
        .acquire()
        .await
        .map_err(|e| AppError::from_database(e.into()))?;
    let conversation = thread_query::conversation(&mut conn, agent.tenant_id, id)
        .await
        .map_err(AppError::from_database)?
        .ok_or(AppError::NotFound)?;
    let messages = thread_query::messages(&mut conn, agent.tenant_id, id, before)
        .await
        .map_err(AppError::from_database)?;
    let older = (messages.len() == usize::try_from(thread_query::PAGE).unwrap_or(usize::MAX))
        .then(|| messages.last().map(|m| m.id))
        .flatten();
    // The events of the span these messages cover: from the oldest shown (all of them when this
    // is the first page of a short thread) to the newest (or now, on the latest page).
    let since = older.and(messages.last().map(|m| m.at));
    let until = before.and(messages.first().map(|m| m.at));
    let events = thread_query::events(&mut conn, agent.tenant_id, id, since, until)
        .await
        .map_err(AppError::from_database)?;
    let labels = thread_query::labels(&mut conn, agent.tenant_id, id)
        .await
        .map_err(AppError::from_database)?;
    let others = thread_query::other_threads(&mut conn, agent.tenant_id, id)
        .await
        .map_err(AppError::from_database)?;
    let agents = teamwork::agents(&mut conn, agent.tenant_id)
        .await
        .map_err(AppError::from_database)?;
    let agents = choices(agents, conversation.assignee_id);
    let viewers = teamwork::viewers(&mut conn, agent.tenant_id, agent.user_id, id)
        .await
        .map_err(AppError::from_database)?;
    let canned = canned::list(&mut conn, agent.tenant_id)
        .await
        .map_err(AppError::from_database)?
        .into_iter()
        .map(|c| (c.shortcut, c.body))
        .collect();
    let wamids: Vec<String> = messages.iter().filter_map(|m| m.wamid.clone()).collect();
    let reactions = thread_query::reactions(&mut conn, agent.tenant_id, id, &wamids)
        .await
        .map_err(AppError::from_database)?;
    if before.is_none()
        && thread_query::mark_read(&mut conn, agent.tenant_id, id, agent.user_id)
            .await
            .map_err(AppError::from_database)?
    {
        events::announce(&mut conn, agent.tenant_id, id, None, &[Kind::Unread])
            .await
            .map_err(AppError::from_database)?;
        state.receipts.conversation_read(agent.tenant_id, id);
    }
    let name = display_name(
        conversation.contact_name.as_deref(),
        conversation.wa_id.as_deref(),
        conversation.user_id.as_deref(),
    );
    let window = if conversation.erased {
        WindowView::erased()
    } else {
        WindowView::new(
            Window::at(
                conversation.last_customer_message_at,
                conversation.window_closed_by_meta_at,
                now,
            ),
            &name,
            now,
        )
    };
    let picker = if window.open {
        Picker {
            options: Vec::new(),
            chosen: None,
            preview: None,
        }
    } else {
        picker(agent, &mut conn, &conversation, template, &draft.values).await?
    };
    Ok(ConversationPanel {
        entries: thread::timeline(messages, events, reactions),
        conversation,
        agents,
        labels,
        others,
        viewers,
        canned,
        name,
        window,
        older,
        picker,
        draft,
        now,
    })
}

async fn picker(
    agent: &Agent,
    conn: &mut sqlx::PgConnection,
    conversation: &thread::Conversation,
    template: Option<TemplateId>,
    values: &[String],
) -> Result<Picker> {
    let options = templates::approved_options(
        conn,
        agent.tenant_id,
        &conversation.waba_id,
        conversation.language.as_deref(),
        &conversation.default_language,
    )
    .await
    .map_err(AppError::from_database)?;
    let chosen = template.and_then(|id| options.iter().find(|o| o.id == id).cloned());
    let preview = match &chosen {
        Some(option) => templates::by_id(conn, agent.tenant_id, option.id)
            .await
            .map_err(AppError::from_database)?
            .map(|template| Preview::new(&template.components, &option.variables, values)),
        None => None,
    };
    Ok(Picker {
        options,
        chosen,
        preview,
    })
}
