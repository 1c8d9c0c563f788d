//! Message templates: Meta-approved messages that may be sent outside the 24-hour window. Their
//! definitions (`components`) come from Meta's template list ([`sync`], a service the CLI and the
//! admin console call); their status from webhooks.

use anyhow::Context;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

pub mod edit;
pub mod figures;
mod states;
pub mod submit;
pub mod syncs;

pub use states::{TemplateCategory, TemplateStatus};

use super::{
    audit,
    ids::{TemplateId, TenantId},
    messages::SentBy,
    numbers,
};
use crate::{
    crypto::Cipher,
    whatsapp::{
        graph::{Auth, GraphClient, GraphFailure, GraphUrls},
        template_check::{self, TemplateDefinition, Variable},
        template_values::TemplateValues,
    },
};

/// A stored template.
#[derive(Debug, Clone)]
pub struct Template {
    pub id: TemplateId,
    pub name: String,
    pub language: String,
    pub category: Option<TemplateCategory>,
    pub status: TemplateStatus,
    pub components: Value,
    pub parameter_format: String,
}

impl Template {
    pub fn definition(&self) -> TemplateDefinition<'_> {
        TemplateDefinition {
            components: &self.components,
            parameter_format: Some(&self.parameter_format),
        }
    }

    pub fn is_marketing(&self) -> bool {
        self.category == Some(TemplateCategory::Marketing)
    }

    /// The template as a send offers it, with its variables.
    pub fn option(&self) -> TemplateOption {
        TemplateOption {
            id: self.id,
            name: self.name.clone(),
            language: self.language.clone(),
            category: self.category,
            variables: template_check::variables(&self.definition()),
        }
    }
}

/// An approved template an agent can send, with the variables its form needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateOption {
    pub id: TemplateId,
    pub name: String,
    pub language: String,
    pub category: Option<TemplateCategory>,
    pub variables: Vec<Variable>,
}

impl TemplateOption {
    /// Values given for [`TemplateOption::variables`], in their order, as the send's components
    /// need them (by what each variable is).
    pub fn values(&self, values: &[String]) -> TemplateValues {
        let mut out = TemplateValues::default();
        let named = self
            .variables
            .iter()
            .any(|v| v.component == "body" && v.name.parse::<u32>().is_err());
        for (variable, value) in self.variables.iter().zip(values) {
            match (variable.component, variable.kind) {
                ("header", "text") => out.header_text = Some(value.clone()),
                ("header", _) => out.header_media = Some(value.clone()),
                ("body", _) if named => out.body.push(format!("{}={value}", variable.name)),
                ("body", _) => out.body.push(value.clone()),
                ("button", "text") => out.url_suffix = Some(value.clone()),
                _ => {}
            }
        }
        out
    }
}

/// The template `name` in `language` of a tenant's WABA.
pub async fn find(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    waba_id: &str,
    name: &str,
    language: &str,
) -> anyhow::Result<Option<Template>> {
    sqlx::query_as!(
        Template,
        r#"select id as "id: TemplateId", name, language, category as "category: TemplateCategory",
                  status as "status: TemplateStatus", components, parameter_format
           from message_templates
           where tenant_id = $1 and waba_id = $2 and name = $3 and language = $4"#,
        tenant_id as TenantId,
        waba_id,
        name,
        language
    )
    .fetch_optional(conn)
    .await
    .context("look up template")
}

/// The tenant's template `id`.
pub async fn by_id(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    id: TemplateId,
) -> anyhow::Result<Option<Template>> {
    sqlx::query_as!(
        Template,
        r#"select id as "id: TemplateId", name, language, category as "category: TemplateCategory",
                  status as "status: TemplateStatus", components, parameter_format
           from message_templates where tenant_id = $1 and id = $2"#,
        tenant_id as TenantId,
        id as TemplateId
    )
    .fetch_optional(conn)
    .await
    .context("load template")
}

