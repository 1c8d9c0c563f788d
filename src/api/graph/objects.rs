//! Reading Graph objects the caller's numbers can reach, answered by Meta (or the sandbox's fake)
//! and passed on: `GET /{version}/{phone_number_id}` (the number's fields),
//! `GET /{version}/{media_id}` (see [`super::media`]), and
//! `GET /{version}/{waba_id}/message_templates` with Meta's filters (`fields`, `status`, `name`,
//! `limit`) and paging, whose `next` and `previous` links lead back here.

use anyhow::Context;
use axum::{
    Extension,
    extract::{RawQuery, State},
    http::Method,
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::{auth, media, number, numbers_of};
use crate::{
    domain::{api_keys::Caller, numbers},
    http::{AppState, extract::Path},
    whatsapp::envelope::MetaError,
};

/// `GET /{version}/{id}`: one of the tenant's numbers (if the key may use it), else a media object.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, MetaError> {
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    if numbers::id_for_tenant(&mut conn, caller.tenant_id, &id)
        .await?
        .is_none()
    {
        drop(conn);
        return media::show(&state, &caller, &id).await;
    }
    let number = number(&state, &mut conn, &caller, &Method::GET, &id).await?;
    drop(conn);
    let urls = state.config.graph_urls();
    let query = passed_on(query, &["fields"]);
    let answer = state
        .graph
        .relay(&auth(&urls, &number), Method::GET, &[&id], &query)
        .await
        .map_err(|failure| MetaError::from_failure(&failure))?;
    Ok(axum::Json(answer).into_response())
}

/// `GET /{version}/{waba_id}/message_templates`, through a number of the caller's in that WABA.
pub(super) async fn templates(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((_, waba_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, MetaError> {
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    let number = numbers_of(&state, &mut conn, &caller)
        .await?
        .into_iter()
        .find(|number| number.waba_id == waba_id)
        .ok_or_else(|| MetaError::unsupported(&Method::GET, &waba_id))?;
    drop(conn);
    let urls = state.config.graph_urls();
    let mut answer = state
        .graph
        .relay(
            &auth(&urls, &number),
            Method::GET,
            &[&waba_id, "message_templates"],
            &passed_on(query, TEMPLATE_PARAMETERS),
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
const TEMPLATE_PARAMETERS: &[&str] = &[
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

/// The query's parameters that a read takes (`allowed`): never a token (the number's own goes
/// in the header), nor anything that would make Meta do more than read (`method=delete`).
fn passed_on(query: Option<String>, allowed: &[&str]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(name, _)| allowed.contains(&name.as_ref()))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
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

    #[test]
    fn only_a_reads_parameters_are_passed_on() {
        assert_eq!(
            passed_on(
                Some("fields=name%2Cstatus&access_token=x&method=delete&limit=5".into()),
                TEMPLATE_PARAMETERS
            ),
            vec![
                ("fields".to_owned(), "name,status".to_owned()),
                ("limit".to_owned(), "5".to_owned())
            ]
        );
        assert!(passed_on(Some("webhook_configuration=x".into()), &["fields"]).is_empty());
    }
}
