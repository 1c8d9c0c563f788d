//! Tenants: the businesses that use Switchboard. Everything else belongs to exactly one.

use anyhow::{Context, bail};
use serde_json::json;
use sqlx::PgConnection;

use super::{
    audit,
    ids::{TenantId, UserId},
};

/// A tenant as the CLI and admin pages see it.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
}

/// Creates a tenant; its slug is derived from the name (`Acme Support` → `acme-support`).
pub async fn create(conn: &mut PgConnection, name: &str) -> anyhow::Result<Tenant> {
    let name = name.trim();
    let slug = slugify(name);
    if slug.is_empty() {
        bail!("a tenant name needs at least one letter or digit");
    }
    let created = sqlx::query_as!(
        Tenant,
        r#"insert into tenants (slug, name) values ($1, $2)
           on conflict (slug) do nothing
           returning id as "id: TenantId", slug, name"#,
        slug,
        name
    )
    .fetch_optional(&mut *conn)
    .await
    .context("create tenant")?;
    created.with_context(|| format!("a tenant with the slug {slug:?} already exists"))
}

/// Finds a tenant by slug.
pub async fn find_by_slug(conn: &mut PgConnection, slug: &str) -> anyhow::Result<Option<Tenant>> {
    sqlx::query_as!(
        Tenant,
        r#"select id as "id: TenantId", slug, name from tenants where slug = $1"#,
        slug
    )
    .fetch_optional(conn)
    .await
    .context("look up tenant")
}

/// Like [`find_by_slug`], but a missing tenant is an error naming the slug.
pub async fn get_by_slug(conn: &mut PgConnection, slug: &str) -> anyhow::Result<Tenant> {
    find_by_slug(conn, slug)
        .await?
        .with_context(|| format!("unknown tenant {slug:?}"))
}

/// Why a tenant setting was not changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingRefused {
    #[error("give at least one opt-out and one opt-in keyword")]
    NoKeywords,
    #[error("{0:?} is not a template language code such as en, es or pt_BR")]
    BadLanguage(String),
}

/// Sets the keywords that opt a customer out of marketing messages, or back in (stored upper
/// case, blanks dropped); audited. Returns what was stored.
pub async fn set_keywords(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: Option<UserId>,
    opt_out: &[String],
    opt_in: &[String],
) -> anyhow::Result<Result<(Vec<String>, Vec<String>), SettingRefused>> {
    let (opt_out, opt_in) = (keywords(opt_out), keywords(opt_in));
    if opt_out.is_empty() || opt_in.is_empty() {
        return Ok(Err(SettingRefused::NoKeywords));
    }
    sqlx::query!(
        "update tenants set opt_out_keywords = $2, opt_in_keywords = $3 where id = $1",
        tenant_id as TenantId,
        &opt_out,
        &opt_in
    )
    .execute(&mut *conn)
    .await
    .context("set opt-out keywords")?;
    let details = json!({ "opt_out": opt_out, "opt_in": opt_in });
    audit::record(conn, tenant_id, by, "tenant.keywords", details).await?;
    Ok(Ok((opt_out, opt_in)))
}

/// Keywords as they are matched: trimmed, upper case, each once.
fn keywords(words: &[String]) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for word in words.iter().map(|w| w.trim().to_uppercase()) {
        if !word.is_empty() && !kept.contains(&word) {
            kept.push(word);
        }
    }
    kept
}

/// Sets the template language offered first to customers whose language is unknown (`en`,
/// `pt_BR`, …); audited.
pub async fn set_default_language(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: Option<UserId>,
    language: &str,
) -> anyhow::Result<Result<(), SettingRefused>> {
    let language = language.trim();
    let valid = |c: char| c.is_ascii_alphabetic() || c == '_';
    if language.is_empty() || language.len() > 16 || !language.chars().all(valid) {
        return Ok(Err(SettingRefused::BadLanguage(language.to_owned())));
    }
    sqlx::query!(
        "update tenants set default_language = $2 where id = $1",
        tenant_id as TenantId,
        language
    )
    .execute(&mut *conn)
    .await
    .context("set the default template language")?;
    let details = json!({ "default_language": language });
    audit::record(conn, tenant_id, by, "tenant.language", details).await?;
    Ok(Ok(()))
}

/// The tenant's opt-out and opt-in keywords and default template language.
pub struct Settings {
    pub opt_out_keywords: Vec<String>,
    pub opt_in_keywords: Vec<String>,
    pub default_language: String,
}

/// The tenant's settings.
pub async fn settings(conn: &mut PgConnection, tenant_id: TenantId) -> anyhow::Result<Settings> {
    sqlx::query_as!(
        Settings,
        "select opt_out_keywords, opt_in_keywords, default_language from tenants where id = $1",
        tenant_id as TenantId
    )
    .fetch_one(conn)
    .await
    .context("read the tenant's settings")
}

/// Lower-case ASCII letters and digits, words joined by single dashes.
pub fn slugify(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_are_lowercase_words_joined_by_dashes() {
        assert_eq!(slugify("Acme Support"), "acme-support");
        assert_eq!(slugify("  Tío's  Café & Bar!! "), "t-o-s-caf-bar");
        assert_eq!(slugify("***"), "");
    }
}
