//! The local PostgreSQL server: fresh databases for each phase, and small pools for measuring.

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

    /// Drops `name` if it exists, creates it empty, and returns its URL.
    pub async fn recreate(&self, name: &str) -> anyhow::Result<String> {
        let admin_url = self.url("postgres");
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .with_context(|| format!("connect to {admin_url}"))?;
        // `name` is one of the benchmark's own constants, never user input.
        for statement in [
            format!(r#"drop database if exists "{name}" with (force)"#),
            format!(r#"create database "{name}""#),
        ] {
            sqlx::raw_sql(&statement)
                .execute(&mut admin)
                .await
                .with_context(|| statement.clone())?;
        }
        admin.close().await.context("disconnect from postgres")?;
        Ok(self.url(name))
    }

    fn url(&self, database: &str) -> String {
        format!("{}/{database}", self.base_url)
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
