//! Meta apps: each has the secret that signs its webhooks and the token for Meta's handshake. Both
//! are sealed at rest; an app belongs to one tenant, so one tenant's secret never vouches for another.

use std::{sync::Arc, time::Duration};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use crate::{
    cache::ReadThrough,
    crypto::{Cipher, tokens::random_token},
    domain::{
        audit,
        ids::{AppId, TenantId, UserId},
        secrets::Rotation,
    },
};

/// How sandbox apps' ids begin (`sandbox-app-{tenant id}`): Switchboard's own, never Meta's.
pub const SANDBOX_APP_PREFIX: &str = "sandbox-app-";

/// The most digits accepted in an App ID; Meta's have 15 or 16.
const MAX_APP_ID_DIGITS: usize = 32;

/// Whether `meta_app_id` can name an app: Meta's App IDs are decimal digits, sandbox apps'
/// [`SANDBOX_APP_PREFIX`] and digits. Anything else names no app, and is refused before it reaches
/// the database (where, say, a NUL byte is an error rather than a miss).
pub fn is_app_id(meta_app_id: &str) -> bool {
    let digits = meta_app_id
        .strip_prefix(SANDBOX_APP_PREFIX)
        .unwrap_or(meta_app_id);
    (1..=MAX_APP_ID_DIGITS).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// An app with its secrets opened, for verifying webhooks.
pub struct AppCredentials {
    pub id: AppId,
    pub tenant_id: TenantId,
    pub app_secret: SecretString,
    pub verify_token: SecretString,
}

/// The secrets an operator supplies for an app.
pub struct AppSecrets {
    pub app_secret: SecretString,
    pub verify_token: SecretString,
}

/// Loads the app registered under Meta's App ID, with its secrets opened. Across tenants: a webhook
/// names only the app, and the app found says whose it is.
pub async fn find_credentials(
    conn: &mut PgConnection,
    cipher: &Cipher,
    meta_app_id: &str,
) -> anyhow::Result<Option<AppCredentials>> {
    let row = sqlx::query!(
        r#"select id as "id: AppId", tenant_id as "tenant_id: TenantId", app_secret_encrypted,
                  verify_token_encrypted
           from meta_apps where meta_app_id = $1"#,
        meta_app_id
    )
    .fetch_optional(conn)
    .await
    .context("look up Meta app")?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(AppCredentials {
        id: row.id,
        tenant_id: row.tenant_id,
        app_secret: cipher.open_string(&row.app_secret_encrypted, &secret_context(meta_app_id))?,
        verify_token: cipher
            .open_string(&row.verify_token_encrypted, &token_context(meta_app_id))?,
    }))
}

/// Returns the tenant's app with this Meta App ID, creating it on first use. Secrets given for an
/// existing app replace the stored ones (rotation); a new app needs both.
pub async fn ensure(
    conn: &mut PgConnection,
    cipher: &Cipher,
    tenant_id: TenantId,
    meta_app_id: &str,
    secrets: Option<AppSecrets>,
) -> anyhow::Result<AppId> {
    if !is_app_id(meta_app_id) {
        // Its webhooks could never reach it: the endpoint answers 404 for such an id.
        bail!(
            "{meta_app_id:?} is not a Meta App ID (decimal digits, as the app dashboard shows it)"
        );
    }
    let existing = sqlx::query!(
        r#"select id as "id: AppId", tenant_id as "tenant_id: TenantId"
           from meta_apps where meta_app_id = $1"#,
        meta_app_id
    )
    .fetch_optional(&mut *conn)
    .await
    .context("look up Meta app")?;
    match (existing, secrets) {
        (Some(app), _) if app.tenant_id != tenant_id => {
            bail!("Meta app {meta_app_id} is registered to another tenant")
        }
        (Some(app), None) => Ok(app.id),
        (Some(app), Some(secrets)) => {
            let (secret, token) = seal(cipher, meta_app_id, &secrets);
            sqlx::query!(
                "update meta_apps set app_secret_encrypted = $2, verify_token_encrypted = $3,
                 updated_at = now() where id = $1",
                app.id as AppId,
                secret,
                token
            )
            .execute(conn)
            .await
            .context("update Meta app secrets")?;
            Ok(app.id)
        }
        (None, None) => {
            bail!(
                "Meta app {meta_app_id} is new: META_APP_SECRET and META_VERIFY_TOKEN are required"
            )
        }
        (None, Some(secrets)) => {
            let (secret, token) = seal(cipher, meta_app_id, &secrets);
            sqlx::query_scalar!(
                r#"insert into meta_apps (tenant_id, meta_app_id, app_secret_encrypted, verify_token_encrypted)
                 values ($1, $2, $3, $4) returning id as "id: AppId""#,
                tenant_id as TenantId,
                meta_app_id,
                secret,
                token
            )
            .fetch_one(conn)
            .await
            .context("create Meta app")
        }
    }
}

