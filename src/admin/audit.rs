//! `/admin/audit`: the tenant's audit trail, newest first, a page at a time (by id, never OFFSET),
//! narrowed to one kind of action and to one member. Entries name who acted and what changed;
//! they never hold a secret.

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::{
    domain::{
        accounts::{self, Member},
        audit::{self, Entry},
        ids::UserId,
    },
    error::Result,
    http::{AppState, extract::Query},
    inbox::{auth::Agent, page::render},
};

/// Entries per page.
const PAGE: i64 = 50;

/// The kinds of action the page can be narrowed to: (action prefix, label).
const KINDS: [(&str, &str); 10] = [
    ("user.", "Members"),
    ("app.", "Meta apps"),
    ("number.", "Numbers"),
    ("webhook.", "Webhook replays and dismissals"),
    ("canned.", "Canned responses"),
    ("label.", "Labels"),
    ("tenant.", "Settings"),
    ("conversation.", "Conversations"),
    ("message.", "Messages"),
    ("setup", "First run"),
];

/// `templates/admin/audit.html`.
#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    agent: Agent,
    entries: Vec<Entry>,
    kind: String,
    kinds: [(&'static str, &'static str); 10],
    members: Vec<Member>,
    member: Option<UserId>,
    /// The next page's query, when there may be one.
    older: Option<String>,
}

impl AuditPage {
    /// Whether the page is narrowed to `member`.
    fn chosen(&self, member: &Member) -> bool {
        self.member == Some(member.id)
    }

    /// "key: value" pairs of an entry's details, in order.
    fn details(entry: &Entry) -> Vec<(String, String)> {
        match &entry.details {
            serde_json::Value::Object(map) => map
                .iter()
                .map(|(key, value)| {
                    let value = match value {
                        serde_json::Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    (key.clone(), value)
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    kind: String,
    /// A member's id, or empty for everyone.
    #[serde(default)]
    member: String,
    before: Option<i64>,
}

/// `GET /admin/audit?kind=…&before=…`.
pub async fn show(
    State(state): State<AppState>,
    agent: Agent,
    Query(query): Query<AuditQuery>,
) -> Result<Response> {
    let kind = KINDS
        .iter()
        .find(|(prefix, _)| *prefix == query.kind)
        .map(|(prefix, _)| *prefix);
    let mut conn = state.db.acquire().await?;
    let members = accounts::members(&mut conn, agent.tenant_id).await?;
    // Only the tenant's members can be chosen; anything else shows everyone.
    let member = query
        .member
        .parse::<i64>()
        .ok()
        .map(UserId::new)
        .filter(|id| members.iter().any(|m| m.id == *id));
    let filter = audit::Filter {
        action: kind,
        member,
        before: query.before,
    };
    let entries = audit::entries(&mut conn, agent.tenant_id, filter, PAGE).await?;
    let older = (entries.len() as i64 == PAGE)
        .then(|| entries.last().map(|last| last.id))
        .flatten()
        .map(|before| {
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("kind", kind.unwrap_or_default())
                .append_pair("member", &member.map(|m| m.to_string()).unwrap_or_default())
                .append_pair("before", &before.to_string())
                .finish()
        });
    let page = AuditPage {
        agent,
        entries,
        kind: kind.unwrap_or_default().to_owned(),
        kinds: KINDS,
        members,
        member,
        older,
    };
    Ok(render(&page)?.into_response())
}
