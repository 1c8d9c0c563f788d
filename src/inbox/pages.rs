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
        ListParams, View,
        query::{self as list_query, COUNT_CAP, Counts, UNREAD_CAP},
    },
    page::render,
    render::Body,
    thread::{self, Entry, Picker, WindowView, query as thread_query},
    time,
};
use crate::{
    domain::{
        canned,
        conversations::ConversationStatus,
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

/// A list row, ready to show.
pub struct RowView {
    pub id: ConversationId,
    pub name: String,
    pub snippet: String,
    pub snippet_outbound: bool,
    pub ago: String,
    pub exact: String,
    pub unread: String,
    pub assignee: Option<String>,
    pub labels: Vec<String>,
    pub window_class: &'static str,
    pub window: String,
}

/// `templates/inbox/page.html`.
#[derive(Template)]
#[template(path = "inbox/page.html")]
pub struct InboxPage {
    pub agent: Agent,
    pub view: View,
    /// The current list's query string (view and filters, no page), for links that keep it.
    pub list_query: String,
    pub views: Vec<ViewLink>,
    pub statuses: Vec<Choice>,
    pub numbers: Vec<Choice>,
    pub labels: Vec<Choice>,
    pub rows: Vec<RowView>,
    pub next_page: Option<String>,
    pub conversation: Option<ConversationPanel>,
}

/// A view in the sidebar.
pub struct ViewLink {
    pub key: &'static str,
    pub title: &'static str,
    pub href: String,
    pub count: String,
    pub current: bool,
}

/// An option of a filter.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The open conversation.
pub struct ConversationPanel {
    pub conversation: thread::Conversation,
    /// The tenant's agents, for the assignee picker (the assignee selected).
    pub agents: Vec<Choice>,
    pub labels: Vec<(LabelId, String)>,
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
        format!("/inbox/conversations/{id}?{}", self.list_query)
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
            _ => format!("/inbox/conversations/{id}/{what}?{}", self.list_query),
        }
    }

    fn view_title(&self) -> &'static str {
        self.view.title()
    }

    fn is_open(&self, id: &ConversationId) -> bool {
        self.conversation
            .as_ref()
            .is_some_and(|c| c.conversation.id == *id)
    }
}

/// The name an agent knows a customer by: their profile name, else their number or username.
pub fn display_name(profile: Option<&str>, wa_id: Option<&str>, user_id: Option<&str>) -> String {
    profile
        .filter(|n| !n.trim().is_empty())
        .map(str::to_owned)
        .or_else(|| wa_id.map(|w| format!("+{w}")))
        .or_else(|| user_id.map(str::to_owned))
        .unwrap_or_else(|| "Unknown customer".into())
}

pub async fn inbox(
    State(state): State<AppState>,
    agent: Agent,
    Query(params): Query<ListParams>,
) -> Result<Response> {
    let page = list_page(&state, agent, params, None).await?;
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
    let panel = conversation_panel(&state, &agent, id, before, template, draft).await?;
    let page = list_page(&state, agent, params.list, Some(panel)).await?;
    Ok(render(&page)?.into_response())
}