/// Why an admin's new app was not created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppRefused {
    #[error("an App ID is the number the app dashboard shows, digits only")]
    InvalidId,
    #[error("this app is already registered in Switchboard")]
    Taken,
    #[error("the app secret is needed: it signs the app's webhooks")]
    SecretMissing,
}

/// Registers a tenant's app for an admin; a verify token left blank is generated. Audited.
pub async fn create(
    conn: &mut PgConnection,
    cipher: &Cipher,
    tenant_id: TenantId,
    by: UserId,
    meta_app_id: &str,
    app_secret: Option<SecretString>,
    verify_token: Option<SecretString>,
) -> anyhow::Result<Result<AppId, AppRefused>> {
    let meta_app_id = meta_app_id.trim();
    if !is_app_id(meta_app_id) || meta_app_id.starts_with(SANDBOX_APP_PREFIX) {
        return Ok(Err(AppRefused::InvalidId));
    }
    let Some(app_secret) = app_secret else {
        return Ok(Err(AppRefused::SecretMissing));
    };
    let secrets = AppSecrets {
        app_secret,
        verify_token: verify_token.unwrap_or_else(|| random_token().into()),
    };
    let (secret, token) = seal(cipher, meta_app_id, &secrets);
    let id = sqlx::query_scalar!(
        r#"insert into meta_apps (tenant_id, meta_app_id, app_secret_encrypted, verify_token_encrypted)
           values ($1, $2, $3, $4)
           on conflict (meta_app_id) do nothing
           returning id as "id: AppId""#,
        tenant_id as TenantId,
        meta_app_id,
        secret,
        token
    )
    .fetch_optional(&mut *conn)
    .await
    .context("create Meta app")?;
    let Some(id) = id else {
        return Ok(Err(AppRefused::Taken));
    };
    audit::record(
        conn,
        tenant_id,
        Some(by),
        "app.add",
        json!({ "app_id": meta_app_id }),
    )
    .await?;
    Ok(Ok(id))
}

