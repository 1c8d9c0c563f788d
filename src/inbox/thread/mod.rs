//! The conversation view: the thread (messages with notes and events between them, oldest at the
//! top), the window as the composer needs it, and the side panel's facts.

pub mod preview;
pub mod query;

use chrono::{DateTime, Utc};

use crate::{
    domain::{
        messages::{Direction, MessageStatus},
        templates::TemplateOption,
    },
    inbox::{
        render::{self, MessageView, Reactions, ReplyTo, StoredMessage},
        time,
    },
    whatsapp::template_check::TemplateDefinition,
    window::{Closure, Window},
};

pub use query::{Conversation, CustomerReaction, Message, TimelineEvent};

/// One entry of the timeline.
pub enum Entry {
    Message(Box<ThreadMessage>),
    Event(TimelineEvent),
}

/// A message of the thread: its row (state, sender, failure) and what it says or shows.
pub struct ThreadMessage {
    pub row: Message,
    pub view: MessageView,
}

/// Messages (newest first, as read) and events (oldest first) merged into one timeline, oldest
/// first; an event goes after the messages stored before it. Our reactions are not messages of
/// their own: they join the customer's on the message they react to.
pub fn timeline(
    mut messages: Vec<Message>,
    events: Vec<TimelineEvent>,
    customer_reactions: Vec<CustomerReaction>,
) -> Vec<Entry> {
    messages.reverse();
    let mut reactions = Reactions::default();
    for reaction in &customer_reactions {
        reactions.add(
            &reaction.target_wamid,
            Direction::Inbound,
            reaction.emoji.as_deref(),
        );
    }
    messages.retain(|m| match render::reaction_in(&m.kind, &m.content) {
        Some((target, emoji)) => {
            reactions.add(target, m.direction, emoji);
            false
        }
        None => true,
    });
    let mut entries = Vec::with_capacity(messages.len() + events.len());
    let mut events = events.into_iter().peekable();
    for row in messages {
        while let Some(event) = events.next_if(|e| e.at < row.at) {
            entries.push(Entry::Event(event));
        }
        let mut view = view_of(&row);
        if let Some(wamid) = &row.wamid {
            view.reactions = reactions.on(wamid);
        }
        entries.push(Entry::Message(Box::new(ThreadMessage { row, view })));
    }
    entries.extend(events.map(Entry::Event));
    entries
}

fn view_of(row: &Message) -> MessageView {
    let template = row
        .template_components
        .as_ref()
        .map(|components| TemplateDefinition {
            components,
            parameter_format: row.template_format.as_deref(),
        });
    let reply_to = row.context_wamid.as_ref().map(|_| {
        match (row.quoted_direction, row.quoted_body.as_deref()) {
            (Some(direction), Some(body)) => ReplyTo::Found { direction, body },
            _ => ReplyTo::Missing,
        }
    });
    MessageView::new(&StoredMessage {
        id: row.id,
        direction: row.direction,
        kind: &row.kind,
        content: &row.content,
        edited: row.edited,
        deleted: row.deleted,
        template,
        reply_to,
    })
}

/// How a message's state reads next to it.
pub fn status_label(status: MessageStatus) -> (&'static str, &'static str) {
    match status {
        MessageStatus::Queued | MessageStatus::Sending => ("queued", "Queued"),
        MessageStatus::Sent => ("sent", "Sent"),
        MessageStatus::Delivered => ("delivered", "Delivered"),
        MessageStatus::Read | MessageStatus::Played => ("read", "Read"),
        MessageStatus::Failed => ("failed", "Failed"),
        MessageStatus::Unknown => ("unknown", "Not confirmed"),
        MessageStatus::Received => ("received", ""),
    }
}

/// The window, as the composer and the side panel say it.
pub struct WindowView {
    pub open: bool,
    /// When it closes (open) or closed (closed), for the page's countdown; `None` if never opened.
    pub closes_at: Option<DateTime<Utc>>,
    /// One sentence for the agent.
    pub sentence: String,
    /// Short, for the list and the panel ("closes in 5 h", "closed").
    pub short: String,
}

impl WindowView {
    pub fn new(window: Window, customer: &str, now: DateTime<Utc>) -> Self {
        match window {
            Window::Open { closes_at } => Self {
                open: true,
                closes_at: Some(closes_at),
                sentence: format!("Window closes in {}.", time::span(closes_at - now)),
                short: format!("closes in {}", time::span_short(closes_at - now)),
            },
            Window::Closed { since, reason } => {
                let why = match reason {
                    Closure::Expired => format!(
                        "The 24-hour window closed {}: {customer} has not written since.",
                        time::when(since, now)
                    ),
                    Closure::RefusedByMeta => format!(
                        "WhatsApp reported the window closed {}.",
                        time::when(since, now)
                    ),
                };
                Self {
                    open: false,
                    closes_at: Some(since),
                    sentence: format!(
                        "{why} WhatsApp only delivers approved templates until {customer} writes again."
                    ),
                    short: "closed".into(),
                }
            }
            Window::NeverOpened => Self {
                open: false,
                closes_at: None,
                sentence: format!(
                    "{customer} has never written to this number, so WhatsApp only delivers \
                     approved templates until they do."
                ),
                short: "never opened".into(),
            },
        }
    }

    /// An erased customer's: nothing can be sent, so no window to count down.
    pub fn erased() -> Self {
        Self {
            open: false,
            closes_at: None,
            sentence: "This customer was erased at their request.".into(),
            short: "none: the customer was erased".into(),
        }
    }
}

/// The template picker's state: the approved templates to offer, and the one being filled in.
pub struct Picker {
    pub options: Vec<TemplateOption>,
    pub chosen: Option<TemplateOption>,
    /// What the chosen template will read like.
    pub preview: Option<preview::Preview>,
}
