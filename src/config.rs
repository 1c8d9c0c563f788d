//! Configuration from environment variables (and `.env`), each documented in `.env.example`. Its
//! `Debug` output is safe to log: secret keys and the database password are redacted.

use std::{fmt, net::SocketAddr, path::Path, time::Duration};

use anyhow::{Context, bail};
use secrecy::SecretString;

use crate::{
    crypto::{Cipher, SecretKey},
    whatsapp::graph::GraphUrls,
};

/// Where the development secret key is kept when `SECRET_KEY` is unset (git-ignored).
const DEV_SECRET_KEY_FILE: &str = ".switchboard-secret-key";

/// Whether this is a production deployment (`SWITCHBOARD_ENV=production`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// Everything the service reads from its environment.
#[derive(Clone)]
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
    /// Whether the sandbox (the fake Graph API behind sandbox numbers) is served under
    /// `/sandbox/graph` and its CLI commands work (`SANDBOX`: on in development, off in
    /// production unless set).
    pub sandbox: bool,
    /// Whether requests come through a reverse proxy that appends the client's address to
    /// `X-Forwarded-For` (`TRUST_PROXY=on`); sign-in throttling then counts per that address.
    pub trust_proxy: bool,
    /// The bearer token `GET /metrics` asks for (`METRICS_TOKEN`); without one, it is 404.
    pub metrics_token: Option<SecretString>,
    /// How long applied webhook events are kept (`WEBHOOK_RETENTION_DAYS`, default 30), and
    /// outbound webhook deliveries once done.
    pub webhook_retention: Duration,
    /// Hosts (names or addresses) outbound webhooks may be sent to although they are private
    /// (`WEBHOOK_ALLOWED_HOSTS`, comma-separated): receivers on the operator's own network.
    pub webhook_allowed_hosts: Vec<String>,
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
        let sandbox = sandbox_enabled(var("SANDBOX").as_deref(), environment)?;
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
            sandbox,
            trust_proxy: on_off("TRUST_PROXY", var("TRUST_PROXY").as_deref(), false)?,
            metrics_token: var("METRICS_TOKEN")
                .filter(|token| !token.trim().is_empty())
                .map(SecretString::from),
            webhook_retention: retention_days(var("WEBHOOK_RETENTION_DAYS").as_deref())?,
            webhook_allowed_hosts: var("WEBHOOK_ALLOWED_HOSTS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|host| !host.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }
}

/// Seconds in a day.
const DAY: u64 = 86_400;

