//! The conversation view: the thread (messages with notes and events between them, oldest at the
//! top), the window as the composer needs it, and the side panel's facts.

pub mod query;

use chrono::{DateTime, Utc};

use crate::{
    domain::{messages::MessageStatus, templates::TemplateOption},
    inbox::time,
    window::{Closure, Window},
};

pub use query::{Conversation, Message, TimelineEvent};

/// One entry of the timeline.
pub enum Entry {
    Message(Message),
    Event(TimelineEvent),
}

/// Messages (newest first, as read) and events (oldest first) merged into one timeline, oldest
/// first; an event goes after the messages stored before it.
pub fn timeline(mut messages: Vec<Message>, events: Vec<TimelineEvent>) -> Vec<Entry> {
    messages.reverse();
    let mut entries = Vec::with_capacity(messages.len() + events.len());
    let mut events = events.into_iter().peekable();
    for message in messages {
        while let Some(event) = events.next_if(|e| e.at < message.at) {
            entries.push(Entry::Event(event));
        }
        entries.push(Entry::Message(message));
    }
    entries.extend(events.map(Entry::Event));
    entries
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
}

/// The template picker's state: the approved templates to offer, and the one being filled in.
pub struct Picker {
    pub options: Vec<TemplateOption>,
    pub chosen: Option<TemplateOption>,
}
