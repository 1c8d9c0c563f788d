//! Customers, per tenant. Meta names a customer by phone (`wa_id`) and, since 2025, by a
//! business-scoped user id that may come without any phone; both find the same contact. Marketing
//! opt-outs are ordered by Meta's timestamps, whichever way they arrive (the tenant's STOP/START
//! keywords, a 131050 refusal, WhatsApp's own marketing preferences), so a late one never undoes a
//! newer one.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::ids::{ContactId, TenantId};

/// Who a customer is, as far as Meta told us.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity<'a> {
    pub wa_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub profile_name: Option<&'a str>,
}

/// Finds or creates the tenant's contact for `who`, filling in what Meta newly told us; needs a
/// `wa_id` or a `user_id`.
pub async fn upsert(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    who: Identity<'_>,
) -> anyhow::Result<ContactId> {
    if let Some(wa_id) = who.wa_id {
        return sqlx::query_scalar!(
            r#"insert into contacts (tenant_id, wa_id, user_id, profile_name) values ($1, $2, $3, $4)
             on conflict (tenant_id, wa_id) where wa_id is not null do update set
                 user_id = coalesce(excluded.user_id, contacts.user_id),
                 profile_name = coalesce(excluded.profile_name, contacts.profile_name),
                 updated_at = now()
             returning id as "id: ContactId""#,
            tenant_id as TenantId,
            wa_id,
            who.user_id,
            who.profile_name
        )
        .fetch_one(conn)
        .await
        .context("upsert contact by wa_id");
    }
    // Only a business-scoped user id: prefer the contact that already has it (with a phone, if any).
    let user_id = who.user_id.context("a customer without wa_id or user_id")?;
    let known = sqlx::query_scalar!(
        r#"update contacts set profile_name = coalesce($3, profile_name), updated_at = now()
         where id = (select id from contacts where tenant_id = $1 and user_id = $2
                     order by wa_id is null, id limit 1)
         returning id as "id: ContactId""#,
        tenant_id as TenantId,
        user_id,
        who.profile_name
    )
    .fetch_optional(&mut *conn)
    .await
    .context("update contact by user_id")?;
    if let Some(id) = known {
        return Ok(id);
    }
    sqlx::query_scalar!(
        r#"insert into contacts (tenant_id, user_id, profile_name) values ($1, $2, $3)
         on conflict (tenant_id, user_id) where wa_id is null do update set
             profile_name = coalesce(excluded.profile_name, contacts.profile_name)
         returning id as "id: ContactId""#,
        tenant_id as TenantId,
        user_id,
        who.profile_name
    )
    .fetch_one(conn)
    .await
    .context("create contact by user_id")
}

/// Opts the customer out of marketing messages (`opted_out`) or back in, as of Meta's time `at`,
/// unless a later change is already recorded.
pub async fn record_opt_change(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    contact_id: ContactId,
    opted_out: bool,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query!(
        "update contacts set
             opted_out_at = case when $3 then coalesce(opted_out_at, $4) end,
             opt_changed_at = $4, updated_at = now()
         where tenant_id = $1 and id = $2 and (opt_changed_at is null or opt_changed_at < $4)",
        tenant_id as TenantId,
        contact_id as ContactId,
        opted_out,
        at
    )
    .execute(conn)
    .await
    .context("record a marketing opt-out change")?;
    Ok(())
}

/// The same rule for a customer's message that is exactly one of the tenant's opt-out or opt-in
/// keywords (`words`, upper case); other messages change nothing.
pub async fn apply_opt_keyword(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    contact_id: ContactId,
    words: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query!(
        "update contacts c set
             opted_out_at = case when $3 = any(t.opt_out_keywords) then coalesce(c.opted_out_at, $4) end,
             opt_changed_at = $4, updated_at = now()
         from tenants t
         where c.tenant_id = $1 and c.id = $2 and t.id = c.tenant_id
           and ($3 = any(t.opt_out_keywords) or $3 = any(t.opt_in_keywords))
           and (c.opt_changed_at is null or c.opt_changed_at < $4)",
        tenant_id as TenantId,
        contact_id as ContactId,
        words,
        at
    )
    .execute(conn)
    .await
    .context("apply opt-out keyword")?;
    Ok(())
}
