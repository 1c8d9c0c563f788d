//! `POST /admin/contacts/{id}/erase`: erasing a customer at their request, from the conversation's
//! details (see `domain::erasure`). The form asks the admin to confirm; the answer leads back to
//! the conversation, which now says the customer was erased.

use axum::{
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    domain::{erasure, ids::ContactId},
    error::{AppError, Result},
    http::{
        AppState,
        extract::{Form, Path},
    },
    inbox::auth::Agent,
};

#[derive(Deserialize)]
pub struct EraseForm {
    #[serde(default)]
    confirm: String,
    /// Where to go afterwards: a conversation's page.
    #[serde(default)]
    back: String,
}

pub async fn erase(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<ContactId>,
    Form(form): Form<EraseForm>,
) -> Result<Response> {
    if form.confirm != "yes" {
        return Err(AppError::BadRequest(
            "tick the box to confirm: erasing cannot be undone".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    erasure::erase(&mut tx, agent.tenant_id, Some(agent.user_id), id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    // Only a page of this site.
    let back = if form.back.starts_with("/inbox/conversations/") {
        form.back
    } else {
        "/inbox".to_owned()
    };
    Ok(Redirect::to(&back).into_response())
}
