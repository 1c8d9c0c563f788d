//! The approved templates a send may use, with the values each needs: a number's (its WABA's), or
//! those of every number the key may use.

use anyhow::Context;
use axum::{Extension, extract::State};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    ApiError, number,
    schema::{ErrorBody, TemplateList, TemplateOut},
};
use crate::{
    domain::{api_keys::Caller, numbers, templates, tenants},
    http::{
        AppState,
        extract::{Json, Query},
    },
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateQuery {
    /// Meta's id of one of the tenant's numbers: only its WABA's templates.
    #[serde(default)]
    phone_number_id: Option<String>,
}

/// The approved templates, with the values a send of each needs.
///
/// In the tenant's default language first, then by name.
#[utoipa::path(
    get, path = "/templates", tag = "account", operation_id = "list_templates",
    params(TemplateQuery),
    responses(
        (status = 200, description = "The approved templates", body = TemplateList),
        (status = 404, description = "No such number for this key", body = ErrorBody),
    )
)]
pub(super) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<TemplateQuery>,
) -> Result<Json<TemplateList>, ApiError> {
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    let wabas = match query.phone_number_id.as_deref() {
        Some(phone_number_id) => {
            let id = number(&mut conn, &caller, phone_number_id).await?;
            vec![numbers::waba_of(&mut conn, caller.tenant_id, id).await?]
        }
        None => {
            let mut wabas = Vec::new();
            for id in numbers::active_ids(&mut conn, caller.tenant_id).await? {
                if caller.may_use(id) {
                    let waba = numbers::waba_of(&mut conn, caller.tenant_id, id).await?;
                    if !wabas.contains(&waba) {
                        wabas.push(waba);
                    }
                }
            }
            wabas
        }
    };
    let default_language = tenants::settings(&mut conn, caller.tenant_id)
        .await?
        .default_language;
    let mut data = Vec::new();
    for waba in wabas {
        let options = templates::approved_options(
            &mut conn,
            caller.tenant_id,
            &waba,
            None,
            &default_language,
        )
        .await?;
        data.extend(options.iter().map(TemplateOut::from));
    }
    Ok(Json(TemplateList { data }))
}
