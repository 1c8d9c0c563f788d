//! The list pane of the inbox page, ready to show: the views with their counts, the filters, and a
//! page of rows, or a search's results.

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgConnection;

use super::{
    ListParams, View,
    rows::{self, PAGE, Row, UNREAD_CAP},
    search::{self, MESSAGE_HITS, MessageHit},
    sidebar::{self, COUNT_CAP, Counts},
    views::{self, CLOSING_HOURS},
};
use crate::{
    domain::{conversations::ConversationStatus, ids::ConversationId},
    inbox::{auth::Agent, time},
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

/// A search's results.
pub struct SearchResults {
    /// What was typed.
    pub text: String,
    /// Why nothing was searched (too short), if so.
    pub too_short: bool,
    /// Conversations whose contact matched (first page only).
    pub contacts: Vec<RowView>,
    /// Messages that matched, each shown as its conversation's row with the message as snippet.
    pub messages: Vec<RowView>,
    /// The next page of messages.
    pub more: Option<String>,
}

/// The list pane.
pub struct ListPane {
    pub view: View,
    /// The current list's query string (view, filters and search, no page), for links that keep it.
    pub query: String,
    pub views: Vec<ViewLink>,
    pub statuses: Vec<Choice>,
    pub numbers: Vec<Choice>,
    pub labels: Vec<Choice>,
    pub rows: Vec<RowView>,
    pub next_page: Option<String>,
    pub search: Option<SearchResults>,
}

impl ListPane {
    /// Shows the conversation `id` as read: it is open beside the list, read at the same time as
    /// the list was, so the list may hold its unread count from before.
    pub fn opened(&mut self, id: ConversationId) {
        let search = self
            .search
            .iter_mut()
            .flat_map(|s| s.contacts.iter_mut().chain(s.messages.iter_mut()));
        for row in self.rows.iter_mut().chain(search) {
            if row.id == id {
                row.unread.clear();
            }
        }
    }
}

/// The list pane for `agent` and the list's query string.
pub async fn list_pane(
    conn: &mut PgConnection,
    agent: &Agent,
    params: &ListParams,
) -> anyhow::Result<ListPane> {
    let view = params.view;
    let filters = params.filters();
    let now = Utc::now();
    let (rows, next_page, search) = match params.search() {
        Some(text) => {
            let results = search_results(conn, agent, params, text, now).await?;
            (Vec::new(), None, Some(results))
        }
        None => {
            let ids = views::page(
                conn,
                agent.tenant_id,
                Some(agent.user_id),
                None,
                view,
                &filters,
                params.cursor(),
            )
            .await?;
            let rows = rows::rows(conn, agent.tenant_id, Some(agent.user_id), &ids).await?;
            let next_page = (rows.len() == usize::try_from(PAGE).unwrap_or(usize::MAX))
                .then(|| rows.last())
                .flatten()
                .map(|r| format!("/inbox?{}", params.link(view, Some(&r.cursor(view)))));
            let rows = rows.iter().map(|row| row_view(row, now)).collect();
            (rows, next_page, None)
        }
    };
    let counts = sidebar::counts(conn, agent.tenant_id, agent.user_id, filters.status).await?;
    let options = sidebar::filter_options(conn, agent.tenant_id).await?;
    Ok(ListPane {
        view,
        query: params.current(),
        views: view_links(params, &counts),
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
        search,
    })
}

async fn search_results(
    conn: &mut PgConnection,
    agent: &Agent,
    params: &ListParams,
    text: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<SearchResults> {
    let Some(needle) = search::Needle::parse(text) else {
        return Ok(SearchResults {
            text: text.to_owned(),
            too_short: true,
            contacts: Vec::new(),
            messages: Vec::new(),
            more: None,
        });
    };
    let older = params.older.as_deref().and_then(|o| o.parse().ok());
    let contacts = match older {
        Some(_) => Vec::new(),
        None => search::contacts(conn, agent.tenant_id, &needle).await?,
    };
    let hits = search::messages(conn, agent.tenant_id, &needle.text, older).await?;
    let mut ids = contacts.clone();
    ids.extend(hits.iter().map(|h| h.conversation_id));
    ids.sort_unstable();
    ids.dedup();
    let rows = rows::rows(conn, agent.tenant_id, Some(agent.user_id), &ids).await?;
    let find = |id: ConversationId| rows.iter().find(|r| r.id == id);
    let more = (hits.len() == usize::try_from(MESSAGE_HITS).unwrap_or(usize::MAX))
        .then(|| hits.last())
        .flatten()
        .map(|last| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query
                .append_pair("q", text)
                .append_pair("older", &last.id.to_string());
            format!("/inbox?{}", query.finish())
        });
    Ok(SearchResults {
        text: text.to_owned(),
        too_short: false,
        contacts: contacts
            .into_iter()
            .filter_map(find)
            .map(|row| row_view(row, now))
            .collect(),
        messages: hits
            .iter()
            .filter_map(|hit| find(hit.conversation_id).map(|row| hit_view(row, hit, text, now)))
            .collect(),
        more,
    })
}

/// A conversation's row.
fn row_view(row: &Row, now: DateTime<Utc>) -> RowView {
    // Only an erased customer has neither a number nor a username: no window to show.
    let erased = row.wa_id.is_none() && row.user_id.is_none();
    let (window_class, window) = match row.window(now) {
        _ if erased => ("closed", "erased".into()),
        Window::Open { closes_at } => (
            if closes_at - now < TimeDelta::hours(CLOSING_HOURS.into()) {
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
        id: row.id,
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
        window,
    }
}

/// A found message, shown as its conversation's row with the message (around the match) and its
/// time instead of the last message.
fn hit_view(row: &Row, hit: &MessageHit, text: &str, now: DateTime<Utc>) -> RowView {
    RowView {
        snippet: search::excerpt(&hit.body, text),
        snippet_outbound: hit.outbound,
        ago: time::ago(hit.at, now),
        exact: time::exact(hit.at),
        ..row_view(row, now)
    }
}

/// The name an agent knows a customer by: their profile name, else their number or username.
pub fn display_name(profile: Option<&str>, wa_id: Option<&str>, user_id: Option<&str>) -> String {
    profile
        .filter(|n| !n.trim().is_empty())
        .map(str::to_owned)
        .or_else(|| wa_id.map(|w| format!("+{w}")))
        .or_else(|| user_id.map(str::to_owned))
        // Only an erased customer has neither a number nor a username.
        .unwrap_or_else(|| "Erased customer".into())
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
                current: view == params.view && params.search().is_none(),
            }
        })
        .collect()
}

/// The options of a filter, `selected` selected.
pub fn choices<T: PartialEq + std::fmt::Display>(
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
