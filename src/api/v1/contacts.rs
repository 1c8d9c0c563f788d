//! Customers: one by id, and their marketing opt-out (a customer who opted out gets no marketing
//! template from anyone, agent or program). A key limited to some numbers sees only customers who
//! wrote to one of them.

use anyhow::Context;
use axum::{Extension, extract::State};
use chrono::Utc;
use serde_json::json;
use sqlx::PgConnection;

use super::{
    ApiError,
    schema::{Changed, ContactOut, ErrorBody, OptChange},
};
use crate::{
    domain::{
        api_keys::Caller,
        audit, contacts,
        ids::{ContactId, TenantId},
        messages::SentBy,
    },
    error::AppError,
    http::{
        AppState,
        extract::{Json, Path},
    },
};

/// One customer.
#[utoipa::path(
    get, path = "/contacts/{id}", tag = "contacts", operation_id = "get_contact",
    params(("id" = i64, Path, description = "The contact's id (a conversation's `contact.id`)")),
    responses(
        (status = 200, description = "The customer", body = ContactOut),
        (status = 404, description = "No such customer for this key", body = ErrorBody),
    )
)]
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<ContactId>,
) -> Result<Json<ContactOut>, ApiError> {
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    Ok(Json(contact(&mut conn, &caller, id).await?))
}

/// Opts the customer out of marketing messages, or back in.
#[utoipa::path(
    post, path = "/contacts/{id}/marketing", tag = "contacts",
    operation_id = "set_marketing_opt_out",
    params(("id" = i64, Path, description = "The contact's id")),
    request_body = OptChange,
    responses(
        (status = 200, description = "Recorded (or already so)", body = Changed),
        (status = 404, description = "No such customer for this key", body = ErrorBody),
    )
)]
pub(super) async fn set_opt_out(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<ContactId>,
    Json(change): Json<OptChange>,
) -> Result<Json<Changed>, ApiError> {
    let mut tx = state.db.begin().await.context("begin")?;
    let before = contact(&mut tx, &caller, id).await?;
    let changed = before.marketing_opted_out_at.is_some() != change.opted_out;
    if changed {
        contacts::record_opt_change(&mut tx, caller.tenant_id, id, change.opted_out, Utc::now())
            .await?;
        let action = if change.opted_out {
            "contact.opt_out"
        } else {
            "contact.opt_in"
        };
        let details = json!({ "contact_id": id });
        audit::record_by(
            &mut tx,
            caller.tenant_id,
            SentBy::ApiKey(caller.key_id),
            action,
            details,
        )
        .await?;
    }
    tx.commit().await.context("commit")?;
    Ok(Json(Changed { changed }))
}

/// The tenant's contact `id`, if they have a conversation with a number the key may use; 404
/// otherwise.
async fn contact(
    conn: &mut PgConnection,
    caller: &Caller,
    id: ContactId,
) -> Result<ContactOut, ApiError> {
    let numbers: Option<Vec<i64>> = caller
        .numbers
        .as_ref()
        .map(|ids| ids.iter().map(|id| id.get()).collect());
    let found = sqlx::query!(
        r#"select k.id as "id: ContactId", k.profile_name, k.wa_id, k.user_id, k.language,
                  k.opted_out_at, k.erased_at is not null as "erased!"
           from contacts k
           where k.tenant_id = $1 and k.id = $2
             and exists (select 1 from conversations c
                         where c.tenant_id = k.tenant_id and c.contact_id = k.id
                           and ($3::bigint[] is null or c.phone_number_id = any($3)))"#,
        caller.tenant_id as TenantId,
        id as ContactId,
        numbers.as_deref()
    )
    .fetch_optional(conn)
    .await
    .context("load contact")?
    .ok_or(ApiError::App(AppError::NotFound))?;
    Ok(ContactOut {
        id: found.id.get(),
        name: found.profile_name,
        wa_id: found.wa_id,
        user_id: found.user_id,
        language: found.language,
        marketing_opted_out_at: found.opted_out_at,
        erased: found.erased,
    })
}
