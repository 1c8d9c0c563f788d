//! A WhatsApp Business Account's message templates, through a number of the caller's in it:
//! `GET /{version}/{waba_id}/message_templates` (Meta's answer passed on, with Meta's filters —
//! `fields`, `status`, `name`, `limit`… — and paging whose `next` and `previous` links lead back
//! here), `POST` (a new template, checked as the admin console checks it before Meta reviews it,
//! and stored at once so the inbox offers it when approved) and `DELETE` (by `name`, every
//! language, or one with its `hsm_id`).
//! <https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates>

use anyhow::Context;
use axum::{
    Extension,
    body::Bytes,
    extract::{RawQuery, State},
    http::Method,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{auth, numbers_of, objects::passed_on};
use crate::{
    domain::{
        api_keys::Caller,
        messages::SentBy,
        numbers::NumberCredentials,
        templates::{
            self, Named,
            submit::{self, Submitted},
        },
    },
    http::{AppState, extract::Path},
    whatsapp::{envelope::MetaError, template_draft::Draft},
};

/// `GET /{version}/{waba_id}/message_templates`.
pub(super) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((_, waba_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, MetaError> {
    let number = in_waba(&state, &caller, &Method::GET, &waba_id).await?;
    let urls = state.config.graph_urls();
    let mut answer = state
        .graph
        .relay(
            &auth(&urls, &number),
            Method::GET,
            &[&waba_id, "message_templates"],
            &passed_on(query, LIST_PARAMETERS),
        )
        .await
        .map_err(|failure| MetaError::from_failure(&failure))?;
    for link in ["next", "previous"] {
        if let Some(Value::String(url)) = answer.pointer_mut(&format!("/paging/{link}")) {
            *url = here(&state.config.public_url, url);
        }
    }
    Ok(axum::Json(answer).into_response())
}

/// The parameters of Meta's template list that are passed on: its filters and paging.
const LIST_PARAMETERS: &[&str] = &[
    "fields",
    "limit",
    "after",
    "before",
    "name",
    "status",
    "category",
    "language",
    "content",
    "name_or_content",
    "quality_score",
    "summary",
];

/// `POST /{version}/{waba_id}/message_templates`: Meta's answer (`id`, `status`, `category`),
/// or the first problem the console's checks find, as Meta's invalid-parameter error.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((_, waba_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, MetaError> {
    in_waba(&state, &caller, &Method::POST, &waba_id).await?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| MetaError::invalid_parameter(format!("Invalid JSON in request body: {e}")))?;
    let draft = Draft::from_creation_body(&body)
        .map_err(MetaError::required)?
        .ok_or_else(|| {
            MetaError::invalid_parameter(
                "Switchboard checks a template as its admin console does, and this one has parts \
                 it cannot check (a location header, a carousel, or buttons other than quick \
                 reply, URL, phone number and copy code): create it in WhatsApp Manager.",
            )
        })?;
    let submitted = submit::submit(
        &state.db,
        &state.cipher,
        &state.graph,
        &state.config.graph_urls(),
        caller.tenant_id,
        SentBy::ApiKey(caller.key_id),
        &waba_id,
        &draft,
    )
    .await?
    .ok_or_else(|| MetaError::unsupported(&Method::POST, &waba_id))?;
    match submitted {
        Submitted::Created(created) => Ok(axum::Json(json!({
            "id": created.meta.id,
            "status": created.meta.status,
            "category": created.meta.category,
        }))
        .into_response()),
        Submitted::Refused(problems) => {
            let words: Vec<String> = problems
                .iter()
                .map(|problem| format!("{}: {}", problem.field, problem.message))
                .collect();
            Err(MetaError::invalid_parameter(words.join(" ")))
        }
        Submitted::MetaRefused(failure) => Err(MetaError::from_failure(&failure)),
    }
}

/// `DELETE /{version}/{waba_id}/message_templates?name=…[&hsm_id=…]`: `{"success": true}`, or
/// Meta's refusal (a template it does not have, say).
pub(super) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((_, waba_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, MetaError> {
    in_waba(&state, &caller, &Method::DELETE, &waba_id).await?;
    let query = passed_on(query, &["name", "hsm_id"]);
    let value = |key: &str| {
        query
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    };
    let named = Named {
        waba_id: &waba_id,
        name: value("name").ok_or_else(|| MetaError::required("name"))?,
        meta_template_id: value("hsm_id"),
    };
    templates::delete_named(
        &state.db,
        &state.cipher,
        &state.graph,
        &state.config.graph_urls(),
        caller.tenant_id,
        SentBy::ApiKey(caller.key_id),
        &named,
    )
    .await?
    .ok_or_else(|| MetaError::unsupported(&Method::DELETE, &waba_id))?
    .map_err(|failure| MetaError::from_failure(&failure))?;
    Ok(axum::Json(json!({ "success": true })).into_response())
}

/// A number of the caller's in the WABA `waba_id`, with its credentials; Meta's "no such object"
/// for a WABA the caller has no number in.
async fn in_waba(
    state: &AppState,
    caller: &Caller,
    method: &Method,
    waba_id: &str,
) -> Result<NumberCredentials, MetaError> {
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    numbers_of(state, &mut conn, caller)
        .await?
        .into_iter()
        .find(|number| number.waba_id == waba_id)
        .ok_or_else(|| MetaError::unsupported(method, waba_id))
}

/// Meta's paging link `url` as a link to the same page here (`{public_url}/graph/{version}/…`),
/// without any token it may carry.
fn here(public_url: &str, url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    // Meta's links start with the version; the sandbox's with its own prefix before it.
    let path = parsed.path();
    let from_version = path
        .split('/')
        .position(crate::whatsapp::graph_request::is_version)
        .map_or(path.to_owned(), |at| {
            format!(
                "/{}",
                path.split('/').skip(at).collect::<Vec<_>>().join("/")
            )
        });
    let query: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(name, _)| name != "access_token")
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let mut link = format!("{public_url}/graph{from_version}");
    if !query.is_empty() {
        link.push('?');
        link.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(query)
                .finish(),
        );
    }
    link
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_links_lead_back_here_without_a_token() {
        assert_eq!(
            here(
                "https://inbox.example.com",
                "https://graph.facebook.com/v23.0/102290129340398/message_templates?limit=2&after=QVFI&access_token=EAAB"
            ),
            "https://inbox.example.com/graph/v23.0/102290129340398/message_templates?limit=2&after=QVFI"
        );
        assert_eq!(
            here(
                "http://127.0.0.1:8080",
                "http://127.0.0.1:8080/sandbox/graph/v23.0/1/message_templates?after=MQ"
            ),
            "http://127.0.0.1:8080/graph/v23.0/1/message_templates?after=MQ"
        );
    }
}
