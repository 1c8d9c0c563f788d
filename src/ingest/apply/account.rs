//! Account-level changes: template status, quality and category updates, and phone number quality
//! and display-name updates. They name a WABA (`entry.id`), which must belong to the signing app.

use anyhow::Context;
use sqlx::PgConnection;

use super::EntryInfo;
use crate::{
    domain::{
        ids::{AppId, NumberId, TemplateId, TenantId},
        numbers::{
            self,
            health::{self, Health, Source},
        },
        templates::TemplateStatus,
        webhook_endpoints,
    },
    whatsapp::payload::{Field, PhoneNumberEvent, TemplateEvent},
};

/// Applies a template event; `Err(waba_id)` when the WABA is not the signing app's.
pub async fn apply_template(
    conn: &mut PgConnection,
    app_id: AppId,
    entry: &EntryInfo,
    event: TemplateEvent,
) -> anyhow::Result<Result<(), String>> {
    let Some(tenant_id) = numbers::tenant_for_waba(conn, app_id, &entry.waba_id).await? else {
        return Ok(Err(entry.waba_id.clone()));
    };
    // Meta's own examples mix `en-US` and `en_US`; the API's language codes use underscores.
    let language = event.message_template_language.replace('-', "_");
    let name = event.message_template_name.as_str();
    let template_id = event.message_template_id.as_deref();
    match entry.field {
        Field::MessageTemplateStatusUpdate => {
            let status = event
                .event
                .as_deref()
                .unwrap_or(TemplateStatus::Unknown.as_str());
            let reason = event
                .rejection_info
                .as_ref()
                .and_then(|info| info.get("reason"))
                .and_then(|r| r.as_str())
                .or(event.reason.as_deref())
                .filter(|r| !r.eq_ignore_ascii_case("NONE"));
            let applied = sqlx::query_scalar!(
                r#"insert into message_templates (tenant_id, waba_id, meta_template_id, name, language,
                     category, status, status_reason, status_updated_at)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 on conflict (tenant_id, waba_id, name, language) do update set
                     meta_template_id = coalesce(excluded.meta_template_id, message_templates.meta_template_id),
                     category = coalesce(excluded.category, message_templates.category),
                     status = excluded.status,
                     status_reason = excluded.status_reason,
                     status_updated_at = excluded.status_updated_at,
                     updated_at = now()
                 where message_templates.status_updated_at is null
                    or excluded.status_updated_at is null
                    or excluded.status_updated_at >= message_templates.status_updated_at
                 returning id as "id: TemplateId""#,
                tenant_id as TenantId,
                entry.waba_id,
                template_id,
                name,
                language,
                event.message_template_category,
                status,
                reason,
                entry.time
            )
            .fetch_optional(&mut *conn)
            .await
            .context("apply template status")?;
            // A status older than the one stored changes nothing, and is not told.
            if let Some(id) = applied {
                webhook_endpoints::template_status(conn, tenant_id, id).await?;
            }
        }
        // Quality and category updates: each carries one of the two.
        _ => {
            sqlx::query!(
                "update message_templates set
                     quality_score = coalesce($6, quality_score),
                     category = coalesce($7, category),
                     updated_at = now()
                 where tenant_id = $1 and waba_id = $2
                   and (meta_template_id = $3 or (name = $4 and language = $5))",
                tenant_id as TenantId,
                entry.waba_id,
                template_id,
                name,
                language,
                event.new_quality_score,
                event.new_category
            )
            .execute(conn)
            .await
            .context("apply template quality or category")?;
        }
    }
    Ok(Ok(()))
}

/// Applies a phone number quality or name event to the WABA's number with that display number.
pub async fn apply_number(
    conn: &mut PgConnection,
    app_id: AppId,
    entry: &EntryInfo,
    event: PhoneNumberEvent,
) -> anyhow::Result<Result<(), String>> {
    let Some(tenant_id) = numbers::tenant_for_waba(conn, app_id, &entry.waba_id).await? else {
        return Ok(Err(entry.waba_id.clone()));
    };
    let digits: String = event
        .display_phone_number
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let (quality, limit, verified_name) = if entry.field == Field::PhoneNumberQualityUpdate {
        (event.event.as_deref(), event.current_limit.as_deref(), None)
    } else {
        let approved = event.decision.as_deref() == Some("APPROVED");
        (
            None,
            None,
            event
                .requested_verified_name
                .as_deref()
                .filter(|_| approved),
        )
    };
    let matched = sqlx::query_scalar!(
        r#"select id as "id: NumberId" from phone_numbers
           where tenant_id = $1 and app_id = $2 and waba_id = $3
             and regexp_replace(coalesce(display_phone_number, ''), '\D', '', 'g') = $4"#,
        tenant_id as TenantId,
        app_id as AppId,
        entry.waba_id,
        digits
    )
    .fetch_all(&mut *conn)
    .await
    .context("find the number of a phone number update")?;
    if matched.is_empty() {
        tracing::warn!(
            field = %entry.field,
            "no registered number has this display number; update kept in the event log"
        );
    }
    let health = Health {
        quality,
        limit,
        verified_name,
    };
    for number_id in matched {
        health::record(conn, tenant_id, number_id, Source::Webhook, &health).await?;
    }
    Ok(Ok(()))
}
