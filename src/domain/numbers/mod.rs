//! Business phone numbers: each belongs to one tenant and one Meta app, and carries the sealed access
//! token used to send from it. Webhooks are routed by `phone_number_id` through here. Registering a
//! number (with its app) is a service every setup surface calls: the CLI, the admin console.

pub mod health;
pub mod lifecycle;
pub mod overview;
pub mod setup;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sqlx::PgConnection;

use crate::{
    crypto::Cipher,
    domain::{
        apps::{self, AppSecrets},
        audit,
        ids::{AppId, NumberId, TenantId, UserId},
        secrets::Rotation,
    },
};

/// Where a webhook for a number lands: the number's row and its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub number_id: NumberId,
    pub tenant_id: TenantId,
}

/// A number to register.
pub struct NewNumber<'a> {
    pub tenant_id: TenantId,
    pub app_id: AppId,
    pub phone_number_id: &'a str,
    pub waba_id: &'a str,
    pub display_phone_number: Option<&'a str>,
    pub access_token: SecretString,
    /// A sandbox number talks to Switchboard's fake Graph API, never to Meta.
    pub sandbox: bool,
}

/// Registers a number; a `phone_number_id` can be registered once across all tenants.
pub async fn add(
    conn: &mut PgConnection,
    cipher: &Cipher,
    number: NewNumber<'_>,
) -> anyhow::Result<NumberId> {
    let token = cipher.seal(
        number.access_token.expose_secret().as_bytes(),
        &token_context(number.phone_number_id),
    );
    let id = sqlx::query_scalar!(
        r#"insert into phone_numbers
            (tenant_id, app_id, phone_number_id, waba_id, display_phone_number, access_token_encrypted, sandbox)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (phone_number_id) do nothing
         returning id as "id: NumberId""#,
        number.tenant_id as TenantId,
        number.app_id as AppId,
        number.phone_number_id,
        number.waba_id,
        number.display_phone_number,
        token,
        number.sandbox
    )
    .fetch_optional(conn)
    .await
    .context("register phone number")?;
    id.with_context(|| {
        format!(
            "phone number id {} is already registered",
            number.phone_number_id
        )
    })
}

/// A number to register with the Meta app it belongs to, as an operator or an admin gives it.
pub struct Registration<'a> {
    pub tenant_id: TenantId,
    /// Meta's App ID; the app is created on first use and reused after.
    pub meta_app_id: &'a str,
    /// Needed for a new app; for a known app, they replace the stored ones (rotation).
    pub app_secrets: Option<AppSecrets>,
    pub phone_number_id: &'a str,
    pub waba_id: &'a str,
    /// The number as people see it, e.g. "+1 555 078 3881".
    pub display_phone_number: Option<&'a str>,
    pub access_token: SecretString,
    /// The admin registering it, for the audit trail; `None` for the operator.
    pub by: Option<UserId>,
}

/// Registers a number and its app (created on first use, see [`apps::ensure`]) and records it in
/// the audit trail; returns the number's row id. The caller owns the transaction, so a refusal
/// (an app of another tenant, a number already registered) leaves nothing behind.
pub async fn register(
    conn: &mut PgConnection,
    cipher: &Cipher,
    registration: Registration<'_>,
) -> anyhow::Result<NumberId> {
    let Registration {
        tenant_id,
        meta_app_id,
        app_secrets,
        phone_number_id,
        waba_id,
        display_phone_number,
        access_token,
        by,
    } = registration;
    let app_id = apps::ensure(conn, cipher, tenant_id, meta_app_id, app_secrets).await?;
    let number = NewNumber {
        tenant_id,
        app_id,
        phone_number_id,
        waba_id,
        display_phone_number,
        access_token,
        sandbox: false,
    };
    let id = add(conn, cipher, number).await?;
    let details =
        json!({ "phone_number_id": phone_number_id, "waba_id": waba_id, "app_id": meta_app_id });
    audit::record(conn, tenant_id, by, "number.add", details).await?;
    Ok(id)
}

/// The number with this `phone_number_id`, if it is registered under the app `app_id`. Across
/// tenants: a webhook names only the app and the number, and this finds whose they are.
pub async fn route_for_app(
    conn: &mut PgConnection,
    app_id: AppId,
    phone_number_id: &str,
) -> anyhow::Result<Option<Route>> {
    sqlx::query_as!(
        Route,
        r#"select id as "number_id: NumberId", tenant_id as "tenant_id: TenantId" from phone_numbers
           where phone_number_id = $1 and app_id = $2 and removed_at is null"#,
        phone_number_id,
        app_id as AppId
    )
    .fetch_optional(conn)
    .await
    .context("route webhook to phone number")
}

