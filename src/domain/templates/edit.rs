//! Editing a template where Meta allows it: an approved, rejected or paused template's components
//! (its name and language never change; its category only while it is not approved), checked as a
//! new one is, sent to Meta (`POST /{template-id}`), then stored, pending Meta's review again;
//! audited. An approved template may be edited once a day and ten times in thirty days; Meta says
//! the same, later and in fewer words.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use super::{TemplateStatus, submit::Submitted};
use crate::{
    crypto::Cipher,
    domain::{
        audit,
        ids::{TemplateId, TenantId, UserId},
        numbers,
    },
    whatsapp::{
        graph::{Auth, GraphClient, GraphUrls},
        template_draft::{Draft, Problem},
    },
};

/// A template as the edit form needs it.
pub struct Editable {
    pub id: TemplateId,
    pub status: TemplateStatus,
    pub draft: Draft,
    /// The WABA the template belongs to (a media header's new sample is uploaded for its app).
    pub waba_id: String,
}

/// Why a template cannot be edited, in words; `None` when it can.
pub fn refusal(
    status: TemplateStatus,
    recent_edits: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> Option<String> {
    match status {
        TemplateStatus::Approved => {
            let within = |days: i64| {
                recent_edits
                    .iter()
                    .filter(|at| now - **at < chrono::TimeDelta::days(days))
                    .count()
            };
            if within(1) >= 1 {
                Some(
                    "WhatsApp lets an approved template be edited once a day: try again tomorrow."
                        .into(),
                )
            } else if within(30) >= 10 {
                Some(
                    "WhatsApp lets an approved template be edited ten times in thirty days.".into(),
                )
            } else {
                None
            }
        }
        TemplateStatus::Rejected | TemplateStatus::Paused => None,
        other => Some(format!(
            "WhatsApp edits only approved, rejected or paused templates; this one is {}.",
            other.as_str().replace('_', " ").to_lowercase()
        )),
    }
}

/// The tenant's template `id` as the form shows it; `None` when the tenant has no such template,
/// or it has parts the form does not write.
pub async fn editable(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    id: TemplateId,
) -> anyhow::Result<Option<Editable>> {
    let Some(template) = super::by_id(conn, tenant_id, id).await? else {
        return Ok(None);
    };
    let category = template.category.map_or("", |c| c.as_str());
    let named = template.parameter_format.eq_ignore_ascii_case("NAMED");
    let Some(draft) = Draft::from_definition(
        &template.name,
        &template.language,
        category,
        &template.components,
        named,
    ) else {
        return Ok(None);
    };
    let waba_id = sqlx::query_scalar!(
        "select waba_id from message_templates where tenant_id = $1 and id = $2",
        tenant_id as TenantId,
        id as TemplateId
    )
    .fetch_one(conn)
    .await
    .context("read the template's WABA")?;
    Ok(Some(Editable {
        id: template.id,
        status: template.status,
        draft,
        waba_id,
    }))
}

/// When the template was edited through Switchboard in the last thirty days.
async fn recent_edits(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    id: TemplateId,
) -> anyhow::Result<Vec<DateTime<Utc>>> {
    sqlx::query_scalar!(
        r#"select created_at from audit_log
           where tenant_id = $1 and action = 'template.edit' and details->>'template_id' = $2
             and created_at > now() - interval '30 days'"#,
        tenant_id as TenantId,
        id.to_string()
    )
    .fetch_all(conn)
    .await
    .context("count the template's edits")
}

/// Edits the tenant's template `id` as `draft` says; `None` when the tenant has no such template
/// (or no number left in its WABA to ask Meta with).
#[allow(clippy::too_many_arguments)]
pub async fn edit(
    db: &PgPool,
    cipher: &Cipher,
    graph: &GraphClient,
    urls: &GraphUrls,
    tenant_id: TenantId,
    by: UserId,
    id: TemplateId,
    draft: &Draft,
) -> anyhow::Result<Option<Submitted>> {
    let mut conn = db.acquire().await.context("acquire connection")?;
    let Some(current) = editable(&mut conn, tenant_id, id).await? else {
        return Ok(None);
    };
    let recent = recent_edits(&mut conn, tenant_id, id).await?;
    let mut problems = draft.check();
    if let Some(refused) = refusal(current.status, &recent, Utc::now()) {
        problems.push(Problem {
            field: "name".into(),
            message: refused,
        });
    }
    if draft.name != current.draft.name || draft.language != current.draft.language {
        problems.push(Problem {
            field: "name".into(),
            message: "A template's name and language cannot change: create a new one.".into(),
        });
    }
    let category_changed = draft.category != current.draft.category;
    if category_changed && current.status == TemplateStatus::Approved {
        problems.push(Problem {
            field: "category".into(),
            message: "An approved template keeps its category.".into(),
        });
    }
    if !problems.is_empty() {
        return Ok(Some(Submitted::Refused(problems)));
    }
    let Some(meta) = sqlx::query!(
        r#"select t.meta_template_id as "meta_template_id!", t.waba_id
           from message_templates t
           where t.tenant_id = $1 and t.id = $2 and t.meta_template_id is not null"#,
        tenant_id as TenantId,
        id as TemplateId
    )
    .fetch_optional(&mut *conn)
    .await
    .context("find the template at Meta")?
    else {
        return Ok(Some(Submitted::Refused(vec![Problem {
            field: "name".into(),
            message: "WhatsApp has not listed this template yet: sync, then edit it.".into(),
        }])));
    };
    let Some(number_id) = numbers::first_in_waba(&mut conn, tenant_id, &meta.waba_id).await? else {
        return Ok(None);
    };
    let number = numbers::credentials(&mut conn, cipher, tenant_id, number_id).await?;
    drop(conn);
    let auth = Auth {
        base_url: urls.for_number(number.sandbox),
        token: &number.access_token,
    };
    let body = draft.creation_body();
    let mut edit = json!({ "components": body["components"] });
    if category_changed {
        edit["category"] = body["category"].clone();
    }
    // Meta's review may be heard (by webhook) before its answer is stored: a status heard since
    // then is kept.
    let asked_at = Utc::now() - chrono::TimeDelta::seconds(1);
    if let Err(failure) = graph
        .edit_template(&auth, &meta.meta_template_id, &edit)
        .await
    {
        return Ok(Some(Submitted::MetaRefused(failure)));
    }
    let mut tx = db.begin().await.context("begin")?;
    sqlx::query!(
        "update message_templates
         set components = $3, category = coalesce($4, category),
             status = case when status_updated_at >= $5 then status else 'PENDING' end,
             status_reason = case when status_updated_at >= $5 then status_reason end,
             submitted_at = now(), approved_at = null, updated_at = now()
         where tenant_id = $1 and id = $2",
        tenant_id as TenantId,
        id as TemplateId,
        draft.components(),
        category_changed.then(|| body["category"].as_str().unwrap_or_default().to_owned()),
        asked_at
    )
    .execute(&mut *tx)
    .await
    .context("store the edited template")?;
    let details = json!({
        "template_id": id.to_string(),
        "name": draft.name,
        "language": draft.language,
    });
    audit::record(&mut tx, tenant_id, Some(by), "template.edit", details).await?;
    tx.commit().await.context("commit")?;
    Ok(Some(Submitted::Created(id)))
}