/// `WEBHOOK_RETENTION_DAYS`: whole days, 1 to 3,650; 30 when unset.
fn retention_days(value: Option<&str>) -> anyhow::Result<Duration> {
    let days = match value {
        None => 30,
        Some(text) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|days| (1..=3_650).contains(days))
            .with_context(|| {
                format!("WEBHOOK_RETENTION_DAYS must be whole days from 1 to 3650, not {text:?}")
            })?,
    };
    Ok(Duration::from_secs(days * DAY))
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

    /// Whether cookies are marked `Secure`: when the site is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The embedded fake Graph API that sandbox numbers talk to.
    pub fn sandbox_graph_url(&self) -> String {
        format!("{}/sandbox/graph", self.internal_url())
    }

    /// Where Graph calls go: Meta, or the embedded fake for sandbox numbers.
    pub fn graph_urls(&self) -> GraphUrls {
        GraphUrls {
            meta: self.meta_graph_url.clone(),
            sandbox: self.sandbox_graph_url(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_password(&self.database_url))
            .field("bind_addr", &self.bind_addr)
            .field("public_url", &self.public_url)
            .field("secret_key", &self.secret_key)
            .field("previous_secret_key", &self.previous_secret_key)
            .field("meta_graph_url", &self.meta_graph_url)
            .field("meta_api_version", &self.meta_api_version)
            .field("environment", &self.environment)
            .field("sandbox", &self.sandbox)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// A database URL with its password (in the user info or a `password` parameter) replaced by `***`.
/// Anything that does not parse as a URL, or has an `@` after the host (a password that was not
/// percent-encoded may have spilled there), is redacted whole: better too much than a leak.
fn redact_password(database_url: &str) -> String {
    const REDACTED: &str = "***";
    let Ok(mut url) = url::Url::parse(database_url) else {
        return "<redacted: not a URL>".into();
    };
    if url[url::Position::BeforeHost..].contains('@') {
        return "<redacted: unusual URL>".into();
    }
    if url.password().is_some() && url.set_password(Some(REDACTED)).is_err() {
        return "<redacted: unusual URL>".into();
    }
    if url.query_pairs().any(|(name, _)| name == "password") {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = if name == "password" {
                    REDACTED.into()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.into()
}

/// `SANDBOX`: `on` or `off`; unset, on in development and off in production, where a fake Graph
/// API that anyone may create numbers on has no place unless asked for.
fn sandbox_enabled(value: Option<&str>, environment: Environment) -> anyhow::Result<bool> {
    on_off("SANDBOX", value, environment == Environment::Development)
}

/// An `on`/`off` setting, `default` when unset.
fn on_off(name: &str, value: Option<&str>, default: bool) -> anyhow::Result<bool> {
    match value.map(str::trim) {
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        None => Ok(default),
        Some(other) => bail!("{name} must be 'on' or 'off', not {other:?}"),
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
    fn webhook_retention_is_whole_days() {
        assert_eq!(retention_days(None).unwrap(), Duration::from_secs(30 * DAY));
        assert_eq!(
            retention_days(Some(" 7 ")).unwrap(),
            Duration::from_secs(7 * DAY)
        );
        for bad in ["0", "-1", "1.5", "a week", "3651", ""] {
            let error = retention_days(Some(bad)).unwrap_err().to_string();
            assert!(error.contains("WEBHOOK_RETENTION_DAYS"), "{bad:?}: {error}");
        }
    }

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

    fn config(database_url: &str) -> Config {
        Config {
            database_url: database_url.into(),
            bind_addr: "127.0.0.1:8080".parse().unwrap(),
            public_url: "http://127.0.0.1:8080".into(),
            secret_key: SecretKey::from_material("a secret key of thirty-two chars or more")
                .unwrap(),
            previous_secret_key: Some(
                SecretKey::from_material("the previous key, also thirty-two chars").unwrap(),
            ),
            meta_graph_url: "https://graph.facebook.com".into(),
            meta_api_version: "v23.0".into(),
            environment: Environment::Production,
            sandbox: false,
            trust_proxy: false,
            metrics_token: None,
            webhook_retention: Duration::from_secs(30 * DAY),
            webhook_allowed_hosts: Vec::new(),
        }
    }

    #[test]
    fn the_sandbox_is_on_in_development_and_off_in_production_unless_set() {
        use Environment::{Development, Production};
        assert!(sandbox_enabled(None, Development).unwrap());
        assert!(!sandbox_enabled(None, Production).unwrap());
        assert!(sandbox_enabled(Some("on"), Production).unwrap());
        assert!(!sandbox_enabled(Some("off"), Development).unwrap());
    }

    #[test]
    fn a_sandbox_setting_other_than_on_or_off_is_refused_by_name() {
        for value in ["yes", "true", "ON", "1"] {
            let error = sandbox_enabled(Some(value), Environment::Development).unwrap_err();
            let message = error.to_string();
            assert!(
                message.contains("SANDBOX must be 'on' or 'off'") && message.contains(value),
                "{message}"
            );
        }
    }

    #[test]
    fn debug_output_hides_the_database_password_and_the_keys() {
        let debug = format!(
            "{:?}",
            config("postgres://inbox:hunter2@db.internal:5432/switchboard")
        );
        assert!(
            debug.contains("postgres://inbox:***@db.internal:5432/switchboard"),
            "{debug}"
        );
        assert!(!debug.contains("hunter2"));
        assert!(!debug.contains("thirty-two"));
        assert!(debug.contains("previous_secret_key: Some(SecretKey(<redacted>))"));
    }

    #[test]
    fn a_password_in_the_query_or_an_odd_url_is_redacted_too() {
        assert_eq!(
            redact_password("postgres://inbox@db/switchboard?password=hunter2&sslmode=require"),
            "postgres://inbox@db/switchboard?password=***&sslmode=require"
        );
        assert_eq!(
            redact_password("postgres://postgres@127.0.0.1:5432/switchboard"),
            "postgres://postgres@127.0.0.1:5432/switchboard"
        );
        for odd in [
            "postgres://inbox:12/hunter@2@db/x",
            "host=db password=hunter2",
        ] {
            assert!(!redact_password(odd).contains("hunter"), "{odd}");
        }
    }
}