/// The page around a list, with `conversation` open beside it.
pub async fn list_page(
    state: &AppState,
    agent: Agent,
    params: ListParams,
    conversation: Option<ConversationPanel>,
) -> Result<InboxPage> {
    let view = params.view;
    let filters = params.filters();
    let mut conn = state
        .db
        .acquire()
        .await
        .map_err(|e| AppError::from_database(e.into()))?;
    let rows = list_query::page(
        &mut conn,
        agent.tenant_id,
        agent.user_id,
        view,
        &filters,
        params.cursor(),
    )
    .await
    .map_err(AppError::from_database)?;
    let counts = list_query::counts(&mut conn, agent.tenant_id, agent.user_id, filters.status)
        .await
        .map_err(AppError::from_database)?;
    let options = list_query::filter_options(&mut conn, agent.tenant_id)
        .await
        .map_err(AppError::from_database)?;
    let now = Utc::now();
    let next_page = (rows.len() == usize::try_from(list_query::PAGE).unwrap_or(usize::MAX))
        .then(|| {
            rows.last()
                .map(|r| format!("/inbox?{}", params.link(view, Some(&r.cursor(view)))))
        })
        .flatten();
    let rows = rows
        .into_iter()
        .map(|row| {
            let window = list_query::window_of(&row, now);
            let (window_class, window_text) = match window {
                Window::Open { closes_at } => (
                    if closes_at - now < chrono::TimeDelta::hours(list_query::CLOSING_HOURS) {
                        "closing"
                    } else {
                        "open"
                    },
                    format!("⏳ {}", time::span_short(closes_at - now)),
                ),
                Window::Closed { .. } => ("closed", "closed".into()),
                Window::NeverOpened => ("never", "never opened".into()),
            };
            RowView {
                name: display_name(
                    row.contact_name.as_deref(),
                    row.wa_id.as_deref(),
                    row.user_id.as_deref(),
                ),
                snippet: row.snippet.clone().unwrap_or_default(),
                snippet_outbound: row.snippet_outbound,
                ago: time::ago(row.last_message_at, now),
                exact: time::exact(row.last_message_at),
                unread: match row.unread {
                    0 => String::new(),
                    n if n >= UNREAD_CAP => format!("{}+", UNREAD_CAP - 1),
                    n => n.to_string(),
                },
                assignee: row.assignee_name.clone(),
                labels: row.labels.clone(),
                window_class,
                window: window_text,
                id: row.id,
            }
        })
        .collect();
    Ok(InboxPage {
        agent,
        view,
        list_query: params.link(view, None),
        views: view_links(&params, &counts),
        statuses: [
            ConversationStatus::Open,
            ConversationStatus::Pending,
            ConversationStatus::Resolved,
        ]
        .into_iter()
        .map(|status| Choice {
            value: status.as_str().into(),
            label: status.title().into(),
            selected: filters.status == status,
        })
        .collect(),
        numbers: choices(options.numbers, filters.number),
        labels: choices(options.labels, filters.label),
        rows,
        next_page,
        conversation,
    })
}

fn view_links(params: &ListParams, counts: &Counts) -> Vec<ViewLink> {
    View::ALL
        .into_iter()
        .map(|view| {
            let n = match view {
                View::Mine => counts.mine,
                View::Unassigned => counts.unassigned,
                View::All => counts.all,
                View::Closing => counts.closing,
            };
            ViewLink {
                key: view.as_str(),
                title: view.title(),
                href: format!("/inbox?{}", params.link(view, None)),
                count: if n >= COUNT_CAP {
                    format!("{}+", COUNT_CAP - 1)
                } else {
                    n.to_string()
                },
                current: view == params.view,
            }
        })
        .collect()
}

fn choices<T: PartialEq + std::fmt::Display>(
    options: Vec<(T, String)>,
    selected: Option<T>,
) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice {
            selected: selected.as_ref() == Some(&value),
            value: value.to_string(),
            label,
        })
        .collect()
}

/// The open conversation `id` of the agent's tenant (404 otherwise), marked read for the agent.
pub async fn conversation_panel(
    state: &AppState,
    agent: &Agent,
    id: ConversationId,
    before: Option<MessageId>,
    template: Option<TemplateId>,
    draft: Draft,
) -> Result<ConversationPanel> {
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
    let agents = teamwork::agents(&mut conn, agent.tenant_id)
        .await
        .map_err(AppError::from_database)?;
    let agents = choices(agents, conversation.assignee_id);
    let actor = teamwork::Actor {
        tenant_id: agent.tenant_id,
        user_id: agent.user_id,
    };
    let viewers = teamwork::viewers(&mut conn, actor, id)
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
    }
    let now = Utc::now();
    let name = display_name(
        conversation.contact_name.as_deref(),
        conversation.wa_id.as_deref(),
        conversation.user_id.as_deref(),
    );
    let window = WindowView::new(
        Window::at(
            conversation.last_customer_message_at,
            conversation.window_closed_by_meta_at,
            now,
        ),
        &name,
        now,
    );
    let picker = if window.open {
        Picker {
            options: Vec::new(),
            chosen: None,
        }
    } else {
        picker(agent, &mut conn, &conversation, template).await?
    };
    Ok(ConversationPanel {
        entries: thread::timeline(messages, events, reactions),
        conversation,
        agents,
        labels,
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
    Ok(Picker { options, chosen })
}
