//! Message templates: Meta-approved messages that may be sent outside the 24-hour window. Their
//! definitions (`components`) come from Meta's template list ([`sync`], a service the CLI and the
//! admin console call); their status from webhooks.

use anyhow::Context;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use super::{
    ids::{TemplateId, TenantId},
    numbers,
};
use crate::{
    crypto::Cipher,
    whatsapp::{
        graph::{Auth, GraphClient, GraphUrls},
        template_check::{self, TemplateDefinition, Variable},
    },
};

/// Meta's verdict on a template (`message_templates.status`, as Meta spells it). The column keeps
/// Meta's text as it came; it is read through [`TemplateStatus::from_meta`], so a status Meta adds
/// later reads as [`TemplateStatus::Unknown`] (never sendable) instead of failing the query.
/// <https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/template-status>
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateStatus {
    Approved,
    Pending,
    Rejected,
    Paused,
    Disabled,
    Flagged,
    InAppeal,
    PendingDeletion,
    Deleted,
    Reinstated,
    LimitExceeded,
    Archived,
    Locked,
    /// Anything else: a status we do not know (or none was given).
    Unknown,
}

impl TemplateStatus {
    const ALL: [Self; 14] = [
        Self::Approved,
        Self::Pending,
        Self::Rejected,
        Self::Paused,
        Self::Disabled,
        Self::Flagged,
        Self::InAppeal,
        Self::PendingDeletion,
        Self::Deleted,
        Self::Reinstated,
        Self::LimitExceeded,
        Self::Archived,
        Self::Locked,
        Self::Unknown,
    ];

    /// Meta's name for it, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "APPROVED",
            Self::Pending => "PENDING",
            Self::Rejected => "REJECTED",
            Self::Paused => "PAUSED",
            Self::Disabled => "DISABLED",
            Self::Flagged => "FLAGGED",
            Self::InAppeal => "IN_APPEAL",
            Self::PendingDeletion => "PENDING_DELETION",
            Self::Deleted => "DELETED",
            Self::Reinstated => "REINSTATED",
            Self::LimitExceeded => "LIMIT_EXCEEDED",
            Self::Archived => "ARCHIVED",
            Self::Locked => "LOCKED",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// Reads Meta's text; one we do not know is [`Self::Unknown`].
    pub fn from_meta(text: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .unwrap_or(Self::Unknown)
    }
}

/// What a template is for, which decides its price and whether opted-out customers may get it
/// (`message_templates.category`). Read like [`TemplateStatus`]: Meta's text is kept as it came
/// (any case), and a category we do not know reads as [`TemplateCategory::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateCategory {
    Marketing,
    Utility,
    Authentication,
    /// Anything else, e.g. a category Meta retired.
    Unknown,
}

impl TemplateCategory {
    /// Meta's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Marketing => "MARKETING",
            Self::Utility => "UTILITY",
            Self::Authentication => "AUTHENTICATION",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// Reads Meta's text, in any case; one we do not know is [`Self::Unknown`].
    pub fn from_meta(text: &str) -> Self {
        [Self::Marketing, Self::Utility, Self::Authentication]
            .into_iter()
            .find(|category| category.as_str().eq_ignore_ascii_case(text))
            .unwrap_or(Self::Unknown)
    }
}

/// Both map to a `text` column holding Meta's words, read at this boundary.
macro_rules! meta_text {
    ($($name:ident),*) => {$(
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<sqlx::Postgres>>::type_info()
            }

            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(
                value: sqlx::postgres::PgValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                <&str as sqlx::Decode<sqlx::Postgres>>::decode(value).map(Self::from_meta)
            }
        }

        impl sqlx::Encode<'_, sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Postgres>>::encode(self.as_str(), buf)
            }
        }
    )*};
}

meta_text!(TemplateStatus, TemplateCategory);

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
/// one of its numbers, and stores or refreshes them. Templates Meta no longer lists are kept. A
/// failure names its WABA; the WABAs before it stay synced.
/// <https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates>
pub async fn sync(
    db: &PgPool,
    cipher: &Cipher,
    graph: &GraphClient,
    urls: &GraphUrls,
    tenant_id: TenantId,
) -> anyhow::Result<Vec<SyncedWaba>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metas_words_read_back_and_unknown_ones_are_unknown() {
        for status in TemplateStatus::ALL {
            assert_eq!(TemplateStatus::from_meta(status.as_str()), status);
        }
        assert_eq!(
            TemplateStatus::from_meta("SOMETHING_NEW"),
            TemplateStatus::Unknown
        );
        assert_eq!(
            TemplateCategory::from_meta("marketing"),
            TemplateCategory::Marketing
        );
        assert_eq!(
            TemplateCategory::from_meta("OTP"),
            TemplateCategory::Unknown
        );
    }

    #[test]
    fn a_listed_format_is_stored_in_upper_case_and_positional_by_default() {
        assert_eq!(stored_format(Some("named")), "NAMED");
        assert_eq!(stored_format(Some("NAMED")), "NAMED");
        assert_eq!(stored_format(Some("POSITIONAL")), "POSITIONAL");
        assert_eq!(stored_format(None), "POSITIONAL");
    }
}
