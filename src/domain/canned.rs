//! Canned responses: tenant-wide snippets an agent inserts in a reply by typing `/shortcut`.
//! Any agent creates them from the composer; admins manage them in the console.

use anyhow::Context;
use serde_json::json;
use sqlx::PgConnection;

use super::{
    audit,
    ids::{CannedResponseId, TenantId, UserId},
};

/// A snippet.
#[derive(Debug, Clone)]
pub struct Canned {
    pub id: CannedResponseId,
    pub shortcut: String,
    pub body: String,
}

/// The tenant's snippets, by shortcut.
pub async fn list(conn: &mut PgConnection, tenant_id: TenantId) -> anyhow::Result<Vec<Canned>> {
    sqlx::query_as!(
        Canned,
        r#"select id as "id: CannedResponseId", shortcut, body from canned_responses
           where tenant_id = $1 order by shortcut"#,
        tenant_id as TenantId
    )
    .fetch_all(conn)
    .await
    .context("list canned responses")
}

/// Why a snippet was not saved.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CannedRefused {
    #[error("A shortcut is 1 to 32 lower-case letters, digits, - or _.")]
    BadShortcut,
    #[error("A canned response has 1 to 4096 characters.")]
    BadBody,
    #[error("The shortcut /{0} is taken.")]
    Taken(String),
}

/// Saves a snippet as `shortcut` (a leading `/` is dropped).
pub async fn create(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: UserId,
    shortcut: &str,
    body: &str,
) -> anyhow::Result<Result<CannedResponseId, CannedRefused>> {
    let shortcut = shortcut.trim().trim_start_matches('/');
    let valid = (1..=32).contains(&shortcut.len())
        && shortcut
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        return Ok(Err(CannedRefused::BadShortcut));
    }
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 4096 {
        return Ok(Err(CannedRefused::BadBody));
    }
    let id = sqlx::query_scalar!(
        r#"insert into canned_responses (tenant_id, shortcut, body, created_by) values ($1, $2, $3, $4)
           on conflict (tenant_id, shortcut) do nothing returning id as "id: CannedResponseId""#,
        tenant_id as TenantId,
        shortcut,
        body,
        by as UserId
    )
    .fetch_optional(conn)
    .await
    .context("save canned response")?;
    Ok(id.ok_or_else(|| CannedRefused::Taken(shortcut.to_owned())))
}

/// Replaces a snippet's text; audited. `None` when it is not the tenant's.
pub async fn update(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: UserId,
    id: CannedResponseId,
    body: &str,
) -> anyhow::Result<Option<Result<(), CannedRefused>>> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 4096 {
        return Ok(Some(Err(CannedRefused::BadBody)));
    }
    let shortcut = sqlx::query_scalar!(
        "update canned_responses set body = $3 where tenant_id = $1 and id = $2 returning shortcut",
        tenant_id as TenantId,
        id as CannedResponseId,
        body
    )
    .fetch_optional(&mut *conn)
    .await
    .context("change canned response")?;
    let Some(shortcut) = shortcut else {
        return Ok(None);
    };
    audit::record(
        conn,
        tenant_id,
        Some(by),
        "canned.update",
        json!({ "shortcut": shortcut }),
    )
    .await?;
    Ok(Some(Ok(())))
}

/// Deletes a snippet; audited. `None` when it is not the tenant's.
pub async fn delete(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: UserId,
    id: CannedResponseId,
) -> anyhow::Result<Option<()>> {
    let shortcut = sqlx::query_scalar!(
        "delete from canned_responses where tenant_id = $1 and id = $2 returning shortcut",
        tenant_id as TenantId,
        id as CannedResponseId
    )
    .fetch_optional(&mut *conn)
    .await
    .context("delete canned response")?;
    let Some(shortcut) = shortcut else {
        return Ok(None);
    };
    audit::record(
        conn,
        tenant_id,
        Some(by),
        "canned.delete",
        json!({ "shortcut": shortcut }),
    )
    .await?;
    Ok(Some(()))
}
