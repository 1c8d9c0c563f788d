//! Reading Graph objects the caller's numbers can reach, answered by Meta (or the sandbox's fake)
//! and passed on: `GET /{version}/{phone_number_id}` (the number's fields) and
//! `GET /{version}/{media_id}` (see [`super::media`]).

use super::{auth, media, number};
use crate::{
    domain::{api_keys::Caller, numbers},
    http::{AppState, extract::Path},
    whatsapp::envelope::MetaError,
};
use anyhow::Context;
use axum::{
    Extension,
    extract::{RawQuery, State},
    http::Method,
    response::{IntoResponse, Response},
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

/// The query's parameters that a read takes (`allowed`): never a token (the number's own goes
/// in the header), nor anything that would make Meta do more than read (`method=delete`).
pub(super) fn passed_on(query: Option<String>, allowed: &[&str]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(name, _)| allowed.contains(&name.as_ref()))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_reads_parameters_are_passed_on() {
        assert_eq!(
            passed_on(
                Some("fields=name%2Cstatus&access_token=x&method=delete&limit=5".into()),
                &["fields", "limit"]
            ),
            vec![
                ("fields".to_owned(), "name,status".to_owned()),
                ("limit".to_owned(), "5".to_owned())
            ]
        );
        assert!(passed_on(Some("webhook_configuration=x".into()), &["fields"]).is_empty());
    }
}
