//! Key rotation for secrets at rest: every sealed column (`meta_apps.app_secret_encrypted`,
//! `meta_apps.verify_token_encrypted`, `phone_numbers.access_token_encrypted`) is opened with
//! whichever configured key sealed it and sealed again with the current `SECRET_KEY`, in the current
//! format. Each record module re-seals its own rows; this module runs them as one all-or-nothing
//! step and records it in the audit log.

use anyhow::Context;
use serde_json::json;
use sqlx::{Connection, PgConnection};

use crate::{
    crypto::Cipher,
    domain::{apps, audit, numbers, webhook_endpoints},
};

/// What a rotation found and did.
#[derive(Debug, Default)]
pub struct Rotation {
    /// Sealed values read.
    pub checked: u64,
    /// Sealed values written again; the rest already were sealed with the current key and format.
    pub resealed: u64,
}

impl Rotation {
    /// Re-seals one value (see [`Cipher::reseal`]) and counts it.
    pub fn reseal(
        &mut self,
        cipher: &Cipher,
        sealed: &[u8],
        context: &str,
    ) -> anyhow::Result<Option<Vec<u8>>> {
        let resealed = cipher.reseal(sealed, context)?;
        self.checked += 1;
        self.resealed += u64::from(resealed.is_some());
        Ok(resealed)
    }
}

/// Re-seals every stored secret with `cipher`'s current key. All or nothing: when any value opens
/// with no configured key, the error names its row and nothing is written. Running it again
/// re-seals nothing. It runs in its own transaction (a savepoint when `conn` is already in one), and
/// holds the rows it reads until then, so concurrent writers wait instead of being overwritten.
pub async fn rotate(conn: &mut PgConnection, cipher: &Cipher) -> anyhow::Result<Rotation> {
    let mut tx = conn.begin().await.context("begin")?;
    let mut rotation = Rotation::default();
    apps::reseal_all(&mut tx, cipher, &mut rotation).await?;
    numbers::reseal_all(&mut tx, cipher, &mut rotation).await?;
    webhook_endpoints::reseal_all(&mut tx, cipher, &mut rotation).await?;
    // A run that changed nothing is not an event worth reviewing.
    if rotation.resealed > 0 {
        let details = json!({
            "key_id": cipher.key_id().to_string(),
            "checked": rotation.checked,
            "resealed": rotation.resealed,
        });
        audit::record_system(&mut tx, "secrets.rotate", details).await?;
    }
    tx.commit().await.context("commit the re-sealed secrets")?;
    Ok(rotation)
}
