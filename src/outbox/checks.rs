//! What may go out, asked when a message is queued and again right before its Graph call: free-form
//! content only while the 24-hour window is open, templates only when approved and with parameters
//! that fit their definition, marketing templates never to a customer who opted out. A refusal for
//! the window offers the approved templates to send instead.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::{refused::SendRefused, send::SendError};
use crate::{
    domain::{
        conversations::SendContext,
        ids::{TemplateId, TenantId},
        templates::{self, TemplateStatus},
    },
    whatsapp::template_check,
    window::{SEND_MARGIN, Window},
};

/// A claimed template message's template, as it stands now.
pub struct ClaimedTemplate {
    pub name: String,
    pub status: TemplateStatus,
    pub marketing: bool,
}

/// Checks a claimed message again right before its Graph call, with what the claim read: the
/// template must still be approved (and not marketing to an opted-out customer), and free-form
/// content needs a window that stays open for [`SEND_MARGIN`] more. Reads the database only to
/// offer templates when it refuses.
pub async fn recheck(
    db: &PgPool,
    tenant_id: TenantId,
    context: &SendContext,
    template: Option<&ClaimedTemplate>,
    now: DateTime<Utc>,
) -> Result<(), SendError> {
    if context.number_removed {
        return Err(SendRefused::NumberRemoved.into());
    }
    if let Some(template) = template {
        return template_allowed(&template.name, template.status, template.marketing, context)
            .map_err(Into::into);
    }
    let window = window_of(context, now + SEND_MARGIN);
    if window.is_open() {
        return Ok(());
    }
    let mut conn = db.acquire().await.context("acquire connection")?;
    Err(window_refusal(&mut conn, tenant_id, context, window)
        .await?
        .into())
}

/// Free-form content needs the window open `now`.
pub(super) async fn check_window(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    context: &SendContext,
    now: DateTime<Utc>,
) -> Result<(), SendError> {
    let window = window_of(context, now);
    if window.is_open() {
        return Ok(());
    }
    Err(window_refusal(conn, tenant_id, context, window)
        .await?
        .into())
}

/// Whether free-form content may go out `now` (what [`check_window`] checks, without reading).
pub(super) fn window_open(context: &SendContext, now: DateTime<Utc>) -> bool {
    window_of(context, now).is_open()
}

fn window_of(context: &SendContext, at: DateTime<Utc>) -> Window {
    Window::at(
        context.last_customer_message_at,
        context.window_closed_by_meta_at,
        at,
    )
}

/// The refusal for a closed window, offering the approved templates in the customer's language
/// first, then in the tenant's.
async fn window_refusal(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    context: &SendContext,
    window: Window,
) -> anyhow::Result<SendRefused> {
    let templates = templates::approved_options(
        conn,
        tenant_id,
        &context.waba_id,
        context.contact_language.as_deref(),
        &context.default_language,
    )
    .await?;
    Ok(match window {
        Window::Closed { since, reason } => SendRefused::WindowClosed {
            since,
            reason,
            templates,
        },
        _ => SendRefused::WindowNeverOpened { templates },
    })
}

/// The template must exist in the conversation's WABA, be allowed, and fit `components`; returns
/// its id.
pub(super) async fn check_template(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    context: &SendContext,
    name: &str,
    language: &str,
    components: &serde_json::Value,
) -> Result<TemplateId, SendError> {
    let template = templates::find(conn, tenant_id, &context.waba_id, name, language)
        .await?
        .ok_or_else(|| SendRefused::TemplateMissing {
            name: name.into(),
            language: language.into(),
        })?;
    template_allowed(
        &template.name,
        template.status,
        template.is_marketing(),
        context,
    )?;
    template_check::check(&template.definition(), components)
        .map_err(SendRefused::TemplateMismatch)?;
    Ok(template.id)
}

/// Only approved templates go out, and marketing ones never to a customer who opted out.
fn template_allowed(
    name: &str,
    status: TemplateStatus,
    marketing: bool,
    context: &SendContext,
) -> Result<(), SendRefused> {
    if status != TemplateStatus::Approved {
        return Err(SendRefused::TemplateNotApproved {
            name: name.into(),
            status,
        });
    }
    if marketing && context.opted_out_at.is_some() {
        return Err(SendRefused::OptedOut);
    }
    Ok(())
}