/// The WABA's approved templates in the order to offer them: in the customer's `language` (exact,
/// then the same language of another region: `es` for `es_MX`), then in the tenant's
/// `default_language` (likewise), then the rest; by name within each.
pub async fn approved_options(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    waba_id: &str,
    language: Option<&str>,
    default_language: &str,
) -> anyhow::Result<Vec<TemplateOption>> {
    let templates = sqlx::query_as!(
        Template,
        r#"select id as "id: TemplateId", name, language, category as "category: TemplateCategory",
                  status as "status: TemplateStatus", components, parameter_format
         from message_templates
         where tenant_id = $1 and waba_id = $2 and status = 'APPROVED'
         order by language = coalesce($3, '') desc,
                  split_part(language, '_', 1) = split_part(coalesce($3, ''), '_', 1) desc,
                  language = $4 desc,
                  split_part(language, '_', 1) = split_part($4, '_', 1) desc,
                  name, language"#,
        tenant_id as TenantId,
        waba_id,
        language,
        default_language
    )
    .fetch_all(conn)
    .await
    .context("list approved templates")?;
    Ok(templates.iter().map(Template::option).collect())
}

/// A template as Meta lists it, to store or refresh.
pub struct TemplateRecord<'a> {
    pub meta_template_id: Option<&'a str>,
    pub name: &'a str,
    pub language: &'a str,
    pub category: Option<&'a str>,
    pub status: &'a str,
    pub components: &'a Value,
    pub parameter_format: &'a str,
}

/// Stores or refreshes a template's definition and status.
pub async fn upsert(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    waba_id: &str,
    template: &TemplateRecord<'_>,
) -> anyhow::Result<TemplateId> {
    sqlx::query_scalar!(
        r#"insert into message_templates (tenant_id, waba_id, meta_template_id, name, language, category,
             status, components, parameter_format)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (tenant_id, waba_id, name, language) do update set
             meta_template_id = coalesce(excluded.meta_template_id, message_templates.meta_template_id),
             category = coalesce(excluded.category, message_templates.category),
             status = excluded.status,
             components = excluded.components,
             parameter_format = excluded.parameter_format,
             updated_at = now()
         returning id as "id: TemplateId""#,
        tenant_id as TenantId,
        waba_id,
        template.meta_template_id,
        template.name,
        template.language,
        template.category,
        template.status,
        template.components,
        template.parameter_format
    )
    .fetch_one(conn)
    .await
    .with_context(|| format!("store template {}", template.name))
}

/// The `parameter_format` to store for what Meta listed: `NAMED` in any case (Meta has answered
/// `named`), else `POSITIONAL` (also when omitted), as the column's check constraint requires and
/// as [`template_check`] reads it.
fn stored_format(listed: Option<&str>) -> &'static str {
    if listed.is_some_and(|format| format.eq_ignore_ascii_case("NAMED")) {
        "NAMED"
    } else {
        "POSITIONAL"
    }
}

/// What [`sync`] fetched for one WABA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedWaba {
    pub waba_id: String,
    /// Templates stored or refreshed.
    pub templates: usize,
}

/// Fetches the templates of each of the tenant's WABAs from Meta, page by page with the token of
/// one of its numbers, and stores or refreshes them, telling `progress` how many are stored after
/// each page. Templates Meta no longer lists are kept. A failure names its WABA; the WABAs before
/// it stay synced.
/// <https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates>
pub async fn sync<Progress, Told>(
    db: &PgPool,
    cipher: &Cipher,
    graph: &GraphClient,
    urls: &GraphUrls,
    tenant_id: TenantId,
    progress: Progress,
) -> anyhow::Result<Vec<SyncedWaba>>
where
    Progress: Fn(usize) -> Told,
    Told: Future<Output = anyhow::Result<()>>,
{
    // A connection is taken for each step, never held across a Graph call: Meta may be slow, and
    // the pool serves the inbox meanwhile.
    let mut conn = db.acquire().await.context("acquire connection")?;
    let number_ids = numbers::one_per_waba(&mut conn, tenant_id).await?;
    let mut numbers = Vec::with_capacity(number_ids.len());
    for number_id in number_ids {
        numbers.push(numbers::credentials(&mut conn, cipher, tenant_id, number_id).await?);
    }
    drop(conn);
    let mut synced = Vec::with_capacity(numbers.len());
    let mut stored = 0;
    for number in numbers {
        let auth = Auth {
            base_url: urls.for_number(number.sandbox),
            token: &number.access_token,
        };
        let (mut after, mut count) = (None, 0);
        loop {
            let page = graph
                .list_templates(&auth, &number.waba_id, after.as_deref())
                .await
                .with_context(|| format!("list the templates of WABA {}", number.waba_id))?;
            let mut conn = db.acquire().await.context("acquire connection")?;
            for template in &page.data {
                let record = TemplateRecord {
                    meta_template_id: Some(&template.id),
                    name: &template.name,
                    language: &template.language,
                    category: template.category.as_deref(),
                    status: &template.status,
                    components: &template.components,
                    parameter_format: stored_format(template.parameter_format.as_deref()),
                };
                upsert(&mut conn, tenant_id, &number.waba_id, &record).await?;
                count += 1;
            }
            drop(conn);
            stored += page.data.len();
            progress(stored).await?;
            match page.after {
                Some(cursor) if !page.data.is_empty() => after = Some(cursor),
                _ => break,
            }
        }
        synced.push(SyncedWaba {
            waba_id: number.waba_id,
            templates: count,
        });
    }
    Ok(synced)
}

