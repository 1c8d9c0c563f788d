//! Message templates: Meta-approved messages that may be sent outside the 24-hour window. Their
//! definitions (`components`) come from Meta's template list; their status from webhooks.

use anyhow::Context;
use serde_json::Value;
use sqlx::PgConnection;

use crate::whatsapp::template_check::{self, TemplateDefinition, Variable};

/// A stored template.
#[derive(Debug, Clone)]
pub struct Template {
    pub id: i64,
    pub name: String,
    pub language: String,
    pub category: Option<String>,
    pub status: String,
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
        self.category
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("MARKETING"))
    }
}

/// An approved template an agent can send, with the variables its form needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateOption {
    pub id: i64,
    pub name: String,
    pub language: String,
    pub category: Option<String>,
    pub variables: Vec<Variable>,
}

/// The template `name` in `language` of a tenant's WABA.
pub async fn find(
    conn: &mut PgConnection,
    tenant_id: i64,
    waba_id: &str,
    name: &str,
    language: &str,
) -> anyhow::Result<Option<Template>> {
    sqlx::query_as!(
        Template,
        "select id, name, language, category, status, components, parameter_format
         from message_templates
         where tenant_id = $1 and waba_id = $2 and name = $3 and language = $4",
        tenant_id,
        waba_id,
        name,
        language
    )
    .fetch_optional(conn)
    .await
    .context("look up template")
}

/// The WABA's approved templates in the order to offer them: in the customer's `language` (exact,
/// then the same language of another region: `es` for `es_MX`), then in the tenant's
/// `default_language` (likewise), then the rest; by name within each.
pub async fn approved_options(
    conn: &mut PgConnection,
    tenant_id: i64,
    waba_id: &str,
    language: Option<&str>,
    default_language: &str,
) -> anyhow::Result<Vec<TemplateOption>> {
    let templates = sqlx::query_as!(
        Template,
        "select id, name, language, category, status, components, parameter_format
         from message_templates
         where tenant_id = $1 and waba_id = $2 and status = 'APPROVED'
         order by language = coalesce($3, '') desc,
                  split_part(language, '_', 1) = split_part(coalesce($3, ''), '_', 1) desc,
                  language = $4 desc,
                  split_part(language, '_', 1) = split_part($4, '_', 1) desc,
                  name, language",
        tenant_id,
        waba_id,
        language,
        default_language
    )
    .fetch_all(conn)
    .await
    .context("list approved templates")?;
    Ok(templates
        .into_iter()
        .map(|t| TemplateOption {
            variables: template_check::variables(&t.definition()),
            id: t.id,
            name: t.name,
            language: t.language,
            category: t.category,
        })
        .collect())
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
    tenant_id: i64,
    waba_id: &str,
    template: &TemplateRecord<'_>,
) -> anyhow::Result<i64> {
    sqlx::query_scalar!(
        "insert into message_templates (tenant_id, waba_id, meta_template_id, name, language, category,
             status, components, parameter_format)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (tenant_id, waba_id, name, language) do update set
             meta_template_id = coalesce(excluded.meta_template_id, message_templates.meta_template_id),
             category = coalesce(excluded.category, message_templates.category),
             status = excluded.status,
             components = excluded.components,
             parameter_format = excluded.parameter_format,
             updated_at = now()
         returning id",
        tenant_id,
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
