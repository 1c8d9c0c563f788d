//! The local PostgreSQL server the benchmarks run against: their own databases, recreated for each
//! run or phase, and the small pools they measure with. Shared by `webhooks` and `sends`.

use std::str::FromStr;

use anyhow::{Context, ensure};
use sqlx::{
    Connection, PgConnection, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};

/// A PostgreSQL server on the loopback interface, by its URL without a database name.
pub struct Postgres {
    base_url: String,
}

impl Postgres {
    /// Accepts `base_url` (e.g. `postgres://postgres@127.0.0.1:5432`) only if it is on this machine.
    pub fn new(base_url: &str) -> anyhow::Result<Self> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let options = PgConnectOptions::from_str(&format!("{base_url}/postgres"))
            .context("--postgres is not a PostgreSQL URL")?;
        let host = options.get_host();
        ensure!(
            ["127.0.0.1", "localhost", "::1", "[::1]"].contains(&host),
            "--postgres must be on the loopback interface, not {host}"
        );
        Ok(Self { base_url })
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.base_url)
    }

    /// Drops database `name` if it exists (disconnecting whoever still uses it).
    #[allow(dead_code, reason = "used by the sends benchmark only")]
    pub async fn drop_database(&self, name: &str) -> anyhow::Result<()> {
        self.admin(&format!(r#"drop database if exists "{name}" with (force)"#))
            .await
    }

    /// Drops `name` if it exists, creates it empty, and returns its URL.
    #[allow(dead_code, reason = "used by the webhooks benchmark only")]
    pub async fn recreate(&self, name: &str) -> anyhow::Result<String> {
        self.admin(&format!(r#"drop database if exists "{name}" with (force)"#))
            .await?;
        self.admin(&format!(r#"create database "{name}""#)).await?;
        Ok(self.url(name))
    }

    /// Runs one statement on the `postgres` maintenance database. Statements name only the
    /// benchmarks' own database constants, never user input.
    async fn admin(&self, statement: &str) -> anyhow::Result<()> {
        let admin_url = self.url("postgres");
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .with_context(|| format!("connect to {admin_url}"))?;
        sqlx::raw_sql(statement)
            .execute(&mut admin)
            .await
            .with_context(|| statement.to_owned())?;
        admin.close().await.context("disconnect from postgres")
    }
}

/// A pool of up to `connections` connections to `url`.
pub async fn connect(url: &str, connections: u32) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect(url)
        .await
        .with_context(|| format!("connect to {url}"))
}