/// Deletes the tenant's template `id` at Meta (this language only, once Meta has listed it), then
/// marks it `DELETED` here, keeping its messages' figures; audited. `None` when the tenant has no
/// such template (or no number left in its WABA to ask Meta with); Meta's refusal comes back as
/// it is.
#[allow(clippy::too_many_arguments)]
pub async fn delete(
    db: &PgPool,
    cipher: &Cipher,
    graph: &GraphClient,
    urls: &GraphUrls,
    tenant_id: TenantId,
    by: SentBy,
    id: TemplateId,
) -> anyhow::Result<Option<Result<(), GraphFailure>>> {
    let Some(template) = sqlx::query!(
        r#"select t.waba_id, t.name, t.meta_template_id
           from message_templates t where t.tenant_id = $1 and t.id = $2"#,
        tenant_id as TenantId,
        id as TemplateId
    )
    .fetch_optional(db)
    .await
    .context("load the template to delete")?
    else {
        return Ok(None);
    };
    let named = Named {
        waba_id: &template.waba_id,
        name: &template.name,
        meta_template_id: template.meta_template_id.as_deref(),
    };
    delete_named(db, cipher, graph, urls, tenant_id, by, &named).await
}

/// Templates by name, as Meta deletes them: every language of `name` in the WABA, or only the
/// one Meta knows as `meta_template_id` (its `hsm_id`).
#[derive(Debug, Clone, Copy)]
pub struct Named<'a> {
    pub waba_id: &'a str,
    pub name: &'a str,
    pub meta_template_id: Option<&'a str>,
}

/// Deletes the `named` templates at Meta (asked whether or not they are stored here), then marks
/// those stored `DELETED`, keeping their messages' figures; audited. `None` when the tenant has
/// no number in the WABA to ask Meta with; Meta's refusal comes back as it is.
#[allow(clippy::too_many_arguments)]
pub async fn delete_named(
    db: &PgPool,
    cipher: &Cipher,
    graph: &GraphClient,
    urls: &GraphUrls,
    tenant_id: TenantId,
    by: SentBy,
    named: &Named<'_>,
) -> anyhow::Result<Option<Result<(), GraphFailure>>> {
    let mut conn = db.acquire().await.context("acquire connection")?;
    let Some(number_id) = numbers::first_in_waba(&mut conn, tenant_id, named.waba_id).await? else {
        return Ok(None);
    };
    let number = numbers::credentials(&mut conn, cipher, tenant_id, number_id).await?;
    drop(conn);
    let auth = Auth {
        base_url: urls.for_number(number.sandbox),
        token: &number.access_token,
    };
    let deleted = graph
        .delete_template(&auth, named.waba_id, named.name, named.meta_template_id)
        .await;
    if let Err(failure) = deleted {
        return Ok(Some(Err(failure)));
    }
    let mut tx = db.begin().await.context("begin")?;
    let languages = sqlx::query_scalar!(
        "update message_templates set status = 'DELETED', updated_at = now()
         where tenant_id = $1 and waba_id = $2 and name = $3
           and ($4::text is null or meta_template_id = $4)
         returning language",
        tenant_id as TenantId,
        named.waba_id,
        named.name,
        named.meta_template_id
    )
    .fetch_all(&mut *tx)
    .await
    .context("mark the templates deleted")?;
    let details = serde_json::json!({ "name": named.name, "languages": languages });
    audit::record_by(&mut tx, tenant_id, by, "template.delete", details).await?;
    tx.commit().await.context("commit")?;
    Ok(Some(Ok(())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_format_is_stored_in_upper_case_and_positional_by_default() {
        assert_eq!(stored_format(Some("named")), "NAMED");
        assert_eq!(stored_format(Some("NAMED")), "NAMED");
        assert_eq!(stored_format(Some("POSITIONAL")), "POSITIONAL");
        assert_eq!(stored_format(None), "POSITIONAL");
    }
}
