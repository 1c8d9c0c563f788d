//! `switchboard secrets …`: the keys that seal stored secrets (see "Rotating SECRET_KEY" in README.md).

use anyhow::Context;
use clap::Subcommand;
use sqlx::PgPool;

use crate::{config::Config, domain::secrets};

#[derive(Subcommand)]
pub enum SecretsCommand {
    /// Re-encrypt every stored secret with SECRET_KEY, reading with SECRET_KEY_PREVIOUS where needed.
    Rotate,
}

impl SecretsCommand {
    pub async fn run(self, pool: &PgPool, config: &Config) -> anyhow::Result<()> {
        let Self::Rotate = self;
        let cipher = config.cipher();
        let mut conn = pool.acquire().await.context("acquire connection")?;
        let rotation = secrets::rotate(&mut conn, &cipher).await?;
        println!(
            "Re-encrypted {} of {} stored secret(s); all are now sealed with key {}.",
            rotation.resealed,
            rotation.checked,
            cipher.key_id()
        );
        if config.previous_secret_key.is_some() {
            println!(
                "SECRET_KEY_PREVIOUS can be removed once every instance runs with SECRET_KEY."
            );
        }
        Ok(())
    }
}