/// The tenant that owns WABA `waba_id` through the app `app_id`, for account-level events. Across
/// tenants: the webhook names only the app and the WABA, and this finds whose they are.
pub async fn tenant_for_waba(
    conn: &mut PgConnection,
    app_id: AppId,
    waba_id: &str,
) -> anyhow::Result<Option<TenantId>> {
    sqlx::query_scalar!(
        r#"select tenant_id as "tenant_id: TenantId" from phone_numbers
           where app_id = $1 and waba_id = $2 limit 1"#,
        app_id as AppId,
        waba_id
    )
    .fetch_optional(conn)
    .await
    .context("route account event to WABA")
}

/// Re-seals every access token that is not sealed with the cipher's current key and format (key
/// rotation), counting them in `rotation`. Locks the numbers until the caller's transaction ends.
/// Across tenants: key rotation is the operator's, for every tenant at once.
pub async fn reseal_all(
    conn: &mut PgConnection,
    cipher: &Cipher,
    rotation: &mut Rotation,
) -> anyhow::Result<()> {
    let numbers = sqlx::query!(
        "select id, phone_number_id, access_token_encrypted from phone_numbers order by id for update"
    )
    .fetch_all(&mut *conn)
    .await
    .context("read the sealed access tokens")?;
    for number in numbers {
        let context = token_context(&number.phone_number_id);
        let resealed = rotation
            .reseal(cipher, &number.access_token_encrypted, &context)
            .with_context(|| {
                format!(
                    "access token of number {} (phone_numbers.id {})",
                    number.phone_number_id, number.id
                )
            })?;
        let Some(token) = resealed else { continue };
        // `updated_at` stays: the token is the same, only its sealing changed.
        sqlx::query!(
            "update phone_numbers set access_token_encrypted = $2 where id = $1",
            number.id,
            token
        )
        .execute(&mut *conn)
        .await
        .context("write a re-sealed access token")?;
    }
    Ok(())
}

fn token_context(phone_number_id: &str) -> String {
    format!("phone_numbers.access_token:{phone_number_id}")
}

/// What sending from a number needs: its ids, its sealed token opened, its limits.
pub struct NumberCredentials {
    pub id: NumberId,
    pub tenant_id: TenantId,
    pub phone_number_id: String,
    pub waba_id: String,
    /// Meta's App ID of the app the number belongs to.
    pub meta_app_id: String,
    pub access_token: SecretString,
    pub sandbox: bool,
    pub max_messages_per_second: i32,
}

/// Loads the credentials of the tenant's number `id`; an error if it is not the tenant's.
pub async fn credentials(
    conn: &mut PgConnection,
    cipher: &Cipher,
    tenant_id: TenantId,
    id: NumberId,
) -> anyhow::Result<NumberCredentials> {
    let row = sqlx::query!(
        r#"select n.id as "id: NumberId", n.tenant_id as "tenant_id: TenantId", n.phone_number_id,
                  n.waba_id, a.meta_app_id, n.access_token_encrypted, n.sandbox,
                  n.max_messages_per_second
           from phone_numbers n join meta_apps a on a.id = n.app_id
           where n.tenant_id = $1 and n.id = $2"#,
        tenant_id as TenantId,
        id as NumberId
    )
    .fetch_one(conn)
    .await
    .context("load phone number credentials")?;
    Ok(NumberCredentials {
        access_token: cipher.open_string(
            &row.access_token_encrypted,
            &token_context(&row.phone_number_id),
        )?,
        id: row.id,
        tenant_id: row.tenant_id,
        phone_number_id: row.phone_number_id,
        waba_id: row.waba_id,
        meta_app_id: row.meta_app_id,
        sandbox: row.sandbox,
        max_messages_per_second: row.max_messages_per_second,
    })
}

/// The credentials of the tenant's number `id`, unless it is another tenant's or was removed.
pub async fn credentials_if_active(
    conn: &mut PgConnection,
    cipher: &Cipher,
    tenant_id: TenantId,
    id: NumberId,
) -> anyhow::Result<Option<NumberCredentials>> {
    if !is_active(conn, tenant_id, id).await? {
        return Ok(None);
    }
    credentials(conn, cipher, tenant_id, id).await.map(Some)
}

/// The number with Meta's `phone_number_id` and its tenant, whichever it is. Across tenants: for
/// the operator's command line and the sandbox, which name a number by Meta's id alone; the tenant
/// found is then passed to the tenant's queries.
pub async fn route_by_phone_number_id(
    conn: &mut PgConnection,
    phone_number_id: &str,
) -> anyhow::Result<Option<Route>> {
    sqlx::query_as!(
        Route,
        r#"select id as "number_id: NumberId", tenant_id as "tenant_id: TenantId"
           from phone_numbers where phone_number_id = $1"#,
        phone_number_id
    )
    .fetch_optional(conn)
    .await
    .context("look up phone number")
}

