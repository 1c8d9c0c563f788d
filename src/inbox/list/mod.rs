//! The conversation list: its views (Mine, Unassigned, All, Closing soon), filters and pages, read
//! from the query string so that every list is a link an agent can share or reload.

mod common_words;
pub mod page;
pub mod rows;
mod search;
pub mod sidebar;
pub mod views;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::{
    conversations::ConversationStatus,
    ids::{ConversationId, LabelId, NumberId},
};

/// Which conversations the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// Assigned to the agent looking.
    Mine,
    /// Assigned to nobody.
    Unassigned,
    /// Everything of the status.
    #[default]
    All,
    /// Open, the customer wrote last, and the window closes within a few hours: the replies that
    /// are still free to send, most urgent first.
    Closing,
}

impl View {
    pub const ALL: [View; 4] = [View::Closing, View::Mine, View::Unassigned, View::All];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mine => "mine",
            Self::Unassigned => "unassigned",
            Self::All => "all",
            Self::Closing => "closing",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Mine => "Mine",
            Self::Unassigned => "Unassigned",
            Self::All => "All",
            Self::Closing => "Closing soon",
        }
    }
}

/// The list's query string: `?view=mine&status=open&number=3&label=7&after=…`, or a search:
/// `?q=refund&older=…`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListParams {
    #[serde(default)]
    pub view: View,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
    /// What to search for; a search shows its results instead of the view.
    #[serde(default)]
    pub q: Option<String>,
    /// A search's next page: messages older than this one.
    #[serde(default)]
    pub older: Option<String>,
}

/// The filters of a list, read leniently: a value that doesn't parse is ignored, not an error
/// page (a stale bookmark still opens the inbox).
#[derive(Debug, Clone, Copy)]
pub struct Filters {
    pub status: ConversationStatus,
    pub number: Option<NumberId>,
    pub label: Option<LabelId>,
}

impl ListParams {
    pub fn filters(&self) -> Filters {
        let status = match self.status.as_deref() {
            Some("pending") => ConversationStatus::Pending,
            Some("resolved") => ConversationStatus::Resolved,
            _ => ConversationStatus::Open,
        };
        Filters {
            // Closing soon is about open conversations only.
            status: if self.view == View::Closing {
                ConversationStatus::Open
            } else {
                status
            },
            number: self.number.as_deref().and_then(|n| n.parse().ok()),
            label: self.label.as_deref().and_then(|l| l.parse().ok()),
        }
    }

    pub fn cursor(&self) -> Option<Cursor> {
        self.after.as_deref().and_then(Cursor::parse)
    }

    /// The search typed, when there is one.
    pub fn search(&self) -> Option<&str> {
        self.q.as_deref().map(str::trim).filter(|q| !q.is_empty())
    }

    /// The query string of this list with another view, status or page (empty values left out),
    /// without the search.
    pub fn link(&self, view: View, after: Option<&Cursor>) -> String {
        let filters = self.filters();
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("view", view.as_str());
        if filters.status != ConversationStatus::Open {
            query.append_pair("status", filters.status.as_str());
        }
        if let Some(number) = filters.number {
            query.append_pair("number", &number.to_string());
        }
        if let Some(label) = filters.label {
            query.append_pair("label", &label.to_string());
        }
        if let Some(after) = after {
            query.append_pair("after", &after.to_string());
        }
        query.finish()
    }

    /// The query string of the list shown, its search included (no page): a conversation opened
    /// from search results keeps them beside it.
    pub fn current(&self) -> String {
        let link = self.link(self.view, None);
        match self.search() {
            Some(q) => {
                let mut query = url::form_urlencoded::Serializer::new(link);
                query.append_pair("q", q);
                query.finish()
            }
            None => link,
        }
    }
}

/// Where a page ends: the sort key of its last row (a time and the id that breaks ties).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: ConversationId,
}

impl Cursor {
    /// `"{microseconds}.{id}"`.
    pub fn parse(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once('.')?;
        Some(Self {
            at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: id.parse().ok()?,
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.at.timestamp_micros(), self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_ignored() {
        let cursor = Cursor {
            at: DateTime::from_timestamp_micros(1_764_410_000_123_456).unwrap(),
            id: ConversationId::new(42),
        };
        assert_eq!(Cursor::parse(&cursor.to_string()), Some(cursor));
        for garbage in ["", "x", "1.", ".2", "1.x", "99999999999999999999.1"] {
            assert_eq!(Cursor::parse(garbage), None, "{garbage:?}");
        }
    }

    #[test]
    fn closing_soon_is_always_about_open_conversations() {
        let params = ListParams {
            view: View::Closing,
            status: Some("resolved".into()),
            ..ListParams::default()
        };
        assert_eq!(params.filters().status, ConversationStatus::Open);
    }
}
