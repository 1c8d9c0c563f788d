//! Meta apps: each has the secret that signs its webhooks and the token for Meta's handshake. Both
//! are sealed at rest; an app belongs to one tenant, so one tenant's secret never vouches for another.

use std::{sync::Arc, time::Duration};

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};
use sqlx::{PgConnection, PgPool};

use crate::{
    cache::ReadThrough,
    crypto::Cipher,
    domain::{
        ids::{AppId, TenantId},
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
