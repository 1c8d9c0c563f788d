//! The tenant's numbers the key may use, with their health (Meta's quality rating and messaging
//! tier, paused or removed), what waits to be sent from each, and how many windows are open.

use anyhow::Context;
use axum::{Extension, extract::State};

use super::{
    ApiError,
    schema::{NumberList, NumberOut},
};
use crate::{
    domain::{
        api_keys::Caller,
        ids::{NumberId, TenantId},
    },
    http::{AppState, extract::Json},
};

/// The numbers the key may use, with their health.
#[utoipa::path(
    get, path = "/numbers", tag = "account", operation_id = "list_numbers",
    responses((status = 200, description = "The numbers", body = NumberList))
)]
pub(super) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<NumberList>, ApiError> {
    let mut conn = state.db.acquire().await.context("acquire connection")?;
    // Open windows are counted from the Closing-soon index: open conversations whose customer
    // wrote within 24 hours and whose window Meta has not closed since.
    let rows = sqlx::query!(
        r#"select n.id as "id: NumberId", n.phone_number_id, n.waba_id, n.display_phone_number,
                  n.verified_name, n.quality_rating, n.messaging_tier, n.sandbox,
                  n.paused_at is not null as "paused!", n.removed_at is not null as "removed!",
                  (select count(*) from messages m
                   where m.tenant_id = n.tenant_id and m.phone_number_id = n.id
                     and m.status = 'queued') as "queued!",
                  (select count(*) from conversations c
                   where c.tenant_id = n.tenant_id and c.status = 'open'
                     and c.last_customer_message_at > now() - interval '24 hours'
                     and c.phone_number_id = n.id
                     and (c.window_closed_by_meta_at is null
                          or c.window_closed_by_meta_at < c.last_customer_message_at)
                  ) as "open_windows!"
           from phone_numbers n where n.tenant_id = $1
           order by n.removed_at is not null, n.id"#,
        caller.tenant_id as TenantId
    )
    .fetch_all(&mut *conn)
    .await
    .context("list the numbers")?;
    let data = rows
        .into_iter()
        .filter(|row| caller.may_use(row.id))
        .map(|row| NumberOut {
            phone_number_id: row.phone_number_id,
            waba_id: row.waba_id,
            display_phone_number: row.display_phone_number,
            verified_name: row.verified_name,
            quality_rating: row.quality_rating,
            messaging_tier: row.messaging_tier,
            sandbox: row.sandbox,
            paused: row.paused,
            removed: row.removed,
            queued: row.queued,
            open_windows: row.open_windows,
        })
        .collect();
    Ok(Json(NumberList { data }))
}