/// Replaces the secrets an admin typed again (a blank field keeps the stored one); audited with
/// which of them changed, never their values. `None` when the app is not the tenant's.
pub async fn change_secrets(
    conn: &mut PgConnection,
    cipher: &Cipher,
    tenant_id: TenantId,
    by: UserId,
    id: AppId,
    app_secret: Option<SecretString>,
    verify_token: Option<SecretString>,
) -> anyhow::Result<Option<()>> {
    let Some(meta_app_id) = sqlx::query_scalar!(
        "select meta_app_id from meta_apps where tenant_id = $1 and id = $2 for update",
        tenant_id as TenantId,
        id as AppId
    )
    .fetch_optional(&mut *conn)
    .await
    .context("look up the app")?
    else {
        return Ok(None);
    };
    let secret = app_secret.as_ref().map(|secret| {
        cipher.seal(
            secret.expose_secret().as_bytes(),
            &secret_context(&meta_app_id),
        )
    });
    let token = verify_token.as_ref().map(|token| {
        cipher.seal(
            token.expose_secret().as_bytes(),
            &token_context(&meta_app_id),
        )
    });
    let changed: Vec<&str> = [
        secret.as_ref().map(|_| "app_secret"),
        token.as_ref().map(|_| "verify_token"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if changed.is_empty() {
        return Ok(Some(()));
    }
    sqlx::query!(
        "update meta_apps set app_secret_encrypted = coalesce($3, app_secret_encrypted),
             verify_token_encrypted = coalesce($4, verify_token_encrypted), updated_at = now()
         where tenant_id = $1 and id = $2",
        tenant_id as TenantId,
        id as AppId,
        secret,
        token
    )
    .execute(&mut *conn)
    .await
    .context("change the app's secrets")?;
    let details = json!({ "app_id": meta_app_id, "changed": changed });
    audit::record(conn, tenant_id, Some(by), "app.secrets", details).await?;
    Ok(Some(()))
}

/// An app as the console shows it: the verify token in full (the admin pastes it into Meta's
/// dashboard), the app secret by its last characters only.
pub struct AppSummary {
    pub id: AppId,
    pub meta_app_id: String,
    pub verify_token: String,
    pub secret_ending: String,
    /// When Meta last completed the callback URL's handshake.
    pub handshake_at: Option<DateTime<Utc>>,
    /// When the app's newest signed webhook arrived.
    pub last_webhook_at: Option<DateTime<Utc>>,
}

/// The tenant's apps, sandbox apps apart, oldest first.
pub async fn summaries(
    conn: &mut PgConnection,
    cipher: &Cipher,
    tenant_id: TenantId,
) -> anyhow::Result<Vec<AppSummary>> {
    let rows = sqlx::query!(
        r#"select a.id as "id: AppId", a.meta_app_id, a.app_secret_encrypted,
                  a.verify_token_encrypted, a.handshake_at,
                  (select e.received_at from webhook_events e where e.app_id = a.id
                   order by e.id desc limit 1) as last_webhook_at
           from meta_apps a
           where a.tenant_id = $1 and a.meta_app_id not like 'sandbox-app-%'
           order by a.id"#,
        tenant_id as TenantId
    )
    .fetch_all(conn)
    .await
    .context("list the tenant's apps")?;
    rows.into_iter()
        .map(|row| {
            let secret =
                cipher.open_string(&row.app_secret_encrypted, &secret_context(&row.meta_app_id))?;
            let token = cipher.open_string(
                &row.verify_token_encrypted,
                &token_context(&row.meta_app_id),
            )?;
            Ok(AppSummary {
                id: row.id,
                secret_ending: ending(secret.expose_secret()),
                verify_token: token.expose_secret().to_owned(),
                meta_app_id: row.meta_app_id,
                handshake_at: row.handshake_at,
                last_webhook_at: row.last_webhook_at,
            })
        })
        .collect()
}

/// Records that Meta completed the callback URL's handshake for the app. Across tenants: the
/// handshake names only the app.
pub async fn record_handshake(db: &PgPool, id: AppId) -> anyhow::Result<()> {
    sqlx::query!(
        "update meta_apps set handshake_at = now() where id = $1",
        id as AppId
    )
    .execute(db)
    .await
    .context("record the webhook handshake")?;
    Ok(())
}

/// The last four characters of a secret, which is all the console ever shows of it again.
pub fn ending(secret: &str) -> String {
    let count = secret.chars().count();
    secret.chars().skip(count.saturating_sub(4)).collect()
}

fn seal(cipher: &Cipher, meta_app_id: &str, secrets: &AppSecrets) -> (Vec<u8>, Vec<u8>) {
    (
        cipher.seal(
            secrets.app_secret.expose_secret().as_bytes(),
            &secret_context(meta_app_id),
        ),
        cipher.seal(
            secrets.verify_token.expose_secret().as_bytes(),
            &token_context(meta_app_id),
        ),
    )
}

/// Re-seals every app's secrets that are not sealed with the cipher's current key and format (key
/// rotation), counting them in `rotation`. Locks the apps until the caller's transaction ends.
/// Across tenants: key rotation is the operator's, for every tenant at once.
pub async fn reseal_all(
    conn: &mut PgConnection,
    cipher: &Cipher,
    rotation: &mut Rotation,
) -> anyhow::Result<()> {
    let apps = sqlx::query!(
        "select id, meta_app_id, app_secret_encrypted, verify_token_encrypted
         from meta_apps order by id for update"
    )
    .fetch_all(&mut *conn)
    .await
    .context("read the sealed Meta app secrets")?;
    for app in apps {
        let secret = rotation
            .reseal(
                cipher,
                &app.app_secret_encrypted,
                &secret_context(&app.meta_app_id),
            )
            .with_context(|| {
                format!(
                    "app secret of Meta app {} (meta_apps.id {})",
                    app.meta_app_id, app.id
                )
            })?;
        let token = rotation
            .reseal(
                cipher,
                &app.verify_token_encrypted,
                &token_context(&app.meta_app_id),
            )
            .with_context(|| {
                format!(
                    "verify token of Meta app {} (meta_apps.id {})",
                    app.meta_app_id, app.id
                )
            })?;
        if secret.is_none() && token.is_none() {
            continue;
        }
        // `updated_at` stays: the secrets are the same, only their sealing changed.
        sqlx::query!(
            "update meta_apps set app_secret_encrypted = coalesce($2, app_secret_encrypted),
                 verify_token_encrypted = coalesce($3, verify_token_encrypted)
             where id = $1",
            app.id,
            secret,
            token
        )
        .execute(&mut *conn)
        .await
        .context("write the re-sealed Meta app secrets")?;
    }
    Ok(())
}

fn secret_context(meta_app_id: &str) -> String {
    format!("meta_apps.app_secret:{meta_app_id}")
}

fn token_context(meta_app_id: &str) -> String {
    format!("meta_apps.verify_token:{meta_app_id}")
}

/// How long a looked-up app is trusted before it is read again (so secret rotation reaches every
/// instance within this time without any shared in-memory state).
const DIRECTORY_TTL: Duration = Duration::from_secs(30);
/// Apps kept at most: far more than an installation has, so only a flood of ids evicts one.
const DIRECTORY_CAPACITY: u64 = 10_000;

/// A small read-through cache of app credentials for the webhook hot path.
#[derive(Clone)]
pub struct AppDirectory {
    db: PgPool,
    cipher: Cipher,
    cache: Arc<ReadThrough<String, AppCredentials>>,
}

impl AppDirectory {
    pub fn new(db: PgPool, cipher: Cipher) -> Self {
        Self {
            db,
            cipher,
            cache: Arc::new(ReadThrough::new(DIRECTORY_TTL, DIRECTORY_CAPACITY)),
        }
    }

    /// The app with this Meta App ID, from the cache while fresh; concurrent misses for one id
    /// read it once. Unknown ids are not cached.
    pub async fn credentials(
        &self,
        meta_app_id: &str,
    ) -> anyhow::Result<Option<Arc<AppCredentials>>> {
        self.cache
            .get_or_load(meta_app_id, async {
                let mut conn = self.db.acquire().await.context("acquire connection")?;
                find_credentials(&mut conn, &self.cipher, meta_app_id).await
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids_are_metas_digits_or_a_sandbox_apps_id() {
        for id in ["1234567890", "1048576000000001", "1", "sandbox-app-7"] {
            assert!(is_app_id(id), "{id}");
        }
        let too_long = "9".repeat(MAX_APP_ID_DIGITS + 1);
        for id in [
            "",
            "\0",
            "12\x0034",
            "abc",
            "12a",
            "-1",
            " 1",
            "1 ",
            "sandbox-app-",
            "sandbox-app-x",
            "sandbox-7",
            &too_long,
        ] {
            assert!(!is_app_id(id), "{id:?}");
        }
    }
}
