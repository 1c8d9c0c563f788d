//! Tenants: the businesses that use Switchboard. Everything else belongs to exactly one.

use anyhow::{Context, bail};
use sqlx::PgConnection;

use super::ids::TenantId;

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

/// Sets the keywords that opt a customer out of marketing messages, or back in (upper case).
pub async fn set_keywords(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    opt_out: &[String],
    opt_in: &[String],
) -> anyhow::Result<()> {
    sqlx::query!(
        "update tenants set opt_out_keywords = $2, opt_in_keywords = $3 where id = $1",
        tenant_id as TenantId,
        opt_out,
        opt_in
    )
    .execute(conn)
    .await
    .context("set opt-out keywords")?;
    Ok(())
}

/// Sets the template language offered first to customers whose language is unknown (`en`,
/// `pt_BR`, …).
pub async fn set_default_language(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    language: &str,
) -> anyhow::Result<()> {
    sqlx::query!(
        "update tenants set default_language = $2 where id = $1",
        tenant_id as TenantId,
        language
    )
    .execute(conn)
    .await
    .context("set the default template language")?;
    Ok(())
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
