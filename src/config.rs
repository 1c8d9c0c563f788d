//! Configuration from environment variables (and `.env`), each documented in `.env.example`.

use std::{net::SocketAddr, path::Path};

use anyhow::{Context, bail};

use crate::crypto::{Cipher, SecretKey};

/// Where the development secret key is kept when `SECRET_KEY` is unset (git-ignored).
const DEV_SECRET_KEY_FILE: &str = ".switchboard-secret-key";

/// Whether this is a production deployment (`SWITCHBOARD_ENV=production`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// Everything the service reads from its environment.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub bind_addr: SocketAddr,
    /// Externally visible base URL, without a trailing slash.
    pub public_url: String,
    /// Seals secrets at rest (`SECRET_KEY`).
    pub secret_key: SecretKey,
    /// The key being rotated away from (`SECRET_KEY_PREVIOUS`): opens secrets, never seals them.
    pub previous_secret_key: Option<SecretKey>,
    /// Base URL of Meta's Graph API, without a trailing slash.
    pub meta_graph_url: String,
    pub meta_api_version: String,
    pub environment: Environment,
}

impl Config {
    /// Reads the configuration; in development a missing `SECRET_KEY` is generated once and kept.
    pub fn from_env() -> anyhow::Result<Self> {
        let environment = match var("SWITCHBOARD_ENV").as_deref() {
            Some("production") => Environment::Production,
            Some("development") | None => Environment::Development,
            Some(other) => {
                bail!("SWITCHBOARD_ENV must be 'production' or 'development', not {other:?}")
            }
        };
        let bind_addr: SocketAddr = var("BIND_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .context("BIND_ADDR must be an address like 127.0.0.1:8080")?;
        let public_url = var("PUBLIC_URL").unwrap_or_else(|| format!("http://{bind_addr}"));
        let secret_key = match var("SECRET_KEY") {
            Some(material) => SecretKey::from_material(&material).context("SECRET_KEY")?,
            None if environment == Environment::Production => {
                bail!("SECRET_KEY must be set when SWITCHBOARD_ENV=production")
            }
            None => development_secret_key(Path::new(DEV_SECRET_KEY_FILE))?,
        };
        let previous_secret_key = var("SECRET_KEY_PREVIOUS")
            .map(|material| SecretKey::from_material(&material))
            .transpose()
            .context("SECRET_KEY_PREVIOUS")?;
        Ok(Self {
            database_url: var("DATABASE_URL")
                .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/switchboard".into()),
            bind_addr,
            public_url: public_url.trim_end_matches('/').to_owned(),
            secret_key,
            previous_secret_key,
            meta_graph_url: var("META_GRAPH_URL")
                .unwrap_or_else(|| "https://graph.facebook.com".into())
                .trim_end_matches('/')
                .to_owned(),
            meta_api_version: var("META_API_VERSION").unwrap_or_else(|| "v23.0".into()),
            environment,
        })
    }
}

impl Config {
    /// The cipher for secrets at rest: seals with `SECRET_KEY`, opens with it or `SECRET_KEY_PREVIOUS`.
    pub fn cipher(&self) -> Cipher {
        Cipher::new(&self.secret_key, self.previous_secret_key.as_ref())
    }

    /// This server as other processes on the same machine reach it (the CLI, the embedded sandbox):
    /// `BIND_ADDR`, with an unspecified address (0.0.0.0, ::) replaced by loopback.
    pub fn internal_url(&self) -> String {
        let mut addr = self.bind_addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }

    /// The embedded fake Graph API that sandbox numbers talk to.
    pub fn sandbox_graph_url(&self) -> String {
        format!("{}/sandbox/graph", self.internal_url())
    }
}

/// A non-empty environment variable.
fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// Loads the development key from `path`, generating and saving it on first use.
fn development_secret_key(path: &Path) -> anyhow::Result<SecretKey> {
    if let Ok(material) = std::fs::read_to_string(path) {
        return SecretKey::from_material(material.trim())
            .with_context(|| format!("secret key in {}", path.display()));
    }
    let material = SecretKey::generate_material();
    write_private(path, &material)
        .with_context(|| format!("save a development secret key to {}", path.display()))?;
    tracing::warn!(
        file = %path.display(),
        "SECRET_KEY is not set: generated a development key; set SECRET_KEY in production"
    );
    SecretKey::from_material(&material)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn development_key_is_generated_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("switchboard-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key");
        let first = development_secret_key(&path).unwrap();
        let second = development_secret_key(&path).unwrap();
        let sealed = first.cipher().seal(b"token", "test");
        assert_eq!(second.cipher().open(&sealed, "test").unwrap(), b"token");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
