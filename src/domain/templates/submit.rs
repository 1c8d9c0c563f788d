//! Submitting a new template to Meta for review: checked first as Meta checks it, then created at
//! Meta with the token of one of the WABA's numbers, then stored with its components (so agents can
//! send it the moment Meta approves it, which its webhook says) and audited.

use anyhow::Context;
use chrono::{TimeDelta, Utc};
use sqlx::PgPool;

use super::{TemplateCategory, stored_format};
use crate::{
    crypto::Cipher,
    domain::{
        audit,
        ids::{TemplateId, TenantId},
        messages::SentBy,
        numbers,
    },
    whatsapp::{
        graph::{Auth, CreatedTemplate, GraphClient, GraphFailure, GraphUrls},
        template_draft::{Draft, Problem},
    },
};

/// How a submission (or an edit) ended.
#[derive(Debug)]
pub enum Submitted<T = TemplateId> {
    /// Meta took it for review (or approved it at once).
    Created(T),
    /// Refused before reaching Meta, field by field.
    Refused(Vec<Problem>),
    /// Meta refused it.
    MetaRefused(GraphFailure),
}

/// A template Meta took: its row here, and Meta's answer (its id, status and category).
#[derive(Debug)]
pub struct Created {
    pub id: TemplateId,
    pub meta: CreatedTemplate,
}

/// Submits `draft` to the tenant's WABA `waba_id` for `by` (an agent in the console, or a program
/// with its key); `None` when the tenant has no number in it.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    db: &PgPool,
    cipher: &Cipher,
    graph: &GraphClient,
    urls: &GraphUrls,
    tenant_id: TenantId,
    by: SentBy,
    waba_id: &str,
    draft: &Draft,
) -> anyhow::Result<Option<Submitted<Created>>> {
    let problems = draft.check();
    if !problems.is_empty() {
        return Ok(Some(Submitted::Refused(problems)));
    }
    let mut conn = db.acquire().await.context("acquire connection")?;
    let Some(number_id) = numbers::first_in_waba(&mut conn, tenant_id, waba_id).await? else {
        return Ok(None);
    };
    let taken = sqlx::query_scalar!(
        r#"select exists (select 1 from message_templates
                          where tenant_id = $1 and waba_id = $2 and name = $3 and language = $4
                            and status <> 'DELETED') as "taken!""#,
        tenant_id as TenantId,
        waba_id,
        draft.name,
        draft.language
    )
    .fetch_one(&mut *conn)
    .await
    .context("look for a template of the same name")?;
    if taken {
        return Ok(Some(Submitted::Refused(vec![Problem {
            field: "name".into(),
            message: format!(
                "There is already a template {} in {}: choose another name, or delete that one first.",
                draft.name, draft.language
            ),
        }])));
    }
    let number = numbers::credentials(&mut conn, cipher, tenant_id, number_id).await?;
    drop(conn);
    let auth = Auth {
        base_url: urls.for_number(number.sandbox),
        token: &number.access_token,
    };
    // Meta's review may be heard (by webhook) before its answer is stored: a status heard since
    // then is kept. Meta's clock is compared with ours, give or take a second.
    let asked_at = Utc::now() - TimeDelta::seconds(1);
    let created = match graph
        .create_template(&auth, waba_id, &draft.creation_body())
        .await
    {
        Ok(created) => created,
        Err(failure) => return Ok(Some(Submitted::MetaRefused(failure))),
    };
    let category = TemplateCategory::from_meta(&created.category);
    let format = stored_format(Some(if draft.named { "NAMED" } else { "POSITIONAL" }));
    let mut tx = db.begin().await.context("begin")?;
    let id = sqlx::query_scalar!(
        r#"insert into message_templates (tenant_id, waba_id, meta_template_id, name, language,
                                          category, status, components, parameter_format,
                                          submitted_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
           on conflict (tenant_id, waba_id, name, language) do update set
               meta_template_id = excluded.meta_template_id,
               category = excluded.category,
               status = case when message_templates.status_updated_at >= $10
                             then message_templates.status else excluded.status end,
               status_reason = case when message_templates.status_updated_at >= $10
                                    then message_templates.status_reason end,
               components = excluded.components,
               parameter_format = excluded.parameter_format,
               submitted_at = excluded.submitted_at,
               approved_at = null,
               updated_at = now()
           returning id as "id: TemplateId""#,
        tenant_id as TenantId,
        waba_id,
        created.id,
        draft.name,
        draft.language,
        category.as_str(),
        created.status,
        draft.components(),
        format,
        asked_at
    )
    .fetch_one(&mut *tx)
    .await
    .context("store the submitted template")?;
    let details = serde_json::json!({
        "name": draft.name,
        "language": draft.language,
        "category": category.as_str(),
        "status": created.status,
    });
    audit::record_by(&mut tx, tenant_id, by, "template.submit", details).await?;
    tx.commit().await.context("commit")?;
    Ok(Some(Submitted::Created(Created { id, meta: created })))
}