/// The row id of the tenant's number with Meta's `phone_number_id`; `None` if it is another
/// tenant's or nobody's.
pub async fn id_for_tenant(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    phone_number_id: &str,
) -> anyhow::Result<Option<NumberId>> {
    sqlx::query_scalar!(
        r#"select id as "id: NumberId" from phone_numbers
           where tenant_id = $1 and phone_number_id = $2"#,
        tenant_id as TenantId,
        phone_number_id
    )
    .fetch_optional(conn)
    .await
    .context("look up the tenant's phone number")
}

/// The tenant's numbers that are not removed, oldest first.
pub async fn active_ids(
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> anyhow::Result<Vec<NumberId>> {
    sqlx::query_scalar!(
        r#"select id as "id: NumberId" from phone_numbers
           where tenant_id = $1 and removed_at is null order by id"#,
        tenant_id as TenantId
    )
    .fetch_all(conn)
    .await
    .context("list the tenant's numbers")
}

/// Whether `id` is one of the tenant's numbers, not removed.
pub async fn is_active(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    id: NumberId,
) -> anyhow::Result<bool> {
    let found = sqlx::query_scalar!(
        r#"select true as "found!" from phone_numbers
           where tenant_id = $1 and id = $2 and removed_at is null"#,
        tenant_id as TenantId,
        id as NumberId
    )
    .fetch_optional(conn)
    .await
    .context("look up the tenant's number")?;
    Ok(found.is_some())
}

/// One number of each of the tenant's WABAs (calls on a WABA need a token of one of its numbers).
pub async fn one_per_waba(
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> anyhow::Result<Vec<NumberId>> {
    sqlx::query_scalar!(
        r#"select min(id) as "id!: NumberId" from phone_numbers where tenant_id = $1
           group by waba_id order by 1"#,
        tenant_id as TenantId
    )
    .fetch_all(conn)
    .await
    .context("list the tenant's WABAs")
}

/// The tenant's first number in WABA `waba_id` that is not removed: the one whose token template
/// calls use.
pub async fn first_in_waba(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    waba_id: &str,
) -> anyhow::Result<Option<NumberId>> {
    sqlx::query_scalar!(
        r#"select min(id) as "id: NumberId" from phone_numbers
           where tenant_id = $1 and waba_id = $2 and removed_at is null"#,
        tenant_id as TenantId,
        waba_id
    )
    .fetch_one(conn)
    .await
    .context("find a number of the WABA")
}

/// The WABAs of the tenant's numbers that are not removed.
pub async fn wabas(conn: &mut PgConnection, tenant_id: TenantId) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"select distinct waba_id as "waba_id!" from phone_numbers
           where tenant_id = $1 and removed_at is null order by 1"#,
        tenant_id as TenantId
    )
    .fetch_all(conn)
    .await
    .context("list the tenant's WABAs")
}

/// The WABA the tenant's number belongs to.
pub async fn waba_of(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    id: NumberId,
) -> anyhow::Result<String> {
    sqlx::query_scalar!(
        "select waba_id from phone_numbers where tenant_id = $1 and id = $2",
        tenant_id as TenantId,
        id as NumberId
    )
    .fetch_one(conn)
    .await
    .context("look up the number's WABA")
}

/// Sets how many messages per second the tenant's number may send. Audited.
pub async fn set_rate_limit(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: Option<UserId>,
    id: NumberId,
    per_second: i32,
) -> anyhow::Result<()> {
    let phone_number_id = sqlx::query_scalar!(
        "update phone_numbers set max_messages_per_second = $3, updated_at = now()
         where tenant_id = $1 and id = $2 returning phone_number_id",
        tenant_id as TenantId,
        id as NumberId,
        per_second
    )
    .fetch_one(&mut *conn)
    .await
    .context("set the number's rate limit")?;
    let details = json!({ "phone_number_id": phone_number_id, "per_second": per_second });
    audit::record(conn, tenant_id, by, "number.limit", details).await
}

/// Whether the inbox marks the number's customers' messages read at Meta (blue ticks) when an
/// agent opens their conversation. Audited.
pub async fn set_read_receipts(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: Option<UserId>,
    id: NumberId,
    on: bool,
) -> anyhow::Result<()> {
    let phone_number_id = sqlx::query_scalar!(
        "update phone_numbers set send_read_receipts = $3, updated_at = now()
         where tenant_id = $1 and id = $2 returning phone_number_id",
        tenant_id as TenantId,
        id as NumberId,
        on
    )
    .fetch_one(&mut *conn)
    .await
    .context("set the number's read receipts")?;
    let details = json!({ "phone_number_id": phone_number_id, "read_receipts": on });
    audit::record(conn, tenant_id, by, "number.read_receipts", details).await
}
